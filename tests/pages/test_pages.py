"""The record's pages on the demo data: each renders in both languages, with nothing from
another host and no script; they show exactly what the JSON API shows (the same items
for the same filters, page after page); 404 and 400 are pages too; ETag and 304."""

import re
import uuid
from html import unescape
from typing import Any

import httpx
import pytest

from api.pages import i18n

API = "/api/v1"
SLUG = "us-china-human-rights"
ITEM = re.compile(r'<article class="submission" id="s-([0-9a-f-]{36})"')
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
PREVIOUS = re.compile(r'<a href="([^"]+)" rel="prev">')


def _rounds(client) -> dict[int, str]:
    detail = client.get(f"{API}/dialogues/{SLUG}").json()
    return {r["number"]: r["id"] for r in detail["rounds"]}


def _json_ids(client, round_id: str, **params: Any) -> list[str]:
    ids, cursor = [], None
    while True:
        query = {**params, "limit": 100, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"{API}/rounds/{round_id}/record", params=query).json()
        ids += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return ids


def _page_ids(client, url: str) -> list[str]:
    """Every item of a round page and its next pages."""
    ids: list[str] = []
    for _ in range(50):
        r = client.get(url)
        assert r.status_code == 200, r.text
        ids += ITEM.findall(r.text)
        found = NEXT.search(r.text)
        if not found:
            return ids
        url = unescape(found.group(1))
    pytest.fail("more than 50 pages")


def _all_pages(client) -> list[str]:
    rounds = _rounds(client)
    rid = rounds[17]
    record = client.get(f"{API}/rounds/{rid}/record", params={"limit": 100}).json()["items"]
    case_ids = {i["case_id"] for i in record if i["case_id"]}
    return [
        "/record",
        f"/record/dialogues/{SLUG}",
        f"/record/dialogues/{SLUG}/scorecard",
        *(f"/record/rounds/{r}" for r in rounds.values()),
        *(f"/record/rounds/{r}/scorecard" for r in rounds.values()),
        *(f"/record/submissions/{i['id']}" for i in record),
        "/record/cases",
        *(f"/record/cases/{c}" for c in case_ids),
    ]


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_every_page_renders_in_both_languages_with_nothing_from_elsewhere(demo_client, lang):
    for path in _all_pages(demo_client):
        r = demo_client.get(path, params={"lang": lang})
        assert r.status_code == 200, (path, r.text[:500])
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert r.headers["content-language"] == lang
        csp = r.headers["content-security-policy"]
        assert csp.startswith("default-src 'none'; style-src 'self'; img-src 'self' data:")
        assert "script-src" not in csp
        html = r.text
        assert f'<html lang="{lang}">' in html
        assert "<script" not in html.lower()
        assert " style=" not in html  # the CSP would block it
        # every asset from here: no src or stylesheet from another host
        assert not re.search(r'\ssrc="(?!/)', html), path
        assert '<link rel="stylesheet" href="/record/static/record.css">' in html
        assert '<link rel="alternate" type="application/atom+xml"' in html
        assert "<main" in html and "<nav" in html and "<h1>" in html
        # the language switch leads to this page in the other language
        other = i18n.other(lang)
        switch = re.search(r'<a class="switch" href="([^"]+)"', html)
        assert switch is not None
        target = httpx.URL(unescape(switch.group(1)))
        assert target.path == path and target.params["lang"] == other


def test_the_language_is_the_query_then_accept_language_then_english(demo_client):
    def lang(params=None, accept=None) -> str:
        headers = {"Accept-Language": accept} if accept else {}
        r = demo_client.get("/record", params=params or {}, headers=headers)
        return re.search(r'<html lang="([^"]+)">', r.text).group(1)

    assert lang() == "en"
    assert lang(accept="zh-CN,zh;q=0.9,en;q=0.8") == "zh-Hans"
    assert lang(accept="en-GB,zh;q=0.5") == "en"
    assert lang(accept="fr, zh-Hans;q=0.4, en;q=0.3") == "zh-Hans"
    assert lang(accept="zh;q=0, en") == "en"
    assert lang(accept="de") == "en"
    assert lang({"lang": "en"}, accept="zh-CN") == "en"
    assert lang({"lang": "zh-Hans"}, accept="en") == "zh-Hans"
    assert lang({"lang": "klingon"}, accept="zh") == "zh-Hans"
    r = demo_client.get("/record", headers={"Accept-Language": "zh-CN"})
    assert r.headers["vary"].startswith("Accept-Language")
    assert "人权对话的公开记录" in r.text


