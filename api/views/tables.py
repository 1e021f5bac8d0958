"""What the projections share: the tables as Core, plain rows by a Core select, and the
function that makes a projection's rows the dicts a page is written from."""

import keyword
from collections.abc import Callable, Mapping, Sequence
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


RowsToDicts = Callable[[Sequence[Sequence[Any]], Any], list[dict[str, Any]]]


def rows_to_dicts(
    columns: Sequence[str], fields: Sequence[tuple[str, str]], helpers: Mapping[str, Any]
) -> RowsToDicts:
    """A function `(rows, extra) -> [dict, ...]` that unpacks each row into `columns` (its
    values by position) and makes the dict `fields` declares, in that order: each is a
    key and a Python expression over the column names, `extra` and `helpers`.

    Made once, at import, from the projection's own field list, so the order is stated in
    one place; and made as source (a dict display in a comprehension, as `namedtuple`
    makes its class) because the hot pages shape thousands of rows a second, and that is
    the fastest form CPython has for it: a `dict(zip(...))` per row, or a `Row`'s
    attributes, cost more than the rest of the page's Python work."""
    for name in columns:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"not a column name: {name!r}")
    unpacked = ", ".join(columns) + ("," if len(columns) == 1 else "")
    made = ", ".join(f"{key!r}: {expression}" for key, expression in fields)
    source = f"def shape(rows, extra):\n    return [{{{made}}} for ({unpacked}) in rows]\n"
    namespace: dict[str, Any] = dict(helpers)
    # the source holds only the checked column names and the caller's own expressions
    exec(compile(source, f"<rows_to_dicts {', '.join(columns)}>", "exec"), namespace)  # noqa: S102
    shape: RowsToDicts = namespace["shape"]
    return shape
