"""The read cache across real server processes sharing one database and one Redis: once
a withdrawal is answered by one process, the other never serves the withdrawn
submission from its cache; other writes reach it within a second."""

import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from api.config import Settings
from api.security import Security
from models.submission import Status
from models.user import Role, User
from tests.live import REPO, _healthy, _stop, free_port, server_env
from tests.redis_helpers import SHARED_REDIS, drop_prefix, new_prefix

TRIES = 200


@contextmanager
def cached_server(database_url: str, secret: str, prefix: str, log: Path) -> Iterator[str]:
    """`civic-input serve` with its read cache on and the shared Redis."""
    port = free_port()
    env = server_env(database_url, secret) | {
        "CIVIC_RESPONSE_CACHE": "true",
        "CIVIC_REDIS_URL": SHARED_REDIS,
        "CIVIC_REDIS_PREFIX": prefix,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _healthy(base + "/readyz"):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield base
    finally:
        _stop(process)


@pytest.fixture
def two_servers(database_url, tmp_path) -> Iterator[tuple[str, str, str]]:
    secret = secrets.token_urlsafe(36)
    prefix = new_prefix()
    with ExitStack() as stack:
        writer = stack.enter_context(cached_server(database_url, secret, prefix, tmp_path / "a"))
        reader = stack.enter_context(cached_server(database_url, secret, prefix, tmp_path / "b"))
        yield writer, reader, secret
    drop_prefix(prefix)


def test_no_process_serves_a_withdrawn_or_removed_submission(two_servers, make, database_url):
    """Every other try a moderator removes it instead of its author withdrawing it."""
    writer, reader, secret = two_servers
    security = Security(
        Settings(env="test", database_url=database_url, secret_key=secret, _env_file=None)  # type: ignore[call-arg]
    )
    author, moderator = make.user(Role.activist), make.user(Role.moderator)
    rnd = make.round()
    submissions = [make.submission(rnd, author=author) for _ in range(TRIES)]
    as_author = bearer(security, author)
    as_moderator = bearer(security, moderator)
    stale = 0
    with httpx.Client(base_url=writer) as one, httpx.Client(base_url=reader) as two:
        for index, submission in enumerate(submissions):
            path = f"/api/v1/submissions/{submission.id}"
            assert two.get(path).status_code == 200  # in the reader's cache now
            assert two.get(path).status_code == 200
            if index % 2:
                answer = one.post(
                    path + "/moderation",
                    json={"decision": "remove", "reason": "Names a witness."},
                    headers=as_moderator,
                )
            else:
                answer = one.post(path + "/withdraw", headers=as_author)
            assert answer.is_success, answer.text
            if two.get(path).status_code != 404:
                stale += 1
    assert stale == 0, f"{stale} of {TRIES} reads after the takedown served it"


def test_other_writes_reach_the_other_process_within_a_second(two_servers, make, database_url):
    writer, reader, secret = two_servers
    security = Security(
        Settings(env="test", database_url=database_url, secret_key=secret, _env_file=None)  # type: ignore[call-arg]
    )
    moderator = make.user(Role.moderator)
    rnd = make.round()
    pending = make.submission(rnd, status=Status.pending)
    record = f"/api/v1/rounds/{rnd.id}/record"
    with httpx.Client(base_url=writer) as one, httpx.Client(base_url=reader) as two:
        assert str(pending.id) not in two.get(record).text
        answer = one.post(
            f"/api/v1/submissions/{pending.id}/moderation",
            json={"decision": "publish"},
            headers=bearer(security, moderator),
        )
        assert answer.is_success, answer.text
        published = time.monotonic()
        while str(pending.id) not in two.get(record).text:
            assert time.monotonic() - published < 1.0, "the other process still serves the old page"
            time.sleep(0.02)


def bearer(security: Security, user: User) -> dict[str, str]:
    token = security.mint_access_token(user.id, user.session_version)
    return {"Authorization": f"Bearer {token}"}
