"""Without Redis, one process per database.

Sign-in throttling, the read cache's invalidation and the leader of background duties
live in a process's memory when there is no ``CIVIC_REDIS_URL``. A second process
would double an attacker's guesses and serve withdrawn content, so it refuses to start,
telling the operator to set ``CIVIC_REDIS_URL``. Sharing all of that through
PostgreSQL instead would put a database round trip on every cached read and sign-in;
Redis is the one way to run several.

The lock is held for the life of the process, so it goes when the process does, even by
``kill -9``: on PostgreSQL a session-level advisory lock on a connection of its own
(seen by every host that shares the database, which no count of local processes
could be), on SQLite an exclusive ``flock`` on ``<database file>.lock``. Apps within one
process share it (tests make many). ``CIVIC_ENV=test`` takes none: the test suite runs
servers beside its own apps on one database.
"""

import fcntl
import logging
import threading
from collections.abc import Callable
from typing import IO

import sqlalchemy as sa
from sqlalchemy.engine import Engine

log = logging.getLogger("civic_input")

# pg_try_advisory_lock's key: "civi" in ASCII, fixed so every version agrees on it
ADVISORY_KEY = 0x63697669

MESSAGE = (
    "another Civic Input process is already running on this database without Redis; "
    "to run several processes, set CIVIC_REDIS_URL (the same Redis for all of them)"
)


class AnotherProcess(RuntimeError):
    """A second process without Redis on a database another process serves."""


class _Held:
    def __init__(self, release: Callable[[], None]) -> None:
        self.release = release
        self.users = 0


_held: dict[str, _Held] = {}
_guard = threading.Lock()


def hold(engine: Engine) -> Callable[[], None]:
    """Take the database's single-process lock (or share this process's); returns the
    function that lets it go. Raises `AnotherProcess` when another process holds it."""
    name = engine.url.render_as_string(hide_password=True)
    with _guard:
        held = _held.get(name)
        if held is None:
            held = _held[name] = _Held(_take(engine))
        held.users += 1

    def release() -> None:
        with _guard:
            held.users -= 1
            if held.users == 0:
                del _held[name]
                held.release()

    return release


def _take(engine: Engine) -> Callable[[], None]:
    if engine.dialect.name == "postgresql":
        return _advisory(engine)
    path = engine.url.database
    if engine.dialect.name == "sqlite" and path and path != ":memory:":
        return _flock(path + ".lock")
    return lambda: None


def _advisory(engine: Engine) -> Callable[[], None]:
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    connection.detach()  # its own, never back in the pool: closing it lets the lock go
    try:
        took = connection.scalar(
            sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
        )
    except BaseException:
        connection.close()
        raise
    if not took:
        connection.close()
        raise AnotherProcess(MESSAGE)
    return connection.close


def _flock(path: str) -> Callable[[], None]:
    handle: IO[str] = open(path, "a+")  # noqa: SIM115 (open for the life of the process)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AnotherProcess(MESSAGE) from None
    return handle.close
