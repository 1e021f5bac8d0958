"""HEAD on every GET route of the app (RFC 9110 §9.3.2): the status and headers the GET
gets, and no body; never a 405. The exports and the live feed answer it without reading
the log or subscribing."""

import re
import uuid

import pytest
from starlette.routing import Mount

from models.dialogue import Dialogue
from models.user import Role
from tests.api.feed import pending, world
from tests.api.test_cases import published_case

# headers that may differ between two answers to the same request
VOLATILE = {"date"}
# answers that change on every request: signed now (a new signature, a new tag)
SIGNED_NOW = {"/api/v1/record/checkpoint"}
NONCE = re.compile(r"nonce-[A-Za-z0-9+/_=-]+")


def _fixed(value: str) -> str:
    """A header value without its per-request nonce (the docs pages' CSP)."""
    return NONCE.sub("nonce-", value)


def _compare(client, url: str) -> tuple[int, int]:
    got = client.get(url)
    head = client.head(url)
    assert head.status_code == got.status_code != 405, url
    assert head.content == b"", url
    names = {k for k in got.headers if k not in VOLATILE}
    assert {k for k in head.headers if k not in VOLATILE} == names, url
    for name in names:
        if url in SIGNED_NOW and name == "etag":
            continue
        assert _fixed(head.headers[name]) == _fixed(got.headers[name]), (url, name)
    return got.status_code, len(got.content)


@pytest.fixture
def ids(client, make, driver, db):
    w = world(make)
    submission = pending(make, w)
    driver.publish(w.moderator, submission.id)
    response_id = driver.respond(w.cn, submission.id, "An answer.")
    moderator = make.user(Role.moderator)
    case_id = published_case(client, make, make.user(), moderator)
    return {
        "slug": db.get_one(Dialogue, w.rnd.dialogue_id).slug,
        "round_id": str(w.rnd.id),
        "submission_id": str(submission.id),
        "response_id": response_id,
        "case_id": case_id,
        "user_id": str(w.author.id),
    }


def test_head_answers_every_get_route_as_the_get_without_the_body(client, app, ids):
    spec = client.get("/openapi.json").json()
    templates = [p for p, ops in spec["paths"].items() if "get" in ops]
    assert "/api/v1/export.csv" in templates and "/api/v1/feed.atom" in templates
    urls = []
    for template in templates:
        if template == "/api/v1/feed/stream":
            continue  # endless: below
        url = template
        for name in re.findall(r"{(\w+)}", template):
            url = url.replace("{" + name + "}", ids.get(name) or str(uuid.uuid4()))
        urls.append(url)
    # the routes outside the document: the document itself, the docs pages, their files
    urls += ["/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"]
    assert any(isinstance(r, Mount) and r.path == "/static/docs" for r in app.routes)
    urls += ["/static/docs/swagger-ui.css", "/static/docs/favicon-32x32.png"]
    answered = {url: _compare(client, url) for url in urls}
    ok = [url for url, (status, _) in answered.items() if status == 200]
    assert len(ok) >= len(urls) // 2, answered
    # the conditional answers too
    for url in ("/api/v1/feed", "/api/v1/feed.atom", "/api/v1/export.ndjson"):
        tag = client.get(url).headers["etag"]
        head = client.head(url, headers={"If-None-Match": tag})
        assert head.status_code == 304 and head.content == b""


def test_head_on_the_live_feed_gives_its_headers_without_subscribing(client):
    # answered at once (a GET would stream until the client left)
    head = client.head("/api/v1/feed/stream")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert head.headers["cache-control"] == "no-cache"
    assert head.headers["x-accel-buffering"] == "no"
    assert client.head("/api/v1/feed/stream", headers={"Last-Event-ID": "x"}).status_code == 422


def test_head_is_logged_as_head(client, caplog):
    with caplog.at_level("INFO", logger="civic_input.access"):
        client.head("/api/v1/feed.atom")
    assert any(r.getMessage().startswith("HEAD /api/v1/feed.atom 200") for r in caplog.records)
