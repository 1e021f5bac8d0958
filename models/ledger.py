"""The record log: one ordered, hash-chained list of every public event."""

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from models.base import instant_field


class RecordEntry(SQLModel, table=True):
    """Append-only. Only `content` may later become null (a tombstone: the item was
    withdrawn, removed, or a name lost its consent), and `subject_id` move on (a grouped
    answer's, `api.services.answer_groups`); its hashes never change."""

    __tablename__ = "record_entry"
    __table_args__ = (sa.Index("ix_record_entry_round_seq", "round_id", "seq"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    event_type: str = Field(max_length=40)
    at: datetime = instant_field()
    object_type: str = Field(max_length=24)
    object_id: uuid.UUID
    round_id: uuid.UUID | None = Field(default=None)
    # what a withdrawal or a consent change takes down with it
    subject_id: uuid.UUID = Field(index=True)
    content: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    content_hash: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class RecordHead(SQLModel, table=True):
    """One row: the newest sequence number and hash. Appenders lock it, so the chain
    never forks and sequence numbers commit in order."""

    __tablename__ = "record_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(max_length=64)


class SigningKey(SQLModel, table=True):
    """Keys that sign checkpoints: the public half, and at most the private half sealed
    with a key the database never holds (api/services/signing_keys.py). Retired keys
    keep their public half, so old checkpoints stay verifiable."""

    __tablename__ = "signing_key"

    kid: str = Field(primary_key=True, max_length=64)
    algorithm: str = Field(max_length=16)
    public_jwk: dict[str, Any] = Field(sa_type=sa.JSON)
    # a plain PEM, as versions before 0007 kept it: moved out at start or by
    # `civic-input migrate-key`, never written now
    private_pem: str | None = Field(default=None, sa_type=sa.Text)
    # AES-GCM sealed PEM, when the key is kept sealed in the database
    private_sealed: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = instant_field(default_now=True)
    retired_at: datetime | None = instant_field(nullable=True)


class FeedEntry(BaseModel):
    seq: int
    type: str = PField(description="e.g. submission.published, response.revised.")
    at: datetime = PField(
        description="UTC, always six digits of microseconds, `Z`: the string that was hashed."
    )
    object_type: str
    object_id: uuid.UUID
    round_id: uuid.UUID | None
    content_hash: str = PField(description="sha256 of the canonical JSON of the content.")
    prev_hash: str
    hash: str = PField(
        description="sha256 over seq, type, at, object_type, object_id, round_id, content_hash, "
        "prev_hash (docs/record.md)."
    )
    content: dict[str, Any] | None = PField(
        description="The public content at the time; null once withdrawn, removed or redacted."
    )


class FeedPage(BaseModel):
    items: list[FeedEntry]
    next_after: int | None = PField(
        description="Pass as `after` for the next page; null when you are at the head."
    )
    head_seq: int


class Checkpoint(BaseModel):
    seq: int
    hash: str
    at: datetime
    kid: str
    jws: str = PField(
        description="Compact JWS (ES256) over {seq, hash, at}; keys at /.well-known/jwks.json."
    )


class Jwk(BaseModel):
    """A checkpoint signer's public key (RFC 7517): P-256, for ES256."""

    kty: str = PField(examples=["EC"])
    crv: str = PField(examples=["P-256"])
    x: str = PField(examples=["f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"])
    y: str = PField(examples=["x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"])
    kid: str = PField(examples=["q8uF2jC0mVn4RkTz7YbQ1w"])
    alg: str = PField(examples=["ES256"])
    use: str = PField(examples=["sig"])


class Jwks(BaseModel):
    """A JSON Web Key Set (RFC 7517 section 5)."""

    keys: list[Jwk]


def iso(at: datetime) -> str:
    """The one spelling of an instant in the record log, in its hashes and wherever the
    log is shown (the feed, the live feed, Atom, the exports, checkpoints): UTC, always
    six digits of microseconds, `Z`: `2015-07-04T00:00:01.000000Z`. The same as
    `strftime("%Y-%m-%dT%H:%M:%S.%fZ")` (years 1000 to 9999) in less time: it is called
    once per entry on every feed page."""
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    return _ISO % (at.year, at.month, at.day, at.hour, at.minute, at.second, at.microsecond)


_ISO = "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ"
