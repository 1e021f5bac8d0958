"""Whom a case's restricted details reach: its recorder, moderators and admins, and
officials only of the delegations its recorder shared them with; every read by anyone
but the recorder in the case's access log; naming consent the recorder's to give.

Officials of other delegations (the state that holds the person among them) must get
exactly what the public gets: compared as JSON, not by looking for a few fields.
"""

import uuid
from typing import Any

import pytest
from sqlmodel import col, select

from models.audit import AuditEntry
from models.case import NAME_WITHHELD, CaseAccess, CaseShare
from models.dialogue import Dialogue
from models.round import Round
from models.user import Role, User
from tests.api.test_cases import (
    NATIVE_NAME,
    REAL_NAME,
    RESTRICTED,
    create_case,
    published_case,
    submit_case,
)
from tests.client import assert_problem

API = "/api/v1"


@pytest.fixture
def people(make):
    """The activist who records the case, another activist, and a moderator."""
    return make.user(Role.activist), make.user(Role.activist), make.user(Role.moderator)


def slug_of(make, rnd: Round) -> str:
    slug = make.session.get_one(Dialogue, rnd.dialogue_id).slug
    make.session.commit()  # the arranging session lets go of SQLite's write lock
    return slug


def share(client, make, user: User, case_id: str, delegations: list[str]):
    return client.put(
        f"{API}/cases/{case_id}/sharing",
        json={"delegations": delegations},
        headers=make.headers(user),
    )


def log_rows(db, case_id: str) -> list[CaseAccess]:
    rows = list(
        db.exec(
            select(CaseAccess)
            .where(CaseAccess.case_id == uuid.UUID(case_id))
            .order_by(col(CaseAccess.at), col(CaseAccess.id))
        )
    )
    db.commit()
    return rows


def audit_entries(db, case_id: str, action: str) -> list[AuditEntry]:
    rows = list(
        db.exec(
            select(AuditEntry)
            .where(AuditEntry.target_id == uuid.UUID(case_id), AuditEntry.action == action)
            .order_by(col(AuditEntry.at))
        )
    )
    db.commit()
    return rows


def seen_by(client, make, user: User | None, url: str) -> Any:
    r = client.get(url, headers=make.headers(user) if user else {})
    assert r.status_code == 200, r.text
    return r


@pytest.fixture
def case_in_round(client, make, people):
    """A published case without naming consent, raised (and published) in a round of a
    dialogue with US and CN delegations; its officials of each."""
    activist, _other, moderator = people
    rnd = make.round()
    case_id = published_case(client, make, activist, moderator, name_consent=False)
    sid = submit_case(client, make, rnd, activist, case_id, addressed_to=["CN", "US"])
    r = client.post(
        f"{API}/submissions/{sid}/moderation",
        json={"decision": "publish"},
        headers=make.headers(moderator),
    )
    assert r.status_code == 200, r.text
    return case_id, rnd, make.official(rnd, "CN"), make.official(rnd, "US")


# --- who sees what ------------------------------------------------------------------------


def test_officials_of_a_delegation_it_is_not_shared_with_see_exactly_the_public_view(
    client, make, db, people, case_in_round
):
    case_id, _rnd, cn, _us = case_in_round
    activist = people[0]
    assert share(client, make, activist, case_id, ["US"]).status_code == 200
    before = len(log_rows(db, case_id))

    public_detail = seen_by(client, make, None, f"{API}/cases/{case_id}").json()
    public_list = seen_by(client, make, None, f"{API}/cases").json()
    assert public_detail["name"] == NAME_WITHHELD and "restricted_details" not in public_detail
    # the official of the state that holds the person, and an official of another dialogue
    stranger = make.official(make.round(), "US")
    for official in (cn, stranger):
        detail = seen_by(client, make, official, f"{API}/cases/{case_id}")
        assert detail.json() == public_detail
        assert RESTRICTED not in detail.text and REAL_NAME not in detail.text
        assert NATIVE_NAME not in detail.text
        assert seen_by(client, make, official, f"{API}/cases").json() == public_list
        assert_problem(
            client.get(f"{API}/cases/{case_id}/access-log", headers=make.headers(official)), 403
        )
    # public views are not reads of restricted details: nothing logged
    assert len(log_rows(db, case_id)) == before


