"""Liveness and readiness."""

from fastapi import APIRouter, Request
from pydantic import BaseModel

from api import db
from api.errors import Unavailable, error_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(Health):
    database: str = "ok"
    # "ok" or "down"; absent without CIVIC_REDIS_URL
    redis: str | None = None


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    response_model_exclude_none=True,
    responses=error_responses(503),
)
async def readyz(request: Request) -> Readiness:
    """The database answers (503 within 2 s when it does not). With Redis, `redis` says
    whether it answers; a process without it still serves (`"redis": "down"`: reads
    computed, sign-ins throttled per process, no background duties) and stays ready."""
    if not await db.answers(request.app.state.engine):
        raise Unavailable("The database is not answering.")
    shared = request.app.state.shared
    return Readiness(status="ready", redis=shared.status() if shared is not None else None)
