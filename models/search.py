"""The search index: one row per public text (a published submission, a current
response, a published case, a benchmark, a commitment), its filters, and its tokens as
`api.search.tokens` writes them. Each database searches the tokens with its own
inverted index, made by the migration: an FTS5 table over this one on SQLite
(`search_fts`), GIN indexes on `to_tsvector('simple', ...)` on PostgreSQL."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import instant_field


class SearchEntry(SQLModel, table=True):
    """Written in the same transaction as the text it holds (`api.search.index`)."""

    __tablename__ = "search_entry"
    __table_args__ = (
        sa.UniqueConstraint("doc_type", "doc_id"),
        sa.Index("ix_search_entry_round_id_seq", "round_id", "seq"),
        # a deleted newest row never lends its `seq` to a later one (a cursor's snapshot)
        {"sqlite_autoincrement": True},
    )

    # the order of indexing: newest first is the highest; SQLite's rowid, FTS5's too
    seq: int | None = Field(default=None, primary_key=True)
    doc_type: str = Field(max_length=16)
    doc_id: uuid.UUID
    round_id: uuid.UUID | None = None
    dialogue_id: uuid.UUID | None = None
    language: str | None = Field(default=None, max_length=35)
    # theme slugs and delegation codes, each between spaces: " labour-rights tibet "
    themes: str = Field(default=" ", sa_type=sa.Text)
    delegations: str = Field(default=" ", sa_type=sa.Text)
    published_at: datetime = instant_field()
    title_tokens: str = Field(default="", sa_type=sa.Text)
    body_tokens: str = Field(default="", sa_type=sa.Text)
