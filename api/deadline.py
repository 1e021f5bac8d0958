"""Deadlines for PostgreSQL: a sick server gets a fast, honest answer.

A stopped server refuses connections at once, but a hung one (paused, swapping, or
behind a dead link) accepts them and never answers, and neither the server's
`statement_timeout` (the server must be running to enforce it) nor TCP keepalives (the
server's kernel still answers them) ever fire. So every wait on the server is bounded
in the client: each connection is a `DeadlineConnection`, whose `wait` (every
psycopg round trip goes through it: statements, fetches, commits, the pool's ping)
gives up after `deadline` seconds, closes the connection, and raises an
`OperationalError` that SQLAlchemy takes for a disconnect (the pool is then emptied).
No watchdog thread: psycopg's own wait loop checks the clock.

`Health` remembers the last failure. For `FAIL_FAST_SECONDS` after one, requests and
new connections are refused at once (503, `Retry-After`) instead of each waiting out
its own timeout, and a request queued for the database waits at most
`SICK_WAIT_SECONDS` until a round trip succeeds again. Nothing needs a restart.
"""

import math
import time
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import event
from sqlalchemy.engine import Engine

# After a failure, how long requests and connections are refused without trying.
FAIL_FAST_SECONDS = 1.0
# While the last try failed, how long a request may queue for the database.
SICK_WAIT_SECONDS = 1.0
# The client waits this much longer than the server's statement_timeout, so a server
# that is up cancels a slow statement itself (a clean error, the connection kept).
GRACE_SECONDS = 0.5

# psycopg raises this from `wait` when `timeout` passes (psycopg >= 3.2).
_WaitTimeout: type[BaseException] = pg_errors._WaitTimeout


class Health:
    """What the last round trip to the server said: `failed_at` is None after a success."""

    __slots__ = ("failed_at",)

    def __init__(self) -> None:
        self.failed_at: float | None = None

    def failed(self) -> None:
        self.failed_at = time.monotonic()

    def answered(self) -> None:
        if self.failed_at is not None:
            self.failed_at = None

    @property
    def sick(self) -> bool:
        return self.failed_at is not None

    def refusing(self) -> bool:
        """A failure so recent that trying again now would only wait for nothing."""
        failed_at = self.failed_at
        return failed_at is not None and time.monotonic() - failed_at < FAIL_FAST_SECONDS


class DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait on the server ends within `deadline`."""

    deadline: float | None = None
    health: Health = Health()

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        try:
            result = super().wait(gen, interval, self.deadline if timeout is None else timeout)
        except _WaitTimeout:
            self.health.failed()
            # mid-protocol, the connection is useless: drop it (SQLAlchemy sees it closed,
            # takes the error for a disconnect and discards the pool's connections)
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"the database did not answer within {self.deadline} s"
            ) from None
        self.health.answered()
        return result


def install(
    engine: Engine, *, connect_timeout: float | None, statement_timeout: float | None
) -> Health:
    """Give `engine` (PostgreSQL, psycopg) its connect timeout, its statement timeout
    (on the server and, with `GRACE_SECONDS` more, in the client) and a `Health`."""
    health = Health()
    deadline = statement_timeout + GRACE_SECONDS if statement_timeout else None
    options: dict[str, Any] = {}
    if connect_timeout:
        # libpq's unit is whole seconds, and it waits at least 2
        options["connect_timeout"] = max(2, math.ceil(connect_timeout))
    server_options = ""
    if statement_timeout:
        server_options = f"-c statement_timeout={round(statement_timeout * 1000)}"

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        if health.refusing():
            raise psycopg.OperationalError("the database failed a moment ago")
        try:
            params = {**cparams, **options}
            if server_options:
                params["options"] = f"{params.get('options') or ''} {server_options}".strip()
            conn = DeadlineConnection.connect(*cargs, **params)
        except psycopg.OperationalError:
            health.failed()
            raise
        conn.deadline = deadline
        conn.health = health
        health.answered()
        return conn

    return health
