"""Security headers on every response: successes, errors the app renders, errors the
middleware sends itself (413, 422 from the text guard, the last-line 500), static files
and the docs pages. HSTS only in production; `no-store` on every answer to a signed-in
request (and to every write); a docs CSP that names no other host and no `unsafe-*`."""

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient

from api.config import Settings
from api.docs import hashed_policy
from api.main import create_app
from models.round import Phase
from models.user import Role
from tests.client import failing_app

API = "/api/v1"
BASE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
FIXED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def assert_secured(response, *, csp: str | None = BASE_CSP) -> None:
    for name, value in FIXED.items():
        assert response.headers.get_list(name) == [value], (name, response.request.url)
    policies = response.headers.get_list("content-security-policy")
    assert len(policies) == 1, policies
    assert "frame-ancestors 'none'" in policies[0]
    if csp is not None:
        assert policies[0] == csp
    assert "strict-transport-security" not in response.headers  # not in production


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


def test_every_kind_of_response_carries_the_headers(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    make.submission(rnd)
    anonymous = [
        ("GET", "/healthz", 200),
        ("GET", f"{API}/rounds/{rnd.id}", 200),
        ("GET", f"{API}/rounds/{rnd.id}/record", 200),
        ("HEAD", f"{API}/rounds/{rnd.id}/record", 200),
        ("GET", f"{API}/feed.atom", 200),
        ("GET", f"{API}/export.csv", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/static/docs/swagger-ui.css", 200),
        ("GET", "/static/docs/favicon-32x32.png", 200),
        ("GET", "/static/docs/nothing.js", 404),
        ("GET", f"{API}/nowhere", 404),
        ("DELETE", "/healthz", 405),
        ("GET", f"{API}/users/me", 401),
        ("GET", f"{API}/rounds/not-a-uuid", 422),
        ("GET", f"{API}/cases?q=%ff", 422),  # the text guard's own answer
        ("POST", f"{API}/cases", 401),
    ]
    for method, path, status in anonymous:
        r = client.request(method, path)
        assert r.status_code == status, (path, r.text)
        assert_secured(r)

    tag = client.get(f"{API}/rounds/{rnd.id}/record").headers["etag"]
    not_modified = client.get(f"{API}/rounds/{rnd.id}/record", headers={"If-None-Match": tag})
    assert not_modified.status_code == 304
    assert_secured(not_modified)

    preflight = client.options(
        f"{API}/rounds/{rnd.id}",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert_secured(preflight)


def test_the_413_sent_before_the_app_carries_them(client):
    r = client.post(
        f"{API}/auth/register",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": str(10**9)},
    )
    assert r.status_code == 413
    assert_secured(r)


def test_the_last_line_500_carries_them(settings):
    with TestClient(failing_app(settings, "/boom"), raise_server_exceptions=False) as client:
        r = client.get("/boom")
    assert r.status_code == 500
    assert_secured(r)


def test_a_route_cannot_weaken_them(settings):
    app = create_app(settings)

    @app.get("/weak")
    def weak():
        from fastapi.responses import JSONResponse

        return JSONResponse(
            {}, headers={"X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "unsafe-url"}
        )

    with TestClient(app) as client:
        assert_secured(client.get("/weak"))


# --- Cache-Control ------------------------------------------------------------------


def test_every_answer_to_a_signed_in_request_is_no_store(client, make):
    rnd = make.round(phase=Phase.accepting_submissions)
    author = make.user(Role.activist)
    signed_in = make.headers(author)
    anonymous_read = client.get(f"{API}/rounds/{rnd.id}/record")
    assert anonymous_read.headers["cache-control"].startswith("public")

    answers = [
        client.get(f"{API}/rounds/{rnd.id}/record", headers=signed_in),  # 200, shared JSON
        client.get(f"{API}/rounds/{rnd.id}", headers=signed_in),  # 200, own ETag
        client.get(f"{API}/users/me", headers=signed_in),  # 200, personal
        client.get(f"{API}/nowhere", headers=signed_in),  # 404
        client.get(f"{API}/audit", headers=signed_in),  # 403
        client.get(f"{API}/users/me", headers={"Authorization": "Bearer nonsense"}),  # 401
        client.get(f"{API}/record/checkpoint", headers=signed_in),  # route sets no-cache
        client.get(f"{API}/feed.atom", headers=signed_in),  # not JSON
        client.get("/static/docs/swagger-ui.css", headers=signed_in),
        client.post(
            f"{API}/rounds/{rnd.id}/submissions",
            json={
                "kind": "concern",
                "title": "Detained labour lawyers",
                "body": "Where are they held?",
                "language": "en",
                "themes": ["labour-rights"],
                "addressed_to": ["CN"],
            },
            headers=signed_in,
        ),  # 201
    ]
    tag = answers[0].headers["etag"]
    answers.append(
        client.get(
            f"{API}/rounds/{rnd.id}/record", headers={**signed_in, "If-None-Match": tag}
        )  # 304
    )
    assert [r.status_code for r in answers] == [
        200,
        200,
        200,
        404,
        403,
        401,
        200,
        200,
        200,
        201,
        304,
    ]
    for r in answers:
        assert r.headers.get_list("cache-control") == ["no-store"], r.request.url
        assert_secured(r)


def test_tokens_are_never_stored(client, make):
    """A token answer has no Authorization header to go by: every write is no-store."""
    user = make.user()
    r = client.post(f"{API}/auth/token", data={"username": user.handle, "password": "x" * 20})
    assert r.status_code == 401
    assert r.headers["cache-control"] == "no-store"
    from tests.factories import PASSWORD

    r = client.post(f"{API}/auth/token", data={"username": user.handle, "password": PASSWORD})
    assert r.status_code == 200 and "access_token" in r.json()
    assert r.headers["cache-control"] == "no-store"


# --- HSTS ---------------------------------------------------------------------------


def test_hsts_only_in_production(settings):
    production = Settings(
        env="production",
        database_url=settings.database_url,
        secret_key="p" * 48,
        signing_key_secret="k" * 48,
        _env_file=None,  # type: ignore[call-arg]
    )
    client = TestClient(create_app(production), raise_server_exceptions=False)
    for path in ("/healthz", f"{API}/nowhere", "/docs"):
        r = client.get(path)
        assert r.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
        assert r.headers["x-frame-options"] == "DENY"


# --- the docs pages -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_the_docs_pages_allow_only_this_server(client, path):
    r = client.get(path)
    assert r.status_code == 200
    policy = r.headers["content-security-policy"]
    assert_secured(r, csp=None)
    rules = directives(policy)
    assert rules["default-src"] == ["'none'"]
    assert rules["frame-ancestors"] == ["'none'"]
    for name, sources in rules.items():
        for source in sources:
            assert source in ("'self'", "'none'", "data:", "blob:") or re.fullmatch(
                r"'(sha256-[A-Za-z0-9+/]+=*|nonce-[A-Za-z0-9_-]+)'", source
            ), (name, source)
        if name in ("script-src", "connect-src"):
            assert "data:" not in sources and "blob:" not in sources
    assert "img-src" in rules and "connect-src" in rules


@pytest.mark.parametrize("path", ["/docs", "/docs/oauth2-redirect"])
def test_each_inline_script_of_swagger_ui_is_allowed_by_its_hash(client, path):
    r = client.get(path)
    scripts = re.findall(r"<script>(.*?)</script>", r.text, re.DOTALL)
    assert scripts
    allowed = directives(r.headers["content-security-policy"])["script-src"]
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed
    assert hashed_policy(r.text) == r.headers["content-security-policy"]


def test_redoc_gets_a_fresh_nonce_each_time(client):
    nonces = []
    for _ in range(2):
        r = client.get("/redoc")
        [nonce] = set(re.findall(r"'nonce-([^']+)'", r.headers["content-security-policy"]))
        assert f'<script nonce="{nonce}">' in r.text
        assert f'{{nonce: "{nonce}"}}' in r.text  # handed to ReDoc for the styles it writes
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    assert len(nonces[0]) >= 22