def test_negotiation_reads_quality_values():
    assert i18n.negotiate(None, None) == "en"
    assert i18n.negotiate(None, "zh-TW;q=0.2, en-US;q=0.9") == "en"
    assert i18n.negotiate(None, "en;q=0.1, zh-Hans-CN") == "zh-Hans"
    assert i18n.negotiate(None, "zh;q=bogus, en;q=0.5") == "en"
    assert i18n.negotiate("ZH-hans", "en") == "zh-Hans"


def test_the_round_page_shows_what_the_json_record_shows_for_every_filter(demo_client):
    for rid in _rounds(demo_client).values():
        assert _page_ids(demo_client, f"/record/rounds/{rid}") == _json_ids(demo_client, rid)
        filters: list[dict[str, str]] = [
            {"kind": "case"},
            {"kind": "concern"},
            {"delegation": "US"},
            {"delegation": "CN", "answered": "false"},
            {"answered": "true"},
            {"theme": "tibet"},
            {"q": "律师"},
            {"q": "lawyer"},
            {"theme": "rule-of-law", "kind": "concern", "answered": "false"},
        ]
        narrowed = 0
        everything = _json_ids(demo_client, rid)
        for params in filters:
            expected = _json_ids(demo_client, rid, **params)
            url = str(httpx.URL(f"/record/rounds/{rid}").copy_merge_params(params))
            assert _page_ids(demo_client, url) == expected, params
            narrowed += 0 < len(expected) < len(everything)
        assert narrowed >= 5  # the filters really filter on the demo data


def test_next_and_previous_links_walk_the_round_page_by_page(demo_client):
    rid = _rounds(demo_client)[17]
    everything = _json_ids(demo_client, rid)
    assert len(everything) > 6
    url = f"/record/rounds/{rid}?limit=3&lang=zh-Hans"
    pages = []
    while url:
        r = demo_client.get(url)
        pages.append((url, ITEM.findall(r.text)))
        assert all(len(ids) == 3 for _, ids in pages[:-1])
        found = NEXT.search(r.text)
        url = unescape(found.group(1)) if found else ""
    assert [i for _, ids in pages for i in ids] == everything
    assert "lang=zh-Hans" in pages[-1][0]
    # back from the last page, one page at a time, to the first
    r = demo_client.get(pages[-1][0])
    for _, ids in reversed(pages[:-1]):
        back = PREVIOUS.search(r.text)
        assert back is not None
        r = demo_client.get(unescape(back.group(1)))
        assert ITEM.findall(r.text) == ids
    assert PREVIOUS.search(r.text) is None  # the first page has none


def test_the_round_page_shows_each_response_with_its_facts(demo_client):
    rid = _rounds(demo_client)[17]
    items = demo_client.get(f"{API}/rounds/{rid}/record", params={"limit": 100}).json()["items"]
    html = demo_client.get(f"/record/rounds/{rid}?limit=100").text
    responses = [r for i in items for r in i["responses"]]
    declined = next(r for r in responses if r["reason_code"])
    assert f"<code>{declined['reason_code']}</code>" in html
    assert sum(r["late"] for r in responses) == html.count('<li class="late">')
    revised = [r for r in responses if r["revision_count"] > 1]
    assert revised and all(f"history-{r['id']}" in html for r in revised)
    assert html.count('class="response kind-') == len(responses)
    assert "No response from CN" in html  # silence after the due date is shown
    # a Chinese submission on an English page is marked as Chinese
    chinese = next(i for i in items if i["language"] == "zh-Hans")
    article = html.split(f'id="s-{chinese["id"]}"')[1].split("</article>")[0]
    assert f'<div class="text" lang="zh-Hans">{chinese["body"][:20]}' in unescape(article)


def test_a_submission_page_shows_the_revision_history_with_a_diff(demo_client):
    found = None
    for rid in _rounds(demo_client).values():
        for item in demo_client.get(f"{API}/rounds/{rid}/record?limit=100").json()["items"]:
            for resp in item["responses"]:
                if resp["revision_count"] > 1:
                    found = (item, resp)
    assert found is not None
    item, resp = found
    revisions = demo_client.get(f"{API}/responses/{resp['id']}/revisions").json()["items"]
    html = demo_client.get(f"/record/submissions/{item['id']}").text
    text = unescape(html)
    history = text.split(f'id="history-{resp["id"]}"')[1]
    assert history.count("<li>") == len(revisions)
    for revision in revisions[1:]:
        assert revision["reason"] in history
    assert "<ins>" in history and "<del>" in history
    assert f'href="/record/rounds/{item["round_id"]}?lang=en"' in html
    code = resp["delegation"]
    assert f"/record/rounds/{item['round_id']}/scorecard?lang=en#delegation-{code}" in html
    if item["case_id"]:
        assert f'href="/record/cases/{item["case_id"]}?lang=en"' in html


