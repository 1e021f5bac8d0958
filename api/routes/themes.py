"""Themes: the controlled vocabulary, in several languages."""

from fastapi import APIRouter, status

from api.deps import Admin, SessionDep
from api.errors import error_responses
from api.pagination import Page
from api.services import themes
from models.theme import ThemeCreate, ThemePublic

router = APIRouter(prefix="/api/v1/themes", tags=["themes"])


@router.get("", response_model=Page[ThemePublic])
def list_themes(session: SessionDep) -> Page[ThemePublic]:
    """Every theme, by slug, with its names by language (a short list: one page)."""
    return Page(items=[ThemePublic(slug=t.slug, names=t.names) for t in themes.all_themes(session)])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ThemePublic,
    responses=error_responses(401, 403, 409, 422),
)
def create_theme(data: ThemeCreate, admin: Admin, session: SessionDep) -> ThemePublic:
    """Add a theme (admins)."""
    theme = themes.create(session, data=data, admin=admin)
    return ThemePublic(slug=theme.slug, names=theme.names)
