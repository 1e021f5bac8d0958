"""Benchmarks (set before a round), commitments (made in it), and the dated assessments
of progress on both, from civil society and from the delegation concerned."""

import uuid
from typing import Any

from sqlmodel import Session, col, select

from api import clock
from api.errors import Forbidden, NotFound, Unprocessable
from api.pagination import keyset_page
from api.permissions import Permission, can
from api.services import audit, events, rounds, themes
from api.views import benchmarks, commitments
from models.benchmark import (
    Benchmark,
    BenchmarkCase,
    BenchmarkCreate,
    BenchmarkPublic,
    BenchmarkTheme,
)
from models.case import Case, CaseReview
from models.commitment import Commitment, CommitmentCreate, CommitmentLink, CommitmentPublic
from models.dialogue import Delegation
from models.progress import (
    ProgressAssessment,
    ProgressCreate,
    Side,
)
from models.round import Phase, Round
from models.submission import Status, Submission
from models.user import Role, User

BEFORE_SESSION = (Phase.upcoming, Phase.accepting_submissions, Phase.awaiting_session)
FROM_SESSION = (Phase.in_session, Phase.accepting_responses, Phase.concluded)


def _delegation(session: Session, *, rnd: Round, code: str) -> Delegation:
    delegation = session.exec(
        select(Delegation).where(Delegation.dialogue_id == rnd.dialogue_id, Delegation.code == code)
    ).first()
    if delegation is None:
        raise Unprocessable(f"Not a delegation of this dialogue: {code}.")
    return delegation


def _require_published_cases(session: Session, ids: list[uuid.UUID]) -> None:
    if not ids:
        return
    found = set(
        session.exec(
            select(Case.id).where(col(Case.id).in_(ids), Case.review == CaseReview.published)
        )
    )
    missing = sorted(str(i) for i in set(ids) - found)
    if missing:
        raise Unprocessable(f"No such cases: {', '.join(missing)}.")


def create_benchmark(
    session: Session, *, rnd: Round, data: BenchmarkCreate, moderator: User
) -> Benchmark:
    rounds.require_phase(rnd, *BEFORE_SESSION, action="setting a benchmark (before the session)")
    delegation = _delegation(session, rnd=rnd, code=data.delegation)
    case_ids = sorted(set(data.cases))
    _require_published_cases(session, case_ids)
    theme_ids = themes.ids_for(session, slugs=sorted(set(data.themes)))
    benchmark = Benchmark(
        round_id=rnd.id,
        delegation_id=delegation.id,
        title=data.title,
        description=data.description,
        adopted_by_id=moderator.id,
    )
    session.add(benchmark)
    session.flush()
    session.add_all(BenchmarkCase(benchmark_id=benchmark.id, case_id=c) for c in case_ids)
    session.add_all(BenchmarkTheme(benchmark_id=benchmark.id, theme_id=t) for t in theme_ids)
    session.flush()
    events.benchmark_adopted(session, benchmark=benchmark)
    audit.record(
        session,
        actor=moderator,
        action="benchmark.adopt",
        target_type="benchmark",
        target_id=benchmark.id,
        detail={"title": benchmark.title},
    )
    return benchmark


