"""Responses: who may answer, when, once per delegation; open revisions guarded by If-Match;
civil society's ratings shown as counts, never with the raters."""

import re

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from api.services.rounds import WrongPhase
from models.response import AnswerAssessment, ResponseRevision
from models.round import Phase
from models.submission import Status
from models.user import Role

VALIDATION = "urn:civic-input:problem:validation"


def respond_url(submission):
    return f"/api/v1/submissions/{submission.id}/responses"


def revisions_url(response_id):
    return f"/api/v1/responses/{response_id}/revisions"


def assess_url(response_id):
    return f"/api/v1/responses/{response_id}/assessments"


ANSWER = {"kind": "answer", "body": "He is held in Linyi and has a lawyer.", "language": "en"}
HOLDING = {"kind": "holding", "body": "We are looking into it.", "language": "en"}
DECLINED = {
    "kind": "declined",
    "body": "This is a matter for our courts.",
    "language": "en",
    "reason_code": "ongoing_judicial_proceedings",
}


def fetch(db, statement):
    """Read rows (columns, never cached entities), then end the transaction: on SQLite the
    test's write session would otherwise keep the write lock and stall the app's next write."""
    rows = list(db.exec(statement))
    db.commit()
    return rows


def revision_rows(db, response_id):
    return fetch(
        db,
        sa.select(
            ResponseRevision.id,
            ResponseRevision.number,
            ResponseRevision.kind,
            ResponseRevision.body,
            ResponseRevision.language,
            ResponseRevision.reason_code,
            ResponseRevision.reason,
            ResponseRevision.official_id,
            ResponseRevision.created_at,
        )
        .where(col(ResponseRevision.response_id) == response_id)
        .order_by(col(ResponseRevision.number)),
    )


def responding_round(make, phase=Phase.accepting_responses, *, addressed_to=("CN",), **kw):
    rnd = make.round(phase=phase)
    return rnd, make.submission(rnd, addressed_to=addressed_to, **kw)


# --- creating a response ------------------------------------------------------------


@pytest.mark.parametrize("body", [ANSWER, HOLDING, DECLINED], ids=lambda b: b["kind"])
def test_an_addressed_official_responds_after_the_session(client, make, body):
    rnd, submission = responding_round(make)
    official = make.official(rnd, "CN")
    r = client.post(respond_url(submission), json=body, headers=make.headers(official))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["kind"] == body["kind"] and out["body"] == body["body"]
    assert out["delegation"] == "CN" and out["submission_id"] == str(submission.id)
    assert out["reason_code"] == body.get("reason_code")
    assert out["revision_count"] == 1 and out["late"] is False
    assert out["ratings"] == {"satisfactory": 0, "partial": 0, "evasive": 0, "non_responsive": 0}
    assert r.headers["ETag"]
    shown = client.get(f"/api/v1/responses/{out['id']}")
    assert shown.status_code == 200 and shown.json()["body"] == body["body"]


@pytest.mark.parametrize(
    "phase", [Phase.accepting_submissions, Phase.awaiting_session, Phase.in_session]
)
def test_no_response_before_the_session_ends(client, make, db, phase):
    rnd, submission = responding_round(make, phase)
    official = make.official(rnd, "CN")
    r = client.post(respond_url(submission), json=ANSWER, headers=make.headers(official))
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["type"] == WrongPhase(phase, "").type
    assert problem["type"].endswith(phase.value)
    assert problem["phase"] == phase.value
    assert r.headers["content-type"].startswith("application/problem+json")
    assert fetch(db, select(ResponseRevision.id)) == []


@pytest.mark.parametrize(
    "body",
    [
        {**DECLINED, "reason_code": None},
        {k: v for k, v in DECLINED.items() if k != "reason_code"},
        {**ANSWER, "reason_code": "internal_affairs"},
        {**HOLDING, "reason_code": "other"},
        {**ANSWER, "reason_code": "no_such_reason"},
    ],
    ids=["declined-null", "declined-missing", "answer-with-code", "holding-with-code", "unknown"],
)
def test_reason_code_goes_with_declined_and_only_with_it(client, make, body):
    rnd, submission = responding_round(make)
    official = make.official(rnd, "CN")
    r = client.post(respond_url(submission), json=body, headers=make.headers(official))
    assert r.status_code == 422, r.text
    assert r.json()["type"] == VALIDATION


