"""`GET /api/v1/search`: Chinese and English across rounds and dialogues, every kind of
text, ranking, filters, cursor pages that survive new publications, bad input."""

from datetime import UTC, date, datetime, timedelta

import pytest

from api.db import open_session
from api.search.index import rebuild
from models.dialogue import Dialogue
from models.round import Phase
from models.submission import Status
from models.user import Role

BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def search(client, q, **params):
    r = client.get("/api/v1/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()


def found(client, q, **params):
    return [item["id"] for item in search(client, q, **params)["items"]]


@pytest.fixture
def record(make):
    """Two dialogues, three rounds, Chinese and English texts."""
    first = make.round(phase=Phase.accepting_responses)
    second = make.round(dialogue=make.dialogue(), phase=Phase.accepting_responses)
    third = make.round(dialogue=make.dialogue(), phase=Phase.accepting_responses)
    at = iter(BASE + timedelta(hours=n) for n in range(100))

    def sub(rnd, title, body, **kw):
        return make.submission(rnd, title=title, body=body, published_at=next(at), **kw)

    return {
        "rounds": (first, second, third),
        "gao_2008": sub(first, "维权律师的下落", "请说明高智晟的下落。", language="zh-Hans"),
        "gao_trad": sub(second, "人權律師", "高智晟律師仍被拘留。", language="zh-Hant"),
        "liu": sub(third, "刘晓波", "刘晓波的家属无法会见。", language="zh-Hans"),
        "rtl": sub(
            first,
            "Re-education through labour",
            "Which camps of re-education through labour remain open?",
            themes=("rule-of-law",),
            addressed_to=("US",),
        ),
        "detainees": sub(
            second,
            "Families of detainees",
            "The families of the detainees were not told where they are held.",
            themes=("labour-rights",),
        ),
        "through": sub(
            third,
            "Labour camps",
            "Labour through re-education is the wrong order of words.",
        ),
    }


def test_a_chinese_name_is_found_in_every_round_simplified_or_traditional(client, record):
    assert set(found(client, "高智晟")) == {str(record["gao_2008"].id), str(record["gao_trad"].id)}
    # written in traditional characters, it finds the simplified text too
    assert str(record["gao_2008"].id) in found(client, "高智晟")
    assert found(client, "劉曉波") == [str(record["liu"].id)]


def test_two_characters_and_one_character_match(client, record):
    assert set(found(client, "律师")) == {str(record["gao_2008"].id), str(record["gao_trad"].id)}
    assert set(found(client, "晟")) == {str(record["gao_2008"].id), str(record["gao_trad"].id)}


def test_a_name_matches_only_where_it_is_written_whole(client, record):
    # 高 and 晟 occur, 高晟 does not
    assert found(client, "高晟") == []


def test_english_words_meet_their_inflections(client, record):
    assert found(client, "detained") == [str(record["detainees"].id)]
    assert found(client, "family") == [str(record["detainees"].id)]


def test_a_quoted_phrase_matches_its_words_in_order_only(client, record):
    assert found(client, '"re-education through labour"') == [str(record["rtl"].id)]
    assert set(found(client, "re-education through labour")) == {
        str(record["rtl"].id),
        str(record["through"].id),
    }


def test_a_mixed_query_needs_every_part(client, make, record):
    rnd = record["rounds"][0]
    both = make.submission(
        rnd, title="Gao Zhisheng", body="Gao Zhisheng 高智晟 is missing.", published_at=BASE
    )
    assert found(client, "Gao Zhisheng 高智晟") == [str(both.id)]
    assert found(client, "Gao Zhìshèng") == [str(both.id)]


def test_title_matches_come_first_then_newest_first(client, make):
    rnd = make.round(phase=Phase.accepting_responses)

    def sub(title, body, minutes):
        return make.submission(
            rnd, title=title, body=body, published_at=BASE + timedelta(minutes=minutes)
        )

    old_title = sub("Torture in custody", "Nothing else.", 0)
    old_body = sub("A matter", "torture", 30)
    new_title = sub("Torture again", "Nothing else.", 60)
    new_body = sub("Another matter", "Reports of torture.", 120)
    assert found(client, "torture") == [
        str(new_title.id),
        str(old_title.id),
        str(new_body.id),
        str(old_body.id),
    ]


def test_snippets_are_plain_text_with_match_offsets(client, record):
    item = search(client, "高智晟")["items"]
    by_id = {hit["id"]: hit for hit in item}
    hit = by_id[str(record["gao_2008"].id)]
    text = hit["snippet"]["text"]
    assert "<" not in text
    assert [text[s:e] for s, e in hit["snippet"]["matches"]] == ["高智晟"]
    assert hit["type"] == "submission" and hit["round_id"] == str(record["rounds"][0].id)
    assert hit["title"] == "维权律师的下落" and hit["language"] == "zh-Hans"
    english = search(client, "held")["items"][0]
    spans = english["snippet"]["matches"]
    assert [english["snippet"]["text"][s:e] for s, e in spans] == ["held"]


def test_filters(client, make, record):
    first, second, _third = record["rounds"]
    assert found(client, "律师", round_id=str(second.id)) == [str(record["gao_trad"].id)]
    dialogue = make.session.get(type(first), first.id).dialogue_id
    slug = make.session.get_one(Dialogue, dialogue).slug
    assert found(client, "律师", dialogue=slug) == [str(record["gao_2008"].id)]
    assert found(client, "律师", language="zh-Hant") == [str(record["gao_trad"].id)]
    assert set(found(client, "律师", language="zh")) == {
        str(record["gao_2008"].id),
        str(record["gao_trad"].id),
    }
    assert found(client, "labour", theme="rule-of-law") == [str(record["rtl"].id)]
    assert found(client, "labour", delegation="us") == [str(record["rtl"].id)]
    assert found(client, "labour", type="response") == []
    assert found(client, "律师", dialogue="no-such-dialogue") == []


def _answer(client, make, submission, body, code="CN"):
    rnd = make.session.get_one(type(make.round()), submission.round_id)
    official = make.official(rnd, code)
    r = client.post(
        f"/api/v1/submissions/{submission.id}/responses",
        json={"kind": "answer", "body": body, "language": "en"},
        headers=make.headers(official),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"], official


def test_responses_are_searched_by_their_current_revision(client, make, record):
    response_id, official = _answer(client, make, record["detainees"], "They are in Qincheng.")
    hits = search(client, "Qincheng")["items"]
    assert [(h["type"], h["id"], h["submission_id"]) for h in hits] == [
        ("response", response_id, str(record["detainees"].id))
    ]
    r = client.post(
        f"/api/v1/responses/{response_id}/revisions",
        json={"body": "They were released.", "reason": "Correction."},
        headers=make.headers(official),
    )
    assert r.status_code == 201, r.text
    assert found(client, "Qincheng") == []
    assert found(client, "released", type="response") == [response_id]


def test_benchmarks_and_commitments_are_searched(client, make):
    before = make.round(phase=Phase.accepting_submissions)
    rnd = make.round(
        dialogue=make.session.get_one(Dialogue, before.dialogue_id), phase=Phase.accepting_responses
    )
    moderator = make.user(Role.moderator)
    r = client.post(
        f"/api/v1/rounds/{before.id}/benchmarks",
        json={"delegation": "CN", "title": "Release Xu Zhiyong", "description": "许志永 freed."},
        headers=make.headers(moderator),
    )
    assert r.status_code == 201, r.text
    benchmark = r.json()["id"]
    r = client.post(
        f"/api/v1/rounds/{rnd.id}/commitments",
        json={"delegation": "CN", "text": "Invite the rapporteur to Tibet."},
        headers=make.headers(moderator),
    )
    assert r.status_code == 201, r.text
    commitment = r.json()["id"]
    assert found(client, "许志永") == [benchmark]
    assert found(client, "rapporteur", type="commitment") == [commitment]
    assert found(client, "rapporteur", delegation="US") == []


def _case(client, make, *, consent):
    activist = make.user(Role.activist)
    r = client.post(
        "/api/v1/cases",
        json={
            "name": "Wang Quanzhang",
            "name_native": "王全璋",
            "name_consent": consent,
            "status": "detained",
            "status_date": str(date(2015, 7, 9)),
            "location": "Tianjin",
            "summary": "A rights lawyer held since the 709 crackdown.",
            "restricted_details": "Secret family contact Zhang Zhuanzhu",
        },
        headers=make.headers(activist),
    )
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    moderator = make.user(Role.moderator)
    r = client.post(
        f"/api/v1/cases/{case_id}/moderation",
        json={"decision": "published"},
        headers=make.headers(moderator),
    )
    assert r.status_code == 200, r.text
    return case_id, activist, moderator


def test_cases_are_found_by_name_only_while_consent_stands(client, make):
    case_id, _activist, moderator = _case(client, make, consent=True)
    assert found(client, "王全璋") == [case_id]
    hit = search(client, "Wang Quanzhang")["items"][0]
    assert hit["type"] == "case" and "王全璋" in hit["title"]
    r = client.put(
        f"/api/v1/cases/{case_id}/consent",
        json={"name_consent": False},
        headers=make.headers(moderator),
    )
    assert r.status_code == 200, r.text
    assert found(client, "王全璋") == []
    assert found(client, "Quanzhang") == []
    # the public summary is still searchable, under the withheld name
    page = client.get("/api/v1/search", params={"q": "709 crackdown"})
    assert [h["id"] for h in page.json()["items"]] == [case_id]
    assert "Wang" not in page.text and "王全璋" not in page.text


def test_cursor_pages_are_stable_while_new_items_are_published(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    made = [
        make.submission(
            rnd, title=f"Petition {n}", body="petition", published_at=BASE + timedelta(minutes=n)
        )
        for n in range(5)
    ]
    newest_first = [str(s.id) for s in reversed(made)]
    first = search(client, "petition", limit=2)
    assert [h["id"] for h in first["items"]] == newest_first[:2]
    # published meanwhile: not in the pages already begun
    make.submission(
        rnd, title="Petition late", body="petition", published_at=BASE + timedelta(hours=5)
    )
    seen = [h["id"] for h in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        r = client.get("/api/v1/search", params={"q": "petition", "limit": 2, "cursor": cursor})
        assert r.status_code == 200, r.text
        if r.json()["next_cursor"]:
            assert 'rel="next"' in r.headers["Link"]
        seen += [h["id"] for h in r.json()["items"]]
        cursor = r.json()["next_cursor"]
    assert seen == newest_first
    # a new search sees it
    assert len(found(client, "petition", limit=10)) == 6


def test_reindex_rebuilds_the_same_index(client, engine, record):
    before = {q: found(client, q) for q in ("高智晟", "律", "detained", "labour")}
    with open_session(engine, write=True) as session:
        count = rebuild(session.connection())
        session.commit()
    assert count == 6
    assert {q: found(client, q) for q in before} == before


def test_the_record_q_uses_the_index(client, record):
    rnd = record["rounds"][1]
    r = client.get(f"/api/v1/rounds/{rnd.id}/record", params={"q": "高智晟"})
    assert [item["id"] for item in r.json()["items"]] == [str(record["gao_trad"].id)]
    r = client.get(f"/api/v1/rounds/{rnd.id}/record", params={"q": "detained"})
    assert [item["id"] for item in r.json()["items"]] == [str(record["detainees"].id)]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": ""}, 422),
        ({"q": " ,.!? "}, 422),
        ({"q": "x" * 201}, 422),
        ({"q": " ".join(f"w{n}" for n in range(17))}, 422),
        ({"q": "lawyer", "limit": 101}, 422),
        ({"q": "lawyer", "limit": 0}, 422),
        ({"q": "lawyer", "type": "author"}, 422),
        ({"q": "lawyer", "round_id": "nope"}, 422),
        ({"q": "lawyer", "cursor": "not-a-cursor"}, 400),
        ({"q": "lawyer", "cursor": "WzEsNSwyXQ"}, 400),
    ],
)
def test_bad_input_is_a_problem(client, params, status):
    r = client.get("/api/v1/search", params=params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_the_search_is_documented(client):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/search"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert names >= {
        "q",
        "dialogue",
        "round_id",
        "type",
        "theme",
        "delegation",
        "language",
        "limit",
        "cursor",
    }
    assert "example" in operation["responses"]["200"]["content"]["application/json"]
    assert {"400", "422"} <= set(operation["responses"])


def test_unpublished_states_are_not_found(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    for status in (Status.pending, Status.rejected, Status.withdrawn, Status.removed):
        make.submission(rnd, status=status, title=f"Hidden {status.value}", body="zzhidden")
    assert found(client, "zzhidden") == []


def test_the_page_is_written_as_the_model_writes_it(client, make, engine, record):
    """The route writes plain dicts (`search_page`); the service function others call
    (`search`) gives models: both the same hits, as `SearchHit` would write them, for
    every kind of text and for a page cut by a cursor."""
    from api.search.query import SearchFilters, SearchHit
    from api.search.query import search as service

    case_id, _activist, _moderator = _case(client, make, consent=True)
    _answer(client, make, record["gao_2008"], "高智晟的案件正在审理。")
    for q in ("高智晟", "王全璋", "labour"):
        page = search(client, q, limit=1)
        rest = search(client, q, cursor=page["next_cursor"]) if page["next_cursor"] else None
        assert page["items"]
        with open_session(engine) as session:
            hits, cursor = service(session, q=q, filters=SearchFilters(), limit=1, cursor=None)
        assert [hit.model_dump(mode="json") for hit in hits] == page["items"]
        assert cursor == page["next_cursor"]
        for item in page["items"] + (rest["items"] if rest else []):
            assert SearchHit.model_validate(item).model_dump(mode="json") == item
    assert search(client, "王全璋")["items"][0]["id"] == case_id
