"""The accountability scorecards, checked figure by figure against a known history.

One dialogue, three rounds: Washington 2012 and Kunming 2013 (concluded), and a third
round now accepting responses. Cases are raised round after round; some people were
released or exiled between rounds, some are still held; responses of every kind, ratings,
benchmarks and commitments with assessments from both sides. Withdrawn, removed, pending
and rejected submissions, and another dialogue, carry data that must not count.

Every expected number below is worked out by hand in the comments beside it.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from models.benchmark import Benchmark
from models.dialogue import Dialogue
from models.response import AnswerAssessment
from models.round import Phase, Round
from models.submission import Status, Submission
from models.user import Role, User
from tests.factories import Factory, window

API = "/api/v1"
H = timedelta(hours=1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def ratings(satisfactory=0, partial=0, evasive=0, non_responsive=0) -> dict[str, int]:
    return {
        "satisfactory": satisfactory,
        "partial": partial,
        "evasive": evasive,
        "non_responsive": non_responsive,
    }


class History:
    """Builds the history through the API where it can (cases, timelines, ratings,
    commitments, assessments) and straight into the database where the API's clock rules
    would stand in the way (past rounds' submissions, responses and benchmarks)."""

    def __init__(self, client, make: Factory, db: Session) -> None:
        self.client, self.make, self.db = client, make, db
        self.author = make.user(Role.activist)
        self.moderator = make.user(Role.moderator)

    def dialogue(self, slug: str) -> Dialogue:
        dialogue = self.make.dialogue(slug)
        self.make.delegation(dialogue, "CN")
        self.make.delegation(dialogue, "US")
        return dialogue

    def round(self, dialogue: Dialogue, number: int, title: str, **instants: datetime) -> Round:
        rnd = Round(dialogue_id=dialogue.id, number=number, title=title, **instants)
        self.db.add(rnd)
        self.db.commit()
        return rnd

    def post(self, path: str, body: dict[str, Any], user: User, status: int = 201) -> Any:
        r = self.client.post(f"{API}{path}", json=body, headers=self.make.headers(user))
        assert r.status_code == status, f"{path}: {r.text}"
        return r.json()

    def case(self, name: str, status: str, since: str, *later: tuple[str, str]) -> str:
        """A published case, recorded with `status` since `since`, then timeline entries."""
        body = {
            "name": name,
            "name_consent": True,
            "status": status,
            "status_date": since,
            "summary": name,
        }
        case_id = self.post("/cases", body, self.author)["id"]
        decision = {"decision": "published"}
        self.post(f"/cases/{case_id}/moderation", decision, self.moderator, status=200)
        for entry_status, on in later:
            entry = {"status": entry_status, "event_date": on, "note": f"{entry_status}."}
            self.post(f"/cases/{case_id}/timeline", entry, self.moderator)
        return case_id

    def submission(
        self,
        rnd: Round,
        to: tuple[str, ...],
        case: str | None = None,
        *,
        published_at: datetime,
        status: Status = Status.published,
    ) -> Submission:
        s = self.make.submission(
            rnd,
            author=self.author,
            status=status,
            kind="case" if case else "concern",
            addressed_to=to,
            published_at=published_at,
        )
        if case is not None:
            s.case_id = uuid.UUID(case)
        if status in (Status.withdrawn, Status.removed):
            s.published_at = published_at  # taken down after publication
        self.db.add(s)
        self.db.commit()
        return s

    def reply(
        self,
        s: Submission,
        code: str,
        kind: str = "answer",
        *,
        after: timedelta | None = None,
        on: datetime | None = None,
        reason_code: str | None = None,
    ):
        responded_at = on if on is not None else s.published_at + after  # type: ignore[operator]
        return self.make.response(
            s, code=code, kind=kind, reason_code=reason_code, responded_at=responded_at
        )

    def rate(self, response, rating: str, *, by_moderator: bool = False) -> None:
        rater = self.moderator if by_moderator else self.author
        self.post(f"/responses/{response.id}/assessments", {"rating": rating}, rater)

    def benchmark(self, rnd: Round, code: str, title: str) -> str:
        delegation = self.make.delegation_of(rnd, code)
        b = Benchmark(
            round_id=rnd.id,
            delegation_id=delegation.id,
            title=title,
            adopted_by_id=self.moderator.id,
            created_at=rnd.submissions_open_at,
        )
        self.db.add(b)
        self.db.commit()
        return str(b.id)

    def commitment(self, rnd: Round, by: User, due_on: str | None, **extra: Any) -> str:
        body = {"text": "Will look into it.", "due_on": due_on} | extra
        return self.post(f"/rounds/{rnd.id}/commitments", body, by)["id"]

    def assess(self, kind: str, target: str, by: User, status: str, on: str) -> None:
        body = {"status": status, "note": f"{status} as of {on}.", "assessed_on": on}
        self.post(f"/{kind}/{target}/assessments", body, by)


@pytest.fixture
def history(client, make, db):
    h = History(client, make, db)
    dialogue = h.dialogue("us-china-hrd")
    r1 = h.round(
        dialogue,
        1,
        "Washington 2012",
        submissions_open_at=at("2012-03-01T00:00"),
        submissions_close_at=at("2012-06-01T00:00"),
        starts_at=at("2012-07-24T09:00"),
        ends_at=at("2012-07-25T17:00"),
        responses_due_at=at("2012-09-01T00:00"),
    )
    r2 = h.round(
        dialogue,
        2,
        "Kunming 2013",
        submissions_open_at=at("2013-03-01T00:00"),
        submissions_close_at=at("2013-06-01T00:00"),
        starts_at=at("2013-07-30T09:00"),
        ends_at=at("2013-07-31T17:00"),
        responses_due_at=at("2013-09-01T00:00"),
    )
    r3 = h.round(dialogue, 3, "Round 3", **window(Phase.accepting_responses))
    cn_official = make.official(r1, "CN")
    us_official = make.official(r1, "US")
    mod = h.moderator

    # --- the people --------------------------------------------------------------------
    A = h.case("Case A", "detained", "2011-06-01")  # still held
    B = h.case("Case B", "detained", "2011-09-01", ("released", "2014-03-01"))  # after r2
    C = h.case("Case C", "imprisoned", "2012-12-01", ("exiled", "2015-05-01"))  # after r2
    D = h.case("Case D", "disappeared", "2010-01-01")  # still disappeared
    E = h.case("Case E", "detained", "2020-01-01")
    F = h.case("Case F", "detained", "2011-01-01", ("released", "2012-08-15"))  # after r1
    G = h.case("Case G", "detained", "2013-05-01")
    # released, then taken again; the entries are posted out of date order
    H_ = h.case(
        "Case H", "detained", "2011-03-01", ("detained", "2013-01-15"), ("released", "2012-06-01")
    )
    X = h.case("Case X", "detained", "2010-05-05")

    # --- another dialogue, earlier: raises X, has its own benchmark and commitment ---------
    other = h.dialogue("eu-china-hrd")
    r0 = h.round(
        other,
        1,
        "Brussels 2011",
        submissions_open_at=at("2011-03-01T00:00"),
        submissions_close_at=at("2011-04-01T00:00"),
        starts_at=at("2011-05-01T09:00"),
        ends_at=at("2011-05-02T17:00"),
        responses_due_at=at("2011-06-01T00:00"),
    )
    elsewhere = h.submission(r0, ("CN",), X, published_at=at("2011-04-10T00:00"))
    h.rate(h.reply(elsewhere, "CN", after=H), "satisfactory")
    h.assess("benchmarks", h.benchmark(r0, "CN", "Elsewhere"), mod, "met", "2011-07-01")
    h.commitment(r0, mod, "2011-12-31", delegation="CN")  # overdue, elsewhere

    # --- round 1: published 2012-07-01, responses due 2012-09-01 --------------------------
    P1 = at("2012-07-01T00:00")
    s1 = h.submission(r1, ("CN", "US"), published_at=P1)
    s1_cn = h.reply(s1, "CN", after=2 * H)
    s1_us = h.reply(s1, "US", after=4 * H)
    s2 = h.submission(r1, ("CN",), A, published_at=P1)
    s2_cn = h.reply(s2, "CN", "declined", after=6 * H, reason_code="internal_affairs")
    s3 = h.submission(r1, ("CN",), B, published_at=P1)
    h.reply(s3, "CN", "holding", after=1 * H)
    h.submission(r1, ("CN",), D, published_at=P1)  # silence
    s5 = h.submission(r1, ("CN",), F, published_at=P1)
    h.reply(s5, "CN", after=10 * H)
    s6 = h.submission(r1, ("CN", "US"), F, published_at=P1)  # F a second time
    h.reply(s6, "US", after=1 * H)
    s7 = h.submission(r1, ("CN",), H_, published_at=P1)
    s7_cn = h.reply(s7, "CN", on=at("2012-09-02T00:00"))  # late: 63 days = 1512 hours
    h.submission(r1, ("US",), X, published_at=P1)  # silence
    h.rate(s1_cn, "satisfactory")
    h.rate(s1_cn, "partial", by_moderator=True)
    h.rate(s2_cn, "non_responsive")
    h.rate(s1_us, "satisfactory")
    h.rate(s7_cn, "evasive", by_moderator=True)
    # not counted: a withdrawn submission raising C (answered and rated), a pending one
    w1 = h.submission(r1, ("CN",), C, published_at=P1, status=Status.withdrawn)
    noise_rating(db, h.reply(w1, "CN", after=H / 2), mod, "non_responsive")
    h.submission(r1, ("CN", "US"), published_at=P1, status=Status.pending)

    # --- round 2: published 2013-07-01, responses due 2013-09-01 --------------------------
    P2 = at("2013-07-01T00:00")
    t1 = h.submission(r2, ("CN",), published_at=P2)
    t1_cn = h.reply(t1, "CN", after=3 * H)
    t2 = h.submission(r2, ("CN", "US"), A, published_at=P2)
    t2_cn = h.reply(t2, "CN", "declined", after=5 * H, reason_code="ongoing_judicial_proceedings")
    h.reply(t2, "US", "holding", on=at("2013-09-02T00:00"))  # late
    t3 = h.submission(r2, ("CN",), B, published_at=P2)
    t3_cn = h.reply(t3, "CN", after=7 * H)
    h.submission(r2, ("CN",), C, published_at=P2)  # silence
    h.submission(r2, ("CN",), H_, published_at=P2)  # silence
    t6 = h.submission(r2, ("US",), published_at=P2)
    t6_us = h.reply(t6, "US", after=8 * H)
    h.rate(t1_cn, "evasive")
    h.rate(t2_cn, "non_responsive")
    h.rate(t2_cn, "non_responsive", by_moderator=True)
    h.rate(t3_cn, "satisfactory")
    h.rate(t6_us, "partial")
    # not counted: a withdrawn submission raising G, a removed one raising E
    w2 = h.submission(r2, ("CN",), G, published_at=P2, status=Status.withdrawn)
    h.reply(w2, "CN", after=H)
    rm2 = h.submission(r2, ("CN", "US"), E, published_at=P2, status=Status.removed)
    noise_rating(db, h.reply(rm2, "US", after=2 * H), h.author, "satisfactory")

    # --- round 3: accepting responses now ------------------------------------------------
    P3 = r3.starts_at - H
    u1 = h.submission(r3, ("CN",), A, published_at=P3)
    u1_cn = h.reply(u1, "CN", "declined", after=H, reason_code="internal_affairs")
    u2 = h.submission(r3, ("CN",), C, published_at=P3)
    u2_cn = h.reply(u2, "CN", after=2 * H)
    h.submission(r3, ("CN",), D, published_at=P3)  # no response yet
    u4 = h.submission(r3, ("CN", "US"), E, published_at=P3)
    u4_us = h.reply(u4, "US", after=H)
    u5 = h.submission(r3, ("CN",), G, published_at=P3)
    h.reply(u5, "CN", "holding", after=H)
    h.submission(r3, ("US",), published_at=P3)  # no response yet
    h.rate(u1_cn, "non_responsive")
    h.rate(u2_cn, "satisfactory", by_moderator=True)
    h.rate(u4_us, "partial")
    # not counted: a pending submission raising A, a rejected one raising B
    h.submission(r3, ("CN", "US"), A, published_at=P3, status=Status.pending)
    h.submission(r3, ("CN",), B, published_at=P3, status=Status.rejected)

    # --- benchmarks (adopted before each session) and their assessments ------------------
    b1 = h.benchmark(r1, "CN", "Release A")
    h.assess("benchmarks", b1, mod, "in_progress", "2012-08-01")
    h.assess("benchmarks", b1, mod, "not_met", "2012-12-01")
    h.assess("benchmarks", b1, cn_official, "not_met", "2012-12-05")  # agree: not_met
    b2 = h.benchmark(r1, "CN", "A UN rapporteur visits Tibet")
    h.assess("benchmarks", b2, mod, "met", "2012-10-01")
    h.assess("benchmarks", b2, cn_official, "met", "2012-10-02")  # agree: met
    h.benchmark(r1, "US", "Answer every case submission")  # never assessed: not_started

    b4 = h.benchmark(r2, "CN", "Release B")
    h.assess("benchmarks", b4, mod, "met", "2014-03-05")
    h.assess("benchmarks", b4, cn_official, "met", "2014-03-06")  # agree: met
    b5 = h.benchmark(r2, "CN", "Release H")
    h.assess("benchmarks", b5, mod, "not_met", "2013-12-01")
    h.assess("benchmarks", b5, cn_official, "in_progress", "2013-12-02")  # contested
    b6 = h.benchmark(r2, "CN", "Family visits for D")
    h.assess("benchmarks", b6, mod, "in_progress", "2013-10-01")  # one side only
    b7 = h.benchmark(r2, "US", "Publish the dialogue's agenda")
    h.assess("benchmarks", b7, us_official, "met", "2013-10-01")  # not_started for civil society

    b8 = h.benchmark(r3, "CN", "Release A, again")
    h.assess("benchmarks", b8, mod, "met", "2020-01-01")
    h.assess("benchmarks", b8, mod, "not_met", "2021-01-01")  # civil society's latest
    h.assess("benchmarks", b8, cn_official, "met", "2021-01-02")  # contested
    b9 = h.benchmark(r3, "CN", "Access for C's lawyer")
    h.assess("benchmarks", b9, mod, "met", "2021-02-01")
    h.assess("benchmarks", b9, cn_official, "met", "2021-03-01")
    h.assess("benchmarks", b9, cn_official, "not_met", "2021-01-01")  # posted last, dated first
    b10 = h.benchmark(r3, "CN", "Reopen G's case")
    h.assess("benchmarks", b10, mod, "met", "2021-02-01")
    h.assess("benchmarks", b10, cn_official, "in_progress", "2021-02-02")  # contested

    # --- commitments and their assessments --------------------------------------------
    c1 = h.commitment(r1, cn_official, "2013-01-01")
    h.assess("commitments", c1, mod, "met", "2012-12-20")
    h.assess("commitments", c1, cn_official, "met", "2012-12-21")
    c2 = h.commitment(r1, mod, "2013-06-01", delegation="CN")
    h.assess("commitments", c2, mod, "not_met", "2013-06-10")
    h.assess("commitments", c2, cn_official, "met", "2013-06-11")  # contested
    h.commitment(r1, us_official, None)  # no due date, never assessed

    c4 = h.commitment(r2, cn_official, "2014-01-01")
    h.assess("commitments", c4, mod, "in_progress", "2013-12-01")
    h.assess("commitments", c4, cn_official, "in_progress", "2013-12-02")
    c5 = h.commitment(r2, mod, "2014-06-01", delegation="US")
    h.assess("commitments", c5, us_official, "met", "2014-05-01")  # its own word only

    h.commitment(r3, cn_official, day(365))
    c7 = h.commitment(r3, cn_official, day(-1))
    h.assess("commitments", c7, mod, "met", day(-2))
    c8 = h.commitment(r3, us_official, day(0))
    h.assess("commitments", c8, mod, "in_progress", day(0))
    h.assess("commitments", c8, us_official, "not_met", day(0))  # contested

    db.commit()
    return {"dialogue": dialogue, "rounds": (r1, r2, r3)}


def noise_rating(db: Session, response, rater: User, rating: str) -> None:
    """A rating straight into the database, on a response the API would not let be rated."""
    db.add(AnswerAssessment(response_id=response.id, rater_id=rater.id, rating=rating))
    db.commit()


def round_card(client, rnd: Round) -> dict[str, Any]:
    r = client.get(f"{API}/rounds/{rnd.id}/scorecard")
    assert r.status_code == 200, r.text
    return r.json()


def delegation(
    code: str,
    *,
    addressed: int,
    answered: int,
    holding: int,
    declined: int,
    unanswered: int,
    no_response: int,
    late: int,
    median: float | None,
    rated: dict[str, int],
) -> dict[str, Any]:
    return {
        "delegation": code,
        "name": f"Delegation {code}",
        "addressed": addressed,
        "answered": answered,
        "holding": holding,
        "declined": declined,
        "unanswered": unanswered,
        "no_response": no_response,
        "late": late,
        "scheduled": 0,
        "released_late": 0,
        "median_hours_to_answer": median,
        "ratings": rated,
    }


def check_round(card: dict[str, Any], rnd: Round, due_passed: bool) -> None:
    assert card["round_id"] == str(rnd.id)
    assert datetime.fromisoformat(card["responses_due_at"]) == rnd.responses_due_at
    assert card["due_date_passed"] is due_passed
    assert set(card) == {
        "round_id",
        "responses_due_at",
        "due_date_passed",
        "delegations",
        "cases",
        "benchmarks",
        "commitments",
    }


def test_round_1_scorecard(client, history):
    r1 = history["rounds"][0]
    card = round_card(client, r1)
    check_round(card, r1, due_passed=True)
    assert card["delegations"] == [
        # s1..s7; answers s1 (2h), s5 (10h), s7 (1512h, late); s3 holding; s2 declined;
        # s4, s6 silent. Median of 2, 10, 1512 = 10.
        delegation(
            "CN",
            addressed=7,
            answered=3,
            holding=1,
            declined=1,
            unanswered=2,
            no_response=2,
            late=1,
            median=10.0,
            rated=ratings(satisfactory=1, partial=1, evasive=1, non_responsive=1),
        ),
        # s1 (4h), s6 (1h) answered, s8 silent. Median of 1 and 4 = 2.5.
        delegation(
            "US",
            addressed=3,
            answered=2,
            holding=0,
            declined=0,
            unanswered=1,
            no_response=1,
            late=0,
            median=2.5,
            rated=ratings(satisfactory=1),
        ),
    ]
    # A, B, D, F (twice), H, X: all new here (X was raised before only in another
    # dialogue; C only by a withdrawn submission, which does not count)
    assert card["cases"] == {"raised": 6, "new": 6, "repeat": 0, "repeat_unimproved": 0}
    # b1 not_met (both agree), b2 met (both agree), the US one never assessed
    assert card["benchmarks"] == {
        "not_started": 1,
        "in_progress": 0,
        "met": 1,
        "not_met": 1,
        "contested": 0,
    }
    # c1 met on time; c2 not_met (the delegation says met: contested) and overdue;
    # the US one without a due date, never assessed
    assert card["commitments"] == {
        "not_started": 1,
        "in_progress": 0,
        "met": 1,
        "not_met": 1,
        "contested": 1,
        "overdue": 1,
    }


def test_round_2_scorecard(client, history):
    r2 = history["rounds"][1]
    card = round_card(client, r2)
    check_round(card, r2, due_passed=True)
    assert card["delegations"] == [
        # t1 (3h), t3 (7h) answered; t2 declined; t4, t5 silent. Median 5.
        delegation(
            "CN",
            addressed=5,
            answered=2,
            holding=0,
            declined=1,
            unanswered=2,
            no_response=2,
            late=0,
            median=5.0,
            rated=ratings(satisfactory=1, evasive=1, non_responsive=2),
        ),
        # t6 answered (8h); t2 a late holding reply.
        delegation(
            "US",
            addressed=2,
            answered=1,
            holding=1,
            declined=0,
            unanswered=0,
            no_response=0,
            late=1,
            median=8.0,
            rated=ratings(partial=1),
        ),
    ]
    # raised: A, B, C, H (G withdrawn, E removed: not counted). Repeat: A, B, H (round 1);
    # C is new (round 1 raised it only in a withdrawn submission). Unimproved: A (detained)
    # and H (released in 2012, detained again in 2013); B was released in 2014 and the
    # figure reads each person's status now, so B counts as improved.
    assert card["cases"] == {"raised": 4, "new": 1, "repeat": 3, "repeat_unimproved": 2}
    # b4 met; b5 not_met, contested (delegation: in_progress); b6 in_progress (one side);
    # b7 not_started for civil society (only the delegation says met: not contested)
    assert card["benchmarks"] == {
        "not_started": 1,
        "in_progress": 1,
        "met": 1,
        "not_met": 1,
        "contested": 1,
    }
    # c4 in_progress on both sides, overdue since 2014-01-01; c5 only the delegation
    # says met: not_started for civil society, and overdue since 2014-06-01
    assert card["commitments"] == {
        "not_started": 1,
        "in_progress": 1,
        "met": 0,
        "not_met": 0,
        "contested": 0,
        "overdue": 2,
    }


def test_round_3_scorecard(client, history):
    r3 = history["rounds"][2]
    card = round_card(client, r3)
    check_round(card, r3, due_passed=False)
    assert card["delegations"] == [
        # u2 answered (2h); u5 holding; u1 declined; u3, u4 unanswered but not yet silent
        delegation(
            "CN",
            addressed=5,
            answered=1,
            holding=1,
            declined=1,
            unanswered=2,
            no_response=0,
            late=0,
            median=2.0,
            rated=ratings(satisfactory=1, non_responsive=1),
        ),
        # u4 answered (1h); u6 unanswered
        delegation(
            "US",
            addressed=2,
            answered=1,
            holding=0,
            declined=0,
            unanswered=1,
            no_response=0,
            late=0,
            median=1.0,
            rated=ratings(partial=1),
        ),
    ]
    # raised: A, C, D, E, G (pending A and rejected B not counted). Repeat: A (rounds 1
    # and 2), C (round 2), D (round 1); E and G are new (earlier only removed or
    # withdrawn). Unimproved: A (detained), D (disappeared); C is in exile.
    assert card["cases"] == {"raised": 5, "new": 2, "repeat": 3, "repeat_unimproved": 2}
    # b8 not_met (civil society's latest), contested; b9 met, the delegation's latest by
    # date is met too; b10 met, contested (delegation: in_progress)
    assert card["benchmarks"] == {
        "not_started": 0,
        "in_progress": 0,
        "met": 2,
        "not_met": 1,
        "contested": 2,
    }
    # c6 due in a year, not started; c7 met a day before its due date; c8 due today:
    # in_progress, contested, not yet overdue
    assert card["commitments"] == {
        "not_started": 1,
        "in_progress": 1,
        "met": 1,
        "not_met": 0,
        "contested": 1,
        "overdue": 0,
    }


def test_dialogue_scorecard_trend(client, history):
    r1, r2, r3 = history["rounds"]
    r = client.get(f"{API}/dialogues/us-china-hrd/scorecard")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "dialogue": "us-china-hrd",
        "rounds": [
            {
                "round_id": str(r1.id),
                "number": 1,
                "title": "Washington 2012",
                "addressed": 10,  # 7 CN + 3 US
                "answer_rate": 0.5,  # (3 + 2) / 10
                "no_response_rate": 0.3,  # (2 + 1) / 10
                "ratings": ratings(satisfactory=2, partial=1, evasive=1, non_responsive=1),
                "scheduled": 0,
                "released_late": 0,
                "repeat_cases_unresolved": 0,
                "benchmarks_met": 1,
                "benchmarks": 3,
            },
            {
                "round_id": str(r2.id),
                "number": 2,
                "title": "Kunming 2013",
                "addressed": 7,  # 5 CN + 2 US
                "answer_rate": 0.4286,  # (2 + 1) / 7
                "no_response_rate": 0.2857,  # (2 + 0) / 7
                "ratings": ratings(satisfactory=1, partial=1, evasive=1, non_responsive=2),
                "scheduled": 0,
                "released_late": 0,
                "repeat_cases_unresolved": 2,
                "benchmarks_met": 1,
                "benchmarks": 4,
            },
            {
                "round_id": str(r3.id),
                "number": 3,
                "title": "Round 3",
                "addressed": 7,  # 5 CN + 2 US
                "answer_rate": 0.2857,  # (1 + 1) / 7
                "no_response_rate": 0.0,  # responses are not due yet
                "ratings": ratings(satisfactory=1, partial=1, non_responsive=1),
                "scheduled": 0,
                "released_late": 0,
                "repeat_cases_unresolved": 2,
                "benchmarks_met": 2,
                "benchmarks": 3,
            },
        ],
    }


