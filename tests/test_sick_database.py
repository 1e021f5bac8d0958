"""A sick database gets a fast, honest answer (issue 12, item 7): with PostgreSQL
stopped, or hung (every process of the cluster SIGSTOPped: connections stay open and
nothing answers), a request that needs the database answers a 503 problem with
`Retry-After` within 5 s and `/readyz` a 503 within 2 s; once the server is back,
requests succeed again without restarting the app.

The test runs its own throwaway cluster (`initdb` on a free port), whatever database
the rest of the suite uses, and never touches the shared server. The elapsed times are
asserted because the bounds are the requirement itself.
"""

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from api import db
from api.cli import migrate
from api.config import Settings
from api.main import create_app
from tests import pgcluster

pytestmark = [
    pytest.mark.skipif(
        not pgcluster.available(), reason="needs PostgreSQL's initdb, pg_ctl and postgres"
    ),
    # some 18 s of outages: run once per `make test`, in its first pass (which always runs)
    pytest.mark.skipif(
        bool(os.environ.get("CIVIC_TEST_DATABASE_URL")),
        reason="uses a cluster of its own: already run in the pass without a test database",
    ),
]

REQUEST_BOUND = 5.0  # issue 12, item 7: requests answer within 5 s
READY_BOUND = 2.0  # issue 12, item 7: /readyz answers within 2 s
RECOVERY_WAIT = 15.0
CONCURRENT = 10  # more than the 6 requests PostgreSQL serves at once by default


@dataclass
class Sick:
    cluster: pgcluster.Cluster
    client: TestClient


@pytest.fixture(scope="module")
def sick() -> Iterator[Sick]:
    with pgcluster.throwaway_cluster() as cluster:
        migrate(cluster.url)
        settings = Settings(  # type: ignore[call-arg]
            env="test", database_url=cluster.url, response_cache=False, _env_file=None
        )
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            yield Sick(cluster, client)


def _themes(client: TestClient) -> httpx.Response:
    """A read in a request's session (`get_session`)."""
    return client.get("/api/v1/themes")


def _sign_in(client: TestClient) -> httpx.Response:
    """A read then a write in one hop to a thread each (`Tx`, api/deps.py)."""
    return client.post(
        "/api/v1/auth/token", data={"username": "nobody", "password": "not the password"}
    )


def _timed(call: object, client: TestClient) -> tuple[httpx.Response, float]:
    assert callable(call)
    started = time.monotonic()
    response = call(client)
    return response, time.monotonic() - started


def _assert_unavailable(response: httpx.Response, elapsed: float, bound: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == "5"  # seconds, the one hint the API gives
    body = response.json()
    assert body["status"] == 503
    assert body["type"] == "urn:civic-input:problem:unavailable"
    # nothing about the server or the driver leaks
    for secret in ("psycopg", "127.0.0.1", "postgres", "Traceback"):
        assert secret not in response.text
    assert elapsed < bound, f"answered in {elapsed:.2f} s, the bound is {bound} s"


def _assert_sick_answers(client: TestClient) -> dict[str, float]:
    """Requests of every kind answer 503 within their bound, /readyz the first to find
    the server sick; returns the times taken."""
    times: dict[str, float] = {}
    ready, times["readyz first"] = _timed(lambda c: c.get("/readyz"), client)
    _assert_unavailable(ready, times["readyz first"], READY_BOUND)
    # many at once: those queued behind the first ones are not held either
    with ThreadPoolExecutor(CONCURRENT) as pool:
        burst = list(pool.map(lambda _: _timed(_themes, client), range(CONCURRENT)))
    for response, elapsed in burst:
        _assert_unavailable(response, elapsed, REQUEST_BOUND)
    times["burst, slowest"] = max(elapsed for _, elapsed in burst)
    for name, call in (("read", _themes), ("sign-in", _sign_in)):
        response, times[name] = _timed(call, client)
        _assert_unavailable(response, times[name], REQUEST_BOUND)
    # once the last failure is old enough to try the server again
    _wait_until_trying(client)
    ready, times["readyz, trying again"] = _timed(lambda c: c.get("/readyz"), client)
    _assert_unavailable(ready, times["readyz, trying again"], READY_BOUND)
    _wait_until_trying(client)
    response, times["read, trying again"] = _timed(_themes, client)
    _assert_unavailable(response, times["read, trying again"], REQUEST_BOUND)
    return times


def _wait_until_trying(client: TestClient) -> None:
    health = db._health[client.app.state.engine]  # type: ignore[attr-defined]
    while health.refusing():
        time.sleep(0.05)


def _assert_recovers(client: TestClient) -> float:
    """The same app serves again, no restart; returns how long that took."""
    started = time.monotonic()
    while _themes(client).status_code != 200:
        took = time.monotonic() - started
        assert took < RECOVERY_WAIT, "the app did not recover once the server was back"
        time.sleep(0.1)
    took = time.monotonic() - started
    assert _themes(client).status_code == 200
    assert _sign_in(client).status_code == 401  # the database answered: no such user
    assert client.get("/readyz").status_code == 200
    return took


def _warm(client: TestClient) -> None:
    """Pooled connections that were working: the ones a sick server strands."""
    client.app.state.security.throttle.clear()  # type: ignore[attr-defined]
    with ThreadPoolExecutor(4) as pool:
        assert all(r.status_code == 200 for r in pool.map(lambda _: _themes(client), range(8)))
    assert _sign_in(client).status_code == 401
    assert client.get("/readyz").status_code == 200


def _outage(sick: Sick, fall: Callable[[], None], rise: Callable[[], None], label: str) -> None:
    """Warm the pool, take the server down with `fall`, check every answer is a fast 503,
    bring it back with `rise`, and check the same app serves again."""
    _warm(sick.client)
    fall()
    try:
        times = _assert_sick_answers(sick.client)
    finally:
        rise()
    times["recovery"] = _assert_recovers(sick.client)
    print(f"\n{label}: {_report(times)}")


def test_a_stopped_database_gets_a_fast_503_and_the_app_recovers(sick: Sick) -> None:
    _outage(sick, sick.cluster.stop, sick.cluster.start, "stopped database")


def test_a_hung_database_gets_a_fast_503_and_the_app_recovers(sick: Sick) -> None:
    _outage(sick, sick.cluster.pause, sick.cluster.resume, "paused database")


def _report(times: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.2f} s" for name, seconds in times.items())
