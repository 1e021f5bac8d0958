"""Benchmarks and commitments of a round, and assessments of progress on them."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from api.deps import CurrentUser, Moderator, SessionDep
from api.errors import error_responses
from api.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, link_next
from api.routes.rounds import RoundDep
from api.services import progress
from api.views import benchmarks, commitments
from models.benchmark import Benchmark, BenchmarkCreate, BenchmarkPublic
from models.commitment import Commitment, CommitmentCreate, CommitmentPublic
from models.progress import ProgressCreate, ProgressPublic, Side

router = APIRouter(prefix="/api/v1", tags=["benchmarks and commitments"])


def benchmark_by_id(benchmark_id: uuid.UUID, session: SessionDep) -> Benchmark:
    return progress.get_benchmark_or_404(session, benchmark_id=benchmark_id)


def commitment_by_id(commitment_id: uuid.UUID, session: SessionDep) -> Commitment:
    return progress.get_commitment_or_404(session, commitment_id=commitment_id)


BenchmarkDep = Annotated[Benchmark, Depends(benchmark_by_id)]
CommitmentDep = Annotated[Commitment, Depends(commitment_by_id)]


@router.get(
    "/rounds/{round_id}/benchmarks",
    response_model=Page[BenchmarkPublic],
    responses=error_responses(400, 404, 422),
)
def list_benchmarks(
    rnd: RoundDep,
    session: SessionDep,
    request: Request,
    response: Response,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[BenchmarkPublic]:
    """The benchmarks set for the round, with both sides' current assessments."""
    items, next_cursor = progress.benchmark_page(session, rnd=rnd, limit=limit, cursor=cursor)
    link_next(request, response, next_cursor)
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/rounds/{round_id}/benchmarks",
    status_code=status.HTTP_201_CREATED,
    response_model=BenchmarkPublic,
    responses=error_responses(401, 403, 404, 409, 422),
)
def create_benchmark(
    data: BenchmarkCreate, rnd: RoundDep, moderator: Moderator, session: SessionDep
) -> BenchmarkPublic:
    """Adopt a benchmark before the session starts (moderators): a checkable goal for a
    delegation, tied to cases and themes. 409 once the session has begun."""
    benchmark = progress.create_benchmark(session, rnd=rnd, data=data, moderator=moderator)
    return benchmarks.views(session, [benchmark])[0]


@router.get(
    "/rounds/{round_id}/commitments",
    response_model=Page[CommitmentPublic],
    responses=error_responses(400, 404, 422),
)
def list_commitments(
    rnd: RoundDep,
    session: SessionDep,
    request: Request,
    response: Response,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[CommitmentPublic]:
    """What the delegations undertook in the round, with progress and `overdue`."""
    items, next_cursor = progress.commitment_page(session, rnd=rnd, limit=limit, cursor=cursor)
    link_next(request, response, next_cursor)
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/rounds/{round_id}/commitments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommitmentPublic,
    responses=error_responses(401, 403, 404, 409, 422),
)
def create_commitment(
    data: CommitmentCreate, rnd: RoundDep, actor: CurrentUser, session: SessionDep
) -> CommitmentPublic:
    """Record a commitment made in the round: an official for their own delegation, or a
    moderator recording a public statement (naming the delegation). From the session on."""
    commitment = progress.create_commitment(session, rnd=rnd, data=data, actor=actor)
    return commitments.views(session, [commitment])[0]


@router.post(
    "/benchmarks/{benchmark_id}/assessments",
    status_code=status.HTTP_201_CREATED,
    response_model=ProgressPublic,
    responses=error_responses(401, 403, 404, 422),
)
def assess_benchmark(
    data: ProgressCreate, benchmark: BenchmarkDep, actor: CurrentUser, session: SessionDep
) -> ProgressPublic:
    """A dated assessment: moderators for civil society, officials of the delegation
    concerned for it. Append-only; both sides are shown, `contested` where they differ."""
    a = progress.assess(
        session,
        target_type="benchmark",
        target_id=benchmark.id,
        delegation_id=benchmark.delegation_id,
        round_id=benchmark.round_id,
        data=data,
        actor=actor,
    )
    return _public(a)


@router.post(
    "/commitments/{commitment_id}/assessments",
    status_code=status.HTTP_201_CREATED,
    response_model=ProgressPublic,
    responses=error_responses(401, 403, 404, 422),
)
def assess_commitment(
    data: ProgressCreate, commitment: CommitmentDep, actor: CurrentUser, session: SessionDep
) -> ProgressPublic:
    """A dated assessment of a commitment (as for benchmarks)."""
    a = progress.assess(
        session,
        target_type="commitment",
        target_id=commitment.id,
        delegation_id=commitment.delegation_id,
        round_id=commitment.round_id,
        data=data,
        actor=actor,
    )
    return _public(a)


def _public(a: progress.ProgressAssessment) -> ProgressPublic:
    return ProgressPublic(
        side=Side(a.side),
        status=a.status,
        note=a.note,
        evidence_url=a.evidence_url,  # type: ignore[arg-type]
        assessed_on=a.assessed_on,
    )
