"""Liveness and readiness."""

import sqlalchemy as sa
from fastapi import APIRouter, Request
from pydantic import BaseModel

from api.errors import Busy, error_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=error_responses(503))
def readyz(request: Request) -> Health:
    """The database answers."""
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        raise Busy("The database is not reachable.") from None
    return Health(status="ready")
