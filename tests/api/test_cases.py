"""Cases: recorded by activists, published by moderators, named only with consent, their
restricted details shown only to those who may see them, a dated status timeline, and the
rounds that raised them.

Every secret is a distinctive string, shown to exist where it may be seen, so that the
checks that it is absent elsewhere can fail.
"""

import json
import uuid
from typing import Any

import pytest
from sqlmodel import select

from models.audit import AuditEntry
from models.case import NAME_WITHHELD, Case
from models.dialogue import Dialogue
from models.round import Phase, Round
from models.submission import Status
from models.user import Role, User
from tests.client import assert_problem
from tests.factories import window

API = "/api/v1"
REAL_NAME = "Chen Guangcheng"
NATIVE_NAME = "陈光诚"
RESTRICTED = "RestrictedDetail-qzxw: his brother on +86 139 0000 4417, source in Linyi"


def case_body(**changes: Any) -> dict[str, Any]:
    return {
        "name": REAL_NAME,
        "name_native": NATIVE_NAME,
        "name_consent": True,
        "status": "detained",
        "status_date": "2012-04-22",
        "location": "Dongshigu, Shandong",
        "summary": "A self-taught legal advocate held under house arrest.",
        "restricted_details": RESTRICTED,
    } | changes


def create_case(client, make, activist: User, **changes: Any) -> dict[str, Any]:
    r = client.post(f"{API}/cases", json=case_body(**changes), headers=make.headers(activist))
    assert r.status_code == 201, r.text
    return r.json()


def publish_case(client, make, moderator: User, case_id: str) -> dict[str, Any]:
    r = client.post(
        f"{API}/cases/{case_id}/moderation",
        json={"decision": "published"},
        headers=make.headers(moderator),
    )
    assert r.status_code == 200, r.text
    return r.json()


def published_case(client, make, activist: User, moderator: User, **changes: Any) -> str:
    case_id = create_case(client, make, activist, **changes)["id"]
    publish_case(client, make, moderator, case_id)
    return case_id


def add_entry(client, make, moderator: User, case_id: str, status: str, on: str, **extra: Any):
    body = {"status": status, "event_date": on, "note": f"{status} on {on}."} | extra
    r = client.post(f"{API}/cases/{case_id}/timeline", json=body, headers=make.headers(moderator))
    assert r.status_code == 201, r.text
    return r.json()


def set_phase(db, rnd: Round, phase: Phase) -> None:
    """Move a round's instants so it is in `phase` now (as an admin's extension would)."""
    for name, at in window(phase).items():
        setattr(rnd, name, at)
    db.add(rnd)
    db.commit()


def submit_case(client, make, rnd: Round, author: User, case_id: str, **changes: Any) -> str:
    body = {
        "kind": "case",
        "title": "Where is the lawyer held?",
        "body": "He was taken from his home; his family has had no word.",
        "language": "en",
        "themes": ["human-rights-defenders"],
        "addressed_to": ["CN"],
        "case_id": case_id,
    } | changes
    r = client.post(f"{API}/rounds/{rnd.id}/submissions", json=body, headers=make.headers(author))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def link_case(db, submission, case_id: str) -> None:
    """Make a factory submission a `case` submission about `case_id`."""
    submission.kind = "case"
    submission.case_id = uuid.UUID(case_id)
    db.add(submission)
    db.commit()


def slug_of(make, rnd: Round) -> str:
    slug = make.session.get_one(Dialogue, rnd.dialogue_id).slug
    make.session.commit()  # the arranging session lets go of SQLite's write lock
    return slug


def listed(client, **params: Any) -> list[dict[str, Any]]:
    r = client.get(f"{API}/cases", params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def names(items: list[dict[str, Any]]) -> list[str]:
    return [item["name"] for item in items]


@pytest.fixture
def people(make):
    """The activist who records the case, another activist, and a moderator."""
    return make.user(Role.activist), make.user(Role.activist), make.user(Role.moderator)


# --- recording and publishing ----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 401), (Role.official, 403), (Role.moderator, 403), (Role.admin, 403)],
    ids=["anonymous", "official", "moderator", "admin"],
)
def test_only_activists_record_cases(client, make, role, status):
    headers = {}
    if role is not None:
        rnd = make.round()
        user = make.official(rnd) if role == Role.official else make.user(role)
        headers = make.headers(user)
    assert_problem(client.post(f"{API}/cases", json=case_body(), headers=headers), status)
    assert listed(client) == []