def test_an_official_of_a_shared_delegation_sees_the_details_and_the_read_is_logged(
    client, make, db, people, case_in_round
):
    case_id, _rnd, _cn, us = case_in_round
    activist = people[0]
    r = share(client, make, activist, case_id, ["US"])
    assert r.status_code == 200, r.text
    assert r.json() == {"delegations": ["US"]}
    before = len(log_rows(db, case_id))  # the moderator who published it

    seen = seen_by(client, make, us, f"{API}/cases/{case_id}")
    body = seen.json()
    assert body["restricted_details"] == RESTRICTED
    assert (body["real_name"], body["real_name_native"]) == (REAL_NAME, NATIVE_NAME)
    assert body["name"] == NAME_WITHHELD
    assert seen.headers["cache-control"] == "no-store"
    # the list stays the public one, for everyone
    assert seen_by(client, make, us, f"{API}/cases").json() == (
        seen_by(client, make, None, f"{API}/cases").json()
    )

    rows = log_rows(db, case_id)[before:]
    assert [(r.user_id, r.role, r.delegation) for r in rows] == [(us.id, "official", "US")]


def test_the_recorders_reads_are_not_logged_and_moderators_and_admins_are(
    client, make, db, people, case_in_round
):
    case_id, *_ = case_in_round
    activist, _other, moderator = people
    admin = make.user(Role.admin)
    before = log_rows(db, case_id)
    # publishing answered the moderator with the details: that was a read too
    assert [(r.user_id, r.role) for r in before] == [(moderator.id, "moderator")]

    mine = seen_by(client, make, activist, f"{API}/cases/{case_id}").json()
    assert mine["restricted_details"] == RESTRICTED
    assert len(log_rows(db, case_id)) == 1

    for user in (moderator, admin):
        assert seen_by(client, make, user, f"{API}/cases/{case_id}").json()["real_name"] == (
            REAL_NAME
        )
    rows = log_rows(db, case_id)[1:]
    assert [(r.user_id, r.role, r.delegation) for r in rows] == [
        (moderator.id, "moderator", None),
        (admin.id, "admin", None),
    ]


def test_an_empty_list_withdraws_the_sharing(client, make, db, people, case_in_round):
    case_id, _rnd, cn, us = case_in_round
    activist = people[0]
    assert share(client, make, activist, case_id, ["US", "CN"]).json() == {
        "delegations": ["CN", "US"]
    }
    assert seen_by(client, make, cn, f"{API}/cases/{case_id}").json()["real_name"] == REAL_NAME
    r = share(client, make, activist, case_id, [])
    assert r.status_code == 200 and r.json() == {"delegations": []}
    public = seen_by(client, make, None, f"{API}/cases/{case_id}").json()
    for official in (cn, us):
        assert seen_by(client, make, official, f"{API}/cases/{case_id}").json() == public
    stored = list(db.exec(select(CaseShare).where(CaseShare.case_id == uuid.UUID(case_id))))
    db.commit()
    assert stored == []
    mine = client.get(f"{API}/cases/{case_id}/sharing", headers=make.headers(activist))
    assert mine.json() == {"delegations": []}
    # each change is audited, with the delegations (never the details)
    audited = audit_entries(db, case_id, "case.sharing")
    assert [e.detail for e in audited] == [{"delegations": ["CN", "US"]}, {"delegations": []}]
    assert all(e.actor_id == activist.id for e in audited)


