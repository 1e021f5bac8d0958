"""A parsed query in each database's own language, and the SQL that matches it.

SQLite: the FTS5 table `search_fts` (external content: `search_entry`, rowid `seq`)
gets a MATCH expression of quoted phrases; PostgreSQL: the stored vectors of the same
tokens (`to_tsvector('simple', ...)`, the columns the GIN indexes are built on, made by
the migrations) get a tsquery of quoted lexemes (`<->` between the tokens of a
phrase). The tokens hold only letters and digits (`api.search.tokens`), so quoting
them is all the escaping either needs.
"""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal

from api.search.tokens import Query

# The PostgreSQL columns the GIN indexes are built on: the vectors of title and body,
# and of the title alone, generated from the tokens (migration 0009). No model declares
# them: they are PostgreSQL's part of the index, as `search_fts` is SQLite's.
PG_ALL = "{e}search_fts_doc"
PG_TITLE = "{e}search_fts_title_doc"


def fts5_match(query: Query, *, title: bool = False) -> str:
    """The FTS5 MATCH expression: every clause, as a phrase; in the title only if `title`."""
    prefix = "title_tokens : " if title else ""
    return " AND ".join(prefix + '"' + " ".join(clause) + '"' for clause in query.clauses)


def tsquery(query: Query) -> str:
    """The PostgreSQL tsquery text: every clause, its tokens in sequence."""

    def lexeme(token: str) -> str:
        return "'" + token.replace("'", "''") + "'"

    return " & ".join(
        "(" + " <-> ".join(lexeme(token) for token in clause) + ")" for clause in query.clauses
    )


def match_param(dialect: str, query: Query, *, title: bool = False) -> str:
    """The value bound where a condition of `matching` expects `:match`."""
    return fts5_match(query, title=title) if dialect == "sqlite" else tsquery(query)


def matching(dialect: str, *, title: bool, alias: str = "e") -> str:
    """A condition on `search_entry AS alias` (SQLite: joined to `search_fts`): the row's
    text (its title only, if `title`) matches `:match`."""
    if dialect == "sqlite":
        return "search_fts MATCH :match"
    if title:
        # only rows with a title, so that the walk newest first can take the partial
        # index of them (`search_fts_titled`) and pass over the rest unread
        column = PG_TITLE.format(e=alias + ".")
        return f"({alias}.title_tokens <> '' AND {column} @@ CAST(:match AS tsquery))"
    return f"{PG_ALL.format(e=alias + '.')} @@ CAST(:match AS tsquery)"


def from_clause(dialect: str, alias: str = "e") -> str:
    """The FROM of a search: the FTS5 table joined to its content on SQLite."""
    if dialect == "sqlite":
        return f"search_fts JOIN search_entry AS {alias} ON {alias}.seq = search_fts.rowid"
    return f"search_entry AS {alias}"


def order_key(dialect: str, alias: str = "e") -> str:
    """The row's `seq`, as the FTS5 table gives it on SQLite (it walks its rowids in
    order, so a page of the newest stops after its rows)."""
    return "search_fts.rowid" if dialect == "sqlite" else f"{alias}.seq"


class SubmissionMatches(sa.sql.expression.ColumnElement[bool]):
    """``<column> IN (<published submissions of round :round whose text matches :match>)``,
    for the record's `q`: the round's part of the search index, as each database searches it."""

    inherit_cache = True
    type = sa.Boolean()
    _traverse_internals = [  # noqa: RUF012
        ("column", InternalTraversal.dp_clauseelement),
        ("pattern", InternalTraversal.dp_clauseelement),
        ("round_id", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, pattern: Any, round_id: Any) -> None:
        self.column = column
        self.pattern = pattern
        self.round_id = round_id


@compiles(SubmissionMatches)
def _compile_submission_matches(element: SubmissionMatches, compiler: Any, **kw: Any) -> str:
    dialect = compiler.dialect.name
    condition = matching(dialect, title=False).replace(
        ":match", compiler.process(element.pattern, **kw)
    )
    column = compiler.process(element.column, **kw)
    round_id = compiler.process(element.round_id, **kw)
    source = from_clause(dialect)
    # only compiled parameters and this module's constant SQL go into the text
    select = "SELECT e.doc_id FROM {} WHERE {} AND e.doc_type = 'submission' AND e.round_id = {}"
    return f"{column} IN ({select.format(source, condition, round_id)})"
