"""search-index: one row per public text (`search_entry`), searched by each database's
own inverted index: an FTS5 table over it on SQLite (`search_fts`, external content,
`unicode61` over the tokens `api.search.tokens` writes), GIN indexes on
`to_tsvector('simple', ...)` of the same tokens on PostgreSQL. The index is then built
from the public record as it stands (`api.search.index.rebuild`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_entry",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=16), nullable=False),
        sa.Column("doc_id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=True),
        sa.Column("dialogue_id", sa.Uuid(), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("themes", sa.Text(), nullable=False),
        sa.Column("delegations", sa.Text(), nullable=False),
        sa.Column("published_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("title_tokens", sa.Text(), nullable=False),
        sa.Column("body_tokens", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_search_entry")),
        sa.UniqueConstraint("doc_type", "doc_id", name=op.f("uq_search_entry_doc_type_doc_id")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_search_entry_round_id_seq", "search_entry", ["round_id", "seq"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(title_tokens, body_tokens, "
            "content='search_entry', content_rowid='seq', "
            "tokenize='unicode61 remove_diacritics 0')"
        )
    from api.search.index import rebuild

    rebuild(op.get_bind())
    if not sqlite:
        # built over the rows at once, faster than row by row
        op.execute(
            "CREATE INDEX search_fts_all ON search_entry USING gin "
            "(to_tsvector('simple'::regconfig, title_tokens || ' ' || body_tokens))"
        )
        op.execute(
            "CREATE INDEX search_fts_title ON search_entry USING gin "
            "(to_tsvector('simple'::regconfig, title_tokens))"
        )
        op.execute("ANALYZE search_entry")  # the statistics of the indexes' expressions


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
    op.drop_table("search_entry")