def test_an_activist_records_a_case_that_waits_for_a_moderator(client, make, db, people):
    activist, other, moderator = people
    created = create_case(client, make, activist)
    assert created["review"] == "pending"
    assert created["real_name"] == REAL_NAME and created["real_name_native"] == NATIVE_NAME
    assert created["restricted_details"] == RESTRICTED
    assert created["status"] == "detained" and created["status_since"] == "2012-04-22"
    assert created["rounds_raised"] == 0 and created["raised_in"] == []
    case_id = created["id"]

    # invisible to the public and to other activists while pending
    assert_problem(client.get(f"{API}/cases/{case_id}"), 404)
    assert_problem(client.get(f"{API}/cases/{case_id}", headers=make.headers(other)), 404)
    assert listed(client) == []
    assert listed(client, q="chen") == []
    # its recorder and moderators see it
    mine = client.get(f"{API}/cases/{case_id}", headers=make.headers(activist))
    assert mine.status_code == 200 and mine.json()["review"] == "pending"
    queue = client.get(f"{API}/cases/{case_id}", headers=make.headers(moderator))
    assert queue.status_code == 200 and queue.json()["restricted_details"] == RESTRICTED

    # an activist cannot publish, not even their own
    refused = client.post(
        f"{API}/cases/{case_id}/moderation",
        json={"decision": "published"},
        headers=make.headers(activist),
    )
    assert_problem(refused, 403)
    assert_problem(client.get(f"{API}/cases/{case_id}"), 404)

    decided = publish_case(client, make, moderator, case_id)
    assert decided["review"] == "published"
    public = client.get(f"{API}/cases/{case_id}")
    assert public.status_code == 200, public.text
    assert public.json()["name"] == REAL_NAME
    assert [c["id"] for c in listed(client)] == [case_id]

    audit = db.exec(select(AuditEntry).where(AuditEntry.target_id == uuid.UUID(case_id))).all()
    db.commit()
    assert [(a.action, a.actor_id, a.target_type) for a in audit] == [
        ("case.published", moderator.id, "case")
    ]

    again = client.post(
        f"{API}/cases/{case_id}/moderation",
        json={"decision": "rejected", "reason": "Second thoughts."},
        headers=make.headers(moderator),
    )
    assert_problem(again, 409)


def test_a_rejected_case_stays_hidden_and_pending_is_no_decision(client, make, people):
    activist, _, moderator = people
    case_id = create_case(client, make, activist)["id"]
    pending = client.post(
        f"{API}/cases/{case_id}/moderation",
        json={"decision": "pending"},
        headers=make.headers(moderator),
    )
    assert_problem(pending, 422)
    r = client.post(
        f"{API}/cases/{case_id}/moderation",
        json={"decision": "rejected", "reason": "Could not verify."},
        headers=make.headers(moderator),
    )
    assert r.status_code == 200 and r.json()["review"] == "rejected"
    assert_problem(client.get(f"{API}/cases/{case_id}"), 404)
    assert listed(client) == []
    mine = client.get(f"{API}/cases/{case_id}", headers=make.headers(activist)).json()
    assert (mine["review"], mine["review_reason"]) == ("rejected", "Could not verify.")


def test_moderating_an_unknown_case_is_404(client, make):
    r = client.post(
        f"{API}/cases/{uuid.uuid4()}/moderation",
        json={"decision": "published"},
        headers=make.headers(make.user(Role.moderator)),
    )
    assert_problem(r, 404)


# --- listing: search, filters, pages -----------------------------------------------------


def test_search_by_name_in_latin_and_chinese_script(client, make, people):
    activist, _, moderator = people
    chen = published_case(client, make, activist, moderator)
    gao = published_case(
        client, make, activist, moderator, name="Gao Zhisheng", name_native="高智晟"
    )
    published_case(client, make, activist, moderator, name="Ilham Tohti", name_native=None)

    assert [c["id"] for c in listed(client, q="chen guang")] == [chen]
    assert [c["id"] for c in listed(client, q="CHEN GUANG")] == [chen]
    assert [c["id"] for c in listed(client, q="光诚")] == [chen]
    assert [c["id"] for c in listed(client, q="高智")] == [gao]
    assert [c["id"] for c in listed(client, q="zhisheng")] == [gao]
    assert {c["id"] for c in listed(client, q="h")} >= {chen, gao}
    assert listed(client, q="刘晓波") == []
    assert listed(client, q="100%") == []  # a LIKE wildcard is only a character
    assert len(listed(client)) == 3


