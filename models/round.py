"""Rounds of a dialogue and the phase a round is in."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, model_validator
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from models.base import Strict, id_field, instant_field
from models.types import Instant, Line, SmallInt, Title


class RoundPhase(StrEnum):
    """Computed from a round's five instants and the clock."""

    upcoming = "upcoming"
    accepting_submissions = "accepting_submissions"
    awaiting_session = "awaiting_session"
    in_session = "in_session"
    accepting_responses = "accepting_responses"
    concluded = "concluded"


Phase = RoundPhase

INSTANTS = (
    "submissions_open_at",
    "submissions_close_at",
    "starts_at",
    "ends_at",
    "responses_due_at",
)


class Round(SQLModel, table=True):
    __tablename__ = "round"
    __table_args__ = (sa.UniqueConstraint("dialogue_id", "number"),)

    id: uuid.UUID = id_field()
    dialogue_id: uuid.UUID = Field(foreign_key="dialogue.id", index=True)
    number: int
    title: str = Field(max_length=200)
    location: str | None = Field(default=None, max_length=200)
    submissions_open_at: datetime = instant_field()
    submissions_close_at: datetime = instant_field()
    starts_at: datetime = instant_field()
    ends_at: datetime = instant_field()
    responses_due_at: datetime = instant_field()
    # bumped on every change: the ETag and If-Match of a round
    version: int = 1
    created_at: datetime = instant_field(default_now=True)


def check_order(values: dict[str, Any]) -> None:
    """open < close <= starts <= ends <= responses_due (DESIGN.md, "Round")."""
    o, c, s, e, d = (values[name] for name in INSTANTS)
    if not o < c:
        raise ValueError("submissions_open_at must be before submissions_close_at")
    if not c <= s:
        raise ValueError("submissions_close_at must not be after starts_at")
    if not s <= e:
        raise ValueError("starts_at must not be after ends_at")
    if not e <= d:
        raise ValueError("ends_at must not be after responses_due_at")


class RoundWindow(Strict):
    submissions_open_at: Instant
    submissions_close_at: Instant
    starts_at: Instant
    ends_at: Instant
    responses_due_at: Instant

    @model_validator(mode="after")
    def _in_order(self) -> "RoundWindow":
        check_order({name: getattr(self, name) for name in INSTANTS})
        return self


class RoundCreate(RoundWindow):
    number: SmallInt
    title: Title
    location: Line | None = None


class RoundUpdate(Strict):
    """Any of the five instants (the rest stay); the result must still be in order."""

    submissions_open_at: Instant | None = None
    submissions_close_at: Instant | None = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    responses_due_at: Instant | None = None
    title: Title | None = None
    location: Line | None = None


class RoundPublic(BaseModel):
    id: uuid.UUID
    dialogue_slug: str
    number: int
    title: str
    location: str | None
    submissions_open_at: datetime
    submissions_close_at: datetime
    starts_at: datetime
    ends_at: datetime
    responses_due_at: datetime
    phase: Phase = PField(description="Computed from the five instants and the clock.")
