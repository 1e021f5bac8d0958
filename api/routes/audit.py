"""The audit log of moderator and admin actions (admins only)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.deps import SessionDep, require
from api.errors import error_responses
from api.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, link_next
from api.permissions import Permission
from api.services import audit
from models.audit import AuditPublic
from models.user import User

router = APIRouter(prefix="/api/v1/audit", tags=["admin"])


@router.get("", response_model=Page[AuditPublic], responses=error_responses(400, 401, 403, 422))
def read_audit(
    _admin: Annotated[User, require(Permission.read_audit)],
    session: SessionDep,
    request: Request,
    response: Response,
    target_id: Annotated[uuid.UUID | None, Query()] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[AuditPublic]:
    """Every moderator and admin action, and case recorders' consent and sharing choices,
    newest first (append-only)."""
    rows, next_cursor = audit.page(session, limit=limit, cursor=cursor, target_id=target_id)
    link_next(request, response, next_cursor)
    return Page(
        items=[AuditPublic.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=next_cursor,
    )
