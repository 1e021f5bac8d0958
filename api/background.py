"""Work `serve` does on its own while it runs: the daily purge of erased text."""

import functools
import logging

import anyio
import anyio.to_thread
from sqlalchemy.engine import Engine

from api.config import Settings
from api.services import erasure

log = logging.getLogger("civic_input")

# The first pass waits this long after start, so start-up (and every test app) stays quick.
PURGE_FIRST_AFTER_SECONDS = 60.0


async def purge_periodically(engine: Engine, settings: Settings) -> None:
    """Erase what is due (`erasure.purge`) soon after start, then every
    `purge_interval_hours`; a failed pass is logged and tried again next time."""
    interval = settings.purge_interval_hours * 3600
    await anyio.sleep(PURGE_FIRST_AFTER_SECONDS)
    while True:
        try:
            purged = await anyio.to_thread.run_sync(
                functools.partial(
                    erasure.purge, engine, retention_days=settings.removed_retention_days
                )
            )
        except Exception as exc:  # the next pass tries again
            log.warning(
                "purge pass failed (%s); next in %.0f h", type(exc).__name__, interval / 3600
            )
        else:
            log.info(
                "purge: erased %d withdrawn and %d removed submissions",
                purged.withdrawn,
                purged.removed,
            )
        await anyio.sleep(interval)
