"""The search page (/record/search) on the demo data: it shows what GET /api/v1/search
finds, in its order, page after page, with every filter; each result links its page and
its round, and shows the API's snippet with the match in <mark> and the rest escaped; a
query the API refuses (422) is a message on the page, in the reader's language."""

import re
from html import escape, unescape

import httpx
import pytest

from api.pages.render import marked

API = "/api/v1"
HIT = re.compile(r'<li class="hit type-(\w+)" id="hit-([0-9a-f-]{36})">')
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
PREVIOUS = re.compile(r'<a href="([^"]+)" rel="prev">')
SNIPPET = re.compile(r'id="hit-([0-9a-f-]{36})">.*?<p class="snippet"[^>]*>(.*?)</p>', re.S)


def _api_hits(client, **params) -> list[dict]:
    hits, cursor = [], None
    while True:
        query = {**params, "limit": 100, **({"cursor": cursor} if cursor else {})}
        r = client.get(f"{API}/search", params=query)
        assert r.status_code == 200, r.text
        hits += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return hits


def _page_hits(client, url: str) -> list[tuple[str, str]]:
    """(type, id) of every result of a search page and its next pages."""
    found: list[tuple[str, str]] = []
    for _ in range(50):
        r = client.get(url)
        assert r.status_code == 200, r.text
        found += HIT.findall(r.text)
        link = NEXT.search(r.text)
        if not link:
            return found
        url = unescape(link.group(1))
    pytest.fail("more than 50 pages")


def _url(params: dict[str, str]) -> str:
    return str(httpx.URL("/record/search").copy_merge_params(params))


def test_the_search_page_without_words_is_the_form_alone(demo_client):
    for lang, words in (("en", "Words to find"), ("zh-Hans", "要查找的词语")):
        r = demo_client.get("/record/search", params={"lang": lang})
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert f'<html lang="{lang}">' in r.text
        assert words in r.text
        assert 'role="search"' in r.text and 'name="q"' in r.text
        assert 'class="hits"' not in r.text and "no-results" not in r.text
        for name in ("dialogue", "round_id", "type", "theme", "delegation", "language"):
            assert f'name="{name}"' in r.text, name
    # every page of the record links to it from its header, in the page's language
    for path in ("/record", "/record/cases"):
        html = demo_client.get(path, params={"lang": "zh-Hans"}).text
        assert '<a href="/record/search?lang=zh-Hans">搜索</a>' in html


@pytest.mark.parametrize(
    "params",
    [
        {"q": "律师"},
        {"q": "Chen"},
        {"q": "Gao Zhisheng 高智晟"},
        {"q": "detention"},
        {"q": "Chen", "type": "benchmark"},
        {"q": "律师", "language": "zh"},
        {"q": "detention", "delegation": "CN"},
        {"q": "Chen", "dialogue": "us-china-human-rights"},
        {"q": "Gao Zhisheng", "type": "case"},
    ],
)
def test_the_page_shows_what_the_api_finds_in_its_order(demo_client, params):
    expected = [(h["type"], h["id"]) for h in _api_hits(demo_client, **params)]
    assert expected, params  # the demo data has something for each
    assert _page_hits(demo_client, _url(params)) == expected


def test_the_round_and_theme_filters_narrow_as_the_api_does(demo_client):
    everything = _api_hits(demo_client, q="律师")
    round_id = everything[-1]["round_id"]
    in_round = _api_hits(demo_client, q="律师", round_id=round_id)
    assert 0 < len(in_round) < len(everything)
    found = _page_hits(demo_client, _url({"q": "律师", "round_id": round_id}))
    assert found == [(h["type"], h["id"]) for h in in_round]
    themed = _api_hits(demo_client, q="Chen", theme="human-rights-defenders")
    found = _page_hits(demo_client, _url({"q": "Chen", "theme": "human-rights-defenders"}))
    assert found == [(h["type"], h["id"]) for h in themed]


def test_each_result_links_its_page_and_its_round(demo_client):
    hits = _api_hits(demo_client, q="Chen") + _api_hits(demo_client, q="Gao Zhisheng")
    kinds = {h["type"] for h in hits}
    assert {"submission", "benchmark", "case"} <= kinds
    html = demo_client.get("/record/search", params={"q": "Chen"}).text
    html += demo_client.get("/record/search", params={"q": "Gao Zhisheng"}).text
    for h in hits:
        item = html.split(f'id="hit-{h["id"]}">')[1].split('<li class="hit')[0].split("</ol>")[0]
        link = re.search(r'<h3><a href="([^"]+)"', item).group(1)
        wanted = {
            "submission": f"/record/submissions/{h['id']}?lang=en",
            "case": f"/record/cases/{h['id']}?lang=en",
            "response": f"/record/submissions/{h['submission_id']}?lang=en#response-{h['id']}",
            "benchmark": f"/record/rounds/{h['round_id']}/scorecard?lang=en#progress",
            "commitment": f"/record/rounds/{h['round_id']}/scorecard?lang=en#progress",
        }[h["type"]]
        assert unescape(link) == wanted, h
        assert demo_client.get(unescape(link)).status_code == 200
        if h["round_id"]:
            assert f'href="/record/rounds/{h["round_id"]}?lang=en">Round ' in item