def test_an_official_of_a_delegation_not_addressed_is_refused(client, make, db):
    rnd, submission = responding_round(make, addressed_to=("CN",))
    us_official = make.official(rnd, "US")
    r = client.post(respond_url(submission), json=ANSWER, headers=make.headers(us_official))
    assert r.status_code == 403, r.text
    assert fetch(db, select(ResponseRevision.id)) == []


def test_an_official_of_another_dialogue_is_refused(client, make):
    _rnd, submission = responding_round(make)
    elsewhere = make.round(phase=Phase.accepting_responses)
    stranger = make.official(elsewhere, "CN")
    r = client.post(respond_url(submission), json=ANSWER, headers=make.headers(stranger))
    assert r.status_code == 403, r.text


@pytest.mark.parametrize("role", [Role.activist, Role.moderator, Role.admin])
def test_only_officials_respond(client, make, role):
    _rnd, submission = responding_round(make)
    r = client.post(respond_url(submission), json=ANSWER, headers=make.headers(make.user(role)))
    assert r.status_code == 403, r.text


def test_anonymous_cannot_respond(client, make):
    _rnd, submission = responding_round(make)
    assert client.post(respond_url(submission), json=ANSWER).status_code == 401


def test_one_response_per_delegation_then_revise(client, make, db):
    rnd, submission = responding_round(make, addressed_to=("CN", "US"))
    first, colleague = make.official(rnd, "CN"), make.official(rnd, "CN")
    made = client.post(respond_url(submission), json=ANSWER, headers=make.headers(first))
    assert made.status_code == 201
    again = client.post(respond_url(submission), json=HOLDING, headers=make.headers(colleague))
    assert again.status_code == 409, again.text
    assert again.json()["response_id"] == made.json()["id"]
    # the other addressed delegation still answers for itself
    us = client.post(
        respond_url(submission), json=HOLDING, headers=make.headers(make.official(rnd, "US"))
    )
    assert us.status_code == 201
    shown = client.get(f"/api/v1/submissions/{submission.id}").json()
    assert [(x["delegation"], x["kind"]) for x in shown["responses"]] == [
        ("CN", "answer"),
        ("US", "holding"),
    ]
    assert len(fetch(db, select(ResponseRevision.id))) == 2


@pytest.mark.parametrize(
    "status", [Status.pending, Status.rejected, Status.withdrawn, Status.removed]
)
def test_no_response_to_an_unpublished_submission(client, make, status):
    rnd, submission = responding_round(make, status=status)
    official = make.official(rnd, "CN")
    r = client.post(respond_url(submission), json=ANSWER, headers=make.headers(official))
    assert r.status_code == 404, r.text


def test_unknown_submission_is_404(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    official = make.official(rnd, "CN")
    r = client.post(
        "/api/v1/submissions/00000000-0000-4000-8000-000000000000/responses",
        json=ANSWER,
        headers=make.headers(official),
    )
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("phase", "late"), [(Phase.accepting_responses, False), (Phase.concluded, True)]
)
def test_answers_after_the_due_date_are_accepted_and_flagged_late(client, make, phase, late):
    rnd, submission = responding_round(make, phase)
    official = make.official(rnd, "CN")
    r = client.post(respond_url(submission), json=ANSWER, headers=make.headers(official))
    assert r.status_code == 201, r.text
    assert r.json()["late"] is late
    assert client.get(f"/api/v1/responses/{r.json()['id']}").json()["late"] is late
    record = client.get(f"/api/v1/rounds/{rnd.id}/record").json()
    assert record["items"][0]["responses"][0]["late"] is late


