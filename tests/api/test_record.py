"""A round's public record: only what is published, in publication order, with current
responses; filters and search (Chinese too); cursor pages that survive new publications;
conditional GETs; and a query count that does not grow with the page."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from api.middleware import weak_etag
from api.pagination import encode_cursor
from api.routes.rounds import RecordPage
from models.response import AnswerAssessment, Response, ResponseRevision
from models.round import Phase
from models.submission import Endorsement, Status, Submission
from models.user import Role

BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def record_url(rnd):
    return f"/api/v1/rounds/{rnd.id}/record"


def ids(response):
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def revise(client, make, response, official, **body):
    payload = {"body": "Revised.", "reason": "Correction.", **body}
    r = client.post(
        f"/api/v1/responses/{response.id}/revisions", json=payload, headers=make.headers(official)
    )
    assert r.status_code == 201, r.text


# --- what is listed, in which order -------------------------------------------------


def test_only_published_submissions_of_the_round_in_publication_order(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    # written in one order, published in another
    late = make.submission(rnd, title="Published third", published_at=BASE + timedelta(hours=3))
    early = make.submission(rnd, title="Published first", published_at=BASE)
    middle = make.submission(rnd, title="Published second", published_at=BASE + timedelta(hours=1))
    for status in (Status.pending, Status.rejected, Status.withdrawn, Status.removed):
        hidden = make.submission(rnd, status=status, title=f"Not public: {status.value}")
        make.response(hidden, code="CN")
    other_round = make.round(phase=Phase.accepting_responses)
    make.submission(other_round, title="Another round", published_at=BASE)
    response = make.response(early, code="CN", body="First text.")
    official = make.official(rnd, "CN")
    revise(client, make, response, official, body="Current text.")

    r = client.get(record_url(rnd))
    assert ids(r) == [str(early.id), str(middle.id), str(late.id)]
    body = r.json()
    assert body["next_cursor"] is None and "Link" not in r.headers
    assert "Not public" not in r.text and "Another round" not in r.text
    first = body["items"][0]
    assert first["published_at"].startswith("2026-03-01T09:00:00")
    assert [(x["delegation"], x["body"], x["revision_count"]) for x in first["responses"]] == [
        ("CN", "Current text.", 2)
    ]
    assert "First text." not in r.text
    assert body["items"][1]["responses"] == []
    # the public never sees when a submission was written, nor its status
    assert "created_at" not in r.text and "status" not in first


def test_an_unknown_round_is_404(client):
    r = client.get(f"/api/v1/rounds/{uuid.uuid4()}/record")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


# --- filters ------------------------------------------------------------------------


@pytest.fixture
def filtered(client, make):
    """Six published submissions whose filter outcomes are known, and hidden decoys."""
    rnd = make.round(phase=Phase.accepting_responses)
    cn, us = make.official(rnd, "CN"), make.official(rnd, "US")
    at = iter(BASE + timedelta(minutes=n) for n in range(100))

    def sub(name, **kw):
        return make.submission(rnd, title=f"Item {name}", published_at=next(at), **kw)

    items = {
        "a": sub("a", themes=("labour-rights",), addressed_to=("CN",)),
        "b": sub("b", kind="case", themes=("tibet",), addressed_to=("CN", "US")),
        "c": sub("c", themes=("rule-of-law", "labour-rights"), addressed_to=("US",)),
        "d": sub("d", themes=("rule-of-law",), addressed_to=("CN",)),
        "e": sub("e", themes=("rule-of-law",), addressed_to=("CN",)),
        "f": sub("f", themes=("rule-of-law",), addressed_to=("CN",)),
    }
    make.response(items["a"], code="CN", kind="answer", official=cn)
    make.response(items["b"], code="US", kind="answer", official=us)
    make.response(items["b"], code="CN", kind="holding", official=cn)
    # answered once, then corrected to a holding reply: no longer answered
    revise(client, make, make.response(items["d"], code="CN", official=cn), cn, kind="holding")
    # a holding reply later turned into an answer: answered now
    held = make.response(items["e"], code="CN", kind="holding", official=cn)
    revise(client, make, held, cn, kind="answer")
    make.response(items["f"], code="CN", kind="declined", reason_code="other", official=cn)
    # decoys that match every filter but must never be listed
    for status in (Status.pending, Status.withdrawn, Status.removed):
        decoy = make.submission(
            rnd,
            status=status,
            kind="case",
            themes=("labour-rights", "tibet"),
            addressed_to=("CN", "US"),
        )
        make.response(decoy, code="CN", official=cn)
    elsewhere = make.round(phase=Phase.accepting_responses)
    make.response(make.submission(elsewhere, themes=("labour-rights",)), code="CN")
    return rnd, items


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "abcdef"),
        ({"theme": "labour-rights"}, "ac"),
        ({"theme": "tibet"}, "b"),
        ({"theme": "no-such-theme"}, ""),
        ({"kind": "case"}, "b"),
        ({"kind": "concern"}, "acdef"),
        ({"delegation": "CN"}, "abdef"),
        ({"delegation": "us"}, "bc"),
        ({"delegation": "XX"}, ""),
        ({"answered": "true"}, "abe"),
        ({"answered": "false"}, "cdf"),
        ({"delegation": "CN", "answered": "true"}, "ae"),
        ({"delegation": "CN", "answered": "false"}, "bdf"),
        ({"delegation": "US", "answered": "true"}, "b"),
        ({"delegation": "US", "answered": "false"}, "c"),
        ({"theme": "labour-rights", "delegation": "US"}, "c"),
        ({"theme": "rule-of-law", "answered": "false", "kind": "concern"}, "cdf"),
    ],
)
def test_filters(client, filtered, params, expected):
    rnd, items = filtered
    r = client.get(record_url(rnd), params=params)
    assert ids(r) == [str(items[name].id) for name in expected]


@pytest.mark.parametrize(
    "params",
    [{"kind": "petition"}, {"answered": "perhaps"}, {"q": ""}, {"q": "x" * 201}],
)
def test_bad_filters_are_422(client, make, params):
    rnd = make.round(phase=Phase.accepting_responses)
    r = client.get(record_url(rnd), params=params)
    assert r.status_code == 422, r.text
    assert r.json()["type"] == "urn:civic-input:problem:validation"


@pytest.fixture
def searchable(make):
    rnd = make.round(phase=Phase.accepting_responses)
    at = iter(BASE + timedelta(minutes=n) for n in range(100))
    texts = {
        "latin": ("Forced LABOUR in Xinjiang factories", "Cotton picked by detainees."),
        "title-only": ("Labour camps", "Nothing else here."),
        "fullwidth": ("Ｌａｂｏｕｒ activists", "Written in fullwidth letters."),
        "lawyer": ("维权人士的处境", "维权律师被拘留，家属无法探视。"),
        "no-lawyer": ("维权人士的处境", "维权人士被拘留，家属无法探视。"),
        "percent": ("Wages", "Only 100% of wages were withheld."),
        "no-percent": ("Wages", "About 1000 workers were unpaid."),
        "underscore": ("Code names", "The file was called case_file."),
        "no-underscore": ("Code names", "The case-file was lost; caseXfile too."),
        "backslash": ("Paths", "Stored under C:\\records."),
    }
    subs = {
        name: make.submission(rnd, title=title, body=body, published_at=next(at))
        for name, (title, body) in texts.items()
    }
    make.submission(rnd, status=Status.withdrawn, title="Hidden", body="维权律师 labour 100%")
    return rnd, subs


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("labour", ["latin", "title-only", "fullwidth"]),
        ("LaBoUr", ["latin", "title-only", "fullwidth"]),
        ("xinjiang factories", ["latin"]),
        ("律师", ["lawyer"]),
        ("维权律师被拘留", ["lawyer"]),
        ("维权人士被", ["no-lawyer"]),
        ("拘留", ["lawyer", "no-lawyer"]),
        ("100%", ["percent"]),
        # words, not substrings (the search index: api/search/tokens.py)
        ("0% of", []),
        ("case_file", ["underscore", "no-underscore"]),
        ('"case file"', ["underscore", "no-underscore"]),
        ("records", ["backslash"]),
        ("no such words", []),
    ],
)
def test_search(client, searchable, q, expected):
    rnd, subs = searchable
    r = client.get(record_url(rnd), params={"q": q})
    assert ids(r) == [str(subs[name].id) for name in expected]


@pytest.mark.parametrize("q", ["%", "_", "\\", " ,. "])
def test_a_search_without_words_is_a_problem(client, searchable, q):
    rnd, _ = searchable
    r = client.get(record_url(rnd), params={"q": q})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


# --- cursor pages -------------------------------------------------------------------


def test_paging_returns_everything_once_while_new_items_are_published(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    # seven published items; two pairs share a publication instant (the id breaks the tie)
    offsets = [0, 1, 1, 2, 3, 3, 4]
    existing = [
        make.submission(rnd, title=f"Existing {n}", published_at=BASE + timedelta(minutes=m))
        for n, m in enumerate(offsets)
    ]
    expected_first = [
        str(s.id) for s in sorted(existing, key=lambda s: (s.published_at, str(s.id)))
    ]
    pending = make.submission(rnd, status=Status.pending, title="Published during the walk")
    moderator = make.user(Role.moderator)

    seen: list[str] = []
    r = client.get(record_url(rnd), params={"limit": 3})
    seen += ids(r)
    cursor = r.json()["next_cursor"]
    assert cursor and len(seen) == 3

    # two new publications between page 1 and page 2
    assert (
        client.post(
            f"/api/v1/submissions/{pending.id}/moderation",
            json={"decision": "publish"},
            headers=make.headers(moderator),
        ).status_code
        == 200
    )
    later = make.submission(
        rnd, title="Also published later", published_at=datetime.now(UTC) + timedelta(seconds=1)
    )

    pages = 1
    while cursor:
        r = client.get(record_url(rnd), params={"limit": 3, "cursor": cursor})
        page = ids(r)
        assert 1 <= len(page) <= 3
        seen += page
        cursor = r.json()["next_cursor"]
        pages += 1
        assert pages < 10
    assert len(seen) == len(set(seen)) == 9
    assert seen == [*expected_first, str(pending.id), str(later.id)]


def test_the_link_header_carries_the_cursor_and_the_filters(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    for n in range(5):
        make.submission(rnd, title=f"Labour {n}", published_at=BASE + timedelta(minutes=n))
    r = client.get(record_url(rnd), params={"limit": 2, "q": "labour", "kind": "concern"})
    assert r.status_code == 200
    link = r.headers["Link"]
    assert link.endswith('>; rel="next"') and link.startswith("<")
    target = urlsplit(link[1 : link.index(">")])
    assert target.path == f"/api/v1/rounds/{rnd.id}/record"
    query = parse_qs(target.query)
    assert query["cursor"] == [r.json()["next_cursor"]]
    assert query["limit"] == ["2"] and query["q"] == ["labour"] and query["kind"] == ["concern"]
    followed = client.get(link[1 : link.index(">")])
    by_cursor = client.get(
        record_url(rnd),
        params={"limit": 2, "q": "labour", "kind": "concern", "cursor": r.json()["next_cursor"]},
    )
    assert ids(followed) == ids(by_cursor) and len(ids(followed)) == 2


def test_the_last_page_has_no_next(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    for n in range(4):
        make.submission(rnd, published_at=BASE + timedelta(minutes=n))
    first = client.get(record_url(rnd), params={"limit": 2})
    last = client.get(record_url(rnd), params={"limit": 2, "cursor": first.json()["next_cursor"]})
    assert len(ids(last)) == 2
    assert last.json()["next_cursor"] is None and "Link" not in last.headers
    # a full page that is exactly the rest
    assert client.get(record_url(rnd), params={"limit": 4}).json()["next_cursor"] is None


def test_default_page_size_is_20(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    for n in range(21):
        make.submission(rnd, published_at=BASE + timedelta(minutes=n))
    r = client.get(record_url(rnd))
    assert len(ids(r)) == 20 and r.json()["next_cursor"]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten"])
def test_limit_is_bounded(client, make, limit):
    rnd = make.round(phase=Phase.accepting_responses)
    r = client.get(record_url(rnd), params={"limit": limit})
    assert r.status_code == 422, r.text


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        _b64(b"not json"),
        _b64(json.dumps({"a": 1}).encode()),
        encode_cursor(["2026-03-01T09:00:00+00:00"]),
        encode_cursor(["yesterday", str(uuid.uuid4())]),
        encode_cursor(["2026-03-01T09:00:00+00:00", "not-a-uuid"]),
        encode_cursor(["2026-03-01T09:00:00", str(uuid.uuid4())]),  # no time zone
        encode_cursor([1, 2]),
        _b64(json.dumps([[1], {"x": 2}]).encode()),
    ],
)
def test_a_garbage_cursor_is_400(client, make, cursor):
    rnd = make.round(phase=Phase.accepting_responses)
    make.submission(rnd)
    r = client.get(record_url(rnd), params={"cursor": cursor})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


# --- conditional GET ----------------------------------------------------------------


def test_etag_and_304_and_a_new_tag_after_a_publication(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    make.submission(rnd, published_at=BASE)
    first = client.get(record_url(rnd))
    assert first.status_code == 200
    tag = first.headers["ETag"]
    # one tag, the hash of the body, as for any JSON read (set by the page itself)
    assert first.headers.get_list("etag") == [weak_etag(first.content)]
    assert tag and "max-age" in first.headers["Cache-Control"]
    assert "public" in first.headers["Cache-Control"]

    again = client.get(record_url(rnd), headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == tag

    make.submission(rnd, published_at=BASE + timedelta(hours=1))
    changed = client.get(record_url(rnd), headers={"If-None-Match": tag})
    assert changed.status_code == 200 and len(changed.json()["items"]) == 2
    assert changed.headers["ETag"] != tag


def test_a_revision_or_a_rating_changes_the_record_etag(client, make, driver):
    rnd = make.round(phase=Phase.accepting_responses)
    author = make.user(Role.activist)
    submission = make.submission(rnd, author=author, published_at=BASE)
    official = make.official(rnd, "CN")
    response = make.response(submission, code="CN", official=official)
    tag = client.get(record_url(rnd)).headers["ETag"]
    revise(client, make, response, official, body="A corrected answer.")
    after_revision = client.get(record_url(rnd), headers={"If-None-Match": tag})
    assert after_revision.status_code == 200
    tag = after_revision.headers["ETag"]
    rated = driver.assess(author, response.id, "partial")
    assert (rated["response_id"], rated["rating"]) == (str(response.id), "partial")
    assert client.get(record_url(rnd), headers={"If-None-Match": tag}).status_code == 200


def test_a_signed_in_reader_gets_an_answer_never_stored(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    make.submission(rnd)
    r = client.get(record_url(rnd), headers=make.headers(make.user(Role.activist)))
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"


# --- the query count does not grow with the page ------------------------------------


def _rich_round(make, db, count):
    """`count` published submissions, each with 2 themes, 2 addressees, responses from 2
    delegations with 2 revisions each, assessments and endorsements."""
    rnd = make.round(phase=Phase.accepting_responses)
    authors = [make.user(Role.activist, handle=f"author-{n}") for n in range(3)]
    endorsers = [make.user(Role.activist) for _ in range(2)]
    moderator = make.user(Role.moderator)
    officials = {code: make.official(rnd, code) for code in ("CN", "US")}
    attributions = ("anonymous", "handle", "organisation")
    for n in range(count):
        attribution = attributions[n % 3]
        submission = make.submission(
            rnd,
            author=authors[n % 3],
            title=f"Item {n:03d}",
            body=f'Body {n}: "quoted", \\ back, tab\t, 律师 and a bell.',
            attribution=attribution,
            organisation="Rights Watchers" if attribution == "organisation" else None,
            themes=("labour-rights", "rule-of-law"),
            addressed_to=("CN", "US"),
            # some instants with a fraction of a second, which the page must write as
            # the model does (ids and instants come from the database as text)
            published_at=BASE + timedelta(minutes=n, microseconds=(n % 3) * 120_001),
        )
        # a control character the input guard now refuses, as text stored before it did:
        # the page must still escape it
        db.execute(
            sa.update(Submission)
            .where(Submission.id == submission.id)  # type: ignore[arg-type]
            .values(body=f'Body {n}: "quoted", \\ back, tab\t, 律师 and a bell \x07.')
        )
        for endorser in endorsers:
            db.add(Endorsement(submission_id=submission.id, user_id=endorser.id))
        for code, official in officials.items():
            response = make.response(submission, code=code, official=official)
            db.add(
                ResponseRevision(
                    response_id=response.id,
                    number=2,
                    kind="answer",
                    body=f"Revised answer from {code}.",
                    language="en",
                    reason="Correction.",
                    official_id=official.id,
                    created_at=BASE + timedelta(days=1),
                )
            )
            db.execute(
                sa.update(Response).where(Response.id == response.id).values(revision_count=2)
            )
            for rater, rating in ((authors[n % 3], "partial"), (moderator, "evasive")):
                db.add(AnswerAssessment(response_id=response.id, rater_id=rater.id, rating=rating))
        db.commit()
    return rnd


def test_the_record_is_written_exactly_as_its_model_writes_it(client, make, db):
    # the page is serialised from plain dicts, not models: byte for byte the same
    rnd = _rich_round(make, db, 12)
    for params in ({"limit": 5}, {"limit": 50}, {"q": "律师 bell"}):
        r = client.get(record_url(rnd), params=params)
        assert r.status_code == 200, r.text
        page = RecordPage.model_validate_json(r.content)
        assert page.items and page.items[0].responses
        assert r.content == page.model_dump_json().encode()


def test_a_page_shows_the_responses_of_what_it_shows_whatever_changes_meanwhile(
    client, make, engine
):
    # The responses are read by the ids of the rows the page shows: on PostgreSQL each
    # statement sees the data as of its own start, and selecting them again by the
    # filters would miss a submission that stopped matching in between.
    rnd = make.round(phase=Phase.accepting_responses)
    held = make.submission(rnd, title="On hold", published_at=BASE)
    make.response(held, kind="holding", body="We will answer after consultation.")
    selects: list[str] = []
    changed: list[bool] = []

    def change_before_the_responses(_conn, _cursor, statement, *_args):
        # the page's first query is done; its second (the responses) is about to run
        if changed or not statement.startswith("SELECT"):
            return
        selects.append(statement)
        if len(selects) < 2:
            return
        changed.append(True)
        with engine.begin() as other:  # another request, committed meanwhile
            other.execute(
                sa.update(Submission).where(Submission.id == held.id).values(status="removed")
            )

    sa.event.listen(engine, "before_cursor_execute", change_before_the_responses)
    try:
        r = client.get(record_url(rnd), params={"answered": "false"})
    finally:
        sa.event.remove(engine, "before_cursor_execute", change_before_the_responses)
    assert r.status_code == 200, r.text
    assert changed
    (item,) = r.json()["items"]
    assert item["id"] == str(held.id)
    assert [x["kind"] for x in item["responses"]] == ["holding"]


def test_the_record_runs_the_same_number_of_queries_for_5_and_50_items(
    client, make, db, engine, record_property
):
    rnd = _rich_round(make, db, 50)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def queries_for(limit: int) -> int:
        statements.clear()
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            r = client.get(record_url(rnd), params={"limit": limit})
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        items = r.json()["items"]
        assert r.status_code == 200 and len(items) == limit
        for item in items:
            assert len(item["themes"]) == 2 and item["addressed_to"] == ["CN", "US"]
            assert item["endorsement_count"] == 2
            assert [x["revision_count"] for x in item["responses"]] == [2, 2]
            ratings = [x["ratings"] for x in item["responses"]]
            assert all(r["partial"] == r["evasive"] == 1 for r in ratings)
        assert {item["author"] for item in items} >= {"author-1", "Rights Watchers", None}
        return len(statements)

    small, large = queries_for(5), queries_for(50)
    record_property("record_queries_per_page", small)
    print(f"\nrecord page queries: 5 items -> {small}, 50 items -> {large}")
    assert small == large
    assert small <= 12
