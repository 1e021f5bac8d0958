"""Shared state through Redis, in one test process: two apps on one database and one
Redis stand for two processes (their throttles, leaders and Redis clients are their
own). Sign-in failures counted for both, /readyz telling of a Redis that went away,
throttling and reads that go on without it, recovery when it comes back, one purger.
The real-process cache test is tests/test_redis_processes.py."""

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import background, cache
from api.config import Settings
from api.main import create_app
from api.services import erasure
from models.submission import Submission
from models.user import Role
from tests.client import submission_body
from tests.factories import PASSWORD
from tests.live import free_port
from tests.redis_helpers import (
    SHARED_REDIS,
    drop_prefix,
    keys_under,
    new_prefix,
    start_redis,
    stop_redis,
)

TOKEN = "/api/v1/auth/token"
WRONG = "not the right passphrase"
ADDRESS = "203.0.113.9"


@pytest.fixture
def prefix() -> Iterator[str]:
    name = new_prefix()
    yield name
    drop_prefix(name)


def with_redis(
    settings: Settings, prefix: str, url: str = SHARED_REDIS, **more: object
) -> Settings:
    return settings.model_copy(update={"redis_url": url, "redis_prefix": prefix, **more})


def sign_in(client: TestClient, handle: str, password: str = PASSWORD) -> int:
    return client.post(TOKEN, data={"username": handle, "password": password}).status_code