def test_without_consent_the_name_is_withheld_and_not_searchable(client, make, people):
    activist, _, moderator = people
    case_id = published_case(client, make, activist, moderator, name_consent=False)
    [item] = listed(client)
    assert item["id"] == case_id
    assert (item["name"], item["name_native"]) == (NAME_WITHHELD, None)
    assert listed(client, q="chen guang") == []
    assert listed(client, q="光诚") == []
    assert listed(client, q=REAL_NAME) == []
    detail = client.get(f"{API}/cases/{case_id}")
    assert detail.json()["name"] == NAME_WITHHELD
    assert REAL_NAME not in detail.text and NATIVE_NAME not in detail.text
    # its recorder still sees the real name and that consent is missing
    mine = client.get(f"{API}/cases/{case_id}", headers=make.headers(activist)).json()
    assert (mine["real_name"], mine["name_consent"]) == (REAL_NAME, False)


def test_filter_by_current_status(client, make, people):
    activist, _, moderator = people
    held = published_case(client, make, activist, moderator, name="Held Person")
    freed = published_case(client, make, activist, moderator, name="Freed Person")
    add_entry(client, make, moderator, freed, "released", "2013-01-10")
    gone = published_case(client, make, activist, moderator, name="Gone Person")
    add_entry(client, make, moderator, gone, "disappeared", "2013-02-01")
    # an entry recorded later but dated earlier does not change the current status
    add_entry(client, make, moderator, gone, "released", "2012-12-01")
    create_case(client, make, activist, name="Pending Person")  # detained, unpublished

    assert [c["id"] for c in listed(client, status="detained")] == [held]
    assert [c["id"] for c in listed(client, status="released")] == [freed]
    assert [c["id"] for c in listed(client, status="disappeared")] == [gone]
    assert listed(client, status="exiled") == []
    assert_problem(client.get(f"{API}/cases", params={"status": "free"}), 422)


def test_filter_by_theme_of_the_published_submissions_that_raised_it(client, make, db, people):
    activist, _, moderator = people
    rnd = make.round(phase=Phase.concluded)
    tibet = published_case(client, make, activist, moderator, name="Tibet Case")
    law = published_case(client, make, activist, moderator, name="Law Case")
    hidden = published_case(client, make, activist, moderator, name="Hidden Case")
    published_case(client, make, activist, moderator, name="Unraised Case")
    link_case(db, make.submission(rnd, themes=("tibet", "freedom-of-religion")), tibet)
    link_case(db, make.submission(rnd, themes=("rule-of-law",)), law)
    # only published submissions give a case its themes
    link_case(db, make.submission(rnd, themes=("torture",), status=Status.withdrawn), hidden)
    link_case(db, make.submission(rnd, themes=("torture",), status=Status.pending), hidden)

    assert [c["id"] for c in listed(client, theme="tibet")] == [tibet]
    assert [c["id"] for c in listed(client, theme="freedom-of-religion")] == [tibet]
    assert [c["id"] for c in listed(client, theme="rule-of-law")] == [law]
    assert listed(client, theme="torture") == []
    assert listed(client, theme="tibet", status="released") == []
    assert [c["id"] for c in listed(client, theme="tibet", status="detained")] == [tibet]


