"""Liveness and readiness."""

from fastapi import APIRouter, Request
from pydantic import BaseModel

from api import db
from api.errors import Unavailable, error_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=error_responses(503))
async def readyz(request: Request) -> Health:
    """The database answers (503 within 2 s when it does not)."""
    if not await db.answers(request.app.state.engine):
        raise Unavailable("The database is not answering.")
    return Health(status="ready")
