"""The append-only audit log of moderator and admin actions, and of the choices a case's
recorder makes about it (naming consent, whom its restricted details are shared with)."""

import uuid
from typing import Any

from sqlmodel import Session, select

from api.pagination import keyset_page
from models.audit import AuditEntry
from models.user import User


def record(
    session: Session,
    *,
    actor: User,
    action: str,
    target_type: str,
    target_id: uuid.UUID,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor.id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=detail or {},
    )
    session.add(entry)
    return entry


def page(
    session: Session, *, limit: int, cursor: str | None, target_id: uuid.UUID | None = None
) -> tuple[list[AuditEntry], str | None]:
    """Newest first."""
    query = select(AuditEntry)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    return keyset_page(
        session,
        query,
        at_column=AuditEntry.at,
        id_column=AuditEntry.id,
        limit=limit,
        cursor=cursor,
        descending=True,
    )
