"""Official responses, their revisions, and civil society's assessments of them."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, status
from fastapi import Response as HttpResponse

from api.deps import CurrentUser, MaybeUser, Official, SessionDep
from api.errors import error_responses
from api.pagination import Page
from api.routes.submissions import SubmissionDep
from api.services import responses
from api.text_language import PreferredText
from api.views import responses as response_views
from api.views import revisions
from models.response import (
    AssessmentCreate,
    AssessmentPublic,
    Response,
    ResponseCreate,
    ResponsePublic,
    RevisionCreate,
    RevisionPublic,
)

router = APIRouter(prefix="/api/v1", tags=["responses"])


def response_by_id(response_id: uuid.UUID, session: SessionDep) -> Response:
    return responses.get_or_404(session, response_id=response_id)


ResponseDep = Annotated[Response, Depends(response_by_id)]


def visible_response(response: ResponseDep, viewer: MaybeUser) -> Response:
    """The response, unless it is held for a joint release and the caller is not of its
    delegation nor a moderator: then 404 before any other check, so nothing tells that
    it exists."""
    responses.require_visible(response=response, viewer=viewer)
    return response


VisibleResponse = Annotated[Response, Depends(visible_response)]


def _view(
    session: SessionDep, response: Response, http: HttpResponse, preferred: str | None = None
) -> ResponsePublic:
    # the callers have checked that the caller may see it, held for a release or not
    view = response_views.views(
        session, response_ids=[response.id], held=True, translated=True, preferred=preferred
    )[response.submission_id][0]
    http.headers["ETag"] = responses.etag(response, view)
    return view


# the view a write about a response answers with (api/routes/translations.py)
response_view = _view


@router.post(
    "/submissions/{submission_id}/responses",
    status_code=status.HTTP_201_CREATED,
    response_model=ResponsePublic,
    responses=error_responses(401, 403, 404, 409, 422),
)
def create_response(
    data: ResponseCreate,
    submission: SubmissionDep,
    official: Official,
    session: SessionDep,
    http: HttpResponse,
) -> ResponsePublic:
    """Answer, hold or decline for your delegation, from the round's `ends_at` on.

    409 before the session ends, and for a second response from the same delegation
    (revise that one instead). With `embargo_until`, or while your delegation's release
    instant for the round is ahead, the response is held until then: the public sees only
    that it is `scheduled`.
    """
    response = responses.create(session, submission=submission, data=data, official=official)
    return _view(session, response, http)


@router.get(
    "/responses/{response_id}", response_model=ResponsePublic, responses=error_responses(404, 422)
)
def read_response(
    response: ResponseDep,
    session: SessionDep,
    http: HttpResponse,
    viewer: MaybeUser,
    preferred: PreferredText,
) -> ResponsePublic:
    """A response's current text, with its translations; its `ETag` can guard a revision
    with `If-Match`.

    A response held for a joint release is 404 to all but its delegation's officials
    and moderators."""
    responses.published_submission(session, response=response, viewer=viewer)
    return _view(session, response, http, preferred)


@router.post(
    "/responses/{response_id}/revisions",
    status_code=status.HTTP_201_CREATED,
    response_model=ResponsePublic,
    responses=error_responses(401, 403, 404, 412, 422),
)
def revise_response(
    data: RevisionCreate,
    response: VisibleResponse,
    official: Official,
    session: SessionDep,
    http: HttpResponse,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> ResponsePublic:
    """Correct a response openly: a new revision with a public reason; the old ones stay.

    With `If-Match` (the response's `ETag`), a revision based on a stale text is refused
    with 412, so two officials cannot overwrite each other unseen. While the response is
    held for a joint release, a revision replaces the draft silently (nothing was public).
    """
    responses.revise(session, response=response, data=data, official=official, if_match=if_match)
    return _view(session, response, http)


@router.get(
    "/responses/{response_id}/revisions",
    response_model=Page[RevisionPublic],
    responses=error_responses(404, 422),
)
def list_revisions(
    response: ResponseDep, session: SessionDep, viewer: MaybeUser
) -> Page[RevisionPublic]:
    """Every revision, oldest first, with its time and reason."""
    found = responses.revisions(session, response=response, viewer=viewer)
    return Page(items=revisions.views(found))


@router.post(
    "/responses/{response_id}/assessments",
    status_code=status.HTTP_201_CREATED,
    response_model=AssessmentPublic,
    responses=error_responses(401, 403, 404, 409, 422),
)
def assess_response(
    data: AssessmentCreate, response: VisibleResponse, rater: CurrentUser, session: SessionDep
) -> AssessmentPublic:
    """Rate a response (the submission's author, or a moderator): one per rater, replaceable.
    The public sees the counts, never the raters."""
    assessment = responses.assess(session, response=response, data=data, rater=rater)
    return AssessmentPublic.model_validate(assessment, from_attributes=True)
