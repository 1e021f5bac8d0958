"""The record's pages in a real browser: Debian's headless Chromium, driven by Playwright,
against `civic-input serve` with the demo data.

Every request the browser makes is recorded (none may leave 127.0.0.1); every console
message, page error and CSP violation fails the test; the filter form narrows the round
page; the language switch works both ways; axe-core (shipped inside the
axe-playwright-python package, injected from disk: nothing is fetched) finds no serious
or critical violation on any page; the pages fit 320 px without sideways scrolling and
hide their navigation in print. Screenshots of the round page, the round scorecard and
the trend at 1280 px and 360 px are written to the folder named by
`CIVIC_SCREENSHOTS_DIR`, by default `screens/` under pytest's base temporary directory
(the test prints it).
"""

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from api import cache, demo
from api.config import Settings
from tests.conftest import _empty_tables
from tests.live import LiveServer, run_server
from tests.test_docs_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, WATCH_VIOLATIONS

SLUG = "us-china-human-rights"
WIDTHS = (1280, 360)


@pytest.fixture(scope="module")
def live(app: Any, settings: Settings, database_url: str) -> Iterator[LiveServer]:
    """The server a deployment runs, over the demo record."""
    engine = app.state.engine
    _empty_tables(engine)
    assert demo.seed(settings) is True
    try:
        with run_server(database_url) as server:
            yield server
    finally:
        _empty_tables(engine)
        cache.bump()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    assert executable, "Chromium is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(
        os.environ.get("CIVIC_SCREENSHOTS_DIR") or tmp_path_factory.getbasetemp() / "screens"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Visit:
    """A browser context that records every request and everything that went wrong."""

    def __init__(self, browser: Browser, live: LiveServer, width: int = 1280) -> None:
        self.origin = f"127.0.0.1:{live.port}"
        self.base = live.base_url
        self.context: BrowserContext = browser.new_context(
            viewport={"width": width, "height": 900}, locale="en-GB"
        )
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        # anything for another host is refused before it leaves the machine, and recorded
        self.context.route(re.compile(r"^(?!http://127\.0\.0\.1:\d+/).*"), self._refuse)
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.add_init_script(WATCH_VIOLATIONS)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on(
            "requestfailed", lambda request: self.problems.append(f"failed: {request.url}")
        )

    def _refuse(self, route: Any) -> None:
        self.problems.append(f"request to another host: {route.request.url}")
        route.abort()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def open(self, path: str) -> Page:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, path
        return self.page

    def check(self) -> None:
        violations = self.page.evaluate("window.__violations")
        problems = [*(f"CSP violation: {v}" for v in violations), *self.problems]
        assert problems == []
        strangers = [url for url in self.requests if urlsplit(url).netloc != self.origin]
        assert strangers == []

    def close(self) -> None:
        self.context.close()


def _paths(live: LiveServer) -> dict[str, str]:
    detail = httpx.get(f"{live.base_url}/api/v1/dialogues/{SLUG}", timeout=30).json()
    rid = next(r["id"] for r in detail["rounds"] if r["number"] == 17)
    items = httpx.get(
        f"{live.base_url}/api/v1/rounds/{rid}/record", params={"limit": 100}, timeout=30
    ).json()["items"]
    revised = next(i for i in items if any(r["revision_count"] > 1 for r in i["responses"]))
    case_id = next(i["case_id"] for i in items if i["case_id"])
    return {
        "index": "/record",
        "dialogue": f"/record/dialogues/{SLUG}",
        "trend": f"/record/dialogues/{SLUG}/scorecard",
        "round": f"/record/rounds/{rid}",
        "scorecard": f"/record/rounds/{rid}/scorecard",
        "submission": f"/record/submissions/{revised['id']}",
        "cases": "/record/cases",
        "case": f"/record/cases/{case_id}",
        "search": "/record/search",
    }


