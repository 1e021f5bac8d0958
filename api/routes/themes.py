"""Themes: the controlled vocabulary, in several languages; and the enums' labels."""

from fastapi import APIRouter, status

from api.deps import Admin, SessionDep
from api.errors import error_responses
from api.i18n import AnswerLanguage
from api.pagination import Page
from api.services import themes
from models.theme import ThemeCreate, ThemePublic, Vocabulary

router = APIRouter(prefix="/api/v1/themes", tags=["themes"])
vocabulary_router = APIRouter(prefix="/api/v1/vocabulary", tags=["themes"])


@router.get("", response_model=Page[ThemePublic])
def list_themes(session: SessionDep, language: AnswerLanguage) -> Page[ThemePublic]:
    """Every theme, by slug, with its names by language and its `name` in the language
    `Accept-Language` asks for (a short list: one page)."""
    return Page(items=[themes.public(t, language=language) for t in themes.all_themes(session)])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ThemePublic,
    responses=error_responses(401, 403, 409, 422),
)
def create_theme(
    data: ThemeCreate, admin: Admin, session: SessionDep, language: AnswerLanguage
) -> ThemePublic:
    """Add a theme (admins)."""
    return themes.public(themes.create(session, data=data, admin=admin), language=language)


@vocabulary_router.get("", response_model=Vocabulary)
def read_vocabulary(language: AnswerLanguage) -> Vocabulary:
    """The readable label of every enum value the API uses (a submission's `kind` and
    `status`, a case's `status`, a response's `kind` and `reason_code`, a rating, a
    round's `phase`, ...), in English or Chinese as `Accept-Language` asks. The values
    themselves never change with the language."""
    return themes.vocabulary(language=language)
