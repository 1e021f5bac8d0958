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
one would wait out the 30 s timeouts and fail. So `get_session` first takes a slot
(fewer slots than pool connections and thread tokens) and, on SQLite, the single
writer's turn. A `Transaction` takes the same turn for a transaction done in one hop to
a worker thread.

On PostgreSQL every wait on the server has a deadline, and a server that failed a
moment ago is not waited for (api/deadline.py): the turn answers 503 `Unavailable` at
once, and waits for a slot at most `deadline.SICK_WAIT_SECONDS` until the server
answers again.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast
from weakref import WeakKeyDictionary

import anyio
import anyio.to_thread
import sqlalchemy as sa
from fastapi import Request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api import deadline
from api.config import normalise_database_url
from api.errors import Busy, Unavailable

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Each SQLite connection's page cache (SQLite's default is 2 MiB). A record page reads
# its 50 submissions and, through their ids (random UUIDs), a leaf page of each link
# and response index for every one: some 500 pages of 4 KiB. In 2 MiB the page's two
# queries evicted each other's pages, and every request read them again from the file.
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


def default_concurrency(engine: Engine) -> int:
    """How many requests use the database at once, by default.

    A request's Python work holds the GIL, so more requests in flight than one only
    makes them take turns at it: on SQLite, whose work is a small part of a request's,
    one at a time serves the record page faster than two, and two faster than four.
    PostgreSQL works in processes of its own, so a request waiting for it leaves the GIL
    to another, and a few at once serve it faster than two. Sign-ins hash outside their
    turn (`Security.hashed`).
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


@dataclass
class Gate:
    """Who may use the database now: a slot each, and on SQLite the single writer's turn.

    Made by the app's lifespan (api/main.py), in the event loop that serves it: anyio's
    semaphores belong to the loop that made them, and a TestClient runs each app in a
    loop of its own."""

    slots: anyio.Semaphore
    writer: anyio.Semaphore | None
    health: deadline.Health | None

    @classmethod
    def open(cls, engine: Engine, concurrency: int) -> "Gate":
        return cls(
            slots=anyio.Semaphore(_slot_count(engine, concurrency)),
            writer=anyio.Semaphore(1) if engine.dialect.name == "sqlite" else None,
            health=_health.get(engine),
        )


def _gate(state: Any) -> Gate:
    gate: Gate | None = getattr(state, "gate", None)
    if gate is None:
        raise RuntimeError("The app's lifespan has not run: no database gate (api/main.py).")
    return gate


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
    `state` is the app's: its `gate`."""
    gate = _gate(state)
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


class Deferred(Generic[T]):
    """A dependency's value that needs the database (the caller's row, the round's):
    read inside the request's `Transaction`, in its worker thread, once per transaction.
    Whatever it can check without the database it checks in the event loop, but raises
    only when read, so errors come in the order the arguments are given."""

    __slots__ = ("_load", "_session", "_value")

    def __init__(self, load: Callable[[Session], T]) -> None:
        self._load = load
        self._session: Session | None = None
        self._value: Any = None

    def get(self, session: Session) -> T:
        if self._session is not session:
            self._value = self._load(session)
            self._session = session
        return cast(T, self._value)


class Retry(Exception):
    """Raised by a transaction's work that lost a race it can recognise (another
    transaction committed the same unique key first): the transaction is rolled back
    and done once more from the start, when the work sees what the winner stored."""


def _transaction(engine: Engine, work: Callable[..., T], arguments: dict[str, Any]) -> T:
    try:
        return _attempt(engine, work, arguments)
    except Retry:
        return _attempt(engine, work, arguments)


def _attempt(engine: Engine, work: Callable[..., T], arguments: dict[str, Any]) -> T:
    with Session(engine, expire_on_commit=False) as session:
        resolved = {
            name: value.get(session) if isinstance(value, Deferred) else value
            for name, value in arguments.items()
        }
        result = work(session, **resolved)
        session.commit()
        return result


class Transaction:
    """The request's transaction, done whole in one hop to a worker thread, in its turn.

    For the hot paths (the record, the feed, submitting, signing in): the same gate and
    transaction as `get_session`, but one hop to a thread and back instead of one per
    sync dependency, endpoint, response check and commit (under load the hops cost more
    than the work), and on SQLite the writer's turn held for the transaction alone. The
    work returns the response itself, serialised in that thread too.
    """

    def __init__(self, state: Any, *, writes: bool) -> None:
        self._state = state
        self.writes = writes

    async def __call__(self, work: Callable[..., T], /, **arguments: Any) -> T:
        """`work(session, **arguments)` and its commit, writing if the method writes. Each
        `Deferred` argument is read first, in the order given, in the same transaction."""
        return await self._run(work, arguments, write=self.writes)

    async def read(self, work: Callable[..., T], /, **arguments: Any) -> T:
        """The same, in a reading turn whatever the method (a sign-in reads first)."""
        return await self._run(work, arguments, write=False)

    async def write(self, work: Callable[..., T], /, **arguments: Any) -> T:
        """The same, in a writing turn whatever the method."""
        return await self._run(work, arguments, write=True)

    async def _run(self, work: Callable[..., T], arguments: dict[str, Any], *, write: bool) -> T:
        state = self._state
        async with _turn(state, write=write):
            with anyio.CancelScope(shield=True):
                result = await anyio.to_thread.run_sync(
                    _transaction, state.write_engine if write else state.engine, work, arguments
                )
        return result


async def transaction(request: Request) -> Transaction:
    """The request's `Transaction` (a dependency: see api/deps.py)."""
    return Transaction(request.app.state, writes=request.method in WRITE_METHODS)


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
