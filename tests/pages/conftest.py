"""The demo record, loaded once per module for the page tests that only read it."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import cache, demo
from api.config import Settings
from tests.api.test_privacy import scenario  # noqa: F401  (the played round, for the sweep)
from tests.conftest import _empty_tables


@pytest.fixture(scope="module")
def demo_client(app: FastAPI, settings: Settings) -> Iterator[TestClient]:
    """A client of the app with the demo data (the 2012 and 2013 rounds) in the database.
    Tests that use it must not write; the tables are emptied after the module."""
    engine = app.state.engine
    _empty_tables(engine)
    assert demo.seed(settings) is True
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        _empty_tables(engine)
        app.state.security.throttle.clear()
        cache.bump()
