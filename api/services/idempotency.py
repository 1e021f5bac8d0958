"""Idempotency-Key: a retried POST gets the first answer again, never a second row."""

import hashlib
import json
from typing import Any

from sqlmodel import Session, select

from api.errors import Unprocessable
from models.submission import IdempotencyRecord
from models.user import User


def fingerprint(path: str, body: Any) -> str:
    raw = json.dumps([path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def replay(
    session: Session, *, user: User, key: str, request_hash: str
) -> IdempotencyRecord | None:
    """The stored answer for this key, or None; the same key with another body is a 422."""
    stored = session.exec(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user.id, IdempotencyRecord.key == key
        )
    ).first()
    if stored is not None and stored.request_hash != request_hash:
        raise Unprocessable("This Idempotency-Key was used with a different request body.")
    return stored


def remember(
    session: Session, *, user: User, key: str, request_hash: str, status_code: int, body: Any
) -> None:
    session.add(
        IdempotencyRecord(
            user_id=user.id,
            key=key,
            request_hash=request_hash,
            status_code=status_code,
            response=body,
        )
    )
    session.flush()
