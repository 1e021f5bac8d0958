"""The clock: every rule that depends on the time asks here."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