def test_cursor_pages(client, make, people):
    activist, _, moderator = people
    ids = [published_case(client, make, activist, moderator, name=f"Person {n}") for n in range(5)]
    seen: list[str] = []
    pages = 0
    params: dict[str, Any] = {"limit": 2}
    while True:
        r = client.get(f"{API}/cases", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        pages += 1
        assert len(body["items"]) <= 2
        seen += [c["id"] for c in body["items"]]
        if body["next_cursor"] is None:
            assert "link" not in r.headers
            break
        assert 'rel="next"' in r.headers["link"]
        params = {"limit": 2, "cursor": body["next_cursor"]}
    assert pages == 3
    assert seen == ids  # in publication order, none twice, none missed
    assert_problem(client.get(f"{API}/cases", params={"cursor": "not-a-cursor"}), 400)
    assert_problem(client.get(f"{API}/cases", params={"limit": 101}), 422)


# --- consent --------------------------------------------------------------------------


def public_outputs(client, case_id: str, round_ids: list[str], submission_ids: list[str]):
    """Every public output a case's name could reach, by label."""
    urls = {
        "list": f"{API}/cases",
        "list q": f"{API}/cases?q=chen",
        "detail": f"{API}/cases/{case_id}",
        "feed": f"{API}/feed",
        "atom": f"{API}/feed.atom",
        "ndjson": f"{API}/export.ndjson",
        "csv": f"{API}/export.csv",
    }
    for n, rid in enumerate(round_ids):
        urls[f"record {n}"] = f"{API}/rounds/{rid}/record"
        urls[f"scorecard {n}"] = f"{API}/rounds/{rid}/scorecard"
        urls[f"benchmarks {n}"] = f"{API}/rounds/{rid}/benchmarks"
    for n, sid in enumerate(submission_ids):
        urls[f"submission {n}"] = f"{API}/submissions/{sid}"
    out = {}
    for label, url in urls.items():
        r = client.get(url)
        assert r.status_code == 200, f"{url}: {r.text}"
        out[label] = r.text
    return out


def forms(secret: str) -> set[str]:
    """The spellings a string may take in JSON, XML or CSV output."""
    return {secret, json.dumps(secret)[1:-1], secret.casefold()}


def containing(outputs: dict[str, str], secret: str) -> set[str]:
    return {
        label
        for label, text in outputs.items()
        if any(form in text or form in text.casefold() for form in forms(secret))
    }


def test_withdrawing_consent_removes_the_name_from_every_public_output_at_once(
    client, make, db, people, driver
):
    activist, other, moderator = people
    rnd = make.round(phase=Phase.accepting_submissions)
    case_id = published_case(client, make, activist, moderator)
    sid = submit_case(client, make, rnd, activist, case_id)
    driver.publish(moderator, sid)
    set_phase(db, rnd, Phase.accepting_responses)
    official = make.official(rnd, "CN")
    answer = client.post(
        f"{API}/submissions/{sid}/responses",
        json={"kind": "answer", "body": "He is free to travel.", "language": "en"},
        headers=make.headers(official),
    )
    assert answer.status_code == 201, answer.text
    add_entry(client, make, moderator, case_id, "under_surveillance", "2012-05-01")

    before = public_outputs(client, case_id, [str(rnd.id)], [sid])
    # Atom: every entry carries its content (RFC 4287), the consented name with it
    where_named = {"list", "list q", "detail", "feed", "atom", "ndjson", "csv"}
    assert containing(before, REAL_NAME) == where_named
    assert containing(before, NATIVE_NAME) == where_named

    # only its recorder (or a moderator) can change consent; the case is public, so
    # refusing hides nothing: 403
    body = {"name_consent": False}
    assert_problem(client.put(f"{API}/cases/{case_id}/consent", json=body), 401)
    refused = client.put(f"{API}/cases/{case_id}/consent", json=body, headers=make.headers(other))
    assert_problem(refused, 403)
    assert containing(public_outputs(client, case_id, [str(rnd.id)], [sid]), REAL_NAME)

    r = client.put(f"{API}/cases/{case_id}/consent", json=body, headers=make.headers(activist))
    assert r.status_code == 200, r.text
    assert (r.json()["name_consent"], r.json()["name"]) == (False, NAME_WITHHELD)

    after = public_outputs(client, case_id, [str(rnd.id)], [sid])
    assert containing(after, REAL_NAME) == set()
    assert containing(after, NATIVE_NAME) == set()
    assert listed(client, q="chen guang") == [] and listed(client, q="光诚") == []
    assert client.get(f"{API}/cases/{case_id}").json()["name"] == NAME_WITHHELD
    # the case itself, its summary and its history stay public
    detail = client.get(f"{API}/cases/{case_id}").json()
    assert detail["status"] == "under_surveillance" and detail["rounds_raised"] == 1
    feed = client.get(f"{API}/feed").json()["items"]
    assert feed[-1]["type"] == "case.consent_withdrawn"
    assert feed[-1]["content"]["name"] == NAME_WITHHELD
    # its recorder still knows who it is
    mine = client.get(f"{API}/cases/{case_id}", headers=make.headers(activist)).json()
    assert mine["real_name"] == REAL_NAME

    # consent given again: the name comes back
    again = client.put(
        f"{API}/cases/{case_id}/consent",
        json={"name_consent": True},
        headers=make.headers(activist),
    )
    assert again.status_code == 200
    assert [c["id"] for c in listed(client, q="chen guang")] == [case_id]


def test_a_moderator_may_withdraw_consent_and_it_is_audited(client, make, db, people):
    activist, _, moderator = people
    case_id = published_case(client, make, activist, moderator)
    r = client.put(
        f"{API}/cases/{case_id}/consent",
        json={"name_consent": False},
        headers=make.headers(moderator),
    )
    assert r.status_code == 200, r.text
    assert listed(client)[0]["name"] == NAME_WITHHELD
    actions = db.exec(
        select(AuditEntry.action).where(AuditEntry.target_id == uuid.UUID(case_id))
    ).all()
    db.commit()
    assert sorted(actions) == ["case.consent", "case.published"]


def test_a_pending_case_stays_hidden_from_who_may_not_change_its_consent(client, make, people):
    activist, other, _moderator = people
    case_id = create_case(client, make, activist)["id"]
    for user in (other, make.official(make.round(), "CN")):
        r = client.put(
            f"{API}/cases/{case_id}/consent",
            json={"name_consent": False},
            headers=make.headers(user),
        )
        assert_problem(r, 404)


# --- restricted details ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [
        ("creator", True),
        ("moderator", True),
        ("official", False),
        ("shared official", True),
        ("admin", True),
        ("other activist", False),
        ("anonymous", False),
    ],
)
def test_restricted_details_are_seen_only_by_those_who_may(client, make, people, viewer, sees):
    activist, other, moderator = people
    rnd = make.round()
    case_id = published_case(client, make, activist, moderator, name_consent=False)
    users = {
        "creator": activist,
        "moderator": moderator,
        "official": make.official(rnd, "CN"),
        "shared official": make.official(rnd, "US"),
        "admin": make.user(Role.admin),
        "other activist": other,
    }
    shared = client.put(
        f"{API}/cases/{case_id}/sharing",
        json={"delegations": [f"{slug_of(make, rnd)}/US"]},
        headers=make.headers(activist),
    )
    assert shared.status_code == 200, shared.text
    headers = make.headers(users[viewer]) if viewer in users else {}
    r = client.get(f"{API}/cases/{case_id}", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    if sees:
        assert body["restricted_details"] == RESTRICTED
        assert body["real_name"] == REAL_NAME
        assert r.headers["cache-control"] == "no-store"
    else:
        for key in ("restricted_details", "real_name", "real_name_native", "review"):
            assert key not in body
        assert RESTRICTED not in r.text and "qzxw" not in r.text
        assert REAL_NAME not in r.text
    assert body["name"] == NAME_WITHHELD


def test_restricted_details_never_reach_a_public_output(client, make, db, people):
    activist, _, moderator = people
    rnd = make.round(phase=Phase.concluded)
    case_id = published_case(client, make, activist, moderator)
    submission = make.submission(rnd, author=activist)
    link_case(db, submission, case_id)
    make.response(submission, code="CN")
    add_entry(client, make, moderator, case_id, "released", "2013-01-01")
    client.put(
        f"{API}/cases/{case_id}/consent",
        json={"name_consent": False},
        headers=make.headers(activist),
    )
    outputs = public_outputs(client, case_id, [str(rnd.id)], [str(submission.id)])
    assert containing(outputs, RESTRICTED) == set()
    assert containing(outputs, "qzxw") == set()
    # ... and the string exists, where it may be seen
    mine = client.get(f"{API}/cases/{case_id}", headers=make.headers(activist))
    assert mine.json()["restricted_details"] == RESTRICTED
    stored = db.get_one(Case, uuid.UUID(case_id)).restricted_details
    db.commit()
    assert stored == RESTRICTED


def test_officials_see_a_pending_case_only_once_it_is_published(client, make, people):
    """Restricted details go to officials (of a delegation it is shared with) for the
    published record's cases; a case still under review (or rejected) stays between its
    recorder and the moderators."""
    activist, _, moderator = people
    rnd = make.round()
    official = make.official(rnd, "CN")
    case_id = create_case(client, make, activist)["id"]
    shared = client.put(
        f"{API}/cases/{case_id}/sharing",
        json={"delegations": [f"{slug_of(make, rnd)}/CN"]},
        headers=make.headers(activist),
    )
    assert shared.status_code == 200, shared.text
    assert_problem(client.get(f"{API}/cases/{case_id}", headers=make.headers(official)), 404)
    publish_case(client, make, moderator, case_id)
    seen = client.get(f"{API}/cases/{case_id}", headers=make.headers(official))
    assert seen.json()["restricted_details"] == RESTRICTED


# --- the timeline ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (None, 401),
        (Role.activist, 403),
        ("creator", 403),
        (Role.official, 403),
        (Role.moderator, 201),
        (Role.admin, 201),
    ],
    ids=["anonymous", "activist", "creator", "official", "moderator", "admin"],
)
def test_who_adds_timeline_entries(client, make, people, role, status):
    activist, _, moderator = people
    case_id = published_case(client, make, activist, moderator)
    if role is None:
        headers = {}
    elif role == "creator":
        headers = make.headers(activist)
    elif role == Role.official:
        headers = make.headers(make.official(make.round(), "CN"))
    else:
        headers = make.headers(make.user(role))
    body = {"status": "released", "event_date": "2012-05-19", "note": "Left for New York."}
    r = client.post(f"{API}/cases/{case_id}/timeline", json=body, headers=headers)
    assert r.status_code == status, r.text
    current = client.get(f"{API}/cases/{case_id}").json()
    assert current["status"] == ("released" if status == 201 else "detained")
    assert len(current["timeline"]) == (2 if status == 201 else 1)


