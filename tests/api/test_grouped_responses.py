"""Grouped answers: one response from a delegation to several submissions of a round, shown
under each with the others in `grouped_with`, revised once for all, counted once per
submission; every refusal a problem, nothing half-written; a member's withdrawal leaves the
answer to the others."""

import json
import uuid
from types import SimpleNamespace

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from api.services import ledger
from models.dialogue import Dialogue
from models.response import Response, ResponseRevision, ResponseSubmission
from models.round import Phase
from models.submission import Status
from models.user import Role
from tests import record_verifier as outside
from tests.api.feed import CSV, NDJSON, count, feed_all, stored
from tests.live import run_server
from tests.test_verify import live_security as _live_security
from tests.test_verify import run_verify

API = "/api/v1"
ANSWER = {"kind": "answer", "body": "The lawyers are held in Beijing.", "language": "en"}
PROBLEM = "application/problem+json"


def grouped_url(rnd) -> str:
    return f"{API}/rounds/{rnd.id}/grouped-responses"


def group(client, make, rnd, official, ids, **body):
    payload = {**ANSWER, "submission_ids": [str(i) for i in ids], **body}
    return client.post(grouped_url(rnd), json=payload, headers=make.headers(official))


@pytest.fixture
def scene(make):
    """A round taking responses, three published submissions addressed to CN (and US), their
    authors, and the CN and US officials."""
    rnd = make.round(phase=Phase.accepting_responses)
    authors = [make.user(Role.activist) for _ in range(3)]
    subs = [
        make.submission(rnd, author=a, title=f"Detained lawyer {n}", addressed_to=("CN", "US"))
        for n, a in enumerate(authors)
    ]
    return rnd, subs, authors, make.official(rnd, "CN"), make.official(rnd, "US")


def ids_of(subs) -> list[str]:
    return sorted(str(s.id) for s in subs)


def others(subs, one) -> list[str]:
    return sorted(str(s.id) for s in subs if s.id != one.id)


def cn_response(view: dict) -> dict:
    [found] = [r for r in view["responses"] if r["delegation"] == "CN"]
    return found


def responses_stored(engine) -> tuple[int, int, int]:
    return (
        count(engine, "response"),
        count(engine, "response_submission"),
        count(engine, "response_revision"),
    )


# --- the happy path -------------------------------------------------------------------


def test_one_response_answers_each_submission_and_shows_under_each(client, make, scene):
    rnd, subs, _authors, cn, _us = scene
    r = group(client, make, rnd, cn, [s.id for s in reversed(subs)])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["submission_id"] == ids_of(subs)[0]  # it is named by the first, by id
    assert body["grouped_with"] == ids_of(subs)[1:]
    assert body["revision_count"] == 1 and body["body"] == ANSWER["body"]
    assert r.headers["ETag"].startswith('"response-1.')

    for s in subs:
        view = client.get(f"{API}/submissions/{s.id}").json()
        shown = cn_response(view)
        assert shown["id"] == body["id"]
        assert shown["submission_id"] == str(s.id)
        assert shown["grouped_with"] == others(subs, s)
    record = client.get(f"{API}/rounds/{rnd.id}/record").json()["items"]
    assert {item["id"]: cn_response(item)["grouped_with"] for item in record} == {
        str(s.id): others(subs, s) for s in subs
    }
    read = client.get(f"{API}/responses/{body['id']}").json()
    assert read["grouped_with"] == ids_of(subs)[1:]


