"""The outermost cache layer: a plain anonymous poll is answered from the final answer,
before any other layer works; a request whose answer depends on more than its path and
query (If-None-Match, Origin, a token) goes on to the layers inside."""

import logging

import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from api import cache
from api.cache import FinalResponseCache

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class Counting:
    """An app that answers JSON and counts the requests that reach it."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        body = b'{"n": %d}' % self.calls
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"x-layer", b"inner")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def client_for(inner: Counting) -> TestClient:
    return TestClient(FinalResponseCache(inner, ttl=60))


def test_a_repeated_plain_poll_never_reaches_the_layers_inside(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inner = Counting()
    client = client_for(inner)
    with caplog.at_level(logging.INFO, logger="civic_input.access"):
        first = client.get("/api/v1/feed")
        second = client.get("/api/v1/feed")
    assert inner.calls == 1
    assert second.content == first.content == b'{"n": 1}'
    assert second.headers["x-layer"] == "inner"
    hits = [r.getMessage() for r in caplog.records if r.name == "civic_input.access"]
    assert len(hits) == 1 and hits[0].startswith("GET /api/v1/feed 200 ")


@pytest.mark.parametrize(
    "headers",
    [{"If-None-Match": 'W/"x"'}, {"Origin": "https://app.example"}, {"Authorization": "Bearer t"}],
)
def test_a_request_whose_answer_depends_on_its_headers_goes_inside(headers: dict) -> None:
    inner = Counting()
    client = client_for(inner)
    client.get("/api/v1/feed")
    client.get("/api/v1/feed", headers=headers)
    assert inner.calls == 2


def test_a_write_makes_the_next_poll_go_inside() -> None:
    inner = Counting()
    client = client_for(inner)
    client.get("/api/v1/feed")
    cache.bump()
    assert client.get("/api/v1/feed").content == b'{"n": 2}'
    assert inner.calls == 2


def test_a_hit_from_the_app_carries_every_header_of_the_first_answer(client: TestClient) -> None:
    first = client.get("/api/v1/dialogues")
    second = client.get("/api/v1/dialogues")
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    drop = {"date", "server"}
    assert [(k, v) for k, v in second.headers.items() if k not in drop] == [
        (k, v) for k, v in first.headers.items() if k not in drop
    ]
    for name in ("etag", "cache-control", "content-security-policy", "x-content-type-options"):
        assert name in second.headers
