"""The engine and the session: one transaction per request, committed before the response.

SQLite runs with foreign keys on, WAL, a busy timeout, and write transactions
that take the write lock at BEGIN (``BEGIN IMMEDIATE``): two deferred
transactions that both read then try to write would deadlock on the upgrade,
and one of them would fail with "database is locked".

Requests wait for the database in the event loop, never in a worker thread: a
sync endpoint holds one of the thread pool's tokens while it runs, and FastAPI
needs another token to serialise its answer *before* the request's transaction
commits. If every token were held by requests blocked on the connection pool
or on SQLite's write lock, the requests holding them could never finish: every
one would wait out the 30 s timeouts and fail (200 concurrent registrations
gave 159 errors). So `get_session` first takes a slot (fewer slots than pool
connections and thread tokens) and, on SQLite, the single writer's turn. `run` takes
the same turn for a transaction done in one hop to a worker thread.

On PostgreSQL every wait on the server has a deadline, and a server that failed a
moment ago is not waited for (api/deadline.py): the turn answers 503 `Unavailable` at
once, and waits for a slot at most `deadline.SICK_WAIT_SECONDS` until the server
answers again.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

import anyio
import anyio.to_thread
import sqlalchemy as sa
from anyio.lowlevel import RunVar
from fastapi import Request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from api import deadline
from api.config import normalise_database_url
from api.errors import Busy, Unavailable
from api.loops import per_loop
from api.sql.prepared import Prepared

T = TypeVar("T")
M = TypeVar("M", bound=SQLModel)

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Each SQLite connection's page cache (SQLite's default is 2 MiB). A record page reads
# its 50 submissions and, through their ids (random UUIDs), a leaf page of each link
# and response index for every one: some 500 pages of 4 KiB. In 2 MiB the page's two
# queries evicted each other's pages, and every request read them again from the
# file: the page took 1.0 ms in SQLite instead of 0.57 (measured in process).
SQLITE_CACHE_KIB = 8 * 1024
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# How long a request may queue for the database before it gets a 503.
SESSION_WAIT_SECONDS = 30
# Pool connections and worker threads kept out of the slots, for what opens its own
# connection (streamed exports, /readyz) and for work that holds no session.
SPARE_CONNECTIONS = 4
SPARE_THREADS = 8
# /readyz answers within this, whatever the database does.
READY_SECONDS = 1.5

# The PostgreSQL engines' health (none for SQLite, which cannot hang on a server).
_health: "WeakKeyDictionary[Engine, deadline.Health]" = WeakKeyDictionary()


def make_engine(
    url: str,
    *,
    connect_timeout: float | None = None,
    statement_timeout: float | None = None,
    **kwargs: Any,
) -> Engine:
    """The engine for `url`. On PostgreSQL, `connect_timeout` bounds a new connection and
    a wait for a pooled one, and `statement_timeout` every statement, on the server and
    in the client (api/deadline.py); None waits as long as it takes (migrations)."""
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=16,
            max_overflow=16,
            # the most recently used connection first: a few connections with warm
            # page caches serve the load, the rest stay small
            pool_use_lifo=True,
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    if connect_timeout:
        kwargs.setdefault("pool_timeout", connect_timeout)
    engine = sa.create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_use_lifo=True,
        **kwargs,
    )
    if engine.dialect.driver == "psycopg":
        _health[engine] = deadline.install(
            engine, connect_timeout=connect_timeout, statement_timeout=statement_timeout
        )
    return engine


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
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        # Deleted and overwritten content is zeroed on disk, not left in free pages:
        # erased text must not be readable from a copy of the file (api/services/erasure.py).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def truncate_wal(engine: Engine, *, wait_ms: int = 2000) -> bool:
    """On SQLite, copy the write-ahead log into the database and empty it, so that old
    page images (erased text among them) do not linger in the -wal file. Waits up to
    `wait_ms` for readers; False when they held it (the next purge pass tries again)."""
    if engine.dialect.name != "sqlite":
        return True
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"PRAGMA busy_timeout={wait_ms}")
        try:
            busy, *_ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()
    finally:
        raw.close()
    return busy == 0


def writer(engine: Engine) -> Engine:
    """The same pool, but on SQLite each transaction takes the write lock at BEGIN."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="IMMEDIATE")
    return engine


def open_session(engine: Engine, *, write: bool = False) -> Session:
    return Session(writer(engine) if write else engine, expire_on_commit=False)


@dataclass
class _Gate:
    slots: anyio.Semaphore
    writer: anyio.Semaphore | None
    health: deadline.Health | None


# One gate per engine and per event loop (a TestClient runs each app in a loop of its own).
_gates: RunVar["WeakKeyDictionary[Engine, _Gate]"] = RunVar("civic_input_db_gates")


def default_concurrency(engine: Engine) -> int:
    """How many requests use the database at once, by default.

    A request's Python work holds the GIL, so more requests in flight than one only
    makes them take turns at it: on SQLite, whose work is a small part of a request's,
    one at a time served the record page 13% faster than two (395 against 349 req/s,
    alternating), and two faster than four. PostgreSQL works in processes of its own,
    so a request waiting for it leaves the GIL to another: 6 served it 9% faster than 2.
    Sign-ins hash outside their turn (`Security.hashed`).
    """
    return 1 if engine.dialect.name == "sqlite" else 6


