"""The scorecard of a round: every figure checked exactly against a round built to known
numbers, with publication and response times set to the minute."""

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from models.dialogue import Dialogue
from models.response import AnswerAssessment, Response, ResponseRevision
from models.round import Phase
from models.submission import Status
from models.user import Role

H = timedelta(hours=1)
NO_RATINGS = {"satisfactory": 0, "partial": 0, "evasive": 0, "non_responsive": 0}


def scorecard(client, rnd):
    r = client.get(f"/api/v1/rounds/{rnd.id}/scorecard")
    assert r.status_code == 200, r.text
    return r.json()


def by_code(card):
    return {d["delegation"]: d for d in card["delegations"]}


def add_revision(db, response, *, kind):
    """A later revision straight into the database: the response's current kind changes."""
    official_id = db.exec(
        select(ResponseRevision.official_id).where(ResponseRevision.response_id == response.id)
    ).one()
    db.add(
        ResponseRevision(
            response_id=response.id,
            number=2,
            kind=kind,
            body=f"Now {kind}.",
            language="en",
            reason="Changed.",
            official_id=official_id,
            created_at=response.responded_at + H,
        )
    )
    db.execute(sa.update(Response).where(Response.id == response.id).values(revision_count=2))
    db.commit()


def rate(db, response, rater, rating):
    db.add(AnswerAssessment(response_id=response.id, rater_id=rater.id, rating=rating))
    db.commit()


@pytest.fixture
def known_round(make, db):
    """A concluded round whose every figure is known.

    CN: 7 addressed (published); answers after 2h, 4h and 10h (the 10h one late), one answer
    corrected to a holding reply, one late refusal, two with no reply at all.
    US: 6 addressed; answers after 1h, 2.5h, 6h and 8h, one holding, one with no reply.
    EU: nothing addressed. Withdrawn, removed and pending submissions, and another round's,
    carry responses and ratings that must not count.
    """
    rnd = make.round(phase=Phase.concluded)
    make.delegation(db.get_one(Dialogue, rnd.dialogue_id), "EU")
    due = rnd.responses_due_at
    published = due - 9.5 * H  # so the 10-hour answer lands half an hour after the due date
    author, moderator = make.user(Role.activist), make.user(Role.moderator)

    def sub(addressed_to=("CN",), status=Status.published, in_round=rnd):
        return make.submission(
            in_round,
            author=author,
            status=status,
            addressed_to=addressed_to,
            published_at=published,
        )

    def reply(submission, code, after=None, *, at=None, kind="answer", reason_code=None):
        return make.response(
            submission,
            code=code,
            kind=kind,
            reason_code=reason_code,
            responded_at=at or published + after,
        )

    both = sub(("CN", "US"))
    cn_first = reply(both, "CN", 2 * H)
    reply(sub(), "CN", 4 * H)
    cn_late = reply(sub(), "CN", 10 * H)
    corrected = reply(sub(), "CN", 1 * H)
    add_revision(db, corrected, kind="holding")
    reply(sub(), "CN", at=due + timedelta(minutes=20), kind="declined", reason_code="other")
    sub(), sub()  # no reply from CN

    us_first = reply(both, "US", 1 * H)
    reply(sub(("US",)), "US", 2.5 * H)
    us_third = reply(sub(("US",)), "US", 6 * H)
    reply(sub(("US",)), "US", 8 * H)
    sub(("US",))  # no reply from US
    reply(sub(("US",)), "US", 3 * H, kind="holding")

    rate(db, cn_first, author, "satisfactory")
    rate(db, cn_first, moderator, "evasive")
    rate(db, cn_late, author, "partial")
    rate(db, us_first, moderator, "satisfactory")
    rate(db, us_third, author, "non_responsive")

    # none of these counts
    for status in (Status.withdrawn, Status.removed):
        hidden = sub(("CN", "US"), status=status)
        fast = reply(hidden, "CN", 0.5 * H)
        reply(hidden, "US", at=due + H, kind="declined", reason_code="internal_affairs")
        rate(db, fast, moderator, "non_responsive")
    sub(("CN", "US"), status=Status.pending)
    sub(("CN", "US"), status=Status.rejected)
    elsewhere = make.round(phase=Phase.concluded)
    reply(
        make.submission(elsewhere, addressed_to=("CN",), published_at=published),
        "CN",
        at=elsewhere.responses_due_at + H,
    )
    return rnd


