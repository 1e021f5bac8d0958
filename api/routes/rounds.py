"""Rounds: create, read, extend deadlines; the round's public record and scorecard."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from sqlmodel import Session

from api.deps import Admin, SessionDep, Tx
from api.errors import error_responses
from api.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, page_response
from api.routes.dialogues import DialogueDep
from api.services import accountability, record, rounds
from api.text_language import PreferredText
from models.round import Round, RoundCreate, RoundPublic, RoundUpdate
from models.submission import Kind, SubmissionPublic

router = APIRouter(prefix="/api/v1", tags=["rounds"])


def round_by_id(round_id: uuid.UUID, session: SessionDep) -> Round:
    return rounds.get_or_404(session, round_id=round_id)


RoundDep = Annotated[Round, Depends(round_by_id)]


def _public(session: SessionDep, rnd: Round, response: Response) -> RoundPublic:
    view = rounds.public(rnd, dialogue_slug=rounds.dialogue_slug(session, rnd=rnd))
    response.headers["ETag"] = rounds.etag(rnd, view.phase)
    return view


@router.post(
    "/dialogues/{slug}/rounds",
    status_code=status.HTTP_201_CREATED,
    response_model=RoundPublic,
    responses=error_responses(401, 403, 404, 409, 422),
)
def create_round(
    data: RoundCreate, dialogue: DialogueDep, admin: Admin, session: SessionDep, response: Response
) -> RoundPublic:
    """Create a round with its five instants, which must be in order (admins)."""
    rnd = rounds.create(session, dialogue=dialogue, data=data, admin=admin)
    return _public(session, rnd, response)


@router.get("/rounds/{round_id}", response_model=RoundPublic, responses=error_responses(404, 422))
def read_round(rnd: RoundDep, session: SessionDep, response: Response) -> RoundPublic:
    """A round with its computed `phase`; the `ETag` is what PATCH needs in `If-Match`."""
    return _public(session, rnd, response)


@router.patch(
    "/rounds/{round_id}",
    response_model=RoundPublic,
    responses=error_responses(401, 403, 404, 412, 422, 428),
)
def update_round(
    data: RoundUpdate,
    rnd: RoundDep,
    admin: Admin,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> RoundPublic:
    """Change a round's instants, e.g. extend a deadline (admins; `If-Match` required; audited)."""
    rnd = rounds.update(session, rnd=rnd, data=data, if_match=if_match, admin=admin)
    return _public(session, rnd, response)


RecordPage = Page[SubmissionPublic]


@router.get(
    "/rounds/{round_id}/record",
    response_model=RecordPage,
    responses=error_responses(400, 404, 422),
    tags=["public record"],
)
async def round_record(
    round_id: uuid.UUID,
    request: Request,
    tx: Tx,
    preferred: PreferredText,
    theme: Annotated[str | None, Query(max_length=64, description="A theme slug.")] = None,
    kind: Annotated[Kind | None, Query()] = None,
    delegation: Annotated[
        str | None, Query(max_length=8, description="Addressed to this delegation code.")
    ] = None,
    answered: Annotated[
        bool | None,
        Query(description="Only those with (true) or without (false) a current answer."),
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Text search; works for Chinese (律师)."),
    ] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Response:
    """Published submissions of the round with their current responses and the
    translations of both, in publication order."""
    filters = record.RecordFilters(
        theme=theme, kind=kind, delegation=delegation, answered=answered, q=q
    )
    return await tx(
        _record_page,
        request=request,
        round_id=round_id,
        filters=filters,
        limit=limit,
        cursor=cursor,
        preferred=preferred,
    )


def _record_page(
    session: Session,
    *,
    request: Request,
    round_id: uuid.UUID,
    filters: record.RecordFilters,
    limit: int,
    cursor: str | None,
    preferred: str | None = None,
) -> Response:
    items, next_cursor = record.page(
        session,
        round_id=round_id,
        filters=filters,
        limit=limit,
        cursor=cursor,
        preferred=preferred,
    )
    return page_response(request, {"items": items, "next_cursor": next_cursor})


@router.get(
    "/rounds/{round_id}/scorecard",
    response_model=accountability.RoundScorecard,
    responses=error_responses(404, 422),
    tags=["public record"],
)
def round_scorecard(rnd: RoundDep, session: SessionDep) -> accountability.RoundScorecard:
    """Per delegation: addressed, answered, holding, declined, unanswered, no response, late,
    median time to answer, and how civil society rated the answers; for the round: cases
    raised (new, repeat, repeat without improvement), benchmarks and commitments by state."""
    return accountability.round_scorecard(session, rnd=rnd)
