"""Official responses, their append-only revisions, and civil society's assessments."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, field_validator, model_validator
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from models.base import Strict, enum_field, id_field, instant_field
from models.translation import ResponseTranslationPublic
from models.types import Body, Instant, LanguageTag, Note


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
    """One per (submission, delegation), or one for several submissions (a grouped
    answer): `ResponseSubmission` lists what it answers. Its text lives in its revisions;
    the current one is the revision numbered `revision_count`."""

    __tablename__ = "response"
    __table_args__ = (sa.UniqueConstraint("submission_id", "delegation_id"),)

    id: uuid.UUID = id_field()
    # the submission it answers; for a grouped answer, the first (by id) of its members
    # still published (`api.services.answer_groups.member_gone` moves it on)
    submission_id: uuid.UUID = Field(foreign_key="submission.id", index=True)
    delegation_id: uuid.UUID = Field(foreign_key="delegation.id", index=True)
    revision_count: int = 1
    responded_at: datetime = instant_field(default_now=True)
    # answers several submissions at once: its views list the others (`grouped_with`)
    grouped: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # A joint release (api/services/releases.py): a response with `embargo_until` is held,
    # seen only by its delegation's officials and moderators, until `released_at` is set
    # at that instant; the instant is kept after release (the "released late" figure).
    embargo_until: datetime | None = instant_field(nullable=True, index=True)
    released_at: datetime | None = instant_field(nullable=True)


class ResponseSubmission(SQLModel, table=True):
    """Each submission a response answers: one row for an ordinary response, one per
    member of a grouped answer. Its key holds the rule of one response per (submission,
    delegation) across both."""

    __tablename__ = "response_submission"

    submission_id: uuid.UUID = Field(foreign_key="submission.id", primary_key=True)
    delegation_id: uuid.UUID = Field(foreign_key="delegation.id", primary_key=True)
    response_id: uuid.UUID = Field(foreign_key="response.id", index=True)


def is_public(embargo_until: Any, released_at: Any) -> Any:
    """The one rule of what the public may see of responses, as SQL over the two columns:
    never held, or released."""
    return sa.or_(embargo_until.is_(None), released_at.is_not(None))


class ResponseRevision(SQLModel, table=True):
    """Append-only once public: never updated, never deleted. While its response is held
    for a joint release, its one revision is a draft, replaced in place, and stamped with
    the release instant when it is released (api/services/releases.py)."""

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
    embargo_until: Instant | None = PField(
        default=None,
        description="Hold the response until this instant (at most 30 days ahead): until "
        "then only your delegation's officials and moderators see it, and the public sees "
        "that a response is `scheduled`. Without it, a release instant your delegation set "
        "for the round applies.",
    )

    @model_validator(mode="after")
    def _reason_code(self) -> "ResponseCreate":
        _check_reason_code(self.kind, self.reason_code)
        return self


GROUP_MAX = 100


class GroupedResponseCreate(ResponseCreate):
    submission_ids: list[uuid.UUID] = PField(
        min_length=2,
        max_length=GROUP_MAX,
        description="The submissions it answers: 2 to 100, distinct, published in the round "
        "and addressed to your delegation, none answered by it yet.",
        examples=[
            [
                "7d3b1f2e-5a4c-4e8b-9f1d-2c6a8e0b4d13",
                "0f4e2a9c-8b1d-4c3e-a5f6-9d2b7e1c4a80",
            ]
        ],
    )

    @field_validator("submission_ids")
    @classmethod
    def _distinct(cls, ids: list[uuid.UUID]) -> list[uuid.UUID]:
        if len(set(ids)) != len(ids):
            raise ValueError("submission_ids must be distinct")
        return ids


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
    grouped_with: list[uuid.UUID] = PField(
        description="The other published submissions this grouped answer answers, sorted; "
        "[] for an ordinary response."
    )
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
