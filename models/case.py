"""Cases (people tracked across rounds): who may see their restricted details, who read
them, and their status timeline."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from pydantic import BaseModel, HttpUrl, StringConstraints, field_validator, model_validator
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from models.base import Strict, enum_field, id_field, instant_field
from models.submission import ModerationDecision, SubmissionPublic
from models.types import Body, Line, Note
from models.user import Role


class CaseStatus(StrEnum):
    detained = "detained"
    disappeared = "disappeared"
    imprisoned = "imprisoned"
    under_surveillance = "under_surveillance"
    exit_banned = "exit_banned"
    released = "released"
    exiled = "exiled"
    deceased = "deceased"
    unknown = "unknown"


# A repeat case "improved" when its person is now out of the state's hands.
IMPROVED = frozenset({CaseStatus.released.value, CaseStatus.exiled.value})


class CaseReview(StrEnum):
    pending = "pending"
    published = "published"
    rejected = "rejected"
    removed = "removed"


NAME_WITHHELD = "name withheld"


class Case(SQLModel, table=True):
    __tablename__ = "case_file"

    id: uuid.UUID = id_field()
    created_by_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=200)
    name_native: str | None = Field(default=None, max_length=200)
    # the person (or their family) agreed to be named publicly
    name_consent: bool = False
    location: str | None = Field(default=None, max_length=200)
    summary: str = Field(default="", sa_type=sa.Text)
    # family contacts, sources: never public
    restricted_details: str | None = Field(default=None, sa_type=sa.Text)
    review: CaseReview = enum_field(CaseReview, default=CaseReview.pending)
    review_reason: str | None = Field(default=None, sa_type=sa.Text)
    # casefolded names, for search; matched only while consent stands
    search_names: str = Field(default="", max_length=410)
    created_at: datetime = instant_field(default_now=True)
    published_at: datetime | None = instant_field(nullable=True)


class CaseShare(SQLModel, table=True):
    """A delegation whose officials may read the case's restricted details and real names,
    as its recorder chose (`PUT /cases/{id}/sharing`). Nothing is shared by default: the
    state that holds the person is one of the delegations."""

    __tablename__ = "case_share"

    case_id: uuid.UUID = Field(foreign_key="case_file.id", primary_key=True)
    delegation_id: uuid.UUID = Field(foreign_key="delegation.id", primary_key=True)


class CaseAccess(SQLModel, table=True):
    """One read of a case's restricted details by someone other than its recorder.
    Append-only. Who (the account, and its role and delegation at the time) and when;
    never an address."""

    __tablename__ = "case_access"
    __table_args__ = (sa.Index("ix_case_access_case_id_at", "case_id", "at"),)

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case_file.id")
    user_id: uuid.UUID = Field(foreign_key="user_account.id")
    role: Role = enum_field(Role)
    delegation: str | None = Field(default=None, max_length=8)
    at: datetime = instant_field(default_now=True)


class CaseTimelineEntry(SQLModel, table=True):
    """Append-only; the case's current status is that of its latest entry."""

    __tablename__ = "case_timeline_entry"

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case_file.id", index=True)
    status: CaseStatus = enum_field(CaseStatus, length=24)
    event_date: date
    note: str = Field(default="", sa_type=sa.Text)
    source_url: str | None = Field(default=None, max_length=500)
    created_by_id: uuid.UUID = Field(foreign_key="user_account.id")
    created_at: datetime = instant_field(default_now=True)


# --- request schemas ---------------------------------------------------------------


class CaseCreate(Strict):
    name: Line = PField(description="The person's name in Latin script.")
    name_native: Line | None = PField(
        default=None, description="The name in native script (e.g. Chinese)."
    )
    name_consent: bool = PField(
        default=False, description="Whether the person or family agreed to be named publicly."
    )
    status: CaseStatus = CaseStatus.unknown
    status_date: date = PField(description="When the current status began (or was last known).")
    location: Line | None = None
    summary: Body
    restricted_details: Body | None = PField(
        default=None, description="Family contacts, sources: never shown publicly."
    )


class CaseConsent(Strict):
    name_consent: bool


SharedWith = Annotated[
    str,
    StringConstraints(
        min_length=2, max_length=73, pattern=r"^([a-z0-9]+(-[a-z0-9]+)*/)?[A-Z][A-Z0-9-]*$"
    ),
]


class CaseSharing(Strict):
    delegations: list[SharedWith] = PField(
        max_length=50,
        description="Delegation codes (`US`), or `dialogue-slug/CODE` where a code is "
        "ambiguous. Replaces the list; `[]` shares with none.",
    )


# The words case moderation took at first, still accepted (undocumented).
_OLD_DECISIONS = {"published": "publish", "rejected": "reject", "removed": "remove"}
_REVIEW_AFTER = {
    ModerationDecision.publish: CaseReview.published,
    ModerationDecision.reject: CaseReview.rejected,
    ModerationDecision.remove: CaseReview.removed,
}


class CaseModeration(Strict):
    decision: ModerationDecision = PField(
        description="`publish` or `reject` for a pending case; `remove` takes a "
        "published case down (reason required)."
    )
    reason: Note | None = None

    @field_validator("decision", mode="before")
    @classmethod
    def _old_words(cls, value: object) -> object:
        if isinstance(value, str):
            return _OLD_DECISIONS.get(value, value)
        return value

    @model_validator(mode="after")
    def _reason(self) -> "CaseModeration":
        if self.decision == ModerationDecision.remove and not self.reason:
            raise ValueError("a reason is required to remove a case")
        return self

    @property
    def review(self) -> CaseReview:
        """The case's review state after this decision."""
        return _REVIEW_AFTER[self.decision]


class TimelineCreate(Strict):
    status: CaseStatus
    event_date: date
    note: Note
    source_url: HttpUrl | None = None


# --- response schemas --------------------------------------------------------------


class TimelinePublic(BaseModel):
    status: CaseStatus
    event_date: date
    note: str
    source_url: str | None


class CaseRaised(BaseModel):
    round_id: uuid.UUID
    round_number: int
    round_title: str
    submission_ids: list[uuid.UUID]


class CaseSummary(BaseModel):
    id: uuid.UUID
    name: str = PField(description=f'The public name, or "{NAME_WITHHELD}" without consent.')
    name_native: str | None
    status: CaseStatus
    status_since: date | None
    location: str | None
    summary: str
    rounds_raised: int


class CaseDetail(CaseSummary):
    timeline: list[TimelinePublic]
    raised_in: list[CaseRaised]
    submissions: list[SubmissionPublic] = PField(
        description="The published submissions about this case, with their responses."
    )


class CasePrivate(CaseDetail):
    """For the activist who recorded the case, moderators, admins, and officials of the
    delegations it was shared with."""

    real_name: str
    real_name_native: str | None
    name_consent: bool
    restricted_details: str | None
    review: CaseReview
    review_reason: str | None


class CaseSharingPublic(BaseModel):
    delegations: list[str] = PField(
        description="The delegations whose officials may read the restricted details: each "
        "a code, or `dialogue-slug/CODE` where the code alone would be ambiguous."
    )


class CaseAccessPublic(BaseModel):
    handle: str
    role: str = PField(description="The reader's role at the time.")
    delegation: str | None = PField(description="An official's delegation code at the time.")
    at: datetime
