"""The controlled vocabulary of themes."""

import uuid

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.errors import Conflict, Unprocessable
from api.services import audit
from models.round import Theme, ThemeCreate
from models.user import User

_THEME: sa.Table = Theme.__table__  # type: ignore[attr-defined]
# built once: submitting (the hot path at a deadline) looks its themes up with it
_IDS_BY_SLUG = sa.select(_THEME.c.slug, _THEME.c.id).where(
    _THEME.c.slug.in_(sa.bindparam("slugs", expanding=True, type_=_THEME.c.slug.type))
)


def all_themes(session: Session) -> list[Theme]:
    return list(session.exec(select(Theme).order_by(col(Theme.slug))))


def create(session: Session, *, data: ThemeCreate, admin: User) -> Theme:
    if session.exec(select(Theme.id).where(Theme.slug == data.slug)).first() is not None:
        raise Conflict("A theme with this slug exists.")
    theme = Theme(slug=data.slug, names=dict(data.names))
    session.add(theme)
    session.flush()
    audit.record(
        session,
        actor=admin,
        action="theme.create",
        target_type="theme",
        target_id=theme.id,
        detail={"slug": theme.slug},
    )
    return theme


def ids_for(session: Session, *, slugs: list[str]) -> list[uuid.UUID]:
    """The ids of these theme slugs; an unknown slug is a 422."""
    if not slugs:
        return []
    session.flush()
    found = dict(session.connection().execute(_IDS_BY_SLUG, {"slugs": slugs}).all())
    unknown = sorted(set(slugs) - set(found))
    if unknown:
        raise Unprocessable(f"Unknown themes: {', '.join(unknown)}.", unknown_themes=unknown)
    return [found[slug] for slug in slugs]
