"""The round page's speed-ups change nothing a reader sees: the page is byte for byte the
one a plain render of its template writes (each item rendered alone, the whole page in
one go), whether its context, its list or its skeleton were kept or not; and what is
kept (the round, its dialogue, delegations and themes) gives way to a write at once."""

import re
import time
from html import unescape

import pytest
from markupsafe import Markup

from api import cache
from api.pages import context, render, routes
from models.round import Phase
from models.user import Role

API = "/api/v1"
SLUG = "us-china-human-rights"
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page as it was written before anything was kept: each item rendered by its
    own template, the round template rendered whole around them."""

    def render_list(reader, name, items, shape, given):
        return [routes.ITEMS.render(reader, {name: shape(item)}) for item in items]

    def render_around(request, reader, template, *, key, ttl, name, fill, **values):
        return render.render(request, reader, template, **{name: fill}, **values)

    monkeypatch.setattr(routes.ITEMS, "render_list", render_list)
    monkeypatch.setattr(routes, "render_around", render_around)


@pytest.fixture
def uncached(monkeypatch: pytest.MonkeyPatch) -> None:
    """The response cache answers nothing: every request reaches the page."""
    monkeypatch.setattr(cache, "_public_read", lambda path: False)


def _urls(client) -> list[str]:
    detail = client.get(f"{API}/dialogues/{SLUG}").json()
    urls = []
    for rnd in detail["rounds"]:
        base = f"/record/rounds/{rnd['id']}"
        for query in (
            "",
            "?lang=zh-Hans",
            "?limit=3",
            "?kind=case",
            "?delegation=CN&answered=false&lang=zh-Hans",
            "?q=%E5%BE%8B%E5%B8%88",
            "?theme=rule-of-law",
        ):
            urls.append(base + query)
        # every page of the round, three at a time, with their cursors and back links
        url = f"{base}?limit=3&lang=en"
        for _ in range(30):
            r = client.get(url)
            found = NEXT.search(r.text)
            if not found:
                break
            url = unescape(found.group(1))
            urls.append(url)
    return urls


def test_the_round_page_is_byte_for_byte_a_plain_render(demo_client, monkeypatch, uncached):
    urls = _urls(demo_client)
    assert len(urls) >= 20
    kept = {}
    for url in urls:
        first = demo_client.get(url)  # its skeleton, list and context made
        second = demo_client.get(url)  # all of them kept
        assert first.status_code == second.status_code == 200, url
        assert second.content == first.content, url
        assert second.headers["etag"] == first.headers["etag"], url
        kept[url] = first
    with_items = [url for url, r in kept.items() if 'class="submission"' in r.text]
    assert len(with_items) >= 12  # the kept paths were taken
    _plain(monkeypatch)
    cache.bump()  # nothing kept is used from here
    for url, r in kept.items():
        plain = demo_client.get(url)
        assert plain.status_code == 200
        assert plain.text == r.text, url
        for header in ("content-type", "content-language", "content-security-policy", "vary"):
            assert plain.headers[header] == r.headers[header]


def test_a_kept_page_answers_its_etag_with_304_and_another_page_has_another(demo_client, uncached):
    detail = demo_client.get(f"{API}/dialogues/{SLUG}").json()
    rid = detail["rounds"][0]["id"]
    first = demo_client.get(f"/record/rounds/{rid}")
    tag = first.headers["etag"]
    again = demo_client.get(f"/record/rounds/{rid}", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    tags = {tag}
    for query in ("?lang=zh-Hans", "?limit=3", "?kind=case", "?limit=3&kind=case"):
        r = demo_client.get(f"/record/rounds/{rid}{query}")
        assert r.headers["etag"] not in tags, query
        tags.add(r.headers["etag"])


def test_a_skeleton_that_holds_the_hole_by_chance_is_not_used(demo_client, monkeypatch, uncached):
    detail = demo_client.get(f"{API}/dialogues/{SLUG}").json()
    url = f"/record/rounds/{detail['rounds'][0]['id']}?lang=en"
    expected = demo_client.get(url).text
    # a hole whose text is in the page around the list, more than once
    monkeypatch.setattr(render, "HOLE", Markup("Questions and answers"))
    cache.bump()
    assert demo_client.get(url).text == expected
    assert demo_client.get(url).text == expected


def test_the_kept_context_gives_way_to_every_write(client, make, driver, db):
    rnd = make.round(phase=Phase.accepting_submissions)
    author = make.user(Role.activist)
    moderator = make.user(Role.moderator)
    admin = make.user(Role.admin)
    db.commit()
    sid = driver.submit(rnd, author, title="KeptItem-4d1f").json()["id"]
    driver.publish(moderator, sid)
    page = f"/record/rounds/{rnd.id}"
    html = client.get(page).text
    assert "KeptItem-4d1f" in html and "RenamedRound-6c2b" not in html
    headers = make.headers(admin)
    db.commit()

    tag = client.get(f"{API}/rounds/{rnd.id}").headers["etag"]
    r = client.patch(
        f"{API}/rounds/{rnd.id}",
        json={"title": "RenamedRound-6c2b"},
        headers={**headers, "If-Match": tag},
    )
    assert r.status_code == 200, r.text
    assert "RenamedRound-6c2b" in client.get(page).text

    slug = client.get(f"{API}/rounds/{rnd.id}").json()["dialogue_slug"]
    r = client.post(
        f"{API}/dialogues/{slug}/delegations",
        json={"code": "EU", "name": "EuropeanUnion-1e7a"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert "EuropeanUnion-1e7a (EU)" in client.get(page).text

    theme = {"slug": "kept-theme-3b9d", "names": {"en": "KeptTheme-3b9d", "zh-Hans": "保留主题"}}
    r = client.post(f"{API}/themes", json=theme, headers=headers)
    assert r.status_code == 201, r.text
    assert "KeptTheme-3b9d" in client.get(page).text
    assert "保留主题" in client.get(page, params={"lang": "zh-Hans"}).text


def test_kept_values_last_while_the_version_and_the_lease_hold(monkeypatch):
    kept: context.Kept[str, int] = context.Kept(size=2)
    computed: list[int] = []

    def compute() -> int:
        computed.append(len(computed))
        return computed[-1]

    assert kept.get("a", compute, ttl=60) == 0
    assert kept.get("a", compute, ttl=60) == 0  # kept
    cache.bump()  # a write committed
    assert kept.get("a", compute, ttl=60) == 1
    assert kept.get("a", compute, ttl=0) == 2  # no time to live: never kept
    assert kept.get("a", compute, ttl=60) == 1
    # the newest `size` are kept
    kept.get("b", compute, ttl=60)
    kept.get("c", compute, ttl=60)
    assert list(kept.entries) == ["b", "c"]

    # older than the time to live: computed again
    now = time.monotonic()
    monkeypatch.setattr(context.time, "monotonic", lambda: now + 61)
    before = len(computed)
    kept.get("c", compute, ttl=60)
    assert len(computed) == before + 1
    monkeypatch.undo()

    # a write while it was computed: not kept
    def racing() -> int:
        cache.bump()
        return compute()

    kept.get("d", racing, ttl=60)
    before = len(computed)
    kept.get("d", compute, ttl=60)
    assert len(computed) == before + 1

    # the lease lapsed (several processes, the invalidation listener out of touch)
    monkeypatch.setattr(cache, "_fresh_until", 0.0)
    assert cache.version_if_fresh() is None
    before = len(computed)
    kept.get("d", compute, ttl=60)
    kept.get("d", compute, ttl=60)
    assert len(computed) == before + 2


def test_an_unknown_round_is_a_404_and_is_not_kept(demo_client, uncached):
    missing = "/record/rounds/00000000-0000-4000-8000-000000000000"
    for _ in range(2):
        r = demo_client.get(missing)
        assert r.status_code == 404
    assert all(str(key) != "00000000-0000-4000-8000-000000000000" for key in context._KEPT.entries)
