"""A delegation's joint release of its responses in a round."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.deps import CurrentUser, Official, SessionDep
from api.errors import error_responses
from api.routes.rounds import RoundDep
from api.services import releases
from models.dialogue import Delegation
from models.release import ReleasePlan, ReleaseSet

router = APIRouter(prefix="/api/v1", tags=["responses"])


def delegation_of_round(
    rnd: RoundDep,
    session: SessionDep,
    code: Annotated[str, Path(min_length=1, max_length=8, pattern=r"^[A-Za-z0-9_-]+$")],
) -> Delegation:
    return releases.delegation_of_round(session, rnd=rnd, code=code)


DelegationDep = Annotated[Delegation, Depends(delegation_of_round)]
RELEASE = "/rounds/{round_id}/delegations/{code}/release"


@router.get(RELEASE, response_model=ReleasePlan, responses=error_responses(401, 403, 404, 422))
def read_release(
    rnd: RoundDep, delegation: DelegationDep, viewer: CurrentUser, session: SessionDep
) -> ReleasePlan:
    """The delegation's release instant for the round and the responses it holds there, in
    release order (its officials and moderators)."""
    return releases.read_plan(session, rnd=rnd, delegation=delegation, viewer=viewer)


@router.put(RELEASE, response_model=ReleasePlan, responses=error_responses(401, 403, 404, 409, 422))
def schedule_release(
    data: ReleaseSet,
    rnd: RoundDep,
    delegation: DelegationDep,
    official: Official,
    session: SessionDep,
) -> ReleasePlan:
    """Set one release instant for your delegation's responses in the round (at most 30
    days ahead): those it holds there, and those posted before the instant, stay
    `scheduled` until then and become public together. 409 before the session ends."""
    return releases.schedule(
        session, rnd=rnd, delegation=delegation, release_at=data.release_at, official=official
    )


@router.delete(
    RELEASE, response_model=ReleasePlan, responses=error_responses(401, 403, 404, 409, 422)
)
def release_now(
    rnd: RoundDep, delegation: DelegationDep, official: Official, session: SessionDep
) -> ReleasePlan:
    """Release your delegation's held responses in the round now, together, and drop the
    release instant: what it posts from now on is public at once."""
    return releases.release_now(session, rnd=rnd, delegation=delegation, official=official)
