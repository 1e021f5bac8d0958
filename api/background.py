"""Work `serve` does on its own while it runs: the daily purge of erased text.

Once per deployment, not once per process: only the process that holds the leader lock
does it. With Redis the lock is a key set if absent with an expiry, renewed by its
holder well before it lapses; a process that dies lets it lapse and another takes it
over. Without Redis only one process may run (api/single.py) and it leads. While Redis
is down nobody leads: the purge can wait a day, a double pass cannot be undone.
"""

import functools
import logging
import secrets
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy.engine import Engine

from api.config import Settings
from api.services import erasure
from api.shared import Shared

log = logging.getLogger("civic_input")

# The first pass waits this long after start, so start-up (and every test app) stays quick.
PURGE_FIRST_AFTER_SECONDS = 60.0


LEADER_SECONDS = 30.0
# renewed this often, so a slow Redis or a busy process does not lose the lease by accident
RENEW_SECONDS = LEADER_SECONDS / 3

# Renew the lease only if it is still this process's (a lapsed one may be another's now).
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


class Leader:
    """Whether this process leads the deployment's background duties."""

    def __init__(self, shared: Shared | None) -> None:
        self.shared = shared
        self.leads = shared is None
        self.token = secrets.token_hex(16)

    def campaign(self) -> bool:
        """Take the lock if free, or renew it if held: one round trip, blocking."""
        if self.shared is None:
            return True
        key = self.shared.key("leader")
        ms = int(LEADER_SECONDS * 1000)

        def ask(client: Any) -> bool:
            if client.set(key, self.token, nx=True, px=ms):
                return True
            return bool(client.eval(_RENEW, 1, key, self.token, ms))

        self.leads = self.shared.call(ask, False)
        return self.leads

    def resign(self) -> None:
        if self.shared is not None and self.leads:
            key = self.shared.key("leader")
            release = "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end"
            self.shared.call(lambda client: client.eval(release, 1, key, self.token), None)
        self.leads = self.shared is None

    async def hold_forever(self) -> None:
        while True:
            await anyio.to_thread.run_sync(self.campaign)
            await anyio.sleep(RENEW_SECONDS)


async def purge_periodically(engine: Engine, settings: Settings, leader: Leader) -> None:
    """Erase what is due (`erasure.purge`) soon after start, then every
    `purge_interval_hours`, if this process leads; a failed pass is logged and tried
    again next time."""
    interval = settings.purge_interval_hours * 3600
    await anyio.sleep(PURGE_FIRST_AFTER_SECONDS)
    while True:
        if not leader.leads:
            await anyio.sleep(interval)
            continue
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