def test_a_grouped_answer_shows_its_translations_under_each_submission(client, make, scene):
    rnd, subs, authors, cn, _us = scene
    body = group(client, make, rnd, cn, [s.id for s in subs]).json()
    text = {"language": "zh-Hans", "body": "律师被关押在北京。"}
    url = f"{API}/responses/{body['id']}/translations"
    assert client.post(url, json=text, headers=make.headers(cn)).status_code == 201

    def languages(response: dict) -> list[str]:
        return [t["language"] for t in response["translations"]]

    for s in subs:
        view = client.get(f"{API}/submissions/{s.id}").json()
        assert languages(cn_response(view)) == ["zh-Hans"], s.id
    # an item alone on its page
    last = ids_of(subs)[-1]
    page = client.get(f"{API}/rounds/{rnd.id}/record", params={"limit": 1}).json()["items"]
    record = {i["id"]: i for i in client.get(f"{API}/rounds/{rnd.id}/record").json()["items"]}
    assert {sid: languages(cn_response(item)) for sid, item in record.items()} == {
        str(s.id): ["zh-Hans"] for s in subs
    }
    assert len(page) == 1 and languages(cn_response(page[0])) == ["zh-Hans"]
    # the submission that names it withdrawn: the answer and its translation stay
    first = next(s for s in subs if str(s.id) == ids_of(subs)[0])
    author = authors[subs.index(first)]
    withdrawn = client.post(f"{API}/submissions/{first.id}/withdraw", headers=make.headers(author))
    assert withdrawn.status_code == 200, withdrawn.text
    assert languages(client.get(f"{API}/responses/{body['id']}").json()) == ["zh-Hans"]
    view = client.get(f"{API}/submissions/{last}").json()
    assert languages(cn_response(view)) == ["zh-Hans"]


def test_an_ordinary_response_has_an_empty_grouped_with(client, make, driver, scene):
    rnd, subs, _authors, cn, _us = scene
    rid = driver.respond(cn, subs[0].id, "Alone.")
    assert client.get(f"{API}/responses/{rid}").json()["grouped_with"] == []
    record = client.get(f"{API}/rounds/{rnd.id}/record").json()["items"]
    assert [cn_response(i)["grouped_with"] for i in record if i["responses"]] == [[]]


def test_the_record_log_has_one_entry_naming_every_submission(client, make, scene, engine):
    rnd, subs, _authors, cn, _us = scene
    before = len(stored(engine))
    rid = group(client, make, rnd, cn, [s.id for s in subs]).json()["id"]
    entries = stored(engine)[before:]
    assert [(e["event_type"], str(e["object_id"])) for e in entries] == [
        ("response.published", rid)
    ]
    content = entries[0]["content"]
    assert sorted([content["submission_id"], *content["grouped_with"]]) == ids_of(subs)
    # the feed and both exports carry the same entry
    [fed] = [e for e in feed_all(client) if e["object_id"] == rid]
    assert fed["content"]["grouped_with"] == content["grouped_with"]
    lines = [json.loads(line) for line in client.get(NDJSON).text.splitlines() if line]
    [exported] = [e for e in lines if e["object_id"] == rid]
    assert exported["content"]["grouped_with"] == content["grouped_with"]
    [row] = [row for row in outside.csv_entries(client) if row["object_id"] == rid]
    assert row["content"]["grouped_with"] == content["grouped_with"]
    assert client.get(CSV).status_code == 200
    assert ANSWER["body"] in client.get(f"{API}/feed.atom").text


def test_the_submission_page_links_the_other_submissions(client, make, scene):
    rnd, subs, _authors, cn, _us = scene
    group(client, make, rnd, cn, [s.id for s in subs])
    page = client.get(f"/record/submissions/{subs[0].id}").text
    assert 'class="grouped"' in page
    for s in subs[1:]:
        assert f"/record/submissions/{s.id}" in page


# --- revisions, ratings ---------------------------------------------------------------


def test_one_revision_applies_to_every_submission_once(client, make, scene, engine):
    rnd, subs, _authors, cn, _us = scene
    rid = group(client, make, rnd, cn, [s.id for s in subs]).json()["id"]
    before = len(stored(engine))
    r = client.post(
        f"{API}/responses/{rid}/revisions",
        json={"body": "They were released on 3 May.", "reason": "They were released."},
        headers=make.headers(cn),
    )
    assert r.status_code == 201, r.text
    assert r.json()["revision_count"] == 2 and r.json()["grouped_with"] == ids_of(subs)[1:]
    for s in subs:
        shown = cn_response(client.get(f"{API}/submissions/{s.id}").json())
        assert (shown["revision_count"], shown["body"]) == (2, "They were released on 3 May.")
    assert [e["event_type"] for e in stored(engine)[before:]] == ["response.revised"]
    history = client.get(f"{API}/responses/{rid}/revisions").json()["items"]
    assert [v["number"] for v in history] == [1, 2]
    assert responses_stored(engine) == (1, 3, 2)


