"""Without Redis one process per database: a second one (a real process, on a real
connection to the same database) refuses to start and tells the operator to set
CIVIC_REDIS_URL; the lock goes with the first; with Redis nobody takes it."""

import subprocess
import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api import single
from api.config import Settings
from api.main import create_app
from tests.live import REPO, free_port, server_env
from tests.redis_helpers import SHARED_REDIS, drop_prefix, new_prefix

TAKE_THE_LOCK = (
    "import sys; from api import single; from api.db import make_engine; "
    "single.hold(make_engine(sys.argv[1])); print('held')"
)


@pytest.fixture
def first(settings: Settings) -> Iterator[None]:
    """This test process serving the database without Redis, as a deployment would."""
    app = create_app(settings.model_copy(update={"env": "development"}))
    with TestClient(app):
        yield


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_second_server_without_redis_refuses_to_start(first, settings):
    env = server_env(settings.database_url, settings.secret) | {"CIVIC_ENV": "development"}
    port = str(free_port())
    second = run("-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", port, env=env)
    assert second.returncode != 0
    output = second.stdout + second.stderr
    assert single.MESSAGE in output, output[-3000:]
    assert "CIVIC_REDIS_URL" in single.MESSAGE


def test_the_lock_goes_with_the_process_that_held_it(settings):
    app = create_app(settings.model_copy(update={"env": "development"}))
    with TestClient(app):
        held = run("-c", TAKE_THE_LOCK, settings.database_url, env=server_env("", ""))
        assert held.returncode != 0
        assert single.MESSAGE in held.stderr
    after = run("-c", TAKE_THE_LOCK, settings.database_url, env=server_env("", ""))
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "held"


def test_with_redis_a_second_process_starts(first, settings):
    prefix = new_prefix()
    env = server_env(settings.database_url, settings.secret) | {
        "CIVIC_ENV": "development",
        "CIVIC_REDIS_URL": SHARED_REDIS,
        "CIVIC_REDIS_PREFIX": prefix,
    }
    script = (
        "from fastapi.testclient import TestClient; from api.main import create_app; "
        "client = TestClient(create_app()); client.__enter__(); "
        "print(client.get('/readyz').json()); client.__exit__(None, None, None)"
    )
    try:
        second = run("-c", script, env=env)
    finally:
        drop_prefix(prefix)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "'redis': 'ok'" in second.stdout