def _slot_count(engine: Engine, wanted: int) -> int:
    """`wanted`, but fewer than the pool's connections and the worker threads."""
    pool = engine.pool
    size = pool.size() if isinstance(pool, sa.pool.QueuePool) else None
    overflow = getattr(pool, "_max_overflow", 0)
    connections = size + max(overflow, 0) if size is not None else 16
    threads = int(anyio.to_thread.current_default_thread_limiter().total_tokens)
    return max(1, min(wanted, connections - SPARE_CONNECTIONS, threads - SPARE_THREADS))


def _gate(engine: Engine, concurrency: int) -> _Gate:
    return per_loop(
        _gates,
        engine,
        lambda: _Gate(
            slots=anyio.Semaphore(_slot_count(engine, concurrency)),
            writer=anyio.Semaphore(1) if engine.dialect.name == "sqlite" else None,
            health=_health.get(engine),
        ),
    )


def _finish(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def _in_thread(session: Session, commit: bool) -> None:
    # Its own limiter, as FastAPI does for dependency exits: finishing a transaction
    # must never queue behind requests that are waiting to start one.
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(_finish, session, commit, limiter=anyio.CapacityLimiter(1))


@asynccontextmanager
async def _turn(state: Any, *, write: bool) -> AsyncIterator[None]:
    """A slot, and on SQLite for a write the single writer's turn, or `Busy` (503) after
    `SESSION_WAIT_SECONDS`; `Unavailable` (503) while the server is failing.
    `state` is the app's: its engine and `db_concurrency`."""
    gate = _gate(state.engine, state.db_concurrency)
    health = gate.health
    wait: float = SESSION_WAIT_SECONDS
    if health is not None and health.sick:
        if health.refusing():
            raise Unavailable()
        wait = deadline.SICK_WAIT_SECONDS
    writer_turn = gate.writer if write else None
    try:
        with anyio.fail_after(wait):
            if writer_turn is not None:
                await writer_turn.acquire()
            try:
                await gate.slots.acquire()
            except BaseException:
                if writer_turn is not None:
                    writer_turn.release()
                raise
    except TimeoutError:
        if health is not None and health.sick:
            raise Unavailable() from None
        raise Busy("The database is busy; try again shortly.") from None
    try:
        # the server may have failed while this request queued
        if health is not None and health.refusing():
            raise Unavailable()
        yield
    finally:
        gate.slots.release()
        if writer_turn is not None:
            writer_turn.release()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request.

    Used with ``Depends(..., scope="function")`` so the commit runs as soon as
    the endpoint returns, before a single byte of the response is sent: a 201
    always means the row is stored.
    """
    state = request.app.state
    write = request.method in WRITE_METHODS
    async with _turn(state, write=write):
        session = Session(state.write_engine if write else state.engine, expire_on_commit=False)
        try:
            yield session
        except BaseException:
            await _in_thread(session, commit=False)
            raise
        await _in_thread(session, commit=True)


_BY_ID: dict[type[Any], Prepared] = {}


def snapshot(session: Session, model: type[M], key: Any) -> M | None:
    """A read-only copy of the row of `model` with this id, for hot paths: a plain
    select run on the cursor (`Prepared`), and the model made without validation or ORM
    state (`model_construct`), at a fraction of what `session.get` costs under load.
    Having no ORM state, it cannot be added to a session by mistake: read it, never
    change it."""
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


def _transaction(engine: Engine, work: Callable[[Session], T]) -> T:
    with Session(engine, expire_on_commit=False) as session:
        result = work(session)
        session.commit()
        return result


async def run(request: Request, work: Callable[[Session], T], *, write: bool | None = None) -> T:
    """`work(session)` and its commit in one worker thread, in the request's turn.

    For the hot paths (the record, the feed, submitting, signing in): the same gate and
    transaction as `get_session`, but one hop to a thread and back instead of one per
    sync dependency, endpoint, response check and commit (under load each hop costs
    more than the work), and the writer's turn held for the transaction alone. `work`
    returns the response itself, serialised in that thread too. `write` overrides what
    the method says (a sign-in reads before it writes).
    """
    state = request.app.state
    if write is None:
        write = request.method in WRITE_METHODS
    async with _turn(state, write=write):
        with anyio.CancelScope(shield=True):
            result = await anyio.to_thread.run_sync(
                _transaction, state.write_engine if write else state.engine, work
            )
    return result


def _select_one(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.SQLAlchemyError:
        return False
    return True


async def answers(engine: Engine, *, within: float = READY_SECONDS) -> bool:
    """Whether the database answers a `SELECT 1` within `within` seconds. A check still
    waiting then is left to finish in its thread (its own deadlines end it)."""
    health = _health.get(engine)
    if health is not None and health.refusing():
        return False
    with anyio.move_on_after(within):
        return await anyio.to_thread.run_sync(_select_one, engine, abandon_on_cancel=True)
    return False