def wait_for(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_failures_on_two_processes_add_up_in_redis(settings, prefix, make):
    make.user(Role.activist, handle="shared-target")
    one, two = create_app(with_redis(settings, prefix)), create_app(with_redis(settings, prefix))
    with (
        TestClient(one, client=(ADDRESS, 40000)) as first,
        TestClient(two, client=(ADDRESS, 40001)) as second,
    ):
        for client in (first, second, first, second, first):
            assert sign_in(client, "shared-target", WRONG) == 401
        # five failures for the pair, split across the processes: the right password waits
        assert sign_in(second, "shared-target") == 429
        assert sign_in(first, "shared-target") == 429
    keys = keys_under(prefix)
    assert {key.split(":")[1] for key in keys} == {"signin"}
    assert len(keys) == 3  # the pair, the address, the account
    assert not any(ADDRESS in key for key in keys), keys  # the address only as a keyed hash
    client = redis.Redis.from_url(SHARED_REDIS)
    try:
        ttls = [client.pttl(key) for key in keys]
    finally:
        client.close()
    assert all(0 < ttl <= settings.login_window_seconds * 1000 for ttl in ttls), ttls


def test_a_success_forgives_the_pair_everywhere(settings, prefix, make):
    make.user(Role.activist, handle="forgiven")
    one, two = create_app(with_redis(settings, prefix)), create_app(with_redis(settings, prefix))
    with (
        TestClient(one, client=(ADDRESS, 40000)) as first,
        TestClient(two, client=(ADDRESS, 40001)) as second,
    ):
        for _ in range(4):
            assert sign_in(first, "forgiven", WRONG) == 401
        assert sign_in(second, "forgiven") == 200
        for _ in range(4):
            assert sign_in(first, "forgiven", WRONG) == 401
        assert sign_in(second, "forgiven") == 200


def test_readyz_says_redis_is_ok(settings, prefix):
    with TestClient(create_app(with_redis(settings, prefix))) as client:
        assert client.get("/readyz").json() == {"status": "ready", "database": "ok", "redis": "ok"}


def test_readyz_without_redis_says_nothing_of_it(client):
    assert client.get("/readyz").json() == {"status": "ready", "database": "ok"}


def test_redis_going_away_and_coming_back(settings, prefix, make, engine):
    """Its own redis-server, stopped mid-test: sign-ins are still throttled (per
    process), reads computed (a change made behind the cache's back shows at once),
    /readyz says so; restarted, everything comes back by itself."""
    make.user(Role.activist, handle="through-outage")
    rnd = make.round()
    submission = make.submission(rnd, title="Before the outage")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    process = start_redis(port)
    try:
        app = create_app(with_redis(settings, prefix, url))
        with TestClient(app, client=(ADDRESS, 40000)) as client:
            assert client.get("/readyz").json()["redis"] == "ok"
            stop_redis(process)

            for _ in range(5):
                assert sign_in(client, "through-outage", WRONG) == 401
            assert sign_in(client, "through-outage") == 429  # this process's own count
            assert client.get("/readyz").json() == {
                "status": "ready",
                "database": "ok",
                "redis": "down",
            }

            path = f"/api/v1/submissions/{submission.id}"
            assert client.get(path).json()["title"] == "Before the outage"
            retitle(engine, submission.id, "During the outage")
            assert client.get(path).json()["title"] == "During the outage"

            process = start_redis(port)
            assert wait_for(lambda: client.get("/readyz").json()["redis"] == "ok")
            # counted in Redis again
            app.state.security.throttle.clear()
            assert sign_in(client, "through-outage", WRONG) == 401
            assert len(keys_under(prefix, url)) == 3
    finally:
        stop_redis(process)


def retitle(engine: sa.Engine, submission_id: object, title: str) -> None:
    """Change a title outside any ORM session: no commit hook sees it, as a write made
    by another process would not be seen."""
    with engine.begin() as connection:
        connection.execute(
            sa.update(Submission).where(Submission.id == submission_id).values(title=title)
        )


def test_only_one_process_purges(settings, prefix, monkeypatch):
    monkeypatch.setattr(background, "PURGE_FIRST_AFTER_SECONDS", 0.2)
    passes: list[object] = []
    real_purge = erasure.purge

    def counted(engine: sa.Engine, **kwargs: object):
        passes.append(engine)
        return real_purge(engine, **kwargs)

    monkeypatch.setattr(erasure, "purge", counted)
    apps: list[FastAPI] = [
        create_app(with_redis(settings, prefix, purge_interval_hours=0.0005)) for _ in range(2)
    ]
    with TestClient(apps[0]), TestClient(apps[1]):
        assert wait_for(lambda: len(passes) >= 2, seconds=10)
        leaders = [app for app in apps if app.state.leader.leads]
        assert len(leaders) == 1
        assert set(map(id, passes)) == {id(leaders[0].state.engine)}
        follower = next(app for app in apps if app is not leaders[0])
        assert follower.state.leader.campaign() is False
        leaders[0].state.leader.resign()
        assert follower.state.leader.campaign() is True


def test_the_same_idempotency_key_on_two_processes_at_once_makes_one_submission(
    settings, make, engine
):
    """Two apps (each its own engine and pool) on one database, the requests in threads."""
    author = make.user(Role.activist)
    rnd = make.round()
    headers = make.headers(author) | {"Idempotency-Key": "both-at-once"}
    body = submission_body()
    answers = race(
        settings,
        lambda client: client.post(
            f"/api/v1/rounds/{rnd.id}/submissions", headers=headers, json=body
        ),
    )
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT id FROM submission")).scalars().all()
    assert len(stored) == 1
    # Both are answered 201 with the one submission: the loser replays the stored answer
    # (it looked after the winner committed, or, having looked before, lost the key's
    # unique constraint, had its own submission rolled back, and looked again).
    assert [answer.status_code for answer in answers] == [201, 201], [a.text for a in answers]
    assert {answer.json()["id"] for answer in answers} == {str(uuid.UUID(str(stored[0])))}
    replayed = sorted(answer.headers.get("Idempotent-Replayed", "no") for answer in answers)
    assert replayed == ["no", "true"]


def test_the_same_refresh_token_on_two_processes_at_once_succeeds_once(settings, client, make):
    make.user(Role.activist, handle="raced")
    pair = client.post(TOKEN, data={"username": "raced", "password": PASSWORD}).json()
    answers = race(
        settings,
        lambda c: c.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}),
    )
    assert sorted(answer.status_code for answer in answers) == [200, 401]


def race(settings: Settings, request) -> list:
    """`request(client)` on two apps at once (started together behind a barrier)."""
    apps = [create_app(settings), create_app(settings)]
    barrier = threading.Barrier(2)
    answers: list = [None, None]
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        clients = (first, second)

        def run(index: int) -> None:
            barrier.wait()
            answers[index] = request(clients[index])

        threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    cache.bump()
    return answers
