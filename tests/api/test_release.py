"""Joint releases: a response held until an instant is seen only by its delegation's
officials and moderators, the public sees that it is `scheduled`; at the instant every
held response becomes public together, in one transaction, in a stable order, once;
lateness is judged by the release; revisions before it replace the draft silently."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from api import clock, release_scheduler
from api.search import index as search_index
from api.services import releases, responses
from models.dialogue import Dialogue
from models.ledger import RecordEntry
from models.response import Response, ResponseCreate
from models.round import Phase
from models.submission import Status
from models.user import Role
from tests.client import assert_problem
from tests.record_verifier import feed_entries, verify

API = "/api/v1"
HOUR = timedelta(hours=1)
ANSWER = {"kind": "answer", "body": "Quietly-Held-Answer about Linyi.", "language": "en"}


def z(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def later(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


def respond(client, make, official, submission, **extra):
    r = client.post(
        f"{API}/submissions/{submission.id}/responses",
        json={**ANSWER, **extra},
        headers=make.headers(official),
    )
    assert r.status_code == 201, r.text
    return r.json()


def release_url(rnd, code="CN"):
    return f"{API}/rounds/{rnd.id}/delegations/{code}/release"


def entries(db, **where):
    rows = list(
        db.exec(
            select(RecordEntry.seq, RecordEntry.event_type, RecordEntry.object_id).order_by(
                col(RecordEntry.seq)
            )
        )
    )
    db.commit()
    return [row for row in rows if all(getattr(row, k) == v for k, v in where.items())]


def slug_of(db, rnd):
    slug = db.get_one(Dialogue, rnd.dialogue_id).slug
    db.commit()
    return slug


def release_at(db, instant):
    """Release what is due at `instant`, the clock held there, as the scheduler would."""
    with clock.frozen(instant):
        released = releases.release_due(db)
        db.commit()
    return released


@pytest.fixture
def held(client, make):
    """A round taking responses; CN's answer to one submission is held an hour."""
    rnd = make.round(phase=Phase.accepting_responses)
    author = make.user()
    submission = make.submission(rnd, author=author, addressed_to=("CN", "US"))
    cn = make.official(rnd, "CN")
    until = later(hours=1)
    response = respond(client, make, cn, submission, embargo_until=z(until))
    return rnd, submission, response, cn, author, until


# --- before the release -------------------------------------------------------------


def test_a_held_response_is_seen_by_its_delegation_and_moderators_only(client, make, held):
    rnd, _submission, response, _cn, author, _until = held
    url = f"{API}/responses/{response['id']}"
    seeing = [make.official(rnd, "CN"), make.user(Role.moderator), make.user(Role.admin)]
    for viewer in seeing:
        for path in (url, url + "/revisions"):
            r = client.get(path, headers=make.headers(viewer))
            assert r.status_code == 200, (viewer.role, path, r.text)
        assert client.get(url, headers=make.headers(viewer)).json()["body"] == ANSWER["body"]
    blind = [None, author, make.user(), make.official(rnd, "US")]
    missing = client.get(f"{API}/responses/00000000-0000-4000-8000-000000000000")
    for viewer in blind:
        for path in (url, url + "/revisions"):
            r = client.get(path, headers=make.headers(viewer) if viewer else {})
            assert r.status_code == 404, (viewer, path)
            assert r.json()["detail"] == missing.json()["detail"]


def test_the_public_sees_only_that_a_response_is_scheduled(client, make, db, held):
    rnd, submission, response, _cn, _author, until = held
    scheduled = [{"delegation": "CN", "release_at": z(until)}]
    view = client.get(f"{API}/submissions/{submission.id}").json()
    assert view["responses"] == [] and view["scheduled"] == scheduled
    record = client.get(f"{API}/rounds/{rnd.id}/record").json()["items"]
    assert record[0]["responses"] == [] and record[0]["scheduled"] == scheduled
    assert client.get(f"{API}/rounds/{rnd.id}/record?answered=true").json()["items"] == []
    assert len(client.get(f"{API}/rounds/{rnd.id}/record?answered=false").json()["items"]) == 1
    assert entries(db, event_type="response.published") == []
    assert client.get(f"{API}/search?q=Quietly").json()["items"] == []
    for path in ("/feed", "/feed.atom", "/export.ndjson", "/export.csv"):
        text = client.get(API + path).text
        assert "Quietly" not in text and response["id"] not in text, path
    page = client.get(f"/record/submissions/{submission.id}").text
    assert "Quietly" not in page and "scheduled for release" in page