def test_the_case_history_a_journalist_reads(client, history):
    """Which cases were raised in more than one round, and what happened to each person."""
    r1, r2, r3 = history["rounds"]
    items = client.get(f"{API}/cases", params={"limit": 100}).json()["items"]
    repeated = {
        c["name"]: (c["rounds_raised"], c["status"]) for c in items if c["rounds_raised"] > 1
    }
    assert repeated == {
        "Case A": (3, "detained"),
        "Case B": (2, "released"),
        "Case C": (2, "exiled"),
        "Case D": (2, "disappeared"),
        "Case H": (2, "detained"),
        "Case X": (2, "detained"),  # once in each dialogue
    }
    case_a = next(c for c in items if c["name"] == "Case A")
    detail = client.get(f"{API}/cases/{case_a['id']}").json()
    assert [r["round_id"] for r in detail["raised_in"]] == [str(r1.id), str(r2.id), str(r3.id)]
    case_h = next(c for c in items if c["name"] == "Case H")
    detail = client.get(f"{API}/cases/{case_h['id']}").json()
    assert [(e["event_date"], e["status"]) for e in detail["timeline"]] == [
        ("2011-03-01", "detained"),
        ("2012-06-01", "released"),
        ("2013-01-15", "detained"),
    ]


def test_a_new_release_changes_the_figures_at_once(client, make, history):
    """Releasing A (a repeat case in rounds 2 and 3) moves it out of the unresolved count."""
    _, r2, r3 = history["rounds"]
    items = client.get(f"{API}/cases", params={"q": "case a"}).json()["items"]
    [case_a] = items
    moderator = make.user(Role.moderator)
    r = client.post(
        f"{API}/cases/{case_a['id']}/timeline",
        json={"status": "released", "event_date": day(0), "note": "Freed."},
        headers=make.headers(moderator),
    )
    assert r.status_code == 201, r.text
    assert round_card(client, r2)["cases"]["repeat_unimproved"] == 1  # H
    assert round_card(client, r3)["cases"]["repeat_unimproved"] == 1  # D
    trend = client.get(f"{API}/dialogues/us-china-hrd/scorecard").json()["rounds"]
    assert [p["repeat_cases_unresolved"] for p in trend] == [0, 1, 1]


def test_scorecards_of_unknown_rounds_and_dialogues_are_404(client):
    assert client.get(f"{API}/rounds/{uuid.uuid4()}/scorecard").status_code == 404
    assert client.get(f"{API}/dialogues/no-such-dialogue/scorecard").status_code == 404


def test_an_empty_dialogue_has_an_empty_trend(client, make):
    dialogue = make.dialogue("empty")
    make.delegation(dialogue, "CN")
    r = client.get(f"{API}/dialogues/empty/scorecard")
    assert r.status_code == 200
    assert r.json() == {"dialogue": "empty", "rounds": []}
