"""Cases: people raised across rounds; their status timeline; consent to be named; whom
their restricted details are shared with, and who read them."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlmodel import Session

from api.deps import Activist, CurrentUser, MaybeCaller, Moderator, SessionDep, Tx
from api.errors import error_responses
from api.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, json_response, link_next
from api.services import cases
from api.views import cases as case_views
from models.case import (
    Case,
    CaseAccessPublic,
    CaseConsent,
    CaseCreate,
    CaseDetail,
    CaseModeration,
    CasePrivate,
    CaseSharing,
    CaseSharingPublic,
    CaseStatus,
    CaseSummary,
    TimelineCreate,
    TimelinePublic,
)
from models.user import User

# Answers that carry restricted details are kept by no cache, shared or private.
NO_STORE = {"Cache-Control": "no-store"}

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
    return cases.shown(session, case=case, viewer=activist)


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
    return Page(items=case_views.summaries(session, rows), next_cursor=next_cursor)


@router.get(
    "/{case_id}", response_model=CasePrivate | CaseDetail, responses=error_responses(401, 404, 422)
)
async def read_case(case_id: uuid.UUID, viewer: MaybeCaller, tx: Tx) -> Response:
    """A case: its status and timeline, every round that raised it with the submissions and
    responses. Its recorder, moderators, admins and officials of the delegations its recorder
    shared it with also see the restricted details and the real names; each such read by
    anyone but the recorder is written to the case's access log. Everyone else, officials of
    other delegations included, gets exactly the public view."""
    # Most reads are public and need no writer's turn (on SQLite, the one write lock); a
    # read that must be logged is done again, whole, in the transaction that logs it, so
    # what was shown and what was logged are one decision.
    answer = await tx.read(_case, viewer=viewer, case_id=case_id, logging=False)
    if answer is not None:
        return answer
    logged = await tx.write(_case, viewer=viewer, case_id=case_id, logging=True)
    assert logged is not None  # a writing turn always answers
    return logged


def _case(
    session: Session, *, viewer: User | None, case_id: uuid.UUID, logging: bool
) -> Response | None:
    """The case as `viewer` may see it; None if the read must be logged and `logging` is
    not set (a reading turn cannot log it)."""
    case = cases.get_or_404(session, case_id=case_id)
    if logging:
        view = cases.shown(session, case=case, viewer=viewer)
    else:
        seen = cases.access(session, case=case, viewer=viewer)
        if seen.logged:
            return None
        view = case_views.detail(session, case=case, private=seen.private)
    return json_response(view, headers=NO_STORE if isinstance(view, CasePrivate) else None)


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
    """Publish, reject or remove a recorded case (moderators; audited). The answer carries
    the restricted details, so it is written to the case's access log."""
    cases.moderate(session, case=case, data=data, moderator=moderator)
    return cases.shown(session, case=case, viewer=moderator)


@router.put(
    "/{case_id}/consent",
    response_model=CasePrivate,
    responses=error_responses(401, 403, 404, 422),
)
def set_consent(
    data: CaseConsent, case: CaseDep, actor: CurrentUser, session: SessionDep
) -> CaseDetail:
    """Give or withdraw consent to name the person (its recorder); a moderator may only
    withdraw it (giving it is 403). Audited either way. Withdrawal removes the name from
    every public output at once."""
    cases.set_consent(session, case=case, data=data, actor=actor)
    return cases.shown(session, case=case, viewer=actor)


@router.get(
    "/{case_id}/sharing",
    response_model=CaseSharingPublic,
    responses=error_responses(401, 403, 404, 422),
)
def read_sharing(case: CaseDep, actor: CurrentUser, session: SessionDep) -> CaseSharingPublic:
    """The delegations whose officials may read the restricted details (its recorder,
    moderators and admins)."""
    return cases.read_sharing(session, case=case, actor=actor)


@router.put(
    "/{case_id}/sharing",
    response_model=CaseSharingPublic,
    responses=error_responses(401, 403, 404, 422),
)
def set_sharing(
    data: CaseSharing, case: CaseDep, actor: CurrentUser, session: SessionDep
) -> CaseSharingPublic:
    """Choose the delegations whose officials may read the restricted details and the real
    names (its recorder only; audited). Replaces the list; `[]` shares with none, and
    nothing is shared by default. A code names the delegation with that code in the
    dialogues that raise the case (else the only one with it); where that is ambiguous,
    write `dialogue-slug/CODE`. Unknown or ambiguous names are a 422."""
    return cases.set_sharing(session, case=case, data=data, actor=actor)


@router.get(
    "/{case_id}/access-log",
    response_model=Page[CaseAccessPublic],
    responses=error_responses(400, 401, 403, 404, 422),
)
def read_access_log(
    case: CaseDep,
    actor: CurrentUser,
    session: SessionDep,
    request: Request,
    response: Response,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[CaseAccessPublic]:
    """Who read the case's restricted details and when (handle, role, delegation; never an
    address), newest first: for its recorder, moderators and admins."""
    items, next_cursor = cases.access_log(
        session, case=case, actor=actor, limit=limit, cursor=cursor
    )
    link_next(request, response, next_cursor)
    response.headers.update(NO_STORE)
    return Page(items=items, next_cursor=next_cursor)
