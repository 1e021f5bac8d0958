"""Progress: the dated assessments, by each side, of a benchmark or a commitment."""

import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from pydantic import BaseModel, HttpUrl
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from models.base import Strict, enum_field, id_field, instant_field
from models.types import Note


class ProgressStatus(StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    met = "met"
    not_met = "not_met"


class AssessmentSide(StrEnum):
    """Who assessed progress: civil society (a moderator) or the delegation concerned."""

    civil_society = "civil_society"
    delegation = "delegation"


Side = AssessmentSide


class ProgressAssessment(SQLModel, table=True):
    """A dated judgement of a benchmark or commitment, by one side. Append-only;
    the current one per side is the latest."""

    __tablename__ = "progress_assessment"
    __table_args__ = (sa.Index("ix_progress_assessment_target", "target_type", "target_id"),)

    id: uuid.UUID = id_field()
    target_type: str = Field(max_length=16)
    target_id: uuid.UUID
    side: Side = enum_field(Side)
    status: ProgressStatus = enum_field(ProgressStatus)
    note: str = Field(sa_type=sa.Text)
    evidence_url: str | None = Field(default=None, max_length=500)
    assessed_on: date
    assessed_by_id: uuid.UUID = Field(foreign_key="user_account.id")
    created_at: datetime = instant_field(default_now=True)


class ProgressCreate(Strict):
    status: ProgressStatus
    note: Note
    evidence_url: HttpUrl | None = None
    assessed_on: date | None = PField(default=None, description="Defaults to today.")


class ProgressPublic(BaseModel):
    side: Side
    status: ProgressStatus
    note: str
    evidence_url: str | None
    assessed_on: date


class Progress(BaseModel):
    state: ProgressStatus = PField(description="Civil society's latest view (or not_started).")
    civil_society: ProgressPublic | None
    delegation_view: ProgressPublic | None
    contested: bool = PField(description="Both sides assessed it and they disagree.")
    history: list[ProgressPublic]
