"""The append-only audit log of moderator and admin actions."""

import uuid
from typing import Any

from sqlmodel import Session, col, select

from api.pagination import decode_keyset_cursor, encode_cursor
from models.submission import AuditEntry
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
    query = select(AuditEntry).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    after = decode_keyset_cursor(cursor)
    if after is not None:
        at, entry_id = after
        query = query.where(
            (col(AuditEntry.at) < at)
            | ((col(AuditEntry.at) == at) & (col(AuditEntry.id) < entry_id))
        )
    rows = list(session.exec(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor([rows[-1].at.isoformat(), str(rows[-1].id)]) if more else None)
