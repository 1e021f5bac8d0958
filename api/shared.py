"""The Redis that the processes of one deployment share (``CIVIC_REDIS_URL``), and its health.

Redis carries what must be one across processes (sign-in failures, cache invalidation,
the leader of background duties), never anything the database does not also hold: when
it fails, every user of it falls back to what one process can do alone (its own
counters, no cache, leading by itself). A failed call marks it down; while down nobody
waits on it, and a thread tries it again every second until it answers.
"""

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import redis

log = logging.getLogger("civic_input")

T = TypeVar("T")

RETRY_SECONDS = 1.0
# a call on a sick Redis gives up quickly: it is on a request's path
SOCKET_TIMEOUT_SECONDS = 0.5


class Shared:
    """One Redis client for an app, whether it answers, and the keys under `prefix`."""

    def __init__(self, url: str, *, prefix: str = "civic:") -> None:
        self.url = url
        self.prefix = prefix
        self.client: redis.Redis = redis.Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        )
        self.up = True
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # called (in the health thread) each time Redis answers again after being down
        self.on_recovery: list[Callable[[], None]] = []

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def mark_down(self, exc: BaseException) -> None:
        if self.up:
            log.warning("redis is down (%s); running without it until it answers", exc)
        self.up = False

    def call(self, work: Callable[[redis.Redis], T], default: T) -> T:
        """`work(client)`, or `default` (at once, while Redis is down, or if it fails)."""
        if not self.up:
            return default
        try:
            return work(self.client)
        except (redis.RedisError, OSError) as exc:
            self.mark_down(exc)
            return default

    def start(self) -> None:
        """Ping once (so a Redis down at start is known at once), then watch."""
        try:
            self.client.ping()
        except (redis.RedisError, OSError) as exc:
            self.mark_down(exc)
        self._thread = threading.Thread(target=self._watch, name="civic-redis-health", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(RETRY_SECONDS):
            if self.up:
                continue
            try:
                self.client.ping()
            except (redis.RedisError, OSError):
                continue
            log.warning("redis answers again")
            self.up = True
            for hook in self.on_recovery:
                hook()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.client.close()

    def status(self) -> str:
        return "ok" if self.up else "down"
