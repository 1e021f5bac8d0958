"""A server's life: `closing` is set when it is told to stop (SIGTERM, SIGINT), before it
waits for the requests in flight. What would otherwise keep a connection open to the
end (a live stream) watches it and ends, so that the server stops on time and nothing
acknowledged is lost.

`civic-input serve` sets it from its signal handling (`begin_shutdown`); the app's
lifespan makes the event (`open`) and, on its way out, sets it too.
"""

import asyncio
from typing import Any

_CLOSING = "closing"
_LOOP = "closing_loop"


def open(state: Any) -> asyncio.Event:
    """Make the app's `closing` event, in the loop that serves the app."""
    event = asyncio.Event()
    setattr(state, _CLOSING, event)
    setattr(state, _LOOP, asyncio.get_running_loop())
    return event


def closing(state: Any) -> asyncio.Event:
    """The app's `closing` event (`open` must have run: the app's lifespan does)."""
    event: asyncio.Event = getattr(state, _CLOSING)
    return event


def begin_shutdown(state: Any) -> None:
    """Tell everything that watches `closing` to end. Safe from a signal handler or
    another thread; a no-op before the lifespan has started."""
    event: asyncio.Event | None = getattr(state, _CLOSING, None)
    loop: asyncio.AbstractEventLoop | None = getattr(state, _LOOP, None)
    if event is None or loop is None or loop.is_closed():
        return
    loop.call_soon_threadsafe(event.set)
