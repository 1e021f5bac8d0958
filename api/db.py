"""The engine and the session: one transaction per request, committed before the response.

SQLite runs with foreign keys on, WAL, a busy timeout, and write transactions
that take the write lock at BEGIN (``BEGIN IMMEDIATE``): two deferred
transactions that both read then try to write would deadlock on the upgrade,
and one of them would fail with "database is locked".
"""

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from fastapi import Request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.config import normalise_database_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=16,
            max_overflow=16,
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, pool_recycle=1800, **kwargs
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def writer(engine: Engine) -> Engine:
    """The same pool, but on SQLite each transaction takes the write lock at BEGIN."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="IMMEDIATE")
    return engine


def open_session(engine: Engine, *, write: bool = False) -> Session:
    return Session(writer(engine) if write else engine, expire_on_commit=False)


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request.

    Used with ``Depends(..., scope="function")`` so the commit runs as soon as
    the endpoint returns, before a single byte of the response is sent: a 201
    always means the row is stored.
    """
    state = request.app.state
    write = request.method in WRITE_METHODS
    session = Session(state.write_engine if write else state.engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
