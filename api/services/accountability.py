"""Cases, benchmarks and commitments on the scorecards, and the trend across a dialogue.
Every figure is a SQL aggregate."""

import uuid

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from api import clock
from api.services import record
from api.views.cases import latest_entry_query
from models.benchmark import Benchmark
from models.case import IMPROVED
from models.commitment import Commitment
from models.dialogue import Dialogue
from models.progress import ProgressAssessment, ProgressStatus, Side
from models.response import Ratings
from models.round import Round
from models.submission import Status, Submission


class CaseFigures(BaseModel):
    raised: int = Field(description="Distinct cases raised by published submissions this round.")
    new: int = Field(description="Raised for the first time in this dialogue.")
    repeat: int = Field(description="Raised in an earlier round of the dialogue too.")
    repeat_unimproved: int = Field(
        description="Repeat cases whose person is still not released or in exile."
    )


class StateCounts(BaseModel):
    not_started: int = 0
    in_progress: int = 0
    met: int = 0
    not_met: int = 0
    contested: int = Field(default=0, description="Both sides assessed, and they disagree.")


class CommitmentCounts(StateCounts):
    overdue: int = Field(default=0, description="Past the due date and not met.")


class RoundAccountability(BaseModel):
    cases: CaseFigures
    benchmarks: StateCounts
    commitments: CommitmentCounts


class RoundScorecard(record.Scorecard):
    cases: CaseFigures
    benchmarks: StateCounts
    commitments: CommitmentCounts


class TrendPoint(BaseModel):
    round_id: uuid.UUID
    number: int
    title: str
    addressed: int
    answer_rate: float | None = Field(description="Answered / addressed, over every delegation.")
    no_response_rate: float | None = Field(
        description="No response after the due date / addressed."
    )
    ratings: Ratings
    scheduled: int = Field(
        default=0, description="Responses held for a joint release, counted as holding."
    )
    released_late: int = Field(
        default=0, description="Responses held for a joint release and released after the due date."
    )
    repeat_cases_unresolved: int
    benchmarks_met: int
    benchmarks: int


class DialogueScorecard(BaseModel):
    dialogue: str
    rounds: list[TrendPoint]


def _case_figures(session: Session, *, rnd: Round) -> CaseFigures:
    raised_here = (
        select(Submission.case_id)
        .where(
            Submission.round_id == rnd.id,
            Submission.status == Status.published,
            col(Submission.case_id).is_not(None),
        )
        .distinct()
        .subquery()
    )
    earlier = (
        sa.select(sa.literal(1))
        .select_from(Submission)
        .join(Round, col(Round.id) == col(Submission.round_id))
        .where(
            col(Submission.case_id) == raised_here.c.case_id,
            col(Submission.status) == Status.published,
            col(Round.dialogue_id) == rnd.dialogue_id,
            col(Round.starts_at) < rnd.starts_at,
        )
        .exists()
    )
    latest = latest_entry_query()
    improved = sa.case((latest.c.status.in_(sorted(IMPROVED)), 1), else_=0)
    repeat = sa.case((earlier, 1), else_=0)
    row = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(repeat), 0),
            sa.func.coalesce(sa.func.sum(sa.case((earlier & (improved == 0), 1), else_=0)), 0),
        )
        .select_from(raised_here)
        .outerjoin(latest, latest.c.case_id == raised_here.c.case_id)
    ).one()
    raised, repeats, unimproved = (int(v) for v in row)
    return CaseFigures(
        raised=raised, new=raised - repeats, repeat=repeats, repeat_unimproved=unimproved
    )


def _latest_by_side(target_type: str, side: Side) -> sa.Subquery:
    ranked = (
        sa.select(
            col(ProgressAssessment.target_id).label("target_id"),
            col(ProgressAssessment.status).label("status"),
            sa.func.row_number()
            .over(
                partition_by=col(ProgressAssessment.target_id),
                order_by=(
                    col(ProgressAssessment.assessed_on).desc(),
                    col(ProgressAssessment.created_at).desc(),
                    col(ProgressAssessment.id).desc(),
                ),
            )
            .label("n"),
        )
        .where(
            col(ProgressAssessment.target_type) == target_type,
            col(ProgressAssessment.side) == side,
        )
        .subquery()
    )
    return sa.select(ranked.c.target_id, ranked.c.status).where(ranked.c.n == 1).subquery()


