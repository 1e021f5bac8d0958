"""State kept once per event loop: a TestClient runs each app in a loop of its own, and
anyio's semaphores and limiters belong to the loop that made them."""

from collections.abc import Callable
from typing import TypeVar
from weakref import WeakKeyDictionary

from anyio.lowlevel import RunVar

K = TypeVar("K")
V = TypeVar("V")


def per_loop(var: "RunVar[WeakKeyDictionary[K, V]]", key: K, make: Callable[[], V]) -> V:
    """The value for `key` in this event loop, made by `make` on first use."""
    try:
        values = var.get()
    except LookupError:
        values = WeakKeyDictionary()
        var.set(values)
    value = values.get(key)
    if value is None:
        value = values[key] = make()
    return value
