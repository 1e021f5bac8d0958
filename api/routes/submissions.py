"""Submissions: activists submit, edit, withdraw and endorse; moderators decide."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlmodel import Session

from api.deps import (
    Activist,
    CurrentUser,
    Idempotent,
    MaybeUser,
    Moderator,
    RoundRef,
    SessionDep,
    Submitter,
    Tx,
)
from api.errors import error_responses
from api.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, json_response, link_next
from api.services import submissions
from api.text_language import PreferredText
from api.views import submissions as submission_views
from models.round import Round
from models.submission import (
    ModerationCreate,
    Submission,
    SubmissionCreate,
    SubmissionPrivate,
    SubmissionPublic,
    SubmissionUpdate,
)
from models.user import User

router = APIRouter(prefix="/api/v1", tags=["submissions"])


def submission_by_id(submission_id: uuid.UUID, session: SessionDep) -> Submission:
    return submissions.get_or_404(session, submission_id=submission_id)


SubmissionDep = Annotated[Submission, Depends(submission_by_id)]


def _private(session: SessionDep, submission: Submission) -> SubmissionPrivate:
    view = submission_views.views(session, [submission], view=submission_views.View.private)[0]
    assert isinstance(view, SubmissionPrivate)
    return view


def _submitted(session: Session, *, rnd: Round, author: User, data: SubmissionCreate) -> Response:
    submission = submissions.create(session, rnd=rnd, data=data, author=author)
    view = submission_views.created_view(submission, data=data, author=author)
    return json_response(view, status_code=status.HTTP_201_CREATED)


@router.post(
    "/rounds/{round_id}/submissions",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmissionPrivate,
    responses=error_responses(401, 403, 404, 409, 413, 422),
)
async def create_submission(
    data: SubmissionCreate, rnd: RoundRef, author: Submitter, once: Idempotent, tx: Tx
) -> Response:
    """Submit a concern or a case while the round accepts submissions; it waits for a moderator.

    Answers 409 (with the phase in the problem `type`) outside `accepting_submissions`.
    """
    # At a deadline hundreds submit at once: the whole transaction in one hop (`Tx`).
    return await tx(once(_submitted, user=author, body=data), rnd=rnd, author=author, data=data)


@router.get(
    "/me/submissions",
    response_model=Page[SubmissionPrivate],
    responses=error_responses(401, 400, 422),
)
def my_submissions(
    user: CurrentUser,
    session: SessionDep,
    request: Request,
    response: Response,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[SubmissionPublic]:
    """The caller's own submissions, newest first, in every status, with moderators' reasons."""
    rows, next_cursor = submissions.mine(session, author=user, limit=limit, cursor=cursor)
    link_next(request, response, next_cursor)
    return Page(
        items=submission_views.views(session, rows, view=submission_views.View.private),
        next_cursor=next_cursor,
    )


@router.get(
    "/submissions/{submission_id}",
    response_model=SubmissionPrivate | SubmissionPublic,
    responses=error_responses(404, 422),
)
def read_submission(
    submission: SubmissionDep, viewer: MaybeUser, session: SessionDep, preferred: PreferredText
) -> SubmissionPublic:
    """The public view once published, with every translation (`?lang=` first); the author
    and moderators also see status and reasons."""
    view = submissions.view_for(submission, viewer)
    return submission_views.views(session, [submission], view=view, preferred=preferred)[0]


@router.patch(
    "/submissions/{submission_id}",
    response_model=SubmissionPrivate,
    responses=error_responses(401, 403, 404, 409, 422),
)
def update_submission(
    data: SubmissionUpdate, submission: SubmissionDep, author: Activist, session: SessionDep
) -> SubmissionPrivate:
    """Edit your own submission while it is pending and the round accepts submissions."""
    submissions.update(session, submission=submission, data=data, author=author)
    return _private(session, submission)


@router.post(
    "/submissions/{submission_id}/withdraw",
    response_model=SubmissionPrivate,
    responses=error_responses(401, 403, 404, 422),
)
def withdraw_submission(
    submission: SubmissionDep, author: Activist, session: SessionDep
) -> SubmissionPrivate:
    """Withdraw your own submission, at any time: it leaves every public view at once."""
    submissions.withdraw(session, submission=submission, author=author)
    return _private(session, submission)


@router.post(
    "/submissions/{submission_id}/endorsements",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmissionPublic,
    responses=error_responses(401, 403, 404, 409, 422),
)
def endorse(submission: SubmissionDep, activist: Activist, session: SessionDep) -> SubmissionPublic:
    """Co-sign a published submission (one per activist; the public sees only the count)."""
    submissions.endorse(session, submission=submission, activist=activist)
    return submission_views.views(session, [submission], view=submission_views.View.public)[0]


@router.delete(
    "/submissions/{submission_id}/endorsements",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 422),
)
def unendorse(submission: SubmissionDep, activist: Activist, session: SessionDep) -> Response:
    """Take back your endorsement."""
    submissions.unendorse(session, submission=submission, activist=activist)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/moderation/queue",
    response_model=Page[SubmissionPrivate],
    tags=["moderation"],
    responses=error_responses(400, 401, 403, 422),
)
def moderation_queue(
    _moderator: Moderator,
    session: SessionDep,
    request: Request,
    response: Response,
    round_id: Annotated[uuid.UUID | None, Query()] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[SubmissionPublic]:
    """Pending submissions, oldest first (moderators)."""
    rows, next_cursor = submissions.queue(session, round_id=round_id, limit=limit, cursor=cursor)
    link_next(request, response, next_cursor)
    return Page(
        items=submission_views.views(session, rows, view=submission_views.View.private),
        next_cursor=next_cursor,
    )


@router.post(
    "/submissions/{submission_id}/moderation",
    response_model=SubmissionPrivate,
    tags=["moderation"],
    responses=error_responses(401, 403, 404, 409, 422),
)
def moderate(
    data: ModerationCreate, submission: SubmissionDep, moderator: Moderator, session: SessionDep
) -> SubmissionPrivate:
    """Publish, reject (reason required; shown to the author, never public) or remove
    (reason required). Every decision is written to the audit log."""
    submissions.moderate(session, submission=submission, data=data, moderator=moderator)
    return _private(session, submission)
