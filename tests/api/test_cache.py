"""The read cache: anonymous JSON reads are served from memory, never stale after a
write in this process, never for signed-in callers; misses at once compute it once."""

import json

import anyio

from api import cache
from api.cache import ResponseCache
from models.round import Phase
from models.submission import Status
from models.user import Role


def record(client, rnd):
    return client.get(f"/api/v1/rounds/{rnd.id}/record")


def response_cache(app) -> ResponseCache:
    """The app's cache layer, found by walking its middleware stack."""
    layer = app.middleware_stack
    while not isinstance(layer, ResponseCache):
        layer = layer.app
    return layer


def test_a_repeated_read_is_served_from_the_cache(client, make, app, monkeypatch):
    rnd = make.round(phase=Phase.accepting_responses)
    make.submission(rnd, title="First concern here")
    first = record(client, rnd)
    assert [i["title"] for i in first.json()["items"]] == ["First concern here"]
    served = response_cache(app)
    assert (f"/api/v1/rounds/{rnd.id}/record", b"", None) in served.entries
    # from here on, count what reaches the routes behind the cache
    behind, reached = served.app, []

    async def counted(scope, receive, send):
        reached.append(scope["path"])
        await behind(scope, receive, send)

    monkeypatch.setattr(served, "app", counted)
    again = record(client, rnd)
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert reached == []  # a hit: the route never ran
    cache.bump()  # a write committed somewhere: the next read is a miss
    assert record(client, rnd).content == first.content
    assert reached == [f"/api/v1/rounds/{rnd.id}/record"]


def test_a_withdrawal_is_seen_at_once(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    author = make.user()
    submission = make.submission(rnd, author=author, title="Soon withdrawn")
    assert len(record(client, rnd).json()["items"]) == 1
    r = client.post(f"/api/v1/submissions/{submission.id}/withdraw", headers=make.headers(author))
    assert r.status_code == 200
    assert record(client, rnd).json()["items"] == []
    assert client.get(f"/api/v1/submissions/{submission.id}").status_code == 404


def test_a_direct_database_write_invalidates_too(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    assert record(client, rnd).json()["items"] == []
    make.submission(rnd, title="Written behind the API")
    assert len(record(client, rnd).json()["items"]) == 1


def test_signed_in_reads_are_not_shared(client, make):
    rnd = make.round(phase=Phase.accepting_submissions)
    author = make.user()
    submission = make.submission(rnd, author=author, status=Status.pending)
    assert client.get(f"/api/v1/submissions/{submission.id}").status_code == 404
    mine = client.get(f"/api/v1/submissions/{submission.id}", headers=make.headers(author))
    assert mine.status_code == 200 and mine.json()["status"] == "pending"
    assert client.get(f"/api/v1/submissions/{submission.id}").status_code == 404
    moderator = make.user(Role.moderator)
    assert (
        client.get(
            f"/api/v1/submissions/{submission.id}", headers=make.headers(moderator)
        ).status_code
        == 200
    )


def test_a_cached_response_carries_cors_headers_only_when_asked(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    origin = {"Origin": "https://reader.example"}
    first = client.get(f"/api/v1/rounds/{rnd.id}/record", headers=origin)
    plain = client.get(f"/api/v1/rounds/{rnd.id}/record")
    again = client.get(f"/api/v1/rounds/{rnd.id}/record", headers=origin)
    assert first.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in plain.headers
    assert again.headers["access-control-allow-origin"] == "*"
    assert again.headers["vary"] == first.headers["vary"]
    assert "access-control-allow-credentials" not in again.headers


# --- misses at once: one computes, the others wait for it ---------------------------


class _SlowApp:
    """An ASGI app that counts its calls and answers only once released."""

    def __init__(self, status: int = 200) -> None:
        self.calls = 0
        self.status = status
        self.release = anyio.Event()

    async def __call__(self, scope, receive, send) -> None:
        self.calls += 1
        call = self.calls
        await self.release.wait()
        body = json.dumps({"call": call}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _get(path: str = "/api/v1/feed") -> dict:
    return {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}


async def _fetch(app, bodies: list) -> None:
    sent: list = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    await app(_get(), receive, send)
    bodies.append((sent[0]["status"], sent[-1]["body"]))


def _run_at_once(app, inner, n: int, between=None) -> list:
    bodies: list = []

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_fetch, app, bodies)
            await anyio.sleep(0.01)  # the first is computing
            if between is not None:
                between()
            for _ in range(n - 1):
                tasks.start_soon(_fetch, app, bodies)
            await anyio.sleep(0.01)  # the others have missed
            inner.release.set()

    anyio.run(main)
    return bodies


def test_misses_at_once_compute_the_answer_once():
    inner = _SlowApp()
    bodies = _run_at_once(ResponseCache(inner, ttl=60), inner, 8)
    assert inner.calls == 1
    assert bodies == [(200, b'{"call": 1}')] * 8


def test_a_miss_after_a_write_does_not_wait_for_an_older_answer():
    inner = _SlowApp()
    bodies = _run_at_once(ResponseCache(inner, ttl=60), inner, 3, between=cache.bump)
    # the first computed as of before the write; the two after it compute once more
    assert inner.calls == 2
    assert sorted(bodies) == [(200, b'{"call": 1}'), (200, b'{"call": 2}'), (200, b'{"call": 2}')]


def test_an_answer_that_is_not_stored_is_computed_by_each():
    inner = _SlowApp(status=404)
    bodies = _run_at_once(ResponseCache(inner, ttl=60), inner, 4)
    assert inner.calls == 4
    assert all(status == 404 for status, _ in bodies)
