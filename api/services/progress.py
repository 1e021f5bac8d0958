"""Benchmarks (set before a round), commitments (made in it), and the dated assessments
of progress on both, from civil society and from the delegation concerned."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from api import clock
from api.errors import Forbidden, NotFound, Unprocessable
from api.pagination import keyset_page
from api.permissions import Permission, can
from api.services import audit, events, rounds, themes
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
    Progress,
    ProgressAssessment,
    ProgressCreate,
    ProgressPublic,
    ProgressStatus,
    Side,
)
from models.round import Phase, Round
from models.submission import Status, Submission
from models.theme import Theme
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
            select(Case.id).where(col(Case.id).in_(ids), Case.review == CaseReview.published.value)
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
                    col(Submission.id).in_(subs), Submission.status == Status.published.value
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
    if actor.role != Role.official.value:
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
    elif actor.role == Role.official.value and actor.delegation_id == delegation_id:
        side = Side.delegation
    else:
        raise Forbidden("Only moderators and the delegation concerned assess progress.")
    assessment = ProgressAssessment(
        target_type=target_type,
        target_id=target_id,
        side=side.value,
        status=data.status.value,
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


def progress_of(
    session: Session, *, target_type: str, ids: list[uuid.UUID]
) -> dict[uuid.UUID, Progress]:
    """Each target's progress: history oldest first, the latest per side, `contested`."""
    history: dict[uuid.UUID, list[ProgressPublic]] = defaultdict(list)
    if ids:
        for a in session.exec(
            select(ProgressAssessment)
            .where(
                ProgressAssessment.target_type == target_type,
                col(ProgressAssessment.target_id).in_(ids),
            )
            .order_by(col(ProgressAssessment.assessed_on), col(ProgressAssessment.created_at))
        ):
            history[a.target_id].append(
                ProgressPublic(
                    side=Side(a.side),
                    status=ProgressStatus(a.status),
                    note=a.note,
                    evidence_url=a.evidence_url,
                    assessed_on=a.assessed_on,
                )
            )
    out = {}
    for i in ids:
        items = history.get(i, [])
        civil = next((a for a in reversed(items) if a.side == Side.civil_society), None)
        official = next((a for a in reversed(items) if a.side == Side.delegation), None)
        out[i] = Progress(
            state=civil.status if civil else ProgressStatus.not_started,
            civil_society=civil,
            delegation_view=official,
            contested=bool(civil and official and civil.status != official.status),
            history=items,
        )
    return out


def _codes(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    return dict(
        session.exec(
            select(Delegation.id, Delegation.code).where(col(Delegation.id).in_(ids))
        ).all()
    )


def benchmark_views(session: Session, benchmarks: Sequence[Benchmark]) -> list[BenchmarkPublic]:
    ids = [b.id for b in benchmarks]
    if not ids:
        return []
    codes = _codes(session, {b.delegation_id for b in benchmarks})
    cases: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for bid, cid in session.exec(
        select(BenchmarkCase.benchmark_id, BenchmarkCase.case_id).where(
            col(BenchmarkCase.benchmark_id).in_(ids)
        )
    ):
        cases[bid].append(cid)
    slugs: dict[uuid.UUID, list[str]] = defaultdict(list)
    for bid, slug in session.exec(
        select(BenchmarkTheme.benchmark_id, Theme.slug)
        .join(Theme, col(Theme.id) == col(BenchmarkTheme.theme_id))
        .where(col(BenchmarkTheme.benchmark_id).in_(ids))
        .order_by(col(Theme.slug))
    ):
        slugs[bid].append(slug)
    progress = progress_of(session, target_type="benchmark", ids=ids)
    return [
        BenchmarkPublic(
            id=b.id,
            round_id=b.round_id,
            delegation=codes[b.delegation_id],
            title=b.title,
            description=b.description,
            cases=sorted(cases[b.id], key=str),
            themes=slugs[b.id],
            progress=progress[b.id],
        )
        for b in benchmarks
    ]


def commitment_views(session: Session, commitments: Sequence[Commitment]) -> list[CommitmentPublic]:
    ids = [c.id for c in commitments]
    if not ids:
        return []
    codes = _codes(session, {c.delegation_id for c in commitments})
    links: dict[tuple[uuid.UUID, str], list[uuid.UUID]] = defaultdict(list)
    for link in session.exec(
        select(CommitmentLink).where(col(CommitmentLink.commitment_id).in_(ids))
    ):
        links[(link.commitment_id, link.target_type)].append(link.target_id)
    progress = progress_of(session, target_type="commitment", ids=ids)
    today: date = clock.now().date()
    return [
        CommitmentPublic(
            id=c.id,
            round_id=c.round_id,
            delegation=codes[c.delegation_id],
            text=c.text,
            due_on=c.due_on,
            overdue=bool(
                c.due_on and c.due_on < today and progress[c.id].state != ProgressStatus.met
            ),
            source_url=c.source_url,
            cases=sorted(links[(c.id, "case")], key=str),
            submissions=sorted(links[(c.id, "submission")], key=str),
            benchmarks=sorted(links[(c.id, "benchmark")], key=str),
            progress=progress[c.id],
        )
        for c in commitments
    ]


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
    return benchmark_views(session, rows), next_cursor


def commitment_page(
    session: Session, *, rnd: Round, limit: int, cursor: str | None
) -> tuple[list[CommitmentPublic], str | None]:
    rows, next_cursor = _round_page(session, Commitment, rnd=rnd, limit=limit, cursor=cursor)
    return commitment_views(session, rows), next_cursor