def test_a_response_to_a_withdrawn_submission_disappears(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    author = make.user(Role.activist)
    submission = make.submission(rnd, author=author)
    response = make.response(submission, code="CN")
    assert client.get(f"/api/v1/responses/{response.id}").status_code == 200
    withdraw = f"/api/v1/submissions/{submission.id}/withdraw"
    assert client.post(withdraw, headers=make.headers(author)).status_code == 200
    assert client.get(f"/api/v1/responses/{response.id}").status_code == 404
    assert client.get(revisions_url(response.id)).status_code == 404


# --- revisions ----------------------------------------------------------------------


def revise(client, make, response_id, official, *, if_match=None, **body):
    headers = make.headers(official)
    if if_match is not None:
        headers["If-Match"] = if_match
    payload = {"body": "Corrected: he was moved to Beijing.", "reason": "Wrong city.", **body}
    return client.post(revisions_url(response_id), json=payload, headers=headers)


def test_a_revision_shows_everywhere_and_keeps_the_history(client, make):
    rnd, submission = responding_round(make)
    official = make.official(rnd, "CN")
    created = client.post(respond_url(submission), json=ANSWER, headers=make.headers(official))
    rid = created.json()["id"]
    r = revise(client, make, rid, official, body="He was released on 3 May.", reason="Update.")
    assert r.status_code == 201, r.text
    assert r.json()["revision_count"] == 2 and r.json()["body"] == "He was released on 3 May."

    shown = client.get(f"/api/v1/responses/{rid}").json()
    assert shown["revision_count"] == 2 and shown["body"] == "He was released on 3 May."
    assert shown["kind"] == "answer" and shown["responded_at"] == created.json()["responded_at"]
    assert shown["updated_at"] >= created.json()["updated_at"]
    in_submission = client.get(f"/api/v1/submissions/{submission.id}").json()["responses"]
    assert [(x["id"], x["body"], x["revision_count"]) for x in in_submission] == [
        (rid, "He was released on 3 May.", 2)
    ]
    record = client.get(f"/api/v1/rounds/{rnd.id}/record").json()["items"]
    assert record[0]["responses"][0]["body"] == "He was released on 3 May."
    assert record[0]["responses"][0]["revision_count"] == 2

    history = client.get(revisions_url(rid))
    assert history.status_code == 200
    items = history.json()["items"]
    assert [(x["number"], x["body"], x["reason"]) for x in items] == [
        (1, ANSWER["body"], None),
        (2, "He was released on 3 May.", "Update."),
    ]
    for x in items:  # UTC, written with a Z
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z", x["published_at"]), x
    assert items[0]["published_at"] <= items[1]["published_at"]
    assert str(official.id) not in history.text and official.handle not in history.text


@pytest.mark.parametrize(
    "body",
    [
        {"body": "New text."},
        {"body": "New text.", "reason": ""},
        {"body": "New text.", "reason": None},
        {"reason": "No body."},
    ],
    ids=["reason-missing", "reason-empty", "reason-null", "body-missing"],
)
def test_a_revision_needs_a_reason_and_a_body(client, make, db, body):
    rnd, submission = responding_round(make)
    official = make.official(rnd, "CN")
    response = make.response(submission, code="CN", official=official)
    r = client.post(revisions_url(response.id), json=body, headers=make.headers(official))
    assert r.status_code == 422, r.text
    assert len(revision_rows(db, response.id)) == 1


def test_only_the_delegation_that_responded_revises(client, make, db):
    rnd, submission = responding_round(make, addressed_to=("CN", "US"))
    response = make.response(submission, code="CN")
    us_official = make.official(rnd, "US")
    assert revise(client, make, response.id, us_official).status_code == 403
    activist = make.user(Role.activist)
    assert revise(client, make, response.id, activist).status_code == 403
    payload = {"body": "x", "reason": "y"}
    assert client.post(revisions_url(response.id), json=payload).status_code == 401
    assert len(revision_rows(db, response.id)) == 1
    # any official of the responding delegation may correct it, not only its author
    assert revise(client, make, response.id, make.official(rnd, "CN")).status_code == 201


def test_if_match_with_the_current_etag_is_accepted(client, make):
    rnd, submission = responding_round(make)
    official = make.official(rnd, "CN")
    response = make.response(submission, code="CN", official=official)
    read = client.get(f"/api/v1/responses/{response.id}")
    etag = read.headers["ETag"]
    r = revise(client, make, response.id, official, if_match=etag)
    assert r.status_code == 201, r.text
    assert r.headers["ETag"] != etag
    assert client.get(f"/api/v1/responses/{response.id}").headers["ETag"] == r.headers["ETag"]


def test_a_stale_if_match_is_412_and_adds_nothing(client, make, db):
    rnd, submission = responding_round(make)
    alice, bob = make.official(rnd, "CN"), make.official(rnd, "CN")
    response = make.response(submission, code="CN", official=alice)
    alice_tag = client.get(f"/api/v1/responses/{response.id}").headers["ETag"]
    bob_tag = client.get(f"/api/v1/responses/{response.id}").headers["ETag"]
    first = revise(client, make, response.id, alice, if_match=alice_tag, body="Alice's fix.")
    assert first.status_code == 201
    before = revision_rows(db, response.id)
    second = revise(client, make, response.id, bob, if_match=bob_tag, body="Bob's fix.")
    assert second.status_code == 412, second.text
    assert second.headers["content-type"].startswith("application/problem+json")
    assert revision_rows(db, response.id) == before and len(before) == 2
    shown = client.get(f"/api/v1/responses/{response.id}").json()
    assert shown["body"] == "Alice's fix." and shown["revision_count"] == 2


@pytest.mark.parametrize("tag", ["garbage", '"response-1.zz"', '"response-2"', '"round-1"'])
def test_an_if_match_that_is_not_the_current_revision_is_412(client, make, db, tag):
    rnd, submission = responding_round(make)
    official = make.official(rnd, "CN")
    response = make.response(submission, code="CN", official=official)
    assert revise(client, make, response.id, official, if_match=tag).status_code == 412
    assert len(revision_rows(db, response.id)) == 1


def test_revisions_are_append_only(client, make, db):
    rnd, submission = responding_round(make)
    official = make.official(rnd, "CN")
    response = make.response(submission, code="CN", official=official)
    seen = revision_rows(db, response.id)
    for n in (2, 3, 4):
        r = revise(client, make, response.id, official, body=f"Text {n}.", reason=f"Fix {n}.")
        assert r.status_code == 201, r.text
        now = revision_rows(db, response.id)
        assert [row.number for row in now] == list(range(1, n + 1))
        assert now[: n - 1] == seen  # every earlier row exactly as it was
        seen = now
    assert [row.body for row in seen[1:]] == ["Text 2.", "Text 3.", "Text 4."]


def test_a_revision_can_change_the_kind(client, make):
    rnd, submission = responding_round(make)
    official = make.official(rnd, "CN")
    created = client.post(respond_url(submission), json=HOLDING, headers=make.headers(official))
    rid = created.json()["id"]
    record = f"/api/v1/rounds/{rnd.id}/record"
    assert client.get(record, params={"answered": "true"}).json()["items"] == []

    r = revise(client, make, rid, official, kind="answer", body="He was released.")
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "answer" and r.json()["reason_code"] is None
    items = client.get(record, params={"answered": "true"}).json()["items"]
    assert [i["id"] for i in items] == [str(submission.id)]
    kinds = [x["kind"] for x in client.get(revisions_url(rid)).json()["items"]]
    assert kinds == ["holding", "answer"]


def test_a_revision_keeps_the_kind_when_omitted(client, make):
    rnd, submission = responding_round(make)
    official = make.official(rnd, "CN")
    response = make.response(
        submission, code="CN", kind="declined", reason_code="internal_affairs", official=official
    )
    r = revise(client, make, response.id, official, body="Still a matter for us.")
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "declined" and r.json()["reason_code"] == "internal_affairs"


@pytest.mark.parametrize(
    ("start", "change"),
    [
        ({"kind": "answer"}, {"kind": "declined"}),  # declining needs a reason code
        ({"kind": "answer"}, {"reason_code": "other"}),  # an answer has none
        ({"kind": "declined", "reason_code": "other"}, {"kind": "answer", "reason_code": "other"}),
    ],
)
def test_a_kind_change_keeps_the_reason_code_rule(client, make, db, start, change):
    rnd, submission = responding_round(make)
    official = make.official(rnd, "CN")
    response = make.response(submission, code="CN", official=official, **start)
    r = revise(client, make, response.id, official, **change)
    assert r.status_code == 422, r.text
    assert len(revision_rows(db, response.id)) == 1


# --- assessments --------------------------------------------------------------------


def counts(client, response_id):
    return client.get(f"/api/v1/responses/{response_id}").json()["ratings"]


def test_the_author_rates_and_rerating_replaces(client, make, db):
    rnd = make.round(phase=Phase.accepting_responses)
    author = make.user(Role.activist)
    submission = make.submission(rnd, author=author)
    response = make.response(submission, code="CN")
    r = client.post(
        assess_url(response.id),
        json={"rating": "evasive", "comment": "No place of detention given."},
        headers=make.headers(author),
    )
    assert r.status_code == 201, r.text
    assert r.json()["rating"] == "evasive" and r.json()["response_id"] == str(response.id)
    assert counts(client, response.id) == {
        "satisfactory": 0,
        "partial": 0,
        "evasive": 1,
        "non_responsive": 0,
    }
    again = client.post(
        assess_url(response.id), json={"rating": "partial"}, headers=make.headers(author)
    )
    assert again.status_code == 201, again.text
    assert counts(client, response.id) == {
        "satisfactory": 0,
        "partial": 1,
        "evasive": 0,
        "non_responsive": 0,
    }
    stored = fetch(
        db,
        select(AnswerAssessment.rating).where(AnswerAssessment.response_id == response.id),
    )
    assert stored == ["partial"]

    moderator = make.user(Role.moderator)
    by_moderator = client.post(
        assess_url(response.id), json={"rating": "satisfactory"}, headers=make.headers(moderator)
    )
    assert by_moderator.status_code == 201
    assert counts(client, response.id) == {
        "satisfactory": 1,
        "partial": 1,
        "evasive": 0,
        "non_responsive": 0,
    }


@pytest.mark.parametrize("role", [Role.activist, Role.official])
def test_others_cannot_rate(client, make, db, role):
    rnd, submission = responding_round(make)
    response = make.response(submission, code="CN")
    other = make.official(rnd, "CN") if role == Role.official else make.user(role)
    r = client.post(
        assess_url(response.id), json={"rating": "evasive"}, headers=make.headers(other)
    )
    assert r.status_code == 403, r.text
    assert client.post(assess_url(response.id), json={"rating": "evasive"}).status_code == 401
    assert fetch(db, select(AnswerAssessment.id)) == []


def test_a_rating_must_be_one_of_the_four(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    author = make.user(Role.activist)
    response = make.response(make.submission(rnd, author=author), code="CN")
    r = client.post(assess_url(response.id), json={"rating": "great"}, headers=make.headers(author))
    assert r.status_code == 422


def test_the_public_sees_rating_counts_never_the_raters(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    author = make.user(Role.activist, handle="quiet-author")
    submission = make.submission(rnd, author=author)
    response = make.response(submission, code="CN")
    moderator = make.user(Role.moderator, handle="mod-on-duty")
    for rater, rating in ((author, "non_responsive"), (moderator, "non_responsive")):
        assert (
            client.post(
                assess_url(response.id),
                json={"rating": rating, "comment": "Secret-ish comment."},
                headers=make.headers(rater),
            ).status_code
            == 201
        )
    public = [
        client.get(f"/api/v1/responses/{response.id}"),
        client.get(f"/api/v1/submissions/{submission.id}"),
        client.get(f"/api/v1/rounds/{rnd.id}/record"),
        client.get(revisions_url(response.id)),
    ]
    for r in public:
        assert r.status_code == 200
        for secret in (str(author.id), str(moderator.id), "quiet-author", "mod-on-duty"):
            assert secret not in r.text, (r.url, secret)
        assert "rater" not in r.text and "Secret-ish" not in r.text
    assert public[0].json()["ratings"]["non_responsive"] == 2


def test_a_new_rating_changes_the_public_etag(client, make):
    """A cached copy must not hide new ratings: If-None-Match revalidates to a 200."""
    rnd = make.round(phase=Phase.accepting_responses)
    author = make.user(Role.activist)
    response = make.response(make.submission(rnd, author=author), code="CN")
    url = f"/api/v1/responses/{response.id}"
    first = client.get(url)
    tag = first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 304
    client.post(assess_url(response.id), json={"rating": "evasive"}, headers=make.headers(author))
    fresh = client.get(url, headers={"If-None-Match": tag})
    assert fresh.status_code == 200
    assert fresh.json()["ratings"]["evasive"] == 1 and fresh.headers["ETag"] != tag
    # and a rating does not make an official's If-Match stale: the text did not change
    official = make.official(rnd, "CN")
    assert revise(client, make, response.id, official, if_match=tag).status_code == 201


def test_ratings_of_an_unpublished_submission_are_refused(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    author = make.user(Role.activist)
    submission = make.submission(rnd, author=author)
    response = make.response(submission, code="CN")
    client.post(f"/api/v1/submissions/{submission.id}/withdraw", headers=make.headers(author))
    r = client.post(
        assess_url(response.id), json={"rating": "evasive"}, headers=make.headers(author)
    )
    assert r.status_code == 404
