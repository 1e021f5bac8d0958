"""Releasing held responses when their instant comes, in every `serve` process.

The database holds the state (the held responses and their instants:
api/services/releases.py), so nothing is lost with a process: one started after an
instant releases what is due in its first pass, at start. Every process runs this loop,
not only the leader of the purge (api/background.py): a release must not wait for a
lease to pass from a dead process to a live one, and it needs no leader, since each
pass claims the right to release in the database and re-reads what is still held in
the same transaction, so two processes waking at the same instant release it once.

A pass first reads, in a reading turn, the earliest instant anything waits for; only
when that has come does it take a writing turn (on SQLite, the writer's) to release.
It then sleeps until the next instant it knows of, or `release_poll_seconds` at most:
the poll finds instants set meanwhile, here or by another process.
"""

import logging
from datetime import datetime

import anyio
from sqlmodel import Session

from api import clock
from api.db import Transaction
from api.services import releases

log = logging.getLogger("civic_input")


def _next(session: Session) -> datetime | None:
    return releases.next_due(session)


def _release(session: Session) -> int:
    return len(releases.release_due(session))


async def release_pass(state: object) -> datetime | None:
    """Release what is due; the next instant something waits for."""
    next_at = await Transaction(state, writes=False).read(_next)
    if next_at is None or next_at > clock.now():
        return next_at
    released = await Transaction(state, writes=True).write(_release)
    if released:
        log.info("release: %d held responses made public", released)
    result: datetime | None = await Transaction(state, writes=False).read(_next)
    return result


def delay(next_at: datetime | None, poll_seconds: float) -> float:
    """How long to sleep: until `next_at`, but never longer than the poll."""
    if next_at is None:
        return poll_seconds
    return max(0.0, min(poll_seconds, (next_at - clock.now()).total_seconds()))


async def release_when_due(state: object, poll_seconds: float) -> None:
    """Run passes for the life of the app; a failed pass is logged and tried again at
    the next poll."""
    while True:
        try:
            next_at = await release_pass(state)
        except Exception as exc:  # the next pass tries again
            log.warning("release pass failed (%s); trying again shortly", type(exc).__name__)
            next_at = None
        await anyio.sleep(delay(next_at, poll_seconds))