def test_the_author_of_any_member_rates_the_grouped_answer(client, make, scene):
    rnd, subs, authors, cn, _us = scene
    rid = group(client, make, rnd, cn, [s.id for s in subs]).json()["id"]
    stranger = make.user(Role.activist)
    url = f"{API}/responses/{rid}/assessments"
    assert (
        client.post(url, json={"rating": "evasive"}, headers=make.headers(authors[2])).status_code
        == 201
    )
    refused = client.post(url, json={"rating": "evasive"}, headers=make.headers(stranger))
    assert refused.status_code == 403
    ratings = client.get(f"{API}/responses/{rid}").json()["ratings"]
    assert ratings["evasive"] == 1


# --- the one-response rule, across grouped and single answers -------------------------


def test_a_member_cannot_be_answered_again_alone(client, make, scene):
    rnd, subs, _authors, cn, _us = scene
    rid = group(client, make, rnd, cn, [s.id for s in subs[:2]]).json()["id"]
    r = client.post(
        f"{API}/submissions/{subs[1].id}/responses", json=ANSWER, headers=make.headers(cn)
    )
    assert r.status_code == 409 and r.json()["response_id"] == rid


def test_a_further_submission_may_be_answered_alone(client, make, scene):
    rnd, subs, _authors, cn, us = scene
    group(client, make, rnd, cn, [s.id for s in subs[:2]])
    r = client.post(
        f"{API}/submissions/{subs[2].id}/responses", json=ANSWER, headers=make.headers(cn)
    )
    assert r.status_code == 201 and r.json()["grouped_with"] == []
    # another delegation answers the same submissions in a group of its own
    assert group(client, make, rnd, us, [s.id for s in subs]).status_code == 201


# --- refusals: each a problem, nothing written ----------------------------------------


def _assert_refused(r, status: int, engine, stored_before) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert responses_stored(engine) == stored_before
    problem: dict = r.json()
    return problem


@pytest.mark.parametrize(
    "ids",
    [
        pytest.param(lambda subs: [subs[0].id], id="one"),
        pytest.param(lambda subs: [subs[0].id, subs[0].id], id="duplicates"),
        pytest.param(lambda subs: [uuid.uuid4() for _ in range(101)], id="over-100"),
        pytest.param(lambda subs: [], id="none"),
    ],
)
def test_a_bad_list_is_a_validation_problem(client, make, scene, engine, ids):
    rnd, subs, _authors, cn, _us = scene
    r = group(client, make, rnd, cn, ids(subs))
    problem = _assert_refused(r, 422, engine, (0, 0, 0))
    assert problem["errors"][0]["loc"][:2] == ["body", "submission_ids"]


def test_a_hundred_submissions_are_taken(client, make, scene):
    rnd, _subs, _authors, cn, _us = scene
    subs = [make.submission(rnd, addressed_to=("CN",)) for _ in range(100)]
    r = group(client, make, rnd, cn, [s.id for s in subs])
    assert r.status_code == 201, r.text
    assert len(r.json()["grouped_with"]) == 99


def test_unknown_and_unpublished_ids_get_one_and_the_same_answer(client, make, scene, engine):
    """404 is for the round of the path; an id in the body that is no published submission
    of the round is a 422 that lists it, the same for one that does not exist, one still
    pending, rejected, withdrawn or removed, and one of another round: the official learns
    nothing of a submission the public may not see."""
    rnd, subs, _authors, cn, _us = scene
    hidden = {
        "unknown": uuid.uuid4(),
        **{
            status.value: make.submission(rnd, status=status, addressed_to=("CN",)).id
            for status in (Status.pending, Status.rejected, Status.withdrawn, Status.removed)
        },
        "other round": make.submission(
            make.round(
                make.session.get_one(Dialogue, rnd.dialogue_id), phase=Phase.accepting_responses
            ),
            addressed_to=("CN",),
        ).id,
    }
    answers = {}
    for what, hidden_id in hidden.items():
        r = group(client, make, rnd, cn, [subs[0].id, hidden_id])
        problem = _assert_refused(r, 422, engine, (0, 0, 0))
        assert problem["submission_ids"] == [str(hidden_id)], what
        answers[what] = {k: v for k, v in problem.items() if k != "submission_ids"}
    assert len({json.dumps(a, sort_keys=True) for a in answers.values()}) == 1, answers


