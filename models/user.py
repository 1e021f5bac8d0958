"""Accounts, refresh-token families and invitations."""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from models.base import Strict, enum_field, id_field, instant_field
from models.types import Email, Handle, Password


class Role(StrEnum):
    activist = "activist"
    official = "official"
    moderator = "moderator"
    admin = "admin"


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: uuid.UUID = id_field()
    handle: str = Field(max_length=32)
    # casefolded handle: uniqueness is case-insensitive
    handle_key: str = Field(max_length=32, unique=True)
    email: str | None = Field(default=None, max_length=254)
    password_hash: str = Field(max_length=255)
    role: Role = enum_field(Role)
    delegation_id: uuid.UUID | None = Field(default=None, foreign_key="delegation.id", index=True)
    is_active: bool = True
    # bumped on logout and password change: older access tokens stop working
    session_version: int = 0
    created_at: datetime = instant_field(default_now=True)


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_token"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    family_id: uuid.UUID = Field(index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = instant_field(default_now=True)
    expires_at: datetime = instant_field()
    used_at: datetime | None = instant_field(nullable=True)
    revoked_at: datetime | None = instant_field(nullable=True)


class Invitation(SQLModel, table=True):
    __tablename__ = "invitation"

    id: uuid.UUID = id_field()
    token_hash: str = Field(max_length=64, unique=True)
    role: Role = enum_field(Role)
    delegation_id: uuid.UUID | None = Field(default=None, foreign_key="delegation.id")
    created_by_id: uuid.UUID = Field(foreign_key="user_account.id")
    created_at: datetime = instant_field(default_now=True)
    expires_at: datetime = instant_field()
    accepted_at: datetime | None = instant_field(nullable=True)
    accepted_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")


# --- request and response schemas ------------------------------------------------


class UserRegister(Strict):
    handle: Handle = PField(description="Public pseudonym, 3-32 letters, digits, `_ . -`.")
    password: Password = PField(
        description="15 to 256 characters, not one of the commonest passwords."
    )
    email: Email | None = PField(default=None, description="Optional; never shown publicly.")


class DelegationRef(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    dialogue_slug: str


class UserPublic(BaseModel):
    id: uuid.UUID
    handle: str
    role: Role
    delegation: DelegationRef | None = None


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = PField(description="Seconds until the access token expires.")
    refresh_token: str


class RefreshRequest(Strict):
    refresh_token: str = PField(min_length=16, max_length=256)


class InvitableRole(StrEnum):
    """Officials and moderators are invited; activists register, admins come from the CLI."""

    official = "official"
    moderator = "moderator"


class InvitationCreate(Strict):
    role: InvitableRole
    delegation_id: uuid.UUID | None = PField(
        default=None, description="Required for an official: the delegation they answer for."
    )
    expires_in_hours: int = PField(default=72, ge=1, le=720)


class InvitationCreated(BaseModel):
    id: uuid.UUID
    role: Role
    delegation_id: uuid.UUID | None
    expires_at: datetime
    token: str = PField(description="Shown once; hand it to the invitee over a safe channel.")


class InvitationAccept(Strict):
    token: str = PField(min_length=16, max_length=256)
    handle: Handle
    password: Password
