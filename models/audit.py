"""The audit log: append-only, every moderator and admin action and a case recorder's
consent and sharing choices; readable by admins only."""

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from models.base import id_field, instant_field


class AuditEntry(SQLModel, table=True):
    """Append-only: every moderator and admin action, and a case recorder's consent and
    sharing choices. Readable by admins only."""

    __tablename__ = "audit_entry"

    id: uuid.UUID = id_field()
    at: datetime = instant_field(default_now=True, index=True)
    actor_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    action: str = Field(max_length=64)
    target_type: str = Field(max_length=32)
    target_id: uuid.UUID = Field(index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class AuditPublic(BaseModel):
    id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID
    action: str
    target_type: str
    target_id: uuid.UUID
    detail: dict[str, Any]
