"""The pages share the JSON reads' cache: an anonymous page is answered from the front
door the second time, byte for byte the same; a cached page still answers 304 to its
ETag; a page in one language is never served to a reader of the other."""

from api.cache import FinalResponseCache

SLUG = "us-china-human-rights"
PAGES = ("/record", f"/record/dialogues/{SLUG}", f"/record/dialogues/{SLUG}/scorecard")


def _front(app) -> FinalResponseCache:
    front = app.front
    assert isinstance(front, FinalResponseCache)
    return front


def test_a_page_is_kept_at_the_front_door_and_served_the_same(demo_client):
    front = _front(demo_client.app)
    for path in PAGES:
        first = demo_client.get(path)
        assert first.status_code == 200, path
        assert (path, b"") in front.entries, path
        second = demo_client.get(path)
        assert second.content == first.content
        assert second.headers.raw == first.headers.raw


def test_a_cached_page_answers_its_etag_with_304(demo_client):
    first = demo_client.get("/record")
    demo_client.get("/record")  # now a hit in both caches
    again = demo_client.get("/record", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]


def test_a_cached_page_is_never_served_in_the_other_language(demo_client):
    for _ in range(2):  # the second round is served from the cache
        english = demo_client.get("/record")
        chinese = demo_client.get("/record", headers={"Accept-Language": "zh-CN"})
        assert english.headers["content-language"] == "en"
        assert chinese.headers["content-language"] == "zh-Hans"
        assert '<html lang="en"' in english.text
        assert '<html lang="zh-Hans"' in chinese.text
        assert english.headers["etag"] != chinese.headers["etag"]


def test_a_search_page_is_kept_by_its_query_and_a_refused_query_is_not(demo_client):
    front = _front(demo_client.app)
    first = demo_client.get("/record/search", params={"q": "律师", "lang": "zh-Hans"})
    assert first.status_code == 200
    key = ("/record/search", first.request.url.query)
    assert key in front.entries
    second = demo_client.get("/record/search", params={"q": "律师", "lang": "zh-Hans"})
    assert second.content == first.content and second.headers.raw == first.headers.raw
    other = demo_client.get("/record/search", params={"q": "Chen", "lang": "zh-Hans"})
    assert other.content != first.content
    refused = demo_client.get("/record/search", params={"q": "!!!"})
    assert refused.status_code == 422
    assert ("/record/search", refused.request.url.query) not in front.entries