def test_a_response_found_links_its_answer_on_the_submission_page(demo_client):
    responses = _api_hits(demo_client, q="law", type="response")
    assert responses
    html = demo_client.get(_url({"q": "law", "type": "response"})).text
    for h in responses:
        target = f"/record/submissions/{h['submission_id']}?lang=en#response-{h['id']}"
        assert f'href="{escape(target)}"' in html
        page = demo_client.get(target.split("#")[0]).text
        assert f'id="response-{h["id"]}"' in page


def test_the_snippet_marks_the_match_and_escapes_the_rest(demo_client):
    for q in ("律师", "Chen", "高智晟", "Gao Zhisheng"):
        hits = {h["id"]: h for h in _api_hits(demo_client, q=q)}
        html = demo_client.get("/record/search", params={"q": q, "limit": 100}).text
        shown = dict(SNIPPET.findall(html))
        assert set(shown) == set(hits)
        for hit_id, snippet in shown.items():
            text, matches = hits[hit_id]["snippet"]["text"], hits[hit_id]["snippet"]["matches"]
            assert matches, hit_id
            assert snippet.count("<mark>") == len(matches)
            assert unescape(re.sub(r"</?mark>", "", snippet)) == text
            marks = [unescape(m) for m in re.findall(r"<mark>(.*?)</mark>", snippet)]
            assert marks == [text[a:b] for a, b in matches]


def test_marked_escapes_text_and_keeps_to_the_offsets():
    text = 'a <b>律师</b> & "x"'
    assert marked(text, [[5, 7]]) == "a &lt;b&gt;<mark>律师</mark>&lt;/b&gt; &amp; &#34;x&#34;"
    assert marked("<i>", [[0, 3]]) == "<mark>&lt;i&gt;</mark>"
    # offsets past the end, overlapping or backwards never lose or repeat text
    assert marked("abcdef", [[1, 3], [2, 4], [5, 99], [4, 2]]) == (
        "a<mark>bc</mark><mark>d</mark>e<mark>f</mark>"
    )
    assert marked("abc", []) == "abc"


def test_next_and_previous_links_walk_the_results(demo_client):
    everything = [(h["type"], h["id"]) for h in _api_hits(demo_client, q="Chen")]
    assert len(everything) > 4
    url = _url({"q": "Chen", "limit": "2", "lang": "zh-Hans"})
    pages = []
    while url:
        r = demo_client.get(url)
        pages.append((url, HIT.findall(r.text)))
        found = NEXT.search(r.text)
        url = unescape(found.group(1)) if found else ""
    assert all(len(hits) == 2 for _, hits in pages[:-1])
    assert [h for _, hits in pages for h in hits] == everything
    assert "lang=zh-Hans" in pages[-1][0] and "q=Chen" in pages[-1][0]
    r = demo_client.get(pages[-1][0])
    for _, hits in reversed(pages[:-1]):
        back = PREVIOUS.search(r.text)
        assert back is not None
        r = demo_client.get(unescape(back.group(1)))
        assert HIT.findall(r.text) == hits
    assert PREVIOUS.search(r.text) is None


def test_nothing_found_says_so(demo_client):
    nothing = (("en", "Nothing in the public record matches."), ("zh-Hans", "公开记录中没有"))
    for lang, text in nothing:
        r = demo_client.get("/record/search", params={"q": "Zzyzxqwv", "lang": lang})
        assert r.status_code == 200
        assert text in r.text
        assert 'id="hit-' not in r.text and 'rel="next"' not in r.text


def test_a_query_the_api_refuses_is_a_message_on_the_page(demo_client):
    api = demo_client.get(f"{API}/search", params={"q": "!!! ???"})
    assert api.status_code == 422
    for lang, detail in (
        ("en", "This search cannot be run: The query has no letters or digits to search for."),
        ("zh-Hans", "无法执行此搜索：查询中没有可供搜索的文字或数字。"),
    ):
        r = demo_client.get("/record/search", params={"q": "!!! ???", "lang": lang})
        assert r.status_code == 422
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert detail in r.text
        assert 'value="!!! ???"' in r.text  # the form keeps the query to mend it
        assert 'aria-invalid="true"' in r.text
        assert "etag" not in r.headers
    too_many = " ".join(f"w{i}" for i in range(17))
    r = demo_client.get("/record/search", params={"q": too_many})
    assert r.status_code == 422 and "more than 16 words or phrases" in r.text
    r = demo_client.get("/record/search", params={"q": "x" * 201, "lang": "zh-Hans"})
    assert r.status_code == 422 and "搜索内容不得超过 200 个字符" in r.text


def test_bad_filters_and_cursors_are_html_400_pages(demo_client):
    for query in (
        "q=Chen&type=poem",
        "q=Chen&round_id=not-a-round",
        "q=Chen&cursor=not-a-cursor",
        "q=Chen&limit=0",
        "q=Chen&delegation=" + "X" * 9,
        "q=" + "x" * 1001,
    ):
        r = demo_client.get(f"/record/search?{query}")
        assert r.status_code == 400, query
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert "This address cannot be read" in r.text


def test_the_round_page_says_so_too_when_its_words_cannot_be_searched(demo_client):
    detail = demo_client.get(f"{API}/dialogues/us-china-human-rights").json()
    rid = detail["rounds"][0]["id"]
    r = demo_client.get(f"/record/rounds/{rid}", params={"q": "!!!", "lang": "zh-Hans"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "查询中没有可供搜索的文字或数字。" in r.text