def test_a_cached_public_answer_never_serves_and_never_skips_a_logged_read(
    client, make, db, people, case_in_round
):
    case_id, _rnd, _cn, us = case_in_round
    share(client, make, people[0], case_id, ["US"])
    url = f"{API}/cases/{case_id}"
    public = seen_by(client, make, None, url)  # now in the response cache
    assert seen_by(client, make, None, url).json() == public.json()
    first = seen_by(client, make, us, url)
    assert first.json()["restricted_details"] == RESTRICTED
    assert first.headers["cache-control"] == "no-store"
    # a conditional read is still a read: the log has it although the answer is a 304
    again = client.get(url, headers={**make.headers(us), "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert len([r for r in log_rows(db, case_id) if r.user_id == us.id]) == 2
    # and the anonymous answer is still the public one
    after = seen_by(client, make, None, url)
    assert after.json() == public.json() and RESTRICTED not in after.text
    stale = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert stale.status_code == 200 and RESTRICTED not in stale.text


# --- sharing: who, and how codes are named -------------------------------------------------


def test_only_the_recorder_shares(client, make, db, people, case_in_round):
    case_id, _rnd, cn, _us = case_in_round
    activist, other, moderator = people
    assert_problem(client.put(f"{API}/cases/{case_id}/sharing", json={"delegations": []}), 401)
    for user in (other, moderator, make.user(Role.admin), cn):
        assert_problem(share(client, make, user, case_id, ["CN"]), 403)
    # a case still under review is hidden from who may not see it
    pending = create_case(client, make, activist)["id"]
    for user in (other, cn):
        assert_problem(share(client, make, user, pending, ["CN"]), 404)
    assert_problem(share(client, make, activist, str(uuid.uuid4()), ["CN"]), 404)
    assert audit_entries(db, case_id, "case.sharing") == []
    assert seen_by(client, make, cn, f"{API}/cases/{case_id}").json()["name"] == NAME_WITHHELD
    assert "real_name" not in seen_by(client, make, cn, f"{API}/cases/{case_id}").json()


def test_unknown_and_ambiguous_codes_are_refused(client, make, db, people, case_in_round):
    case_id, rnd, _cn, us = case_in_round
    activist = people[0]
    for body in (["XX"], ["US", "XX"], ["nowhere/US"], ["us"], [""]):
        assert_problem(share(client, make, activist, case_id, body), 422)
    # another dialogue with a US delegation: the bare code means the one of the dialogue
    # that raised the case
    other_round = make.round()
    other_us = make.official(other_round, "US")
    assert share(client, make, activist, case_id, ["US"]).json() == {"delegations": ["US"]}
    assert "real_name" in seen_by(client, make, us, f"{API}/cases/{case_id}").json()
    assert "real_name" not in seen_by(client, make, other_us, f"{API}/cases/{case_id}").json()
    # the other dialogue's delegation is named with its dialogue
    other_slug = slug_of(make, other_round)
    r = share(client, make, activist, case_id, ["US", f"{other_slug}/US"])
    assert r.status_code == 200, r.text
    assert r.json() == {"delegations": ["US", f"{other_slug}/US"]}
    assert "real_name" in seen_by(client, make, other_us, f"{API}/cases/{case_id}").json()

    # a case raised nowhere yet, with two dialogues that have a US: a bare code is
    # ambiguous, never shared with both
    fresh = published_case(client, make, activist, people[2])
    r = share(client, make, activist, fresh, ["US"])
    problem = assert_problem(r, 422)
    assert f"{other_slug}/US" in problem["detail"] and slug_of(make, rnd) in problem["detail"]
    ok = share(client, make, activist, fresh, [f"{slug_of(make, rnd)}/US"])
    assert ok.status_code == 200, ok.text
    assert "real_name" in seen_by(client, make, us, f"{API}/cases/{fresh}").json()
    assert "real_name" not in seen_by(client, make, other_us, f"{API}/cases/{fresh}").json()


# --- the access log ------------------------------------------------------------------------


def test_the_access_log_pages_and_holds_no_address(client, make, db, people, case_in_round):
    case_id, _rnd, _cn, us = case_in_round
    activist, other, moderator = people
    share(client, make, activist, case_id, ["US"])
    for _ in range(24):
        seen_by(client, make, us, f"{API}/cases/{case_id}")
    # 1 moderator read (publishing) + 24 official reads
    url = f"{API}/cases/{case_id}/access-log"
    first = client.get(url, headers=make.headers(activist))
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    page = first.json()
    assert len(page["items"]) == 20 and page["next_cursor"]
    assert 'rel="next"' in first.headers["link"]
    for item in page["items"]:
        assert set(item) == {"handle", "role", "delegation", "at"}
    assert page["items"][0] == {**page["items"][0], "handle": us.handle, "role": "official"}
    assert page["items"][0]["delegation"] == "US"
    assert "testclient" not in first.text and "127.0.0.1" not in first.text
    second = client.get(
        url, params={"cursor": page["next_cursor"]}, headers=make.headers(activist)
    ).json()
    assert len(second["items"]) == 5 and second["next_cursor"] is None
    assert second["items"][-1]["handle"] == moderator.handle
    assert second["items"][-1]["delegation"] is None
    small = client.get(url, params={"limit": 100}, headers=make.headers(moderator)).json()
    assert len(small["items"]) == 25
    assert_problem(client.get(url, params={"limit": 101}, headers=make.headers(activist)), 422)
    # the table itself has no column for an address
    assert set(CaseAccess.model_fields) == {"id", "case_id", "user_id", "role", "delegation", "at"}

    # who may read it
    assert client.get(url, headers=make.headers(make.user(Role.admin))).status_code == 200
    assert_problem(client.get(url), 401)
    for user in (other, us):
        assert_problem(client.get(url, headers=make.headers(user)), 403)
    pending = create_case(client, make, activist)["id"]
    assert_problem(
        client.get(f"{API}/cases/{pending}/access-log", headers=make.headers(other)), 404
    )


# --- naming consent ------------------------------------------------------------------------


def test_a_moderator_may_withdraw_consent_but_never_give_it(client, make, db, people):
    activist, _other, moderator = people
    case_id = published_case(client, make, activist, moderator, name_consent=False)
    url = f"{API}/cases/{case_id}/consent"
    for user in (moderator, make.user(Role.admin)):
        refused = client.put(url, json={"name_consent": True}, headers=make.headers(user))
        assert_problem(refused, 403)
    assert client.get(f"{API}/cases/{case_id}").json()["name"] == NAME_WITHHELD

    given = client.put(url, json={"name_consent": True}, headers=make.headers(activist))
    assert given.status_code == 200, given.text
    assert client.get(f"{API}/cases/{case_id}").json()["name"] == REAL_NAME

    withdrawn = client.put(url, json={"name_consent": False}, headers=make.headers(moderator))
    assert withdrawn.status_code == 200, withdrawn.text
    assert client.get(f"{API}/cases/{case_id}").json()["name"] == NAME_WITHHELD

    audited = audit_entries(db, case_id, "case.consent")
    assert [(e.actor_id, e.detail["name_consent"]) for e in audited] == [
        (activist.id, True),
        (moderator.id, False),
    ]


def test_logged_reads_and_writes_at_once_all_land(client, make, db, people, case_in_round):
    """A logged read writes on a GET: on SQLite it must take the writer's turn, or reads
    racing writes would fail with "database is locked" (503)."""
    from concurrent.futures import ThreadPoolExecutor

    case_id, _rnd, _cn, us = case_in_round
    activist, _other, moderator = people
    share(client, make, activist, case_id, ["US"])
    before = len(log_rows(db, case_id))
    reader, writer = make.headers(us), make.headers(activist)
    moderating = make.headers(moderator)

    def read(n: int) -> int:
        headers = moderating if n % 5 == 0 else reader
        return client.get(f"{API}/cases/{case_id}", headers=headers).status_code

    def write(n: int) -> int:
        body = {"delegations": ["US"] if n % 2 else ["US", "CN"]}
        return client.put(f"{API}/cases/{case_id}/sharing", json=body, headers=writer).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        reads = pool.map(read, range(40))
        writes = pool.map(write, range(10))
        statuses = list(reads) + list(writes)
    assert set(statuses) == {200}
    assert len(log_rows(db, case_id)) - before == 40
