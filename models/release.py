"""A delegation's joint release of its responses in a round: one instant at which every
response it holds there becomes public together (api/services/releases.py)."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from models.base import Strict, id_field, instant_field
from models.types import Instant


class DelegationRelease(SQLModel, table=True):
    """The release instant a delegation's officials set for a round: responses it holds
    there, and those it posts before the instant, are held until then."""

    __tablename__ = "delegation_release"
    __table_args__ = (sa.UniqueConstraint("round_id", "delegation_id"),)

    id: uuid.UUID = id_field()
    round_id: uuid.UUID = Field(foreign_key="round.id")
    delegation_id: uuid.UUID = Field(foreign_key="delegation.id")
    release_at: datetime = instant_field()
    set_by_id: uuid.UUID = Field(foreign_key="user_account.id")
    set_at: datetime = instant_field(default_now=True)


class ReleaseSet(Strict):
    release_at: Instant = PField(
        description="When the delegation's held responses in the round become public "
        "together; in the future, at most 30 days ahead."
    )


class ScheduledResponse(BaseModel):
    """What the public sees of a held response: that the delegation has one, and when it
    is to be released."""

    delegation: str = PField(description="The delegation's code.")
    release_at: datetime


class HeldResponse(BaseModel):
    response_id: uuid.UUID
    submission_id: uuid.UUID
    release_at: datetime


class ReleasePlan(BaseModel):
    """A delegation's releases in a round, as its officials and moderators see them."""

    round_id: uuid.UUID
    delegation: str
    release_at: datetime | None = PField(
        description="The release instant set for the round, while it is still ahead; null "
        "when none is set (responses posted now are public at once, unless they carry "
        "their own `embargo_until`)."
    )
    held: list[HeldResponse] = PField(
        description="Responses not yet public, in the order they will be released."
    )