def test_timeline_entries_in_date_order_and_the_latest_sets_the_status(client, make, people):
    activist, _, moderator = people
    case_id = published_case(client, make, activist, moderator)
    exiled = add_entry(
        client,
        make,
        moderator,
        case_id,
        "exiled",
        "2012-05-19",
        source_url="https://example.org/news/2012/05/19",
    )
    assert exiled == {
        "status": "exiled",
        "event_date": "2012-05-19",
        "note": "exiled on 2012-05-19.",
        "source_url": "https://example.org/news/2012/05/19",
    }
    # posted later, dated earlier: listed in its place, and the status stays `exiled`
    add_entry(client, make, moderator, case_id, "under_surveillance", "2012-04-30")
    add_entry(client, make, moderator, case_id, "disappeared", "2011-02-18")

    detail = client.get(f"{API}/cases/{case_id}").json()
    assert [(e["event_date"], e["status"]) for e in detail["timeline"]] == [
        ("2011-02-18", "disappeared"),
        ("2012-04-22", "detained"),
        ("2012-04-30", "under_surveillance"),
        ("2012-05-19", "exiled"),
    ]
    assert (detail["status"], detail["status_since"]) == ("exiled", "2012-05-19")
    assert listed(client)[0]["status"] == "exiled"

    add_entry(client, make, moderator, case_id, "detained", "2014-03-01")
    detail = client.get(f"{API}/cases/{case_id}").json()
    assert (detail["status"], detail["status_since"]) == ("detained", "2014-03-01")
    assert [c["id"] for c in listed(client, status="detained")] == [case_id]
    timeline_events = [
        e for e in client.get(f"{API}/feed").json()["items"] if e["type"] == "case.timeline"
    ]
    assert [e["content"]["status"] for e in timeline_events] == [
        "exiled",
        "under_surveillance",
        "disappeared",
        "detained",
    ]