def test_every_figure_of_a_concluded_round(client, known_round):
    card = scorecard(client, known_round)
    assert card["round_id"] == str(known_round.id)
    assert card["due_date_passed"] is True
    assert [d["delegation"] for d in card["delegations"]] == ["CN", "EU", "US"]
    scores = by_code(card)

    assert scores["CN"] == {
        "delegation": "CN",
        "name": "Delegation CN",
        "addressed": 7,
        "answered": 3,
        "holding": 1,
        "declined": 1,
        "unanswered": 2,
        "no_response": 2,
        "late": 2,
        "scheduled": 0,
        "released_late": 0,
        "median_hours_to_answer": 4.0,
        "ratings": {"satisfactory": 1, "partial": 1, "evasive": 1, "non_responsive": 0},
    }
    assert scores["US"] == {
        "delegation": "US",
        "name": "Delegation US",
        "addressed": 6,
        "answered": 4,
        "holding": 1,
        "declined": 0,
        "unanswered": 1,
        "no_response": 1,
        "late": 0,
        "scheduled": 0,
        "released_late": 0,
        "median_hours_to_answer": 4.25,  # the mean of 2.5 and 6
        "ratings": {"satisfactory": 1, "partial": 0, "evasive": 0, "non_responsive": 1},
    }
    assert scores["EU"] == {
        "delegation": "EU",
        "name": "Delegation EU",
        "addressed": 0,
        "answered": 0,
        "holding": 0,
        "declined": 0,
        "unanswered": 0,
        "no_response": 0,
        "late": 0,
        "scheduled": 0,
        "released_late": 0,
        "median_hours_to_answer": None,
        "ratings": NO_RATINGS,
    }


def test_withdrawing_a_submission_takes_it_out_of_the_scorecard(client, make, known_round):
    author = make.user(Role.activist)
    extra = make.submission(
        known_round,
        author=author,
        addressed_to=("CN",),
        published_at=known_round.responses_due_at - 9.5 * H,
    )
    make.response(extra, code="CN", responded_at=extra.published_at + 20 * H)
    cn = by_code(scorecard(client, known_round))["CN"]
    assert (cn["addressed"], cn["answered"], cn["late"]) == (8, 4, 3)
    assert cn["median_hours_to_answer"] == 7.0  # 2, 4, 10, 20

    withdraw = f"/api/v1/submissions/{extra.id}/withdraw"
    assert client.post(withdraw, headers=make.headers(author)).status_code == 200
    cn = by_code(scorecard(client, known_round))["CN"]
    assert (cn["addressed"], cn["answered"], cn["late"]) == (7, 3, 2)
    assert cn["median_hours_to_answer"] == 4.0


def test_a_round_still_accepting_responses_has_no_silence_yet(client, make, db):
    rnd = make.round(phase=Phase.accepting_responses)
    published = rnd.ends_at - 2 * H
    subs = [make.submission(rnd, published_at=published) for _ in range(4)]
    make.response(subs[0], code="CN", responded_at=published + 3 * H)
    make.response(subs[1], code="CN", kind="holding", responded_at=published + 3 * H)
    card = scorecard(client, rnd)
    assert card["due_date_passed"] is False
    cn = by_code(card)["CN"]
    assert (cn["addressed"], cn["answered"], cn["holding"], cn["unanswered"]) == (4, 1, 1, 2)
    assert cn["no_response"] == 0 and cn["late"] == 0
    assert cn["median_hours_to_answer"] == 3.0
    assert by_code(card)["US"]["addressed"] == 0


def test_an_even_number_of_answers_takes_the_mean_of_the_middle_two(client, make):
    rnd = make.round(phase=Phase.concluded)
    published = rnd.responses_due_at - 30 * H
    for minutes in (30, 90, 150, 1200):  # 0.5h, 1.5h, 2.5h, 20h
        submission = make.submission(rnd, published_at=published)
        make.response(submission, code="CN", responded_at=published + timedelta(minutes=minutes))
    assert by_code(scorecard(client, rnd))["CN"]["median_hours_to_answer"] == 2.0


def test_a_round_with_nothing_published(client, make):
    rnd = make.round(phase=Phase.concluded)
    make.submission(rnd, status=Status.pending)
    card = scorecard(client, rnd)
    assert card["due_date_passed"] is True
    for score in card["delegations"]:
        assert score["addressed"] == score["unanswered"] == score["no_response"] == 0
        assert score["median_hours_to_answer"] is None and score["ratings"] == NO_RATINGS


def test_the_scorecard_of_an_unknown_round_is_404(client):
    assert client.get(f"/api/v1/rounds/{uuid.uuid4()}/scorecard").status_code == 404


def test_the_scorecard_is_a_cacheable_public_read(client, make):
    rnd = make.round(phase=Phase.concluded)
    make.submission(rnd)
    first = client.get(f"/api/v1/rounds/{rnd.id}/scorecard")
    tag = first.headers["ETag"]
    assert "public" in first.headers["Cache-Control"]
    assert client.get(first.url, headers={"If-None-Match": tag}).status_code == 304
    make.response(make.submission(rnd), code="CN")
    assert client.get(first.url, headers={"If-None-Match": tag}).status_code == 200
