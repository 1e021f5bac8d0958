"""Submissions (concerns and cases): their themes, addressees and endorsements."""

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from pydantic import BaseModel, model_validator
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from models.base import Strict, enum_field, id_field, instant_field
from models.release import ScheduledResponse
from models.response import ResponsePublic
from models.translation import SubmissionTranslationPublic
from models.types import Body, LanguageTag, Line, Note, Slug, Title


class SubmissionKind(StrEnum):
    """A concern (a question about a situation) or a case (about a person)."""

    concern = "concern"
    case = "case"


class Attribution(StrEnum):
    anonymous = "anonymous"
    handle = "handle"
    organisation = "organisation"


class SubmissionStatus(StrEnum):
    """Where a submission is in moderation; only `published` ones are public."""

    pending = "pending"
    published = "published"
    rejected = "rejected"
    withdrawn = "withdrawn"
    removed = "removed"


class ModerationDecision(StrEnum):
    """A moderator's decision, on a submission or a case."""

    publish = "publish"
    reject = "reject"
    remove = "remove"


# the names the code has used all along
Kind = SubmissionKind
Status = SubmissionStatus
Decision = ModerationDecision


class Submission(SQLModel, table=True):
    __tablename__ = "submission"
    __table_args__ = (
        sa.Index(
            "ix_submission_round_status_published", "round_id", "status", "published_at", "id"
        ),
    )

    id: uuid.UUID = id_field()
    round_id: uuid.UUID = Field(foreign_key="round.id")  # ix_submission_round_status_published
    author_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    kind: Kind = enum_field(Kind)
    title: str = Field(max_length=200)
    body: str = Field(sa_type=sa.Text)
    language: str = Field(max_length=35)
    attribution: Attribution = enum_field(Attribution)
    organisation: str | None = Field(default=None, max_length=200)
    # the case (person) a `case` submission is about
    case_id: uuid.UUID | None = Field(default=None, foreign_key="case_file.id", index=True)
    status: Status = enum_field(Status, default=Status.pending)
    # why it was rejected or removed: shown to the author, never public
    status_reason: str | None = Field(default=None, sa_type=sa.Text)
    # casefolded title and body, for search that works the same on every database
    search_text: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = instant_field(default_now=True)
    updated_at: datetime = instant_field(default_now=True)
    published_at: datetime | None = instant_field(nullable=True)
    withdrawn_at: datetime | None = instant_field(nullable=True)
    # when a moderator removed it: its text is erased `removed_retention_days` later
    removed_at: datetime | None = instant_field(nullable=True)
    # when its title and body were erased (withdrawn, or removed and past retention)
    erased_at: datetime | None = instant_field(nullable=True)


class SubmissionTheme(SQLModel, table=True):
    __tablename__ = "submission_theme"

    submission_id: uuid.UUID = Field(foreign_key="submission.id", primary_key=True)
    theme_id: uuid.UUID = Field(foreign_key="theme.id", primary_key=True, index=True)


class SubmissionAddressee(SQLModel, table=True):
    __tablename__ = "submission_addressee"

    submission_id: uuid.UUID = Field(foreign_key="submission.id", primary_key=True)
    delegation_id: uuid.UUID = Field(foreign_key="delegation.id", primary_key=True, index=True)


class Endorsement(SQLModel, table=True):
    __tablename__ = "endorsement"

    submission_id: uuid.UUID = Field(foreign_key="submission.id", primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", primary_key=True, index=True)
    created_at: datetime = instant_field(default_now=True)


# --- request schemas ------------------------------------------------------------


class SubmissionCreate(Strict):
    kind: Kind
    title: Title
    body: Body
    language: LanguageTag = PField(description="BCP 47, e.g. `en`, `zh-Hans`.")
    themes: list[Slug] = PField(default_factory=list, max_length=10)
    addressed_to: list[str] = PField(
        min_length=1, max_length=10, description="Delegation codes of this dialogue."
    )
    attribution: Attribution = Attribution.anonymous
    organisation: Line | None = PField(
        default=None, description="The organisation's name; required for `organisation`."
    )
    case_id: uuid.UUID | None = PField(
        default=None, description="For a `case`: the registered case (person) it is about."
    )

    @model_validator(mode="after")
    def _organisation(self) -> "SubmissionCreate":
        if self.case_id is not None and self.kind != Kind.case:
            raise ValueError("only a submission of kind `case` points at a case")
        if self.attribution == Attribution.organisation and not self.organisation:
            raise ValueError("attribution `organisation` needs the organisation's name")
        if self.attribution != Attribution.organisation and self.organisation:
            raise ValueError("`organisation` is only for attribution `organisation`")
        self.themes = sorted(set(self.themes))
        self.addressed_to = sorted({code.upper() for code in self.addressed_to})
        return self


class SubmissionUpdate(Strict):
    title: Title | None = None
    body: Body | None = None
    language: LanguageTag | None = None
    themes: list[Slug] | None = PField(default=None, max_length=10)
    addressed_to: list[str] | None = PField(default=None, min_length=1, max_length=10)
    attribution: Attribution | None = None
    organisation: Line | None = None


class ModerationCreate(Strict):
    decision: Decision
    reason: Note | None = PField(default=None, description="Required to reject or remove.")

    @model_validator(mode="after")
    def _reason(self) -> "ModerationCreate":
        if self.decision != Decision.publish and not self.reason:
            raise ValueError("a reason is required to reject or remove")
        return self


# --- response schemas -----------------------------------------------------------


class SubmissionPublic(BaseModel):
    id: uuid.UUID
    round_id: uuid.UUID
    kind: Kind
    title: str
    body: str
    language: str
    themes: list[str]
    addressed_to: list[str]
    attribution: Attribution
    author: str | None = PField(
        description="The handle or organisation, as the attribution allows; null when anonymous."
    )
    case_id: uuid.UUID | None = None
    published_at: datetime | None
    endorsement_count: int
    responses: list[ResponsePublic]
    scheduled: list[ScheduledResponse] = PField(
        default=[],
        description="Responses a delegation holds for a joint release: which delegation, "
        "and when they become public.",
    )
    authoritative_language: str = PField(
        description="The language of the authoritative text: always `language`, the original."
    )
    translations: list[SubmissionTranslationPublic] = PField(
        description="Every translation; the one in the language asked for (`?lang=`, else "
        "`Accept-Language`) first."
    )


class SubmissionPrivate(SubmissionPublic):
    """What the author (and moderators) see: the status and its reason too."""

    status: Status
    status_reason: str | None
    created_at: datetime
    updated_at: datetime
