"""What the projections share: the tables as Core, and plain rows by a Core select."""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session


def table(model: type[Any]) -> sa.Table:
    found: sa.Table = model.__table__
    return found


def rows(
    session: Session, query: sa.Executable, params: dict[str, Any] | None = None
) -> Sequence[Any]:
    """Plain rows by a Core select on the session's connection: no ORM entities, no
    identity map. Pending changes are flushed first, as an ORM query would."""
    session.flush()
    return session.connection().execute(query, params).all()
