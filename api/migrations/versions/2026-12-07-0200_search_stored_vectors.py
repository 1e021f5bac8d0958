"""search-stored-vectors: on PostgreSQL, the search index's text vectors are stored
columns (`search_fts_doc`: title and body; `search_fts_title_doc`: the title), generated
from the tokens, and the GIN indexes are built on them instead of on expressions.

A match (`@@`) on a stored vector is a lookup in a sorted array, where the expression
parsed the whole text again: cheap enough for a page of a common term to walk the rows
newest first (the primary key) and stop at the page's size, which the GIN index cannot
do (it returns every match, unordered); a partial index of the rows with a title
(`search_fts_titled`, on `seq`) lets the title tier walk only those. SQLite is
unchanged (FTS5 keeps its own).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 02:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP INDEX IF EXISTS search_fts_all")
    op.execute("DROP INDEX IF EXISTS search_fts_title")
    # one rewrite of the table for both columns
    op.execute(
        "ALTER TABLE search_entry "
        "ADD COLUMN search_fts_doc tsvector GENERATED ALWAYS AS "
        "(to_tsvector('simple'::regconfig, title_tokens || ' ' || body_tokens)) STORED, "
        "ADD COLUMN search_fts_title_doc tsvector GENERATED ALWAYS AS "
        "(to_tsvector('simple'::regconfig, title_tokens)) STORED"
    )
    op.execute("CREATE INDEX search_fts_all ON search_entry USING gin (search_fts_doc)")
    op.execute("CREATE INDEX search_fts_title ON search_entry USING gin (search_fts_title_doc)")
    # the rows with a title, newest first: the walk of a title search for a common term
    op.execute("CREATE INDEX search_fts_titled ON search_entry (seq) WHERE title_tokens <> ''")
    op.execute("ANALYZE search_entry")  # the statistics of the vectors' lexemes


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP INDEX search_fts_titled")
    op.execute("DROP INDEX search_fts_all")
    op.execute("DROP INDEX search_fts_title")
    op.execute(
        "ALTER TABLE search_entry DROP COLUMN search_fts_doc, DROP COLUMN search_fts_title_doc"
    )
    op.execute(
        "CREATE INDEX search_fts_all ON search_entry USING gin "
        "(to_tsvector('simple'::regconfig, title_tokens || ' ' || body_tokens))"
    )
    op.execute(
        "CREATE INDEX search_fts_title ON search_entry USING gin "
        "(to_tsvector('simple'::regconfig, title_tokens))"
    )