def _serious(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page."""
    results = Axe().run(page, options={"resultTypes": ["violations"]})
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_every_page_renders_with_nothing_from_elsewhere_and_passes_axe(live, browser, lang):
    visit = Visit(browser, live)
    axe = Axe()
    found: dict[str, list[str]] = {}
    for name, path in _paths(live).items():
        page = visit.open(f"{path}?lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("main h1").count() == 1
        # the stylesheet is in force (the CSP let it in)
        assert page.evaluate("document.styleSheets.length") == 1
        assert page.evaluate("document.styleSheets[0].cssRules.length") > 50
        results = axe.run(page, options={"resultTypes": ["violations"]})
        serious = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        found[name] = serious
        visit.check()
    assert found == {name: [] for name in found}
    # the browser asked for the pages and the stylesheet, all from this server
    assert any(url.endswith("/record/static/record.css") for url in visit.requests)
    visit.close()


def test_the_filter_form_narrows_the_round_page(live, browser):
    visit = Visit(browser, live)
    page = visit.open(_paths(live)["round"] + "?lang=en&limit=100")
    everything = page.locator("article.submission").count()
    page.get_by_label("Kind").select_option("case")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"kind=case"))
    cases = page.locator("article.submission").count()
    assert 0 < cases < everything
    assert page.get_by_label("Kind").input_value() == "case"  # the form keeps its value
    page.get_by_label("Words in the text").fill("Chen")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"q=Chen"))
    named = page.locator("article.submission").count()
    assert 0 < named <= cases
    assert all("chen" in t.lower() for t in page.locator("article.submission").all_inner_texts())
    page.get_by_role("link", name="Clear the filters").click()
    page.wait_for_url(re.compile(r"^[^?]*\?lang=en$"))
    assert page.locator("article.submission").count() == min(everything, 20)
    visit.check()
    visit.close()


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_a_search_narrows_marks_its_matches_and_says_what_it_cannot_search(live, browser, lang):
    labels = {
        "en": ("Words to find", "Search", "Kind of text", "Nothing in the public record"),
        "zh-Hans": ("要查找的词语", "搜索", "文本类别", "公开记录中没有"),
    }[lang]
    words, button, kind, nothing = labels
    visit = Visit(browser, live)
    page = visit.open(f"/record/search?lang={lang}")
    assert page.locator("li.hit").count() == 0
    page.get_by_label(words).fill("Chen")
    page.get_by_role("button", name=button).click()
    page.wait_for_url(re.compile(r"q=Chen"))
    everything = page.locator("li.hit").count()
    assert everything > 1
    assert page.locator("li.hit mark").count() >= everything
    assert all(m.lower() == "chen" for m in page.locator("li.hit mark").all_inner_texts())
    assert _serious(page) == []
    page.get_by_label(kind).select_option("benchmark")
    page.get_by_role("button", name=button).click()
    page.wait_for_url(re.compile(r"type=benchmark"))
    benchmarks = page.locator("li.hit").count()
    assert 0 < benchmarks < everything
    assert page.locator("li.hit.type-benchmark").count() == benchmarks
    assert page.get_by_label(words).input_value() == "Chen"  # the form keeps its values
    # a result leads to its page
    page.locator("li.hit h3 a").first.click()
    page.wait_for_url(re.compile(r"/scorecard\?lang="))
    page.go_back()
    page.get_by_label(words).fill("Zzyzxqwv")
    page.get_by_role("button", name=button).click()
    page.wait_for_url(re.compile(r"q=Zzyzxqwv"))
    assert nothing in page.locator("#no-results").inner_text()
    # a query the API refuses (422): a message on the page, the form to mend it
    page.get_by_label(words).fill("!!!")
    page.get_by_role("button", name=button).click()
    page.wait_for_url(re.compile(r"q=%21%21%21"))
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label(words).input_value() == "!!!"
    # Chromium reports any 4xx page on its console: this one, and nothing else, is expected
    refused = "console error: Failed to load resource: the server responded with a status of 422"
    assert [p for p in visit.problems if p.startswith(refused)] != []
    visit.problems = [p for p in visit.problems if not p.startswith(refused)]
    assert _serious(page) == []
    visit.check()
    visit.close()


def test_the_language_switch_goes_both_ways(live, browser):
    visit = Visit(browser, live)
    page = visit.open(_paths(live)["scorecard"])
    assert page.locator("html").get_attribute("lang") == "en"  # Accept-Language: en-GB
    english_title = page.locator("h1").inner_text()
    page.locator("a.switch").click()
    page.wait_for_url(re.compile(r"lang=zh-Hans"))
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert "记分卡" in page.locator("h1").inner_text()
    # links between pages keep the language chosen
    page.get_by_role("link", name="历轮趋势").first.click()
    page.wait_for_url(re.compile(r"/scorecard\?lang=zh-Hans"))
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.locator("a.switch").click()
    page.wait_for_url(re.compile(r"lang=en"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert english_title != page.locator("h1").inner_text()  # another page, in English
    visit.check()
    visit.close()


def test_pages_fit_a_narrow_screen_and_print_without_navigation(live, browser):
    paths = _paths(live)
    visit = Visit(browser, live, width=320)
    for path in paths.values():
        page = visit.open(path)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 320, (path, wide)
    page = visit.open(paths["round"])
    page.emulate_media(media="print")
    assert page.locator("form.filters").is_hidden()
    assert page.locator("header.site nav").is_hidden()
    assert page.locator("article.submission").first.is_visible()
    visit.check()
    visit.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_screenshots_of_the_round_the_scorecard_and_the_trend(live, browser, screens, width):
    paths = _paths(live)
    visit = Visit(browser, live, width=width)
    written = []
    for name in ("round", "scorecard", "trend"):
        for lang in ("en", "zh-Hans"):
            page = visit.open(f"{paths[name]}?lang={lang}")
            target = screens / f"{name}-{lang}-{width}.png"
            page.screenshot(path=str(target), full_page=True)
            assert target.stat().st_size > 10_000
            written.append(target)
    visit.check()
    visit.close()
    print(f"\nscreenshots in {screens}: {', '.join(p.name for p in written)}")