def test_an_unknown_round_is_404(client, make, scene):
    _rnd, subs, _authors, cn, _us = scene
    r = client.post(
        f"{API}/rounds/{uuid.uuid4()}/grouped-responses",
        json={**ANSWER, "submission_ids": ids_of(subs)},
        headers=make.headers(cn),
    )
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)


def test_a_submission_not_addressed_to_the_delegation_is_403_naming_it(client, make, scene, engine):
    rnd, subs, _authors, cn, _us = scene
    us_only = make.submission(rnd, addressed_to=("US",))
    r = group(client, make, rnd, cn, [subs[0].id, us_only.id])
    problem = _assert_refused(r, 403, engine, (0, 0, 0))
    assert problem["submission_ids"] == [str(us_only.id)]


def test_an_answered_submission_is_409_naming_it(client, make, driver, scene, engine):
    rnd, subs, _authors, cn, _us = scene
    rid = driver.respond(cn, subs[1].id, "Alone.")
    r = group(client, make, rnd, cn, [s.id for s in subs])
    problem = _assert_refused(r, 409, engine, (1, 1, 1))
    assert problem["submission_ids"] == [str(subs[1].id)]
    assert problem["response_ids"] == [rid]


@pytest.mark.parametrize("phase", [Phase.accepting_submissions, Phase.in_session])
def test_before_the_session_ends_it_is_the_wrong_phase(client, make, engine, phase):
    rnd = make.round(phase=phase)
    subs = [make.submission(rnd, addressed_to=("CN",)) for _ in range(2)]
    r = group(client, make, rnd, make.official(rnd, "CN"), [s.id for s in subs])
    problem = _assert_refused(r, 409, engine, (0, 0, 0))
    assert problem["type"].endswith(f"wrong-phase:{phase.value}")


def test_a_late_grouped_answer_is_flagged_and_counted_per_submission(client, make):
    rnd = make.round(phase=Phase.concluded)
    subs = [make.submission(rnd, addressed_to=("CN",)) for _ in range(2)]
    r = group(client, make, rnd, make.official(rnd, "CN"), [s.id for s in subs])
    assert r.status_code == 201 and r.json()["late"] is True
    [cn] = [
        d
        for d in client.get(f"{API}/rounds/{rnd.id}/scorecard").json()["delegations"]
        if d["delegation"] == "CN"
    ]
    assert (cn["late"], cn["answered"], cn["no_response"]) == (2, 2, 0)


def test_declined_needs_its_reason_code(client, make, scene, engine):
    rnd, subs, _authors, cn, _us = scene
    r = group(client, make, rnd, cn, [s.id for s in subs], kind="declined")
    _assert_refused(r, 422, engine, (0, 0, 0))
    ok = group(
        client, make, rnd, cn, [s.id for s in subs], kind="declined", reason_code="internal_affairs"
    )
    assert ok.status_code == 201 and ok.json()["reason_code"] == "internal_affairs"


# --- the scorecard --------------------------------------------------------------------


def test_the_scorecard_counts_each_submission_once(client, make, scene):
    rnd, subs, _authors, cn, us = scene
    group(client, make, rnd, cn, [s.id for s in subs])
    group(client, make, rnd, us, [s.id for s in subs[:2]], kind="holding")
    card = {
        d["delegation"]: d
        for d in client.get(f"{API}/rounds/{rnd.id}/scorecard").json()["delegations"]
    }
    assert (card["CN"]["addressed"], card["CN"]["answered"], card["CN"]["unanswered"]) == (3, 3, 0)
    assert card["CN"]["median_hours_to_answer"] is not None
    assert (card["US"]["holding"], card["US"]["unanswered"]) == (2, 1)
    slug = make.session.get_one(Dialogue, rnd.dialogue_id).slug
    trend = client.get(f"{API}/dialogues/{slug}/scorecard").json()["rounds"]
    [point] = [p for p in trend if p["round_id"] == str(rnd.id)]
    assert (point["addressed"], point["answer_rate"]) == (6, 0.5)
    # the record's `answered` filter finds every member
    answered = client.get(
        f"{API}/rounds/{rnd.id}/record", params={"answered": True, "delegation": "CN"}
    )
    assert len(answered.json()["items"]) == 3