def test_a_scheduled_response_counts_as_holding_never_as_no_response(client, make, db):
    rnd = make.round(phase=Phase.concluded)  # the due date has passed
    submission = make.submission(rnd, addressed_to=("CN",))
    cn = make.official(rnd, "CN")
    respond(client, make, cn, submission, embargo_until=z(later(hours=3)))
    card = client.get(f"{API}/rounds/{rnd.id}/scorecard").json()
    trend = client.get(f"{API}/dialogues/{slug_of(db, rnd)}/scorecard").json()
    cn_score = next(d for d in card["delegations"] if d["delegation"] == "CN")
    assert card["due_date_passed"] is True
    assert {k: cn_score[k] for k in ("answered", "holding", "scheduled", "no_response")} == {
        "answered": 0,
        "holding": 1,
        "scheduled": 1,
        "no_response": 0,
    }
    assert cn_score["unanswered"] == 0 and cn_score["late"] == 0
    assert trend["rounds"][0]["scheduled"] == 1 and trend["rounds"][0]["no_response_rate"] == 0


# --- the instants -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "field"),
    [(-HOUR, "embargo_until"), (timedelta(days=30, hours=1), "embargo_until")],
    ids=["past", "beyond-30-days"],
)
def test_an_embargo_in_the_past_or_beyond_30_days_is_a_422(client, make, delta, field):
    rnd = make.round(phase=Phase.accepting_responses)
    submission = make.submission(rnd, addressed_to=("CN",))
    r = client.post(
        f"{API}/submissions/{submission.id}/responses",
        json={**ANSWER, "embargo_until": z(datetime.now(UTC) + delta)},
        headers=make.headers(make.official(rnd, "CN")),
    )
    problem = assert_problem(r, 422)
    assert [e["loc"][-1] for e in problem.get("errors", [{"loc": [problem.get("field")]}])] == [
        field
    ] or problem.get("field") == field


