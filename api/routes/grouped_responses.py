"""Grouped answers: one response from a delegation to several submissions of a round."""

from fastapi import APIRouter, status
from fastapi import Response as HttpResponse

from api.deps import Official, SessionDep
from api.errors import error_responses
from api.routes.rounds import RoundDep
from api.services import grouped_responses, responses
from api.views import responses as response_views
from models.response import GroupedResponseCreate, ResponsePublic

router = APIRouter(prefix="/api/v1", tags=["responses"])


@router.post(
    "/rounds/{round_id}/grouped-responses",
    status_code=status.HTTP_201_CREATED,
    response_model=ResponsePublic,
    responses=error_responses(401, 403, 404, 409, 422),
)
def create_grouped_response(
    data: GroupedResponseCreate,
    rnd: RoundDep,
    official: Official,
    session: SessionDep,
    http: HttpResponse,
) -> ResponsePublic:
    """Answer, hold or decline several submissions of the round at once, for your delegation.

    One response answers each of `submission_ids` (2 to 100, distinct); each submission's
    view shows it with the others in `grouped_with`, and a revision applies to all of them.
    All or nothing: 422 for ids that are not published submissions of the round, 403 for
    submissions not addressed to your delegation, 409 for any your delegation answered
    already (each problem lists them in `submission_ids`), and 409 before the session ends.
    """
    response = grouped_responses.create(session, rnd=rnd, data=data, official=official)
    view = response_views.views(session, response_ids=[response.id])[response.submission_id][0]
    http.headers["ETag"] = responses.etag(response, view)
    return view
