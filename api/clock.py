"""The clock: every rule that depends on the time asks here."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_frozen: ContextVar[datetime | None] = ContextVar("civic_clock_frozen", default=None)


def now() -> datetime:
    frozen = _frozen.get()
    return frozen if frozen is not None else datetime.now(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[datetime]:
    """Inside the block, `now()` answers `at`: replaying dated history (the demo) runs every
    rule as it stood at that instant. Context-local, so other threads and tasks keep the
    real time."""
    if at.tzinfo is None:
        raise ValueError("the clock is set with an aware instant")
    token = _frozen.set(at.astimezone(UTC))
    try:
        yield at
    finally:
        _frozen.reset(token)