def test_timeline_input_is_validated(client, make, people):
    activist, _, moderator = people
    case_id = published_case(client, make, activist, moderator)
    headers = make.headers(moderator)
    url = f"{API}/cases/{case_id}/timeline"
    good = {"status": "released", "event_date": "2012-05-19", "note": "Left."}
    for bad in (
        good | {"status": "free"},
        good | {"event_date": "19 May 2012"},
        {k: v for k, v in good.items() if k != "note"},
        good | {"source_url": "not a url"},
        good | {"created_by_id": str(moderator.id)},
    ):
        assert_problem(client.post(url, json=bad, headers=headers), 422)
    assert_problem(
        client.post(f"{API}/cases/{uuid.uuid4()}/timeline", json=good, headers=headers), 404
    )
    assert len(client.get(f"{API}/cases/{case_id}").json()["timeline"]) == 1


# --- case submissions across rounds -------------------------------------------------------


def test_case_submissions_must_point_at_a_case_they_may_use(client, make, people):
    activist, other, moderator = people
    rnd = make.round(phase=Phase.accepting_submissions)
    case_id = published_case(client, make, activist, moderator)
    url = f"{API}/rounds/{rnd.id}/submissions"
    base = {
        "title": "Where is the lawyer held?",
        "body": "His family has had no word.",
        "language": "en",
        "addressed_to": ["CN"],
    }
    headers = make.headers(other)
    concern = client.post(url, json=base | {"kind": "concern", "case_id": case_id}, headers=headers)
    assert_problem(concern, 422)
    unknown = client.post(
        url, json=base | {"kind": "case", "case_id": str(uuid.uuid4())}, headers=headers
    )
    assert_problem(unknown, 422)
    # someone else's case still under review is as good as unknown
    pending = create_case(client, make, activist, name="Pending Person")["id"]
    assert_problem(
        client.post(url, json=base | {"kind": "case", "case_id": pending}, headers=headers), 422
    )
    ok = client.post(url, json=base | {"kind": "case", "case_id": case_id}, headers=headers)
    assert ok.status_code == 201, ok.text
    assert ok.json()["case_id"] == case_id


