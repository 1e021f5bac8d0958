"""Benchmarks (adopted by moderators before a session), commitments (recorded from the
session on), and the dated assessments of both, from civil society and the delegation."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models.dialogue import Dialogue
from models.round import Phase, Round
from models.submission import Status
from models.user import Role, User
from tests.client import assert_problem

API = "/api/v1"
BEFORE_SESSION = [Phase.upcoming, Phase.accepting_submissions, Phase.awaiting_session]
FROM_SESSION = [Phase.in_session, Phase.accepting_responses, Phase.concluded]


def today() -> datetime:
    return datetime.now(UTC)


def day(offset: int) -> str:
    return (today().date() + timedelta(days=offset)).isoformat()


def published_case(client, make, name: str = "Gao Zhisheng") -> str:
    activist, moderator = make.user(Role.activist), make.user(Role.moderator)
    body = {
        "name": name,
        "name_consent": True,
        "status": "disappeared",
        "status_date": "2010-04-01",
        "summary": "A human-rights lawyer.",
    }
    r = client.post(f"{API}/cases", json=body, headers=make.headers(activist))
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    r = client.post(
        f"{API}/cases/{case_id}/moderation",
        json={"decision": "published"},
        headers=make.headers(moderator),
    )
    assert r.status_code == 200, r.text
    return case_id


def pending_case(client, make) -> str:
    body = {"name": "Under Review", "status_date": "2012-01-01", "summary": "Not yet checked."}
    r = client.post(f"{API}/cases", json=body, headers=make.headers(make.user(Role.activist)))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def benchmark_body(**changes: Any) -> dict[str, Any]:
    return {
        "delegation": "CN",
        "title": "Release the named lawyer",
        "description": "Free Gao Zhisheng and let him see his family.",
    } | changes


def post_benchmark(client, rnd: Round, user: User | None, make, **changes: Any):
    headers = make.headers(user) if user is not None else {}
    return client.post(
        f"{API}/rounds/{rnd.id}/benchmarks", json=benchmark_body(**changes), headers=headers
    )


def commitment_body(**changes: Any) -> dict[str, Any]:
    return {"text": "Will reply in writing on each case raised."} | changes


def post_commitment(client, rnd: Round, user: User | None, make, **changes: Any):
    headers = make.headers(user) if user is not None else {}
    return client.post(
        f"{API}/rounds/{rnd.id}/commitments", json=commitment_body(**changes), headers=headers
    )


def assess(client, make, kind: str, target_id: str, user: User | None, **body: Any):
    headers = make.headers(user) if user is not None else {}
    payload = {"status": "in_progress", "note": "Some steps taken."} | body
    return client.post(f"{API}/{kind}/{target_id}/assessments", json=payload, headers=headers)


def listing(client, rnd: Round, kind: str) -> dict[str, dict[str, Any]]:
    r = client.get(f"{API}/rounds/{rnd.id}/{kind}")
    assert r.status_code == 200, r.text
    return {item["id"]: item for item in r.json()["items"]}


def dialogue_of(db, rnd: Round) -> Dialogue:
    dialogue = db.get_one(Dialogue, rnd.dialogue_id)
    db.commit()
    return dialogue


# --- benchmarks ------------------------------------------------------------------------


@pytest.mark.parametrize("phase", BEFORE_SESSION, ids=lambda p: p.value)
def test_moderators_adopt_benchmarks_before_the_session(client, make, phase):
    rnd = make.round(phase=phase)
    case_id = published_case(client, make)
    moderator = make.user(Role.moderator)
    r = post_benchmark(
        client,
        rnd,
        moderator,
        make,
        cases=[case_id, case_id],
        themes=["rule-of-law", "human-rights-defenders", "rule-of-law"],
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["round_id"] == str(rnd.id) and body["delegation"] == "CN"
    assert body["title"] == "Release the named lawyer"
    assert body["cases"] == [case_id]
    assert body["themes"] == ["human-rights-defenders", "rule-of-law"]
    assert body["progress"] == {
        "state": "not_started",
        "civil_society": None,
        "delegation_view": None,
        "contested": False,
        "history": [],
    }
    assert listing(client, rnd, "benchmarks") == {body["id"]: body}


@pytest.mark.parametrize("phase", FROM_SESSION, ids=lambda p: p.value)
def test_no_benchmark_once_the_session_has_begun(client, make, phase):
    rnd = make.round(phase=phase)
    body = assert_problem(post_benchmark(client, rnd, make.user(Role.moderator), make), 409)
    assert phase.value in body["type"]
    assert listing(client, rnd, "benchmarks") == {}


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (None, 401),
        (Role.activist, 403),
        (Role.official, 403),
        (Role.moderator, 201),
        (Role.admin, 201),
    ],
    ids=["anonymous", "activist", "official", "moderator", "admin"],
)
def test_who_adopts_benchmarks(client, make, role, status):
    rnd = make.round(phase=Phase.awaiting_session)
    if role is None:
        user = None
    elif role == Role.official:
        user = make.official(rnd, "CN")
    else:
        user = make.user(role)
    r = post_benchmark(client, rnd, user, make)
    assert r.status_code == status, r.text
    assert len(listing(client, rnd, "benchmarks")) == (1 if status == 201 else 0)


def test_a_benchmark_names_published_cases_known_themes_and_a_delegation_of_the_dialogue(
    client, make
):
    rnd = make.round(phase=Phase.accepting_submissions)
    moderator = make.user(Role.moderator)
    published = published_case(client, make)
    for changes in (
        {"cases": [pending_case(client, make)]},
        {"cases": [published, str(uuid.uuid4())]},
        {"themes": ["no-such-theme"]},
        {"delegation": "EU"},
        {"delegation": "cn"},
        {"title": ""},
        {"round_id": str(uuid.uuid4())},
    ):
        assert_problem(post_benchmark(client, rnd, moderator, make, **changes), 422)
    assert listing(client, rnd, "benchmarks") == {}
    missing = client.post(
        f"{API}/rounds/{uuid.uuid4()}/benchmarks",
        json=benchmark_body(),
        headers=make.headers(moderator),
    )
    assert_problem(missing, 404)
    assert_problem(client.get(f"{API}/rounds/{uuid.uuid4()}/benchmarks"), 404)


def test_benchmarks_are_listed_by_round_in_cursor_pages(client, make, db):
    rnd = make.round(phase=Phase.upcoming)
    other = make.round(dialogue_of(db, rnd), phase=Phase.upcoming)
    moderator = make.user(Role.moderator)
    ids = []
    for n in range(3):
        r = post_benchmark(client, rnd, moderator, make, title=f"Benchmark {n}")
        assert r.status_code == 201
        ids.append(r.json()["id"])
    post_benchmark(client, other, moderator, make, title="Elsewhere")
    first = client.get(f"{API}/rounds/{rnd.id}/benchmarks", params={"limit": 2}).json()
    second = client.get(
        f"{API}/rounds/{rnd.id}/benchmarks", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [b["id"] for b in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None


# --- commitments -------------------------------------------------------------------------


@pytest.mark.parametrize("phase", FROM_SESSION, ids=lambda p: p.value)
def test_an_official_records_a_commitment_for_their_own_delegation(client, make, phase):
    rnd = make.round(phase=phase)
    official = make.official(rnd, "CN")
    r = post_commitment(client, rnd, official, make, due_on="2030-01-01")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["delegation"] == "CN" and body["round_id"] == str(rnd.id)
    assert (body["due_on"], body["overdue"]) == ("2030-01-01", False)
    assert body["progress"]["state"] == "not_started"
    named = post_commitment(client, rnd, official, make, delegation="CN")
    assert named.status_code == 201, named.text
    assert named.json()["delegation"] == "CN"
    assert set(listing(client, rnd, "commitments")) == {body["id"], named.json()["id"]}


@pytest.mark.parametrize("phase", BEFORE_SESSION, ids=lambda p: p.value)
def test_no_commitment_before_the_session_starts(client, make, phase):
    rnd = make.round(phase=phase)
    for user, changes in (
        (make.official(rnd, "CN"), {}),
        (make.user(Role.moderator), {"delegation": "US"}),
    ):
        body = assert_problem(post_commitment(client, rnd, user, make, **changes), 409)
        assert phase.value in body["type"]
    assert listing(client, rnd, "commitments") == {}


def test_who_records_commitments_for_which_delegation(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    cn_official = make.official(rnd, "CN")
    moderator = make.user(Role.moderator)
    elsewhere = make.round(phase=Phase.accepting_responses)  # another dialogue
    outsider = make.official(elsewhere, "CN")

    assert_problem(post_commitment(client, rnd, cn_official, make, delegation="US"), 403)
    assert_problem(post_commitment(client, rnd, outsider, make), 403)
    assert_problem(post_commitment(client, rnd, make.user(Role.activist), make), 403)
    assert_problem(post_commitment(client, rnd, None, make), 401)
    assert_problem(post_commitment(client, rnd, moderator, make), 422)  # which delegation?
    assert_problem(post_commitment(client, rnd, moderator, make, delegation="EU"), 422)
    assert listing(client, rnd, "commitments") == {}

    r = post_commitment(client, rnd, moderator, make, delegation="US")
    assert r.status_code == 201, r.text
    assert r.json()["delegation"] == "US"
    admin = post_commitment(client, rnd, make.user(Role.admin), make, delegation="CN")
    assert admin.status_code == 201, admin.text


def test_a_commitment_links_published_cases_submissions_and_benchmarks(client, make, db):
    rnd = make.round(phase=Phase.awaiting_session)
    moderator = make.user(Role.moderator)
    case_id = published_case(client, make)
    benchmark = post_benchmark(client, rnd, moderator, make, cases=[case_id]).json()["id"]
    submission = str(make.submission(rnd).id)
    hidden = str(make.submission(rnd, status=Status.withdrawn).id)
    rnd.starts_at = today() - timedelta(minutes=5)  # the session has begun
    db.add(rnd)
    db.commit()
    official = make.official(rnd, "CN")

    for changes in (
        {"cases": [pending_case(client, make)]},
        {"submissions": [hidden]},
        {"submissions": [str(uuid.uuid4())]},
        {"benchmarks": [str(uuid.uuid4())]},
        {"due_on": "next year"},
        {"source_url": "nowhere"},
        {"recorded_by_id": str(official.id)},
    ):
        assert_problem(post_commitment(client, rnd, official, make, **changes), 422)
    r = post_commitment(
        client,
        rnd,
        official,
        make,
        cases=[case_id],
        submissions=[submission, submission],
        benchmarks=[benchmark],
        source_url="https://example.org/statement",
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["cases"], body["submissions"], body["benchmarks"]) == (
        [case_id],
        [submission],
        [benchmark],
    )
    assert body["source_url"] == "https://example.org/statement"


def test_overdue_when_the_due_date_passed_and_it_is_not_met(client, make):
    rnd = make.round(phase=Phase.concluded)
    moderator = make.user(Role.moderator)
    official = make.official(rnd, "CN")

    def commitment(due_on: str | None, *assessments: tuple[User, str]) -> str:
        r = post_commitment(client, rnd, official, make, due_on=due_on)
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        for user, status in assessments:
            assert assess(client, make, "commitments", cid, user, status=status).status_code == 201
        return cid

    expected = {
        commitment(day(-1)): True,  # not started, past due
        commitment(day(-30), (moderator, "in_progress")): True,
        commitment(day(-30), (moderator, "not_met")): True,
        # the delegation's own word does not make it met
        commitment(day(-30), (moderator, "in_progress"), (official, "met")): True,
        commitment(day(-30), (moderator, "met")): False,
        commitment(day(0)): False,  # due today: not yet overdue
        commitment(day(1)): False,
        commitment(None): False,
    }
    items = listing(client, rnd, "commitments")
    assert {cid: items[cid]["overdue"] for cid in expected} == expected


# --- assessments ----------------------------------------------------------------------


@pytest.fixture
def targets(client, make, db):
    """A CN benchmark and a CN commitment of one round, and who is who."""
    rnd = make.round(phase=Phase.awaiting_session)
    moderator = make.user(Role.moderator)
    benchmark = post_benchmark(client, rnd, moderator, make).json()["id"]
    rnd.starts_at = today() - timedelta(minutes=5)
    db.add(rnd)
    db.commit()
    cn, us = make.official(rnd, "CN"), make.official(rnd, "US")
    commitment = post_commitment(client, rnd, cn, make).json()["id"]
    return {
        "round": rnd,
        "benchmarks": benchmark,
        "commitments": commitment,
        "moderator": moderator,
        "cn": cn,
        "us": us,
    }


@pytest.mark.parametrize("kind", ["benchmarks", "commitments"])
@pytest.mark.parametrize(
    ("who", "status", "side"),
    [
        ("moderator", 201, "civil_society"),
        ("admin", 201, "civil_society"),
        ("cn", 201, "delegation"),
        ("us", 403, None),
        ("activist", 403, None),
        ("anonymous", 401, None),
    ],
)
def test_who_assesses_and_for_which_side(client, make, targets, kind, who, status, side):
    users = {
        "moderator": targets["moderator"],
        "cn": targets["cn"],
        "us": targets["us"],
        "admin": make.user(Role.admin),
        "activist": make.user(Role.activist),
    }
    r = assess(
        client,
        make,
        kind,
        targets[kind],
        users.get(who),
        status="met",
        note="Released on 2013-01-05.",
        evidence_url="https://example.org/evidence",
        assessed_on="2013-01-06",
    )
    assert r.status_code == status, r.text
    history = listing(client, targets["round"], kind)[targets[kind]]["progress"]["history"]
    if status != 201:
        assert_problem(r, status)
        assert history == []
        return
    entry = {
        "side": side,
        "status": "met",
        "note": "Released on 2013-01-05.",
        "evidence_url": "https://example.org/evidence",
        "assessed_on": "2013-01-06",
    }
    assert r.json() == entry
    assert history == [entry]


@pytest.mark.parametrize("kind", ["benchmarks", "commitments"])
def test_assessing_something_unknown_or_invalid(client, make, targets, kind):
    moderator = targets["moderator"]
    assert_problem(assess(client, make, kind, str(uuid.uuid4()), moderator), 404)
    for bad in (
        {"status": "done"},
        {"note": ""},
        {"evidence_url": "not a url"},
        {"assessed_on": "yesterday"},
        {"side": "delegation"},
    ):
        assert_problem(assess(client, make, kind, targets[kind], moderator, **bad), 422)
    r = assess(client, make, kind, targets[kind], moderator)
    assert r.status_code == 201
    assert r.json()["assessed_on"] == today().date().isoformat()


@pytest.mark.parametrize("kind", ["benchmarks", "commitments"])
def test_history_both_sides_and_contested(client, make, targets, kind):
    moderator, cn = targets["moderator"], targets["cn"]
    target = targets[kind]

    def post(user: User, status: str, on: str) -> None:
        r = assess(client, make, kind, target, user, status=status, note=status, assessed_on=on)
        assert r.status_code == 201, r.text

    def progress() -> dict[str, Any]:
        return listing(client, targets["round"], kind)[target]["progress"]

    post(moderator, "in_progress", "2013-01-01")
    p = progress()
    assert (p["state"], p["contested"], p["delegation_view"]) == ("in_progress", False, None)

    post(cn, "met", "2013-02-01")  # the delegation claims more than civil society sees
    p = progress()
    assert p["state"] == "in_progress"  # civil society's view is the state
    assert p["civil_society"]["status"] == "in_progress"
    assert p["delegation_view"]["status"] == "met"
    assert p["contested"] is True

    post(moderator, "met", "2013-03-01")  # the two latest agree
    p = progress()
    assert (p["state"], p["contested"]) == ("met", False)

    post(moderator, "not_met", "2013-06-01")  # civil society changes its view
    p = progress()
    assert (p["state"], p["contested"]) == ("not_met", True)

    post(cn, "not_met", "2013-06-02")
    p = progress()
    assert (p["state"], p["contested"]) == ("not_met", False)
    # append-only: every assessment stays, oldest first
    assert [(a["assessed_on"], a["side"], a["status"]) for a in p["history"]] == [
        ("2013-01-01", "civil_society", "in_progress"),
        ("2013-02-01", "delegation", "met"),
        ("2013-03-01", "civil_society", "met"),
        ("2013-06-01", "civil_society", "not_met"),
        ("2013-06-02", "delegation", "not_met"),
    ]
    # an assessment dated earlier than the latest takes its place in the history, and
    # does not become the current view
    post(moderator, "met", "2013-04-01")
    p = progress()
    assert (p["state"], p["contested"]) == ("not_met", False)
    assert [a["assessed_on"] for a in p["history"]][3] == "2013-04-01"
    assert len(p["history"]) == 6

    feed = client.get(f"{API}/feed").json()["items"]
    assessed = [e for e in feed if e["type"] == f"{kind[:-1]}.assessed"]
    assert len(assessed) == 6
    assert all(e["object_id"] == target for e in assessed)


def test_an_official_of_another_dialogue_cannot_assess(client, make, targets):
    outsider = make.official(make.round(phase=Phase.concluded), "CN")
    for kind in ("benchmarks", "commitments"):
        assert_problem(assess(client, make, kind, targets[kind], outsider), 403)
