"""Columns read as the very strings their JSON carries.

A hot page (the public record) reads thousands of ids and instants a second. Read as
`uuid.UUID` and `datetime` objects, each value is built in Python only to be turned
back into a string when the page is written. These expressions hand over that string,
exactly as pydantic writes the value:

- `uuid_text(column)`: ``8-4-4-4-12`` lower-case hex;
- `instant_text(column)`: ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` in UTC, the fraction only
  when it is not zero;
- `enum_text(column)`: an enum column (`EnumText`) as the text it stores, which is the
  member's value: no enum member is made per row, and the page's JSON writer takes a
  plain string faster than an enum.

PostgreSQL formats them itself (`uuid` and `timestamptz` to text). SQLite keeps them as
text already (32 hex digits; ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC): that text is read
as it is and rearranged by a few slices, cheaper than SQLite's string functions. NULL
stays NULL. `UUID_TEXT` binds such text back as a UUID parameter.
tests/test_json_text.py checks both against pydantic.

`comma_joined(column)` aggregates names into one comma-separated text, its separator
written into the SQL (`sa.func.aggregate_strings` binds it at each execution, which a
`Prepared` statement does not do).
"""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


def _hyphenated(stored: str | None) -> str | None:
    if stored is None:
        return None
    return f"{stored[:8]}-{stored[8:12]}-{stored[12:16]}-{stored[16:20]}-{stored[20:]}"


def _stored_uuid(text: str | None) -> str | None:
    return None if text is None else text.replace("-", "")


def _iso_utc(stored: str | None) -> str | None:
    if stored is None:
        return None
    day, _, time = stored.partition(" ")
    whole, _, fraction = time.partition(".")
    fraction = fraction.ljust(6, "0")
    return f"{day}T{whole}.{fraction}Z" if fraction != "000000" else f"{day}T{whole}Z"


class _InstantText(sa.types.TypeDecorator[str]):
    """An instant read as text: SQLite's stored text rearranged, PostgreSQL's as cast."""

    impl = sa.String
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        return _iso_utc if dialect.name == "sqlite" else None


class _UUIDText(sa.types.TypeDecorator[str]):
    """A UUID as text, read and bound: SQLite's 32 hex digits rearranged both ways;
    PostgreSQL handed the text (cast to and from `uuid` in SQL)."""

    impl = sa.Uuid
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        return _stored_uuid if dialect.name == "sqlite" else None

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        return _hyphenated if dialect.name == "sqlite" else None


UUID_TEXT = _UUIDText()


class uuid_text(FunctionElement[str]):
    """A UUID column as its canonical text (named as the SQL function it stands for)."""

    type = UUID_TEXT
    inherit_cache = True


class instant_text(FunctionElement[str]):
    """A `UTCDateTime` column as its ISO 8601 text in UTC, with ``Z``."""

    type = _InstantText()
    inherit_cache = True


def enum_text(column: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """An enum column read as its stored text (see the module)."""
    return sa.type_coerce(column, sa.String())


def _argument(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(uuid_text)
def _uuid_text(element: uuid_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({_argument(element, compiler, **kw)} AS TEXT)"


@compiles(instant_text)
def _instant_text(element: instant_text, compiler: SQLCompiler, **kw: Any) -> str:
    utc = f"({_argument(element, compiler, **kw)} AT TIME ZONE 'UTC')"
    return (
        f"(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN to_char({utc}, 'US') = '000000' THEN '' ELSE to_char({utc}, '.US') END"
        " || 'Z')"
    )


@compiles(uuid_text, "sqlite")
@compiles(instant_text, "sqlite")
def _as_stored(element: FunctionElement[str], compiler: SQLCompiler, **kw: Any) -> str:
    return _argument(element, compiler, **kw)


class comma_joined(FunctionElement[str]):
    """An aggregate: the column's values joined by commas, in no particular order."""

    type = sa.String()
    inherit_cache = True


@compiles(comma_joined)
def _comma_joined(element: comma_joined, compiler: SQLCompiler, **kw: Any) -> str:
    return f"string_agg({_argument(element, compiler, **kw)}, ',')"


@compiles(comma_joined, "sqlite")
def _comma_joined_sqlite(element: comma_joined, compiler: SQLCompiler, **kw: Any) -> str:
    return f"group_concat({_argument(element, compiler, **kw)}, ',')"
