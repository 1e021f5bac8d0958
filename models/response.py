"""Official responses, their append-only revisions, and civil society's assessments."""

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from pydantic import BaseModel, model_validator
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from models.base import Strict, enum_field, id_field, instant_field
from models.translation import ResponseTranslationPublic
from models.types import Body, LanguageTag, Note


class ResponseKind(StrEnum):
    answer = "answer"
    holding = "holding"
    declined = "declined"


class ReasonCode(StrEnum):
    internal_affairs = "internal_affairs"
    ongoing_judicial_proceedings = "ongoing_judicial_proceedings"
    not_within_competence = "not_within_competence"
    other = "other"


class Rating(StrEnum):
    satisfactory = "satisfactory"
    partial = "partial"
    evasive = "evasive"
    non_responsive = "non_responsive"


class Response(SQLModel, table=True):
    """One per (submission, delegation). Its text lives in its revisions; the
    current one is the revision numbered `revision_count`."""

    __tablename__ = "response"
    __table_args__ = (sa.UniqueConstraint("submission_id", "delegation_id"),)

    id: uuid.UUID = id_field()
    submission_id: uuid.UUID = Field(foreign_key="submission.id", index=True)
    delegation_id: uuid.UUID = Field(foreign_key="delegation.id", index=True)
    revision_count: int = 1
    responded_at: datetime = instant_field(default_now=True)


class ResponseRevision(SQLModel, table=True):
    """Append-only: never updated, never deleted."""

    __tablename__ = "response_revision"
    __table_args__ = (sa.UniqueConstraint("response_id", "number"),)

    id: uuid.UUID = id_field()
    response_id: uuid.UUID = Field(foreign_key="response.id")
    number: int
    kind: ResponseKind = enum_field(ResponseKind)
    body: str = Field(sa_type=sa.Text)
    language: str = Field(max_length=35)
    reason_code: ReasonCode | None = enum_field(ReasonCode, length=40, nullable=True)
    # why this revision was made; null for the first
    reason: str | None = Field(default=None, sa_type=sa.Text)
    official_id: uuid.UUID = Field(foreign_key="user_account.id")
    created_at: datetime = instant_field(default_now=True)


class AnswerAssessment(SQLModel, table=True):
    """How a rater judged a response: one per rater, replaceable."""

    __tablename__ = "answer_assessment"
    __table_args__ = (sa.UniqueConstraint("response_id", "rater_id"),)

    id: uuid.UUID = id_field()
    response_id: uuid.UUID = Field(foreign_key="response.id", index=True)
    rater_id: uuid.UUID = Field(foreign_key="user_account.id")
    rating: Rating = enum_field(Rating)
    comment: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = instant_field(default_now=True)
    updated_at: datetime = instant_field(default_now=True)


def _check_reason_code(kind: ResponseKind | None, reason_code: ReasonCode | None) -> None:
    if kind == ResponseKind.declined and reason_code is None:
        raise ValueError("a declined response needs a reason_code")
    if kind is not None and kind != ResponseKind.declined and reason_code is not None:
        raise ValueError("reason_code is only for declined responses")


class ResponseCreate(Strict):
    kind: ResponseKind
    body: Body
    language: LanguageTag
    reason_code: ReasonCode | None = PField(default=None, description="Required for `declined`.")

    @model_validator(mode="after")
    def _reason_code(self) -> "ResponseCreate":
        _check_reason_code(self.kind, self.reason_code)
        return self


class RevisionCreate(Strict):
    kind: ResponseKind | None = PField(default=None, description="Unchanged when omitted.")
    body: Body
    language: LanguageTag | None = None
    reason_code: ReasonCode | None = None
    reason: Note = PField(description="Why the response changed; shown publicly.")


class RevisionPublic(BaseModel):
    number: int
    kind: ResponseKind
    body: str
    language: str
    reason_code: ReasonCode | None
    reason: str | None
    published_at: datetime = PField(validation_alias="created_at")


class AssessmentCreate(Strict):
    rating: Rating
    comment: Note | None = None


class AssessmentPublic(BaseModel):
    response_id: uuid.UUID
    rating: Rating
    comment: str | None
    updated_at: datetime


class Ratings(BaseModel):
    satisfactory: int = 0
    partial: int = 0
    evasive: int = 0
    non_responsive: int = 0


class ResponsePublic(BaseModel):
    id: uuid.UUID
    submission_id: uuid.UUID
    delegation: str = PField(description="The delegation's code.")
    kind: str
    body: str
    language: str
    reason_code: str | None
    responded_at: datetime
    updated_at: datetime = PField(description="When the current revision was published.")
    revision_count: int
    late: bool
    ratings: Ratings
    authoritative_language: str = PField(
        description="The language of the authoritative text: `language` (the original) "
        "unless the delegation marked one of its translations authoritative."
    )
    translations: list[ResponseTranslationPublic] = PField(
        description="Every translation; the one in the language asked for (`?lang=`, else "
        "`Accept-Language`) first."
    )
