"""Idempotency-Key: a retried POST gets the first answer again, never a second row."""

import hashlib
import json
import uuid
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session

from api.errors import Conflict, Unprocessable
from api.sql.prepared import Prepared
from models.base import utcnow
from models.idempotency import IdempotencyRecord
from models.user import User


def fingerprint(path: str, body: Any) -> str:
    raw = json.dumps([path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


_RECORD: sa.Table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
# compiled once and run on the cursor (`Prepared`): the hot path, every POST at a deadline
_STORED = Prepared(
    sa.select(_RECORD.c.request_hash, _RECORD.c.status_code, _RECORD.c.response).where(
        _RECORD.c.user_id == sa.bindparam("user_id", type_=_RECORD.c.user_id.type),
        _RECORD.c.key == sa.bindparam("key", type_=_RECORD.c.key.type),
    )
)
_REMEMBER = Prepared(sa.insert(_RECORD))


# The request hash of a record whose resource was erased: the hash of the request body
# could confirm a guess of the erased text, so it goes with it.
ERASED = "erased"


class Stored(NamedTuple):
    status_code: int
    response: Any


def replay(session: Session, *, user: User, key: str, request_hash: str) -> Stored | None:
    """The stored answer for this key, or None; the same key with another body is a 422."""
    row = _STORED.first(session, {"user_id": user.id, "key": key})
    if row is None:
        return None
    if row["request_hash"] == ERASED:
        raise Conflict(
            "What this Idempotency-Key made was withdrawn or removed, and its text erased."
        )
    if row["request_hash"] != request_hash:
        raise Unprocessable("This Idempotency-Key was used with a different request body.")
    return Stored(row["status_code"], row["response"])


def remember(
    session: Session, *, user: User, key: str, request_hash: str, status_code: int, body: Any
) -> None:
    _REMEMBER.execute(
        session,
        {
            "id": uuid.uuid4(),
            "user_id": user.id,
            "key": key,
            "request_hash": request_hash,
            "status_code": status_code,
            "response": body,
            "created_at": utcnow(),
        },
    )


def forget(session: Session, *, user_id: uuid.UUID, resource_id: uuid.UUID, status: str) -> None:
    """Erase the stored answer (and the request's hash) of whatever made `resource_id`:
    only its id and status stay, so a retry with the key still makes nothing new."""
    session.execute(
        sa.update(_RECORD)
        .where(
            _RECORD.c.user_id == user_id,
            _RECORD.c.response["id"].as_string() == str(resource_id),
        )
        .values(request_hash=ERASED, response={"id": str(resource_id), "status": status})
    )
