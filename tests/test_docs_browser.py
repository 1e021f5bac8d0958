"""/docs and /redoc work in a real browser with their Content-Security-Policy on.

`civic-input serve` on a free port (uvicorn, as deployed), driven by Debian's headless
Chromium through Playwright (`apt-get install chromium`; no `playwright install`). Each
page must render (Swagger UI's operations, ReDoc's operations) with no CSP violation, no
console error and no page error: a hash or nonce missing from a policy shows here as a
violation even where the page still draws its text (ReDoc without its styles does).
"""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from api.config import Settings
from tests.live import LiveServer, run_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000
# Added before any script of the page runs: every violation the page meets, kept.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


@pytest.fixture(scope="module")
def live_server(database_url: str, settings: Settings) -> Iterator[LiveServer]:
    with run_server(database_url) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    assert executable, "Chromium is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watched:
    """A page with everything that went wrong on it."""

    def __init__(self, browser: Browser) -> None:
        self.page: Page = browser.new_page()
        self.problems: list[str] = []
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.add_init_script(WATCH_VIOLATIONS)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on(
            "requestfailed",
            lambda request: self.problems.append(f"request failed: {request.url}"),
        )

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def all_problems(self) -> list[str]:
        violations: list[Any] = self.page.evaluate("window.__violations")
        return [*(f"CSP violation: {v}" for v in violations), *self.problems]


def _operation_summary(live_server: LiveServer, method: str, path: str) -> str:
    import httpx

    spec = httpx.get(f"{live_server.base_url}/openapi.json", timeout=30).json()
    summary: str = spec["paths"][path][method]["summary"]
    return summary


def test_swagger_ui_works_under_its_csp(live_server, browser):
    watched = Watched(browser)
    page = watched.page
    response = page.goto(f"{live_server.base_url}/docs")
    assert response is not None and response.status == 200
    assert "script-src 'self' 'sha256-" in response.headers["content-security-policy"]
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 20
    # try an operation: a fetch to this server, as a reader of the docs would
    health = page.locator(".opblock", has=page.locator("[data-path='/healthz']")).first
    health.locator(".opblock-summary").click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()
    status = health.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    page.wait_for_timeout(300)
    assert watched.all_problems() == []
    page.close()


def test_redoc_works_under_its_csp(live_server, browser):
    summary = _operation_summary(live_server, "post", "/api/v1/auth/register")
    watched = Watched(browser)
    page = watched.page
    response = page.goto(f"{live_server.base_url}/redoc")
    assert response is not None and response.status == 200
    assert "'nonce-" in response.headers["content-security-policy"]
    page.locator("h2", has_text=summary).first.wait_for()
    assert page.locator("[data-section-id]").count() > 20
    # ReDoc drew with its styles: the sheets it wrote are in force
    styled = page.evaluate(
        "Array.from(document.styleSheets).filter(s => !s.href)"
        ".reduce((n, s) => n + s.cssRules.length, 0)"
    )
    assert styled > 100
    # its search runs in a worker
    page.get_by_placeholder("Search...").fill("register")
    page.locator("[data-role='search:results']").get_by_text(summary).first.wait_for()
    page.wait_for_timeout(300)
    assert watched.all_problems() == []
    page.close()
