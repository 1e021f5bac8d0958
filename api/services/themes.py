"""The controlled vocabulary of themes."""

import functools
import uuid

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api import i18n
from api.errors import Conflict, Unprocessable
from api.services import audit
from api.sql.prepared import Prepared, one_of, one_of_values
from models.theme import Theme, ThemeCreate, ThemePublic, Vocabulary
from models.user import User

_THEME: sa.Table = Theme.__table__  # type: ignore[attr-defined]


@functools.cache
def _ids_by_slug(count: int) -> Prepared:
    """Theme ids by `count` slugs: compiled once per count and run on the cursor
    (`Prepared`), for submitting, the hot path at a deadline."""
    return Prepared(sa.select(_THEME.c.slug, _THEME.c.id).where(one_of(_THEME.c.slug, count)))


def all_themes(session: Session) -> list[Theme]:
    return list(session.exec(select(Theme).order_by(col(Theme.slug))))


def public(theme: Theme, *, language: str) -> ThemePublic:
    """A theme with its name in `language` (English when it has none in it)."""
    return ThemePublic(
        slug=theme.slug, name=i18n.name_for(theme.names, language), names=theme.names
    )


def vocabulary(*, language: str) -> Vocabulary:
    """The labels of every enum value, in `language`."""
    return Vocabulary(language=language, labels=i18n.labels(language))


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
    rows = _ids_by_slug(len(slugs)).rows(session, one_of_values(slugs))
    found: dict[str, uuid.UUID] = {slug: id_ for slug, id_ in rows}
    unknown = sorted(set(slugs) - set(found))
    if unknown:
        raise Unprocessable(f"Unknown themes: {', '.join(unknown)}.", unknown_themes=unknown)
    return [found[slug] for slug in slugs]
