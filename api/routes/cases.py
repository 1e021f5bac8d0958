"""Cases: people raised across rounds; their status timeline; consent to be named."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from api.deps import Activist, CurrentUser, MaybeUser, Moderator, SessionDep
from api.errors import error_responses
from api.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, link_next
from api.services import cases
from models.case import (
    Case,
    CaseConsent,
    CaseCreate,
    CaseDetail,
    CaseModeration,
    CasePrivate,
    CaseStatus,
    CaseSummary,
    TimelineCreate,
    TimelinePublic,
)

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


def case_by_id(case_id: uuid.UUID, session: SessionDep) -> Case:
    return cases.get_or_404(session, case_id=case_id)


CaseDep = Annotated[Case, Depends(case_by_id)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CasePrivate,
    responses=error_responses(401, 403, 422),
)
def create_case(data: CaseCreate, activist: Activist, session: SessionDep) -> CaseDetail:
    """Record a case (activists). It is public once a moderator publishes it; the name only
    with recorded consent; restricted details never."""
    case = cases.create(session, data=data, activist=activist)
    return cases.detail(session, case=case, private=True)


@router.get("", response_model=Page[CaseSummary], responses=error_responses(400, 422))
def list_cases(
    request: Request,
    response: Response,
    session: SessionDep,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="A name, Latin or Chinese.")
    ] = None,
    case_status: Annotated[CaseStatus | None, Query(alias="status")] = None,
    theme: Annotated[str | None, Query(max_length=64)] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[CaseSummary]:
    """Published cases; search by name (only names shown with consent), filter by current
    status or by a theme of the submissions that raised them."""
    rows, next_cursor = cases.page(
        session, q=q, status=case_status, theme=theme, limit=limit, cursor=cursor
    )
    link_next(request, response, next_cursor)
    return Page(items=cases.summaries(session, rows), next_cursor=next_cursor)


@router.get(
    "/{case_id}", response_model=CasePrivate | CaseDetail, responses=error_responses(404, 422)
)
def read_case(case: CaseDep, viewer: MaybeUser, session: SessionDep) -> CaseDetail:
    """A case: its status and timeline, every round that raised it with the submissions and
    responses. Moderators, officials and its recorder also see the restricted details."""
    private = cases.visible_or_404(case, viewer)
    return cases.detail(session, case=case, private=private)


@router.post(
    "/{case_id}/timeline",
    status_code=status.HTTP_201_CREATED,
    response_model=TimelinePublic,
    responses=error_responses(401, 403, 404, 422),
)
def add_timeline_entry(
    data: TimelineCreate, case: CaseDep, moderator: Moderator, session: SessionDep
) -> TimelinePublic:
    """Append a dated status entry with its source (moderators); the latest sets the status."""
    entry = cases.add_timeline(session, case=case, data=data, moderator=moderator)
    return TimelinePublic.model_validate(entry, from_attributes=True)


@router.post(
    "/{case_id}/moderation",
    response_model=CasePrivate,
    tags=["moderation"],
    responses=error_responses(401, 403, 404, 409, 422),
)
def moderate_case(
    data: CaseModeration, case: CaseDep, moderator: Moderator, session: SessionDep
) -> CaseDetail:
    """Publish or reject a recorded case (moderators; audited)."""
    cases.moderate(session, case=case, data=data, moderator=moderator)
    return cases.detail(session, case=case, private=True)


@router.put(
    "/{case_id}/consent",
    response_model=CasePrivate,
    responses=error_responses(401, 404, 422),
)
def set_consent(
    data: CaseConsent, case: CaseDep, actor: CurrentUser, session: SessionDep
) -> CaseDetail:
    """Record or withdraw consent to name the person (its recorder or a moderator).
    Withdrawal removes the name from every public output at once."""
    cases.set_consent(session, case=case, data=data, actor=actor)
    return cases.detail(session, case=case, private=True)
