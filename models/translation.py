"""Translations of submissions and responses, and which text of each is authoritative.

A submission or a response is written in one language (its original); anyone entitled
may add a translation into another language, one per language, replaced by posting
again. Exactly one text of each is `authoritative`: the original, unless the delegation
marked one of its own translations of its response so (no row is then authoritative:
the original is). The translator is stored for moderators and the audit; the public sees
only the kind of translator (`translated_by`)."""

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from models.base import Strict, enum_field, id_field, instant_field
from models.types import Body, LanguageTag, Title


class TranslatedObject(StrEnum):
    submission = "submission"
    response = "response"


class TranslatedBy(StrEnum):
    """Who made a translation, as the public sees it: the kind, never the person."""

    author = "author"
    delegation = "delegation"
    moderator = "moderator"


class Translation(SQLModel, table=True):
    """One per (object, language). Replaced in place when posted again: the record log
    keeps every version (`translation.added`, `translation.replaced`)."""

    __tablename__ = "translation"
    __table_args__ = (
        sa.UniqueConstraint("object_type", "object_id", "language"),
        # at most one authoritative translation per object (none: the original is)
        sa.Index(
            "uq_translation_authoritative",
            "object_type",
            "object_id",
            unique=True,
            sqlite_where=sa.text("authoritative"),
            postgresql_where=sa.text("authoritative"),
        ),
    )

    id: uuid.UUID = id_field()
    object_type: TranslatedObject = enum_field(TranslatedObject)
    # the submission's or the response's id
    object_id: uuid.UUID
    # the submission concerned (the response's, for a response): one query finds every
    # translation a record page shows, and withdrawal every one to erase
    submission_id: uuid.UUID = Field(foreign_key="submission.id", index=True)
    language: str = Field(max_length=35)
    title: str | None = Field(default=None, max_length=200)
    body: str = Field(sa_type=sa.Text)
    translated_by: TranslatedBy = enum_field(TranslatedBy)
    # never public: who translated, for moderators and the audit
    translator_id: uuid.UUID = Field(foreign_key="user_account.id")
    # the response revision translated (null for a submission)
    revision: int | None = Field(default=None)
    authoritative: bool = Field(default=False)
    created_at: datetime = instant_field(default_now=True)
    updated_at: datetime = instant_field(default_now=True)


# --- request schemas ------------------------------------------------------------


class SubmissionTranslationCreate(Strict):
    language: LanguageTag = PField(description="BCP 47; not the submission's own language.")
    title: Title | None = PField(default=None, description="The title, translated.")
    body: Body


class ResponseTranslationCreate(Strict):
    language: LanguageTag = PField(description="BCP 47; not the response's own language.")
    body: Body


class AuthoritativeText(Strict):
    language: LanguageTag = PField(
        description="The response's own language (the original is authoritative again), or "
        "the language of a translation the delegation made."
    )


# --- response schemas -----------------------------------------------------------


class SubmissionTranslationPublic(BaseModel):
    language: str
    title: str | None
    body: str
    translated_by: TranslatedBy
    authoritative: bool = PField(description="Always false: a submission's original is.")
    translated_at: datetime = PField(description="When this version of it was posted.")


class ResponseTranslationPublic(BaseModel):
    language: str
    body: str
    translated_by: TranslatedBy
    authoritative: bool = PField(
        description="True when the delegation made this the text it stands behind."
    )
    revision: int = PField(description="The revision of the response it translates.")
    translated_at: datetime = PField(description="When this version of it was posted.")