# --- withdrawal and removal of a member -----------------------------------------------


def test_a_withdrawn_member_leaves_the_answer_to_the_others(client, make, driver, scene, engine):
    rnd, subs, authors, cn, _us = scene
    first, *rest = sorted(subs, key=lambda s: str(s.id))
    rid = group(client, make, rnd, cn, [s.id for s in subs]).json()["id"]
    published = [e["seq"] for e in stored(engine) if str(e["object_id"]) == rid]
    author_of_first = authors[subs.index(first)]
    driver.withdraw(author_of_first, first.id)  # the one that named the response

    read = client.get(f"{API}/responses/{rid}")
    assert read.status_code == 200 and read.json()["submission_id"] == str(rest[0].id)
    assert read.json()["grouped_with"] == [str(rest[1].id)]
    for s in rest:
        shown = cn_response(client.get(f"{API}/submissions/{s.id}").json())
        assert shown["grouped_with"] == others(rest, s)
    assert client.get(f"{API}/submissions/{first.id}").status_code == 404
    record = client.get(f"{API}/rounds/{rnd.id}/record").json()["items"]
    assert sorted(i["id"] for i in record) == ids_of(rest)
    # the grouped answer's entry keeps its content; the withdrawn one's own entries do not
    entries = {e["seq"]: e for e in stored(engine)}
    assert all(entries[seq]["content"] is not None for seq in published)
    mine = [e for e in entries.values() if str(e["object_id"]) == str(first.id)]
    assert [e["content"] is None for e in mine] == [True, False]  # published, withdrawn
    # still revisable, and found by search
    driver.revise(cn, rid, "Released, all of them.")
    hits = client.get(f"{API}/search", params={"q": "Released", "type": "response"}).json()
    assert [h["id"] for h in hits["items"]] == [rid]
    card = {
        d["delegation"]: d
        for d in client.get(f"{API}/rounds/{rnd.id}/scorecard").json()["delegations"]
    }
    assert (card["CN"]["addressed"], card["CN"]["answered"]) == (2, 2)
    assert outside.verify(client, outside.feed_entries(client))


def test_when_the_last_member_goes_the_answer_leaves_the_record(
    client, make, driver, scene, engine
):
    rnd, subs, authors, cn, _us = scene
    moderator = make.user(Role.moderator)
    rid = group(client, make, rnd, cn, [s.id for s in subs[:2]]).json()["id"]
    driver.revise(cn, rid, "Corrected.")
    driver.withdraw(authors[0], subs[0].id)
    driver.remove(moderator, subs[1].id)
    assert client.get(f"{API}/responses/{rid}").status_code == 404
    assert client.get(f"{API}/responses/{rid}/revisions").status_code == 404
    about = [e for e in stored(engine) if str(e["object_id"]) == rid]
    assert [e["event_type"] for e in about] == ["response.published", "response.revised"]
    assert all(e["content"] is None for e in about)
    # the log says when: the removal of the last one (Atom's `updated`, for one)
    [removal] = [e for e in stored(engine) if e["event_type"] == "submission.removed"]
    with Session(engine) as session:
        taken = ledger.taken_down_at(session, [SimpleNamespace(**e) for e in about])
    assert [taken.get(e["seq"]) for e in about] == [removal["at"], removal["at"]]
    assert (
        client.get(f"{API}/search", params={"q": "Corrected", "type": "response"}).json()["items"]
        == []
    )
    record = client.get(f"{API}/rounds/{rnd.id}/record").json()["items"]
    assert [i["id"] for i in record] == [str(subs[2].id)]
    assert outside.verify(client, outside.ndjson_entries(client))