def create_commitment(
    session: Session, *, rnd: Round, data: CommitmentCreate, actor: User
) -> Commitment:
    rounds.require_phase(rnd, *FROM_SESSION, action="recording a commitment (from the session on)")
    if can(actor.role, Permission.record_any_commitment):
        if data.delegation is None:
            raise Unprocessable("Name the delegation that made the commitment.")
        delegation = _delegation(session, rnd=rnd, code=data.delegation)
    elif can(actor.role, Permission.record_commitments):
        delegation_row = (
            session.get(Delegation, actor.delegation_id) if actor.delegation_id else None
        )
        if delegation_row is None or delegation_row.dialogue_id != rnd.dialogue_id:
            raise Forbidden("Officials record commitments for their own delegation's dialogue.")
        if data.delegation is not None and data.delegation != delegation_row.code:
            raise Forbidden("Officials record commitments for their own delegation only.")
        delegation = delegation_row
    else:
        raise Forbidden("Only officials and moderators record commitments.")
    _require_published_cases(session, sorted(set(data.cases)))
    subs = sorted(set(data.submissions))
    if subs:
        found = set(
            session.exec(
                select(Submission.id).where(
                    col(Submission.id).in_(subs), Submission.status == Status.published
                )
            )
        )
        if found != set(subs):
            raise Unprocessable("Every related submission must be published.")
    marks = sorted(set(data.benchmarks))
    if marks and len(
        set(session.exec(select(Benchmark.id).where(col(Benchmark.id).in_(marks))))
    ) != len(marks):
        raise Unprocessable("No such benchmark among those given.")
    commitment = Commitment(
        round_id=rnd.id,
        delegation_id=delegation.id,
        text=data.text,
        due_on=data.due_on,
        source_url=str(data.source_url) if data.source_url else None,
        recorded_by_id=actor.id,
    )
    session.add(commitment)
    session.flush()
    for target_type, ids in (("case", data.cases), ("submission", subs), ("benchmark", marks)):
        session.add_all(
            CommitmentLink(commitment_id=commitment.id, target_type=target_type, target_id=i)
            for i in sorted(set(ids))
        )
    session.flush()
    events.commitment_recorded(session, commitment=commitment)
    if actor.role != Role.official:
        audit.record(
            session,
            actor=actor,
            action="commitment.record",
            target_type="commitment",
            target_id=commitment.id,
            detail={"delegation": delegation.code},
        )
    return commitment


def get_benchmark_or_404(session: Session, *, benchmark_id: uuid.UUID) -> Benchmark:
    benchmark = session.get(Benchmark, benchmark_id)
    if benchmark is None:
        raise NotFound("No such benchmark.")
    return benchmark


def get_commitment_or_404(session: Session, *, commitment_id: uuid.UUID) -> Commitment:
    commitment = session.get(Commitment, commitment_id)
    if commitment is None:
        raise NotFound("No such commitment.")
    return commitment


def assess(
    session: Session,
    *,
    target_type: str,
    target_id: uuid.UUID,
    delegation_id: uuid.UUID,
    round_id: uuid.UUID,
    data: ProgressCreate,
    actor: User,
) -> ProgressAssessment:
    """Moderators assess for civil society; officials of the delegation concerned for it."""
    if can(actor.role, Permission.assess):
        side = Side.civil_society
    elif actor.role == Role.official and actor.delegation_id == delegation_id:
        side = Side.delegation
    else:
        raise Forbidden("Only moderators and the delegation concerned assess progress.")
    assessment = ProgressAssessment(
        target_type=target_type,
        target_id=target_id,
        side=side,
        status=data.status,
        note=data.note,
        evidence_url=str(data.evidence_url) if data.evidence_url else None,
        assessed_on=data.assessed_on or clock.now().date(),
        assessed_by_id=actor.id,
    )
    session.add(assessment)
    session.flush()
    events.progress_assessed(session, assessment=assessment, round_id=round_id)
    if side == Side.civil_society:
        audit.record(
            session,
            actor=actor,
            action=f"{target_type}.assess",
            target_type=target_type,
            target_id=target_id,
            detail={"status": assessment.status},
        )
    return assessment


def _round_page(
    session: Session,
    model: type[Benchmark] | type[Commitment],
    *,
    rnd: Round,
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """A round's benchmarks or commitments, oldest first, a keyset page at a time."""
    return keyset_page(
        session,
        select(model).where(model.round_id == rnd.id),
        at_column=model.created_at,
        id_column=model.id,
        limit=limit,
        cursor=cursor,
    )


def benchmark_page(
    session: Session, *, rnd: Round, limit: int, cursor: str | None
) -> tuple[list[BenchmarkPublic], str | None]:
    rows, next_cursor = _round_page(session, Benchmark, rnd=rnd, limit=limit, cursor=cursor)
    return benchmarks.views(session, rows), next_cursor


def commitment_page(
    session: Session, *, rnd: Round, limit: int, cursor: str | None
) -> tuple[list[CommitmentPublic], str | None]:
    rows, next_cursor = _round_page(session, Commitment, rnd=rnd, limit=limit, cursor=cursor)
    return commitments.views(session, rows), next_cursor
