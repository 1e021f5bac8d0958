"""Commitments: what a delegation undertook in a round, and what each relates to."""

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from pydantic import BaseModel, HttpUrl
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from models.base import Strict, id_field, instant_field
from models.progress import Progress
from models.types import Body, DelegationCode


class Commitment(SQLModel, table=True):
    """Something a delegation undertook in a round."""

    __tablename__ = "commitment"

    id: uuid.UUID = id_field()
    round_id: uuid.UUID = Field(foreign_key="round.id", index=True)
    delegation_id: uuid.UUID = Field(foreign_key="delegation.id")
    text: str = Field(sa_type=sa.Text)
    due_on: date | None = None
    source_url: str | None = Field(default=None, max_length=500)
    recorded_by_id: uuid.UUID = Field(foreign_key="user_account.id")
    created_at: datetime = instant_field(default_now=True)


class CommitmentLink(SQLModel, table=True):
    """What a commitment relates to: a case, a submission or a benchmark."""

    __tablename__ = "commitment_link"

    commitment_id: uuid.UUID = Field(foreign_key="commitment.id", primary_key=True)
    target_type: str = Field(max_length=16, primary_key=True)
    target_id: uuid.UUID = Field(primary_key=True)


class CommitmentCreate(Strict):
    delegation: DelegationCode | None = PField(
        default=None, description="Required for moderators; officials record for their own."
    )
    text: Body
    due_on: date | None = None
    source_url: HttpUrl | None = None
    cases: list[uuid.UUID] = PField(default_factory=list, max_length=20)
    submissions: list[uuid.UUID] = PField(default_factory=list, max_length=20)
    benchmarks: list[uuid.UUID] = PField(default_factory=list, max_length=20)


class CommitmentPublic(BaseModel):
    id: uuid.UUID
    round_id: uuid.UUID
    delegation: str
    text: str
    due_on: date | None
    overdue: bool
    source_url: str | None
    cases: list[uuid.UUID]
    submissions: list[uuid.UUID]
    benchmarks: list[uuid.UUID]
    progress: Progress
