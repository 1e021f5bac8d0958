"""The outermost cache layer: a plain anonymous poll is answered from the final answer,
before any other layer works; a request whose answer depends on more than its path and
query (If-None-Match, Origin, a token) goes on to the layers inside."""

import asyncio
import logging
import time

import pytest
import uvloop
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api import cache
from api.cache import FinalResponseCache
from api.config import Settings
from api.main import CivicApp, create_app
from api.serve import _SecondsCached, lean_logging, server_config

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


def test_access_lines_left_by_a_loop_that_ended_are_written_by_the_next_hit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inner = Counting()
    client = client_for(inner)
    front = client.app
    assert isinstance(front, FinalResponseCache)
    client.get("/api/v1/feed")
    ended = asyncio.new_event_loop()
    ended.close()
    front._lines, front._lines_loop = [("/api/v1/earlier", 200, 0.1)], ended
    with caplog.at_level(logging.INFO, logger="civic_input.access"):
        client.get("/api/v1/feed")
    lines = [r.getMessage() for r in caplog.records if r.name == "civic_input.access"]
    assert lines[0] == "GET /api/v1/earlier 200 0.1ms"
    assert len(lines) == 2 and lines[1].startswith("GET /api/v1/feed 200 ")


@pytest.mark.parametrize(
    "headers",
    [
        {"If-None-Match": 'W/"x"'},
        {"Origin": "https://app.example"},
        {"Authorization": "Bearer t"},
        {"Cookie": "session=someone"},
    ],
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


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": "https://app.example"}, {"If-None-Match": "(the tag)"}],
    ids=["plain poll", "with Origin", "revalidated"],
)
def test_a_hit_is_the_uncached_answer_byte_for_byte(
    client: TestClient, settings: Settings, make, headers: dict[str, str]
) -> None:
    """A hit (on the front door, or inside for a request with Origin or If-None-Match)
    answers the status, body and every header in order, repeated ones kept (two
    `Vary`), that the same app answers with no cache at all; only the date may differ."""
    rnd = make.round()
    make.submission(rnd, title="A concern on the record")
    path = f"/api/v1/rounds/{rnd.id}/record"
    tag = client.get(path).headers["etag"]
    headers = {k: tag if v == "(the tag)" else v for k, v in headers.items()}
    client.get(path, headers=headers)  # stored, where it is stored
    hit = client.get(path, headers=headers)
    uncached_app = create_app(settings.model_copy(update={"response_cache": False}))
    with TestClient(uncached_app) as plain:
        uncached = plain.get(path, headers=headers)
    assert hit.status_code == uncached.status_code == (304 if "If-None-Match" in headers else 200)
    assert hit.content == uncached.content
    assert [h for h in hit.headers.raw if h[0] != b"date"] == [
        h for h in uncached.headers.raw if h[0] != b"date"
    ]
    assert [name for name, _ in hit.headers.raw].count(b"vary") == 2
    cors = b"access-control-allow-origin" in dict(hit.headers.raw)
    assert cors == ("Origin" in headers)


def test_a_hit_is_answered_in_front_of_every_middleware(
    client: TestClient, app: CivicApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing behind the front door (Starlette's error and exception middleware, ours,
    the routes) runs for a hit; a request that is not a plain poll goes through."""
    first = client.get("/api/v1/dialogues")
    front = app.front
    assert isinstance(front, FinalResponseCache)
    reached: list[str] = []
    behind = front.app

    async def counted(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["type"])
        await behind(scope, receive, send)

    monkeypatch.setattr(front, "app", counted)
    assert client.get("/api/v1/dialogues").content == first.content
    assert reached == []
    assert client.get("/api/v1/dialogues", headers={"Origin": "https://a.example"}).is_success
    assert reached == ["http"]


def test_a_hit_is_not_served_once_its_lease_has_lapsed(monkeypatch: pytest.MonkeyPatch) -> None:
    """With Redis, hits are served only while the invalidation listener's lease holds."""
    inner = Counting()
    client = client_for(inner)
    client.get("/api/v1/feed")
    monkeypatch.setattr(cache, "_fresh_until", time.monotonic() - 1)
    assert client.get("/api/v1/feed").content == b'{"n": 2}'
    monkeypatch.setattr(cache, "_fresh_until", time.monotonic() + 60)
    assert client.get("/api/v1/feed").content == b'{"n": 2}'
    assert inner.calls == 2


def test_a_hit_expires_with_its_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    inner = Counting()
    client = client_for(inner)
    client.get("/api/v1/feed")
    later = time.monotonic() + 61
    monkeypatch.setattr(cache.time, "monotonic", lambda: later)
    assert client.get("/api/v1/feed").content == b'{"n": 2}'


def test_the_server_runs_on_uvloop_and_httptools_without_uvicorn_access_log(
    app: CivicApp,
) -> None:
    config = server_config(app, host="127.0.0.1", port=0, workers=1)
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
    assert config.get_loop_factory() is uvloop.new_event_loop
    assert config.access_log is False


def test_lean_logging_writes_the_same_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """The time of day formatted once a second reads as logging's own, to the millisecond."""
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    plain, lean = logging.Formatter(fmt), _SecondsCached(fmt)
    for created in (1_700_000_000.001, 1_700_000_000.999, 1_700_000_001.5, 1_700_000_000.25):
        record = logging.LogRecord(
            "civic_input.access", logging.INFO, "", 0, "GET %s", ("/",), None
        )
        record.created, record.msecs = created, int((created - int(created)) * 1000)
        assert lean.format(record) == plain.format(record)
    root = logging.getLogger()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(fmt))
    monkeypatch.setattr(root, "handlers", [handler])
    for name in ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing"):
        monkeypatch.setattr(logging, name, getattr(logging, name))
    lean_logging()
    assert isinstance(handler.formatter, _SecondsCached)
    assert handler.formatter._fmt == fmt