def test_the_scorecard_has_charts_and_the_same_figures_as_the_json(demo_client):
    rid = _rounds(demo_client)[17]
    card = demo_client.get(f"{API}/rounds/{rid}/scorecard").json()
    html = demo_client.get(f"/record/rounds/{rid}/scorecard").text
    assert html.count('<svg class="chart"') == 3
    assert html.count("<figure") == 3 and html.count('<table class="figures"') >= 3
    for d in card["delegations"]:
        row = html.split(f'<tr id="delegation-{d["delegation"]}">')[1].split("</tr>")[0]
        cells = re.findall(r"<td>([^<]*)</td>", row)
        silent = d["no_response"] if card["due_date_passed"] else d["unanswered"]
        wanted = [d["addressed"], d["answered"], d["holding"], d["declined"], silent, d["late"]]
        assert cells[:6] == [str(v) for v in wanted]
    assert card["benchmarks"]["contested"] + card["commitments"]["contested"] > 0
    assert html.count('<strong class="mark">contested</strong>') == (
        card["benchmarks"]["contested"] + card["commitments"]["contested"]
    )


def test_the_trend_page_draws_each_series_with_its_table(demo_client):
    trend = demo_client.get(f"{API}/dialogues/{SLUG}/scorecard").json()["rounds"]
    html = demo_client.get(f"/record/dialogues/{SLUG}/scorecard?lang=zh-Hans").text
    assert html.count('<svg class="chart line"') == 4
    assert html.count("<polyline") == 4
    table = html.split('id="trend-table"')[1]
    for point in trend:
        assert f"{point['answer_rate'] * 100:.0f}%" in table
    assert "回答率" in html and "第17轮" in html


def test_dates_are_written_in_the_readers_language(demo_client):
    rid = _rounds(demo_client)[17]
    en = demo_client.get(f"/record/rounds/{rid}?lang=en").text
    zh = demo_client.get(f"/record/rounds/{rid}?lang=zh-Hans").text
    assert '<time datetime="2012-07-23' in en
    assert re.search(r'<time datetime="2012-07-23[^"]*">23 July 2012</time>', en)
    assert re.search(r'<time datetime="2012-07-23[^"]*">2012年7月23日</time>', zh)


def test_unknown_ids_and_addresses_are_html_404_pages(demo_client):
    missing = [
        f"/record/rounds/{uuid.uuid4()}",
        f"/record/rounds/{uuid.uuid4()}/scorecard",
        f"/record/submissions/{uuid.uuid4()}",
        f"/record/cases/{uuid.uuid4()}",
        "/record/dialogues/no-such-dialogue",
        "/record/dialogues/no-such-dialogue/scorecard",
        "/record/rounds/not-a-uuid",
        "/record/dialogues/NOT%20A%20SLUG",
        "/record/nothing/here",
    ]
    for path in missing:
        r = demo_client.get(path, params={"lang": "zh-Hans"})
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert "<h1>未找到</h1>" in r.text
        assert "etag" not in r.headers


def test_bad_filters_and_cursors_are_html_400_pages(demo_client):
    rid = _rounds(demo_client)[17]
    for query in (
        "kind=poem",
        "answered=maybe",
        "cursor=not-a-cursor",
        "limit=0",
        "limit=x",
        "q=" + "x" * 201,
    ):
        r = demo_client.get(f"/record/rounds/{rid}?{query}")
        assert r.status_code == 400, query
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert "This address cannot be read" in r.text


def test_pages_answer_if_none_match_with_304(demo_client):
    rid = _rounds(demo_client)[17]
    path = f"/record/rounds/{rid}/scorecard"
    first = demo_client.get(path)
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=0, must-revalidate"
    again = demo_client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    chinese = demo_client.get(path, params={"lang": "zh-Hans"}, headers={"If-None-Match": tag})
    assert chinese.status_code == 200 and chinese.headers["etag"] != tag
    css = demo_client.get("/record/static/record.css")
    assert css.headers["content-type"].startswith("text/css")
    assert (
        demo_client.get(
            "/record/static/record.css", headers={"If-None-Match": css.headers["etag"]}
        ).status_code
        == 304
    )