def test_a_withdrawn_members_content_is_nowhere_public(client, make, driver, scene):
    rnd, subs, authors, cn, _us = scene
    group(client, make, rnd, cn, [s.id for s in subs])
    driver.withdraw(authors[1], subs[1].id)
    title = subs[1].title
    for path in (
        f"{API}/rounds/{rnd.id}/record",
        f"{API}/feed?limit=100",
        NDJSON,
        CSV,
        f"{API}/feed.atom",
        f"/record/rounds/{rnd.id}",
        f"/record/submissions/{subs[0].id}",
    ):
        assert title not in client.get(path).text, path


# --- all or nothing -------------------------------------------------------------------


def test_a_failure_after_the_first_writes_leaves_nothing(client, make, scene, engine, monkeypatch):
    from api.services import events

    rnd, subs, _authors, cn, _us = scene

    def fail(*_args, **_kwargs):
        raise RuntimeError("the record log is unavailable")

    monkeypatch.setattr(events, "response_published", fail)
    r = group(client, make, rnd, cn, [s.id for s in subs])
    assert r.status_code == 500 and r.headers["content-type"].startswith(PROBLEM)
    assert responses_stored(engine) == (0, 0, 0)


def test_the_link_rows_name_the_delegation_of_the_response(make, scene, client, db):
    rnd, subs, _authors, cn, _us = scene
    rid = uuid.UUID(group(client, make, rnd, cn, [s.id for s in subs]).json()["id"])
    rows = db.exec(
        sa.select(ResponseSubmission.submission_id, ResponseSubmission.delegation_id).where(
            ResponseSubmission.response_id == rid
        )
    ).all()
    db.commit()
    response = db.get(Response, rid)
    assert response is not None and response.grouped
    assert sorted(str(r.submission_id) for r in rows) == ids_of(subs)
    assert {r.delegation_id for r in rows} == {cn.delegation_id}
    assert db.exec(sa.select(sa.func.count()).select_from(ResponseRevision)).one()[0] == 1


# --- civic-input verify, against a real server ----------------------------------------


live_security = _live_security  # the fixture, by its name here


@pytest.fixture(scope="module")
def live_server(database_url, settings):
    with run_server(database_url) as server:
        yield server


def test_civic_input_verify_passes_after_grouped_answers_and_withdrawals(
    live_server, live_security, make, database_url
):
    rnd = make.round(phase=Phase.accepting_responses)
    authors = [make.user(Role.activist) for _ in range(3)]
    subs = [make.submission(rnd, author=a, addressed_to=("CN",)) for a in authors]
    cn = make.official(rnd, "CN")

    def auth(user):
        token = live_security.mint_access_token(user.id, user.session_version)
        return {"Authorization": f"Bearer {token}"}

    with httpx.Client(base_url=live_server.base_url + API, timeout=30) as http:
        r = http.post(
            f"/rounds/{rnd.id}/grouped-responses",
            json={**ANSWER, "submission_ids": [str(s.id) for s in subs]},
            headers=auth(cn),
        )
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        revised = http.post(
            f"/responses/{rid}/revisions",
            json={"body": "Released.", "reason": "They were released."},
            headers=auth(cn),
        )
        assert revised.status_code == 201, revised.text
        for author, s in list(zip(authors, subs, strict=True))[:2]:
            assert (
                http.post(f"/submissions/{s.id}/withdraw", headers=auth(author)).status_code == 200
            )
        kept = http.get(f"/responses/{rid}").json()
        assert (kept["submission_id"], kept["grouped_with"]) == (str(subs[2].id), [])
        assert (
            http.post(f"/submissions/{subs[2].id}/withdraw", headers=auth(authors[2])).status_code
            == 200
        )
        assert http.get(f"/responses/{rid}").status_code == 404

    done = run_verify(live_server.base_url, database_url)
    assert done.returncode == 0, done.stdout + done.stderr
    # 3 published, the response published and revised, 3 withdrawals; all tombstoned but
    # the withdrawals
    assert done.stdout.startswith("OK: 8 entries (5 tombstoned)"), done.stdout
