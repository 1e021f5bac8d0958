"""The interactive docs load nothing from any other host, and the OpenAPI document
describes every route."""

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

DOC_PAGES = ["/docs", "/redoc", "/docs/oauth2-redirect"]
# The only routes that may stay out of the OpenAPI document.
UNDOCUMENTED = {*DOC_PAGES, "/openapi.json"}
ASSET_PREFIX = "/static/docs/"
THIRD_PARTY = ("cdn.redoc.ly", "fonts.googleapis", "fonts.gstatic", "unpkg", "jsdelivr", "cdnjs")
ABSOLUTE_URL = re.compile(r"https?://([^/\s\"'<>`)]*)", re.IGNORECASE)
PROTOCOL_RELATIVE = re.compile(r"""["'(=]\s*//[a-z0-9.-]+""", re.IGNORECASE)


class References(HTMLParser):
    """Every src/href attribute in a page, and the URLs named inside its scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for name, value in attrs:
            if name in {"src", "href", "spec-url", "action", "poster", "data"} and value:
                self.refs.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def references(html: str) -> References:
    parser = References()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("path", DOC_PAGES)
def test_doc_pages_name_no_host(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    hosts = ABSOLUTE_URL.findall(r.text)
    assert hosts == [], f"{path} names hosts: {hosts}"
    assert PROTOCOL_RELATIVE.findall(r.text) == []
    for ref in references(r.text).refs:
        parts = urlsplit(ref)
        assert not parts.scheme and not parts.netloc, f"{path} refers to {ref}"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_doc_pages_load_their_assets_from_this_server(client, path):
    page = references(client.get(path).text)
    assets = [urljoin(path, ref) for ref in page.refs]
    scripts = [ref for ref in assets if ref.endswith(".js")]
    assert scripts, f"{path} loads no script"
    for asset in assets:
        assert asset.startswith(ASSET_PREFIX) or asset == "/openapi.json", asset
        r = client.get(asset)
        assert r.status_code == 200, asset
        assert r.content, asset


def test_swagger_ui_reads_this_servers_openapi_document(client):
    page = references(client.get("/docs").text)
    config = "\n".join(page.scripts)
    assert "url: '/openapi.json'" in config
    assert '"validatorUrl": null' in config  # the public validator would be a third party


def test_redoc_reads_this_servers_openapi_document(client):
    page = references(client.get("/redoc").text)
    assert any('Redoc.init("/openapi.json"' in script for script in page.scripts)


@pytest.mark.parametrize("asset", ["swagger-ui-bundle.js", "redoc.standalone.js", "swagger-ui.css"])
def test_shipped_assets_name_no_cdn(client, asset):
    r = client.get(ASSET_PREFIX + asset)
    assert r.status_code == 200
    assert len(r.content) > 10_000
    text = r.text
    for host in THIRD_PARTY:
        assert host not in text, f"{asset} mentions {host}"


def test_asset_paths_cannot_escape_the_asset_directory(client):
    for path in ["/static/docs/../../config.py", "/static/docs/%2e%2e/%2e%2e/config.py"]:
        r = client.get(path)
        assert r.status_code == 404
        assert "MIN_SECRET_BYTES" not in r.text


def api_routes(app) -> list[tuple[str, str, APIRoute]]:
    """(path, method, route) for every route the app answers, however routers nest."""
    out = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                out.append((context.path_format, method, route))
    return out


def test_openapi_lists_every_route_with_a_summary_and_description(client, app):
    operations = client.get("/openapi.json").json()["paths"]
    routes = [(path, method) for path, method, _ in api_routes(app) if path not in UNDOCUMENTED]
    assert ("/api/v1/auth/register", "POST") in routes  # the walk found the routers
    for path, method in routes:
        operation = operations.get(path, {}).get(method.lower())
        assert operation is not None, f"{method} {path} is missing from /openapi.json"
        assert operation.get("summary", "").strip(), f"{method} {path} has no summary"
        assert operation.get("description", "").strip(), f"{method} {path} has no docstring"
    documented = {(path, method.upper()) for path, ops in operations.items() for method in ops}
    assert documented == set(routes)


def test_the_docs_pages_are_not_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/docs", "/redoc", "/docs/oauth2-redirect"} & set(paths)
    assert not any(p.startswith("/static") for p in paths)
