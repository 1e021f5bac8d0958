"""`closing`: set by `begin_shutdown` (from a signal handler or another thread) and when
the app's lifespan ends; before the lifespan it is a no-op."""

import threading
import time

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import lifecycle
from api.config import Settings
from api.main import create_app


def test_begin_shutdown_before_the_lifespan_does_nothing() -> None:
    app = FastAPI()
    lifecycle.begin_shutdown(app.state)
    assert not hasattr(app.state, "closing")


def test_begin_shutdown_from_another_thread_sets_closing(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app):
        closing = lifecycle.closing(app.state)
        assert not closing.is_set()
        thread = threading.Thread(target=lifecycle.begin_shutdown, args=(app.state,))
        thread.start()
        thread.join()
        deadline = time.monotonic() + 5
        while not closing.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert closing.is_set()


def test_the_end_of_the_lifespan_sets_closing(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app):
        closing = lifecycle.closing(app.state)
        assert not closing.is_set()
    assert closing.is_set()
