"""A read-only copy of a row by id, for the write path (submitting at a deadline reads
the round and the caller before it writes)."""

from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from api.sql.prepared import Prepared

M = TypeVar("M", bound=SQLModel)

_BY_ID: dict[type[Any], Prepared] = {}


def snapshot(session: Session, model: type[M], key: Any) -> M | None:
    """The row of `model` with this id: a plain select run on the cursor (`Prepared`),
    and the model made without validation or ORM state (`model_construct`), which costs
    far less than `session.get` on a path that does little else. Having no ORM state, it
    cannot be added to a session by mistake: read it, never change it. Reads off the
    write path use `session.get`."""
    # the models' attributes work only once the mappers are configured; a snapshot may
    # be the first thing a fresh process reads (after the first call this is a no-op)
    sa.orm.configure_mappers()
    query = _BY_ID.get(model)
    if query is None:
        table: sa.Table = model.__table__  # type: ignore[attr-defined]
        query = _BY_ID[model] = Prepared(
            sa.select(table).where(table.c.id == sa.bindparam("key", type_=table.c.id.type))
        )
    row = query.first(session, {"key": key})
    return None if row is None else cast(M, model.model_construct(**row))
