"""Statements run on the DB-API cursor: compiled once per dialect, rows as plain tuples.

The public record answers hundreds of pages a second, each two selects, and at a
deadline every submission is seven statements. SQLAlchemy's work on each execution
before and after the database's own (parameters, the execution context, the result
object, its rows) is as much as SQLite takes for a record page itself. A `Prepared`
statement is the same Core select or insert, compiled once per dialect into its SQL
text, the order of its parameters and the type processors of its parameters and
columns; executing it binds the values, runs the text on the cursor of the session's
connection (its transaction, its snapshot), and passes each column through its
processor, as SQLAlchemy would (tests/test_prepared.py compares the two on both
databases).

Only what this needs: named bind parameters, each given at execution or fixed in the
statement (an insert: every column given); no expanding ``IN`` (`one_of` builds one
statement per number of values); no literal-execute parameters; no ORM events (an
insert sets `WROTE` in the session's `info`, where whoever cares that the session
wrote, the response cache say, looks). A database error is raised as SQLAlchemy would
raise it (`DataError`, `IntegrityError`, ...), for the same problem responses.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Session

# The key in `session.info` that says the session wrote: set by `Prepared.execute`
# (outside the ORM's events) and by the ORM listeners of the response cache.
WROTE = "civic_input.wrote"

Processor = Callable[[Any], Any] | None


def one_of(column: sa.ColumnElement[Any], count: int, type_: Any = None) -> sa.ColumnElement[bool]:
    """``column IN (:in0, :in1, ...)``, `count` numbered parameters: the list a `Prepared`
    statement binds (one statement per count); `one_of_values` names the values."""
    return column.in_([sa.bindparam(f"in{i}", type_=type_ or column.type) for i in range(count)])


def one_of_values(values: Sequence[Any]) -> dict[str, Any]:
    """The parameters of `one_of` for these values."""
    return {f"in{i}": value for i, value in enumerate(values)}


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters, in the order the SQL text wants them
    positional: bool
    fixed: Mapping[str, Any]  # values the statement carries itself (literals)
    binds: tuple[Processor, ...]  # by `names`
    columns: tuple[tuple[int, Callable[[Any], Any]], ...]  # (index, processor) where one is


class Prepared:
    """A Core select (`rows`, `first`) or insert (`execute`), run on the DB-API cursor of
    the session's connection."""

    def __init__(self, statement: sa.Select[Any] | sa.Insert) -> None:
        self.statement = statement
        self._columns = tuple(getattr(statement, "selected_columns", ()))  # none for an insert
        self.keys: tuple[str, ...] = tuple(column.key for column in self._columns)
        self._by_dialect: dict[tuple[str, str], _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        sql = compiled.string
        if "POSTCOMPILE" in sql or compiled.escaped_bind_names:
            raise ValueError("a Prepared statement takes plain named parameters only")
        binds = compiled.binds
        names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(binds)
        columns = []
        for index, column in enumerate(self._columns):
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if process is not None:
                columns.append((index, process))
        return _Compiled(
            sql=sql,
            names=names,
            positional=bool(compiled.positional),
            fixed={name: bind.value for name, bind in binds.items() if not bind.required},
            binds=tuple(
                binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
            ),
            columns=tuple(columns),
        )

    def _compiled(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver)
        compiled = self._by_dialect.get(key)
        if compiled is None:
            compiled = self._by_dialect[key] = self._compile(dialect)
        return compiled

    @staticmethod
    def _bound(compiled: _Compiled, params: Mapping[str, Any]) -> Any:
        values = [
            params[name] if name in params else compiled.fixed[name] for name in compiled.names
        ]
        bound = [
            value if process is None or value is None else process(value)
            for process, value in zip(compiled.binds, values, strict=True)
        ]
        return bound if compiled.positional else dict(zip(compiled.names, bound, strict=True))

    def _run(
        self, session: Session, params: Mapping[str, Any] | list[Mapping[str, Any]], *, fetch: bool
    ) -> Sequence[Sequence[Any]]:
        """Bind, execute (many, for a list), fetch if asked: in the session's transaction,
        pending changes flushed first, as a statement through the session would be."""
        session.flush()
        connection = session.connection()
        dialect = connection.dialect
        compiled = self._compiled(dialect)
        many = isinstance(params, list)
        if isinstance(params, list):
            parameters: Any = [self._bound(compiled, one) for one in params]
        else:
            parameters = self._bound(compiled, params)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        # the engine's cursor events still see the statement (SQL logging, the tests'
        # query counts), as they would through SQLAlchemy
        events = connection.dispatch
        error = dialect.loaded_dbapi.Error
        try:
            events.before_cursor_execute(connection, cursor, compiled.sql, parameters, None, many)
            if many:
                cursor.executemany(compiled.sql, parameters)
            else:
                cursor.execute(compiled.sql, parameters)
            events.after_cursor_execute(connection, cursor, compiled.sql, parameters, None, many)
            rows: Sequence[Sequence[Any]] = cursor.fetchall() if fetch else []
        except error as exc:
            # SQLAlchemy's own exception for it (DataError, IntegrityError, ...), which
            # the problem handlers answer as they would any statement's (api/errors.py)
            raise sa.exc.DBAPIError.instance(
                compiled.sql, parameters, exc, error, dialect=dialect
            ) from exc
        finally:
            cursor.close()
        if not compiled.columns:
            return rows
        processed: list[Sequence[Any]] = []
        for row in rows:
            values = list(row)
            for index, process in compiled.columns:
                values[index] = process(values[index])
            processed.append(values)
        return processed

    def rows(self, session: Session, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """The rows of a select for `params`, each a sequence in the select's order."""
        return self._run(session, params, fetch=True)

    def first(self, session: Session, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row of a select as a dict by column name, or None."""
        rows = self._run(session, params, fetch=True)
        return dict(zip(self.keys, rows[0], strict=True)) if rows else None

    def execute(
        self, session: Session, params: Mapping[str, Any] | list[Mapping[str, Any]]
    ) -> None:
        """An insert (of one row, or of one per item of a list): every column given. The
        session counts as having written (`WROTE`), as after an ORM write."""
        self._run(session, params, fetch=False)
        session.info[WROTE] = True