def _state_counts(
    session: Session, *, target_type: str, ids: sa.Select, overdue: sa.ColumnElement | None = None
) -> dict[str, int]:  # type: ignore[type-arg]
    targets = ids.subquery()
    civil = _latest_by_side(target_type, Side.civil_society)
    official = _latest_by_side(target_type, Side.delegation)
    state = sa.func.coalesce(civil.c.status, ProgressStatus.not_started.value)
    columns = [
        sa.func.coalesce(sa.func.sum(sa.case((state == s.value, 1), else_=0)), 0).label(s.value)
        for s in ProgressStatus
    ]
    columns.append(
        sa.func.coalesce(
            sa.func.sum(
                sa.case(
                    (
                        civil.c.status.is_not(None)
                        & official.c.status.is_not(None)
                        & (civil.c.status != official.c.status),
                        1,
                    ),
                    else_=0,
                )
            ),
            0,
        ).label("contested")
    )
    if overdue is not None:
        columns.append(
            sa.func.coalesce(
                sa.func.sum(
                    sa.case(
                        ((targets.c.due_on < overdue) & (state != ProgressStatus.met.value), 1),
                        else_=0,
                    )
                ),
                0,
            ).label("overdue")
        )
    row = session.execute(
        sa.select(*columns)
        .select_from(targets)
        .outerjoin(civil, civil.c.target_id == targets.c.id)
        .outerjoin(official, official.c.target_id == targets.c.id)
    ).one()
    return {key: int(value) for key, value in row._mapping.items()}


def round_accountability(session: Session, *, rnd: Round) -> RoundAccountability:
    benchmarks = _state_counts(
        session,
        target_type="benchmark",
        ids=sa.select(col(Benchmark.id).label("id")).where(col(Benchmark.round_id) == rnd.id),
    )
    commitments = _state_counts(
        session,
        target_type="commitment",
        ids=sa.select(col(Commitment.id).label("id"), col(Commitment.due_on).label("due_on")).where(
            col(Commitment.round_id) == rnd.id
        ),
        overdue=sa.literal(clock.now().date()),
    )
    return RoundAccountability(
        cases=_case_figures(session, rnd=rnd),
        benchmarks=StateCounts(**benchmarks),
        commitments=CommitmentCounts(**commitments),
    )


def round_scorecard(session: Session, *, rnd: Round) -> RoundScorecard:
    base = record.scorecard(session, rnd=rnd)
    extra = round_accountability(session, rnd=rnd)
    return RoundScorecard(**base.model_dump(), **extra.model_dump())


def dialogue_scorecard(session: Session, *, dialogue: Dialogue) -> DialogueScorecard:
    points = []
    for rnd in session.exec(
        select(Round).where(Round.dialogue_id == dialogue.id).order_by(col(Round.number))
    ):
        card = round_scorecard(session, rnd=rnd)
        addressed = sum(d.addressed for d in card.delegations)
        answered = sum(d.answered for d in card.delegations)
        silent = sum(d.no_response for d in card.delegations)
        ratings = Ratings(
            **{
                name: sum(getattr(d.ratings, name) for d in card.delegations)
                for name in Ratings.model_fields
            }
        )
        points.append(
            TrendPoint(
                round_id=rnd.id,
                number=rnd.number,
                title=rnd.title,
                addressed=addressed,
                answer_rate=round(answered / addressed, 4) if addressed else None,
                no_response_rate=round(silent / addressed, 4) if addressed else None,
                ratings=ratings,
                scheduled=sum(d.scheduled for d in card.delegations),
                released_late=sum(d.released_late for d in card.delegations),
                repeat_cases_unresolved=card.cases.repeat_unimproved,
                benchmarks_met=card.benchmarks.met,
                benchmarks=sum(getattr(card.benchmarks, s.value) for s in ProgressStatus),
            )
        )
    return DialogueScorecard(dialogue=dialogue.slug, rounds=points)