def test_raising_a_case_in_a_later_round_links_the_rounds(client, make, db, people, driver):
    activist, other, moderator = people
    first = make.round(phase=Phase.accepting_submissions)
    case_id = published_case(client, make, activist, moderator)

    s1 = submit_case(client, make, first, activist, case_id, title="Release him (2012)")
    driver.publish(moderator, s1)
    set_phase(db, first, Phase.concluded)
    official = make.official(first, "CN")
    reply = client.post(
        f"{API}/submissions/{s1}/responses",
        json={
            "kind": "declined",
            "body": "A matter for the courts.",
            "language": "en",
            "reason_code": "ongoing_judicial_proceedings",
        },
        headers=make.headers(official),
    )
    assert reply.status_code == 201, reply.text

    second = make.round(first_dialogue(db, first), phase=Phase.accepting_submissions)
    s2 = submit_case(client, make, second, other, case_id, title="Still held (2013)")
    driver.publish(moderator, s2)
    s3 = submit_case(client, make, second, activist, case_id, title="Not yet published")
    set_phase(db, second, Phase.accepting_responses)
    answer = client.post(
        f"{API}/submissions/{s2}/responses",
        json={"kind": "answer", "body": "He is in good health.", "language": "en"},
        headers=make.headers(official),
    )
    assert answer.status_code == 201, answer.text

    detail = client.get(f"{API}/cases/{case_id}").json()
    assert detail["rounds_raised"] == 2
    assert detail["raised_in"] == [
        {
            "round_id": str(first.id),
            "round_number": 1,
            "round_title": "Round 1",
            "submission_ids": [s1],
        },
        {
            "round_id": str(second.id),
            "round_number": 2,
            "round_title": "Round 2",
            "submission_ids": [s2],
        },
    ]
    subs = {s["id"]: s for s in detail["submissions"]}
    assert list(subs) == [s1, s2] and s3 not in subs
    assert [(r["delegation"], r["kind"], r["reason_code"]) for r in subs[s1]["responses"]] == [
        ("CN", "declined", "ongoing_judicial_proceedings")
    ]
    assert [(r["kind"], r["body"]) for r in subs[s2]["responses"]] == [
        ("answer", "He is in good health.")
    ]
    assert all(s["case_id"] == case_id for s in subs.values())
    assert listed(client)[0]["rounds_raised"] == 2

    # a withdrawn submission no longer raises the case
    withdrawn = client.post(f"{API}/submissions/{s2}/withdraw", headers=make.headers(other))
    assert withdrawn.status_code == 200, withdrawn.text
    detail = client.get(f"{API}/cases/{case_id}").json()
    assert detail["rounds_raised"] == 1
    assert [r["round_number"] for r in detail["raised_in"]] == [1]


def first_dialogue(db, rnd: Round):
    from models.dialogue import Dialogue

    dialogue = db.get_one(Dialogue, rnd.dialogue_id)
    db.commit()
    return dialogue