def test_an_embargo_without_a_time_zone_is_a_422(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    submission = make.submission(rnd, addressed_to=("CN",))
    naive = (datetime.now(UTC) + HOUR).replace(tzinfo=None).isoformat()
    r = client.post(
        f"{API}/submissions/{submission.id}/responses",
        json={**ANSWER, "embargo_until": naive},
        headers=make.headers(make.official(rnd, "CN")),
    )
    assert_problem(r, 422)


def test_the_round_release_rules(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    cn = make.official(rnd, "CN")
    body = {"release_at": z(later(hours=2))}
    assert client.put(release_url(rnd), json=body).status_code == 401
    for other in (make.official(rnd, "US"), make.user(Role.moderator), make.user()):
        assert_problem(client.put(release_url(rnd), json=body, headers=make.headers(other)), 403)
        assert_problem(client.delete(release_url(rnd), headers=make.headers(other)), 403)
    assert_problem(client.put(release_url(rnd, "XX"), json=body, headers=make.headers(cn)), 404)
    for bad in (z(later(hours=-1)), z(later(days=31)), "2030-01-01T00:00:00"):
        r = client.put(release_url(rnd), json={"release_at": bad}, headers=make.headers(cn))
        assert_problem(r, 422)
    early = make.round(phase=Phase.in_session)
    r = client.put(release_url(early), json=body, headers=make.headers(make.official(early)))
    assert assert_problem(r, 409)["type"].endswith("wrong-phase:in_session")
    # the delegation's officials and moderators read the plan; others may not
    assert client.get(release_url(rnd), headers=make.headers(cn)).status_code == 200
    assert (
        client.get(release_url(rnd), headers=make.headers(make.user(Role.moderator))).json()[
            "release_at"
        ]
        is None
    )
    assert_problem(client.get(release_url(rnd), headers=make.headers(make.user())), 403)


def test_a_round_release_holds_what_is_held_and_what_comes_until_its_instant(client, make, db):
    rnd = make.round(phase=Phase.accepting_responses)
    first, second, third = (make.submission(rnd, addressed_to=("CN",)) for _ in range(3))
    cn = make.official(rnd, "CN")
    public = respond(client, make, cn, first)  # public at once: no release set yet
    early = respond(client, make, cn, second, embargo_until=z(later(hours=5)))
    instant = later(hours=2)
    r = client.put(release_url(rnd), json={"release_at": z(instant)}, headers=make.headers(cn))
    assert r.status_code == 200, r.text
    late_comer = respond(client, make, cn, third)
    plan = client.get(release_url(rnd), headers=make.headers(cn)).json()
    assert plan["release_at"] == z(instant)
    assert {h["response_id"] for h in plan["held"]} == {early["id"], late_comer["id"]}
    assert {h["release_at"] for h in plan["held"]} == {z(instant)}
    assert client.get(f"{API}/responses/{public['id']}").status_code == 200
    assert client.get(f"{API}/responses/{late_comer['id']}").status_code == 404

    assert release_at(db, instant - timedelta(seconds=1)) == []
    released = release_at(db, instant)
    assert {str(r.id) for r in released} == {early["id"], late_comer["id"]}
    for rid in (early["id"], late_comer["id"]):
        shown = client.get(f"{API}/responses/{rid}").json()
        assert shown["responded_at"] == z(instant) and shown["updated_at"] == z(instant)
    # after the instant, a new response is public at once
    fourth = make.submission(rnd, addressed_to=("CN",))
    after = respond(client, make, cn, fourth)  # the instant is spent
    assert client.get(f"{API}/responses/{after['id']}").status_code == 200


def test_a_response_posted_after_the_instant_before_any_pass_comes_after_the_held(client, make, db):
    rnd = make.round(phase=Phase.accepting_responses)
    first, second = (make.submission(rnd, addressed_to=("CN",)) for _ in range(2))
    cn = make.official(rnd, "CN")
    instant = later(hours=1)
    client.put(release_url(rnd), json={"release_at": z(instant)}, headers=make.headers(cn))
    held = respond(client, make, cn, first)
    with clock.frozen(instant + timedelta(minutes=1)):  # no pass has run since the instant
        new = responses.create(db, submission=second, data=ResponseCreate(**ANSWER), official=cn)
        db.commit()
    published = entries(db, event_type="response.published")
    assert [str(e.object_id) for e in published] == [held["id"], str(new.id)]


# --- the release ----------------------------------------------------------------------


def test_release_is_one_transaction_in_a_stable_order_exactly_once(client, make, db):
    rnd = make.round(phase=Phase.accepting_responses)
    base = datetime.now(UTC) - timedelta(hours=3)
    # published out of id order, so the order is by published_at, then id
    subs = [
        make.submission(
            rnd, addressed_to=("CN", "US"), published_at=base + i * timedelta(minutes=1)
        )
        for i in (2, 0, 1)
    ]
    instant = later(hours=1)
    cn, us = make.official(rnd, "CN"), make.official(rnd, "US")
    for code, official in (("US", us), ("CN", cn)):
        client.put(
            release_url(rnd, code), json={"release_at": z(instant)}, headers=make.headers(official)
        )
    made = {}
    for submission in subs:
        for official in (us, cn):
            made[str(respond(client, make, official, submission)["id"])] = submission
    unrelated = make.submission(rnd, addressed_to=("CN",))
    before = entries(db)

    released = release_at(db, instant)
    assert release_at(db, instant + HOUR) == []  # nothing twice

    by_time = sorted(subs, key=lambda s: (s.published_at, s.id))
    codes = {cn.delegation_id: "CN", us.delegation_id: "US"}
    expected = [(str(s.id), code) for s in by_time for code in ("CN", "US")]
    assert [(str(r.submission_id), codes[r.delegation_id]) for r in released] == expected
    after = entries(db)[len(before) :]
    assert [e.event_type for e in after] == ["response.published"] * 6
    assert [str(e.object_id) for e in after] == [str(r.id) for r in released]
    # consecutive: nothing came between them
    assert [e.seq for e in after] == list(range(after[0].seq, after[0].seq + 6))
    assert unrelated.id not in {r.submission_id for r in released}
    verify(client, feed_entries(client))


def test_a_response_released_after_the_due_date_is_late_by_its_release(client, make, db):
    rnd = make.round(phase=Phase.accepting_responses)  # due in an hour
    on_time, too_late = (make.submission(rnd, addressed_to=("CN",)) for _ in range(2))
    cn = make.official(rnd, "CN")
    early = respond(client, make, cn, on_time, embargo_until=z(rnd.responses_due_at - 1 * HOUR / 2))
    late = respond(client, make, cn, too_late, embargo_until=z(rnd.responses_due_at + HOUR))
    assert early["late"] is False and late["late"] is False  # drafted in time
    release_at(db, rnd.responses_due_at + 2 * HOUR)
    assert client.get(f"{API}/responses/{early['id']}").json()["late"] is False
    shown = client.get(f"{API}/responses/{late['id']}").json()
    assert shown["late"] is True
    assert shown["responded_at"] == z(rnd.responses_due_at + HOUR)
    card = client.get(f"{API}/rounds/{rnd.id}/scorecard").json()
    cn_score = next(d for d in card["delegations"] if d["delegation"] == "CN")
    assert (cn_score["late"], cn_score["released_late"], cn_score["scheduled"]) == (1, 1, 0)
    assert cn_score["answered"] == 2
    trend = client.get(f"{API}/dialogues/{slug_of(db, rnd)}/scorecard").json()
    assert trend["rounds"][0]["released_late"] == 1


def test_revisions_before_the_release_replace_the_draft_silently(client, make, db, held):
    _rnd, _submission, response, cn, _author, until = held
    url = f"{API}/responses/{response['id']}"
    tag = client.get(url, headers=make.headers(cn)).headers["ETag"]
    fix = {"body": "Draft-Two of the answer.", "reason": "Internal draft."}
    r = client.post(url + "/revisions", json=fix, headers={**make.headers(cn), "If-Match": tag})
    assert r.status_code == 201, r.text
    assert r.json()["revision_count"] == 1 and r.json()["body"] == fix["body"]
    # the old tag names the replaced draft: a stale base is refused
    stale = client.post(url + "/revisions", json=fix, headers={**make.headers(cn), "If-Match": tag})
    assert_problem(stale, 412)
    assert entries(db, event_type="response.revised") == []
    assert entries(db, event_type="response.published") == []

    release_at(db, until)
    history = client.get(url + "/revisions").json()["items"]
    assert [(h["number"], h["body"], h["reason"]) for h in history] == [(1, fix["body"], None)]
    assert history[0]["published_at"] == z(until)
    published = entries(db, event_type="response.published")
    assert len(published) == 1
    # after the release a revision is a revision, as ever
    tag = client.get(url).headers["ETag"]
    again = {"body": "Corrected after release.", "reason": "A wrong date."}
    r = client.post(url + "/revisions", json=again, headers={**make.headers(cn), "If-Match": tag})
    assert r.status_code == 201 and r.json()["revision_count"] == 2
    assert len(entries(db, event_type="response.revised")) == 1
    assert client.get(f"{API}/search?q=Corrected").json()["items"][0]["type"] == "response"
    verify(client, feed_entries(client))


def test_delete_releases_now_and_later_responses_are_public_at_once(client, make, db):
    rnd = make.round(phase=Phase.accepting_responses)
    first, second = (make.submission(rnd, addressed_to=("CN",)) for _ in range(2))
    cn = make.official(rnd, "CN")
    client.put(release_url(rnd), json={"release_at": z(later(days=3))}, headers=make.headers(cn))
    held = respond(client, make, cn, first)
    assert client.get(f"{API}/responses/{held['id']}").status_code == 404
    r = client.delete(release_url(rnd), headers=make.headers(cn))
    assert r.status_code == 200, r.text
    assert r.json() == {"round_id": str(rnd.id), "delegation": "CN", "release_at": None, "held": []}
    shown = client.get(f"{API}/responses/{held['id']}")
    assert shown.status_code == 200 and shown.json()["body"] == ANSWER["body"]
    assert len(entries(db, event_type="response.published")) == 1
    assert client.get(f"{API}/search?q=Quietly").json()["items"][0]["type"] == "response"
    now_public = respond(client, make, cn, second)
    assert client.get(f"{API}/responses/{now_public['id']}").status_code == 200


def test_a_held_response_cannot_be_assessed_and_leaves_with_its_submission(client, make, db, held):
    _rnd, submission, response, _cn, author, until = held
    url = f"{API}/responses/{response['id']}/assessments"
    rating = {"rating": "evasive"}
    assert_problem(client.post(url, json=rating, headers=make.headers(author)), 404)
    moderator = make.user(Role.moderator)
    assert_problem(client.post(url, json=rating, headers=make.headers(moderator)), 409)
    r = client.post(f"{API}/submissions/{submission.id}/withdraw", headers=make.headers(author))
    assert r.status_code == 200, r.text
    released = release_at(db, until)
    assert [str(r.id) for r in released] == [response["id"]]  # no longer waiting,
    assert entries(db, event_type="response.published") == []  # and never in the record
    row = db.get_one(Response, released[0].id)
    assert row.released_at is not None
    db.commit()


def test_a_held_response_is_translated_only_once_it_is_public(client, make, db, held):
    rnd, _submission, response, cn, author, until = held
    url = f"{API}/responses/{response['id']}/translations"
    text = {"language": "zh-Hans", "body": "我们正在核实记录。"}
    # to those who may not see it, the same 404 as for no response at all
    missing = client.post(
        f"{API}/responses/00000000-0000-4000-8000-000000000000/translations",
        json=text,
        headers=make.headers(make.user(Role.moderator)),
    )
    for viewer in (author, make.official(rnd, "US")):
        r = client.post(url, json=text, headers=make.headers(viewer))
        assert_problem(r, 404)
        assert r.json()["detail"] == missing.json()["detail"]
    # its delegation and moderators are told to wait: nothing reaches the record log
    for viewer in (cn, make.user(Role.moderator)):
        assert_problem(client.post(url, json=text, headers=make.headers(viewer)), 409)
    assert entries(db, event_type="translation.added") == []
    release_at(db, until)
    assert client.post(url, json=text, headers=make.headers(cn)).status_code == 201
    (added,) = entries(db, event_type="translation.added")
    assert str(added.object_id) == response["id"]


# --- the scheduler ------------------------------------------------------------------


def test_the_scheduler_sleeps_until_the_next_instant_but_no_longer_than_the_poll():
    with clock.frozen(datetime(2030, 1, 1, tzinfo=UTC)) as now:
        assert release_scheduler.delay(None, 5.0) == 5.0
        assert release_scheduler.delay(now + timedelta(seconds=2), 5.0) == 2.0
        assert release_scheduler.delay(now + HOUR, 5.0) == 5.0
        assert release_scheduler.delay(now - HOUR, 5.0) == 0.0


def test_the_app_releases_at_the_instant_by_itself(client, make, db):
    rnd = make.round(phase=Phase.accepting_responses)
    submission = make.submission(rnd, addressed_to=("CN",))
    response = respond(
        client, make, make.official(rnd, "CN"), submission, embargo_until=z(later(seconds=2))
    )
    url = f"{API}/responses/{response['id']}"
    assert client.get(url).status_code == 404
    deadline = datetime.now(UTC) + timedelta(seconds=20)
    while client.get(url).status_code != 200:
        assert datetime.now(UTC) < deadline, "not released 18 s after its instant"
        clock_sleep(0.2)
    assert len(entries(db, event_type="response.published")) == 1


def clock_sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


def test_release_due_from_the_command_line(make, db, settings, capsys):
    from api.cli import _release_due

    rnd = make.round(phase=Phase.accepting_responses)
    submission = make.submission(rnd, addressed_to=("CN",))
    make.response(submission, code="CN")
    db.execute(
        sa.update(Response).values(
            embargo_until=datetime.now(UTC) - timedelta(seconds=1), released_at=None
        )
    )
    db.commit()
    assert _release_due(settings, None) == 0  # type: ignore[arg-type]
    assert "released 1 held responses" in capsys.readouterr().out
    assert submission.status == Status.published


def test_the_demo_kunming_round_has_a_joint_release(settings, client):
    from api import demo

    assert demo.seed(settings) is True
    data = demo.load()
    (release,) = data.releases
    instant = z(release.data.release_at)
    events = client.get(f"{API}/feed", params={"limit": 1000}).json()["items"]
    at = release.data.release_at
    published = [e for e in events if e["type"] == "response.published"]
    released = [e for e in published if datetime.fromisoformat(e["at"]) == at]
    assert len(released) == 2  # the two CN answers drafted before the instant
    assert {e["content"]["delegation"] for e in released} == {"CN"}
    assert {e["content"]["responded_at"] for e in released} == {instant}
    assert released[1]["seq"] == released[0]["seq"] + 1


def _index_rows(engine, doc_id):
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT count(*) FROM search_entry WHERE doc_id = :id"),
            {"id": doc_id if engine.dialect.name == "postgresql" else doc_id.replace("-", "")},
        ).scalar_one()


def test_the_search_index_receives_a_held_response_only_at_its_release(
    client, make, db, engine, held
):
    _rnd, _submission, response, cn, _author, until = held
    url = f"{API}/responses/{response['id']}/revisions"
    client.post(url, json={"body": "Zhangjiakou draft.", "reason": "-"}, headers=make.headers(cn))
    assert _index_rows(engine, response["id"]) == 0
    assert client.get(f"{API}/search?q=Zhangjiakou").json()["items"] == []
    # a rebuild of the whole index (`civic-input reindex`) leaves it out too
    with engine.begin() as conn:
        search_index.rebuild(conn)
    assert _index_rows(engine, response["id"]) == 0
    release_at(db, until)
    assert _index_rows(engine, response["id"]) == 1
    (hit,) = client.get(f"{API}/search?q=Zhangjiakou").json()["items"]
    assert (hit["type"], hit["id"]) == ("response", response["id"])
