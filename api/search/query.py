"""Searching the whole public record (`GET /api/v1/search`).

Ranking. Results come in two tiers of relevance: first the documents whose title (a
submission's or benchmark's title, a case's public name) holds every word and phrase
of the query, then those that hold them anywhere else; within a tier, newest first.
Both tiers are read newest first (`seq`, the order of publication) and stop at the
page's size: a score computed over every match (FTS5's bm25, `ts_rank`) would have to
read all of them before the first page, and would move whenever a new document changes
the collection's statistics. SQLite's FTS5 walks its index in the order of its row
ids, whatever the term. PostgreSQL's GIN index returns every match unordered: the
planner takes it for a rare term (then sorts the few matches), and for a common one
walks the rows newest first (the primary key; for the title tier, the partial index
of the rows with a title), testing each row's stored vector, until the page is full.

A page is one statement: the title tier, the rest only when the title tier leaves the
page short, the snapshot, and each hit's text and dialogue by primary key.

Cursor pages are stable while new items are published: the first page fixes a
snapshot (the highest `seq` at the time), and the cursor carries it with the tier and
the `seq` of the last result; rows indexed later are past the snapshot. A text revised
meanwhile keeps its `seq` (`api.search.index.sync`), so it keeps its place.
"""

import functools
import uuid
from datetime import datetime
from enum import StrEnum
from types import SimpleNamespace
from typing import Annotated, Any, cast

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col

from api.errors import BadRequest, Unprocessable
from api.pagination import decode_cursor, encode_cursor
from api.search import sql
from api.search.index import consent_view
from api.search.tokens import Query, QueryError, matching_spans, parse_query
from api.sql.prepared import Prepared
from api.views.cases import public_name
from models.base import UTCDateTime
from models.submission import Status
from models.translation import Translation

SNIPPET_CHARS = 160
# how far before the first match a snippet starts
_LEAD = 40


class DocType(StrEnum):
    submission = "submission"
    response = "response"
    case = "case"
    benchmark = "benchmark"
    commitment = "commitment"


class SearchFilters(BaseModel):
    dialogue: str | None = None
    round_id: uuid.UUID | None = None
    type: DocType | None = None
    theme: str | None = None
    delegation: str | None = None
    language: str | None = None


class Snippet(BaseModel):
    text: str = Field(description="Up to 160 characters of the text, as plain text.")
    # pairs as two-item arrays (not tuples: `prefixItems` has no `items`, which OpenAPI
    # tools want beside `type: array`)
    matches: list[Annotated[list[int], Field(min_length=2, max_length=2)]] = Field(
        description="Where the query's words are in `text`: [start, end) character offsets."
    )


class SearchHit(BaseModel):
    type: DocType
    id: uuid.UUID = Field(description="The submission, response, case, benchmark or commitment.")
    round_id: uuid.UUID | None = Field(description="Null for a case (cases span rounds).")
    dialogue: str | None = Field(description="The dialogue's slug; null for a case.")
    submission_id: uuid.UUID | None = Field(
        default=None, description="For a response: the submission it answers."
    )
    language: str | None
    published_at: datetime
    title: str | None = Field(
        description="A submission's or benchmark's title, a case's public name; "
        "null for responses and commitments."
    )
    snippet: Snippet


def _filters(dialect: str, filters: SearchFilters, params: dict[str, Any]) -> str:
    """The filters as SQL over `search_entry AS e`, their values put in `params`."""
    where = []
    if filters.dialogue is not None:
        where.append("e.dialogue_id = (SELECT d.id FROM dialogue AS d WHERE d.slug = :dialogue)")
        params["dialogue"] = filters.dialogue
    if filters.round_id is not None:
        where.append("e.round_id = :round_id")
        params["round_id"] = filters.round_id.hex if dialect == "sqlite" else filters.round_id
    if filters.type is not None:
        where.append("e.doc_type = :doc_type")
        params["doc_type"] = filters.type.value
    if filters.theme is not None:
        where.append("e.themes LIKE :theme")
        params["theme"] = f"% {_like(filters.theme)} %"
    if filters.delegation is not None:
        where.append("e.delegations LIKE :delegation")
        params["delegation"] = f"% {_like(filters.delegation.upper())} %"
    if filters.language is not None:
        where.append("(e.language = :language OR e.language LIKE :language_prefix)")
        params["language"] = filters.language
        params["language_prefix"] = f"{_like(filters.language)}-%"
    return "".join(f" AND {condition}" for condition in where)


def _like(value: str) -> str:
    return value.replace("\\", "").replace("%", "").replace("_", "\\_").replace(" ", "")


_TEXT_TYPES: dict[str, Any] = {
    "tier": sa.Integer(),
    "seq": sa.Integer(),
    "doc_type": sa.String(),
    "doc_id": sa.Uuid(),
    "round_id": sa.Uuid(),
    "language": sa.String(),
    "published_at": UTCDateTime(),
    "dialogue": sa.String(),
    "top": sa.Integer(),
    "s_id": sa.String(),
    "s_title": sa.String(),
    "s_body": sa.String(),
    "r_submission_id": sa.Uuid(),
    "r_body": sa.String(),
    "c_id": sa.String(),
    "c_name": sa.String(),
    "c_name_native": sa.String(),
    "c_name_consent": sa.Boolean(),
    "c_location": sa.String(),
    "c_summary": sa.String(),
    "b_id": sa.String(),
    "b_title": sa.String(),
    "b_description": sa.String(),
    "m_id": sa.String(),
    "m_text": sa.String(),
}


def _tier_sql(dialect: str, tier: int, *, bounded: bool, after: bool, filters: str) -> str:
    """Up to `:limit` rows of one tier, newest first: tier 0 matches in the title
    (`:title_match`), tier 1 elsewhere only (`:match`); at or below `:snapshot` if
    `bounded`, below `:after` if `after`."""
    key = sql.order_key(dialect)
    if tier == 0:
        condition = sql.matching(dialect, title=True).replace(":match", ":title_match")
    elif dialect == "sqlite":
        # FTS5: every clause anywhere, NOT every clause in the title (`:match` says so)
        condition = sql.matching(dialect, title=False)
    else:
        condition = (
            f"{sql.matching(dialect, title=False)} AND NOT {sql.matching(dialect, title=True)}"
        )
    bounds = (f" AND {key} <= :snapshot" if bounded else "") + (
        f" AND {key} < :after" if after else ""
    )
    # the fragments are this package's constant SQL; every value is a parameter
    return (
        f"SELECT {tier} AS tier, {key} AS seq, e.doc_type, e.doc_id, e.round_id, "  # noqa: S608
        f"e.dialogue_id, e.language, e.published_at FROM {sql.from_clause(dialect)} "
        f"WHERE {condition}{bounds}{filters} ORDER BY {key} DESC LIMIT :limit"
    )


# Each type's text, as the public views read it, joined by primary key to a page's rows:
# (the joins, the columns they give); a type not joined gives its columns as NULL.
_TEXTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "submission": (
        "LEFT JOIN submission AS s ON h.doc_type = 'submission' AND s.id = h.doc_id "
        f"AND s.status = '{Status.published.value}'",
        ("s.id AS s_id", "s.title AS s_title", "s.body AS s_body"),
    ),
    "response": (
        "LEFT JOIN response AS r ON h.doc_type = 'response' AND r.id = h.doc_id "
        "LEFT JOIN response_revision AS v ON v.response_id = r.id "
        "AND v.number = r.revision_count",
        ("r.submission_id AS r_submission_id", "v.body AS r_body"),
    ),
    "case": (
        "LEFT JOIN case_file AS c ON h.doc_type = 'case' AND c.id = h.doc_id",
        (
            "c.id AS c_id",
            "c.name AS c_name",
            "c.name_native AS c_name_native",
            "c.name_consent AS c_name_consent",
            "c.location AS c_location",
            "c.summary AS c_summary",
        ),
    ),
    "benchmark": (
        "LEFT JOIN benchmark AS b ON h.doc_type = 'benchmark' AND b.id = h.doc_id",
        ("b.id AS b_id", "b.title AS b_title", "b.description AS b_description"),
    ),
    "commitment": (
        "LEFT JOIN commitment AS m ON h.doc_type = 'commitment' AND m.id = h.doc_id",
        ("m.id AS m_id", "m.text AS m_text"),
    ),
}


def _literal_tsquery(query: Query) -> str | None:
    """The tsquery as a SQL string literal, if every token is letters and digits only
    (as `api.search.tokens` makes them): nothing in it then needs escaping, for SQL,
    for the tsquery parser or for a driver's parameter markers."""
    if not all(token.isalnum() for token in query.tokens):
        return None
    return "'" + sql.tsquery(query).replace("'", "''") + "'"


@functools.lru_cache(maxsize=512)
def _page_statement(
    dialect: str,
    tier: int,
    after: bool,
    first: bool,
    filters: str,
    doc_type: str | None,
    literal: str | None,
) -> Prepared:
    """One page in one statement, for one shape of request: the rows of the tiers from
    `tier` on (each read off the inverted index newest first, stopping at the page's
    size; tier 1 only if tier 0 leaves the page short), the snapshot if `first` (the
    highest `seq`, in the same statement, so the rows are all at or below it), and
    each row's text (of `doc_type` only, if the search is of one type) and dialogue by
    primary key.

    On PostgreSQL the tsquery is written into the statement (`literal`), not bound:
    the planner then knows how common the term is when it chooses between the GIN
    index (a rare term: every match, then sorted) and a walk of the rows newest first
    that stops at the page's size (a common one), and a statement prepared by the
    driver after a few runs (one per query text) keeps a plan made for its term."""
    body = _tier_sql(dialect, 1, bounded=not first, after=after and tier == 1, filters=filters)
    if tier == 1:
        tiers = f"SELECT * FROM ({body}) AS t1"  # noqa: S608
        head = ""
    else:
        title = _tier_sql(dialect, 0, bounded=not first, after=after, filters=filters)
        head = f"WITH t0 AS ({title}) "
        # the condition on t0 alone is decided once, before tier 1 is read at all
        tiers = (
            "SELECT * FROM t0 UNION ALL "  # noqa: S608
            f"SELECT * FROM ({body}) AS t1 WHERE (SELECT count(*) FROM t0) < :limit"
        )
    if literal is not None:
        tiers = tiers.replace(":title_match", literal).replace(":match", literal)
        head = head.replace(":title_match", literal).replace(":match", literal)
    top = "(SELECT max(seq) FROM search_entry)" if first else "NULL"
    joins: list[str] = []
    columns: list[str] = []
    for name, (join, given) in _TEXTS.items():
        if doc_type is None or doc_type == name:
            joins.append(join)
            columns.extend(given)
        else:
            columns.extend("NULL AS " + column.split(" AS ")[1] for column in given)
    # the fragments are this package's constant SQL; every value is a parameter, or a
    # literal of letters and digits (`_literal_tsquery`)
    text = (
        f"{head}SELECT h.tier, h.seq, h.doc_type, h.doc_id, h.round_id, h.language, "  # noqa: S608
        f"h.published_at, d.slug AS dialogue, {top} AS top, {', '.join(columns)} "
        f"FROM ({tiers} ORDER BY tier, seq DESC LIMIT :limit) AS h "
        f"LEFT JOIN dialogue AS d ON d.id = h.dialogue_id {' '.join(joins)} "
        "ORDER BY h.tier, h.seq DESC"
    )
    # a textual select compiles and runs as a Core one does (`Prepared` reads its columns)
    return Prepared(cast(Any, sa.text(text).columns(**_TEXT_TYPES)))


def _decode(cursor: str | None) -> tuple[int, int, int | None] | None:
    values = decode_cursor(cursor, 3)
    if values is None:
        return None
    snapshot, tier, after = values
    if not (
        isinstance(snapshot, int)
        and isinstance(tier, int)
        and tier in (0, 1)
        and isinstance(after, int)
    ):
        raise BadRequest("The cursor is not valid; start again without one.")
    return snapshot, tier, after


def search(
    session: Session, *, q: str, filters: SearchFilters, limit: int, cursor: str | None
) -> tuple[list[SearchHit], str | None]:
    """One page of the documents matching `q`, in tiers of relevance, newest first."""
    items, next_cursor = search_page(session, q=q, filters=filters, limit=limit, cursor=cursor)
    return [SearchHit.model_validate(item) for item in items], next_cursor


def search_page(
    session: Session, *, q: str, filters: SearchFilters, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """`search`, its hits as plain dicts in `SearchHit`'s field order (what
    `api.pagination.page_response` writes as the model would): one statement."""
    try:
        query = parse_query(q)
    except QueryError as error:
        raise Unprocessable(str(error), field="q") from None
    dialect = session.get_bind().dialect.name
    params: dict[str, Any] = {"limit": limit + 1}
    where = _filters(dialect, filters, params)
    position = _decode(cursor)
    if position is None:
        snapshot, tier, after = None, 0, None
    else:
        snapshot, tier, after = position
        params["snapshot"], params["after"] = snapshot, after
    literal = None
    if dialect == "sqlite":
        params["title_match"] = sql.fts5_match(query, title=True)
        params["match"] = f"({sql.fts5_match(query)}) NOT ({params['title_match']})"
    else:
        literal = _literal_tsquery(query)
        if literal is None:
            params["match"] = params["title_match"] = sql.tsquery(query)
    doc_type = filters.type.value if filters.type is not None else None
    statement = _page_statement(
        dialect, tier, after is not None, snapshot is None, where, doc_type, literal
    )
    rows = statement.rows(session, params)
    more = len(rows) > limit
    rows = rows[:limit]
    page = [dict(zip(statement.keys, row, strict=True)) for row in rows]
    hits = _hits(query, page)
    _snippets_from_translations(session, query, hits)
    next_cursor = None
    if more:
        last = page[-1]
        top = snapshot if snapshot is not None else page[0]["top"]
        next_cursor = encode_cursor([int(top), int(last["tier"]), int(last["seq"])])
    return hits, next_cursor


def _text(row: dict[str, Any]) -> tuple[str | None, str, uuid.UUID | None] | None:
    """(title, body, the submission answered) of a row's document as the public sees it
    now, or None if it is no longer there."""
    doc_type = row["doc_type"]
    if doc_type == "submission":
        return (row["s_title"], row["s_body"], None) if row["s_id"] is not None else None
    if doc_type == "response":
        body = row["r_body"]
        return (None, body, row["r_submission_id"]) if body is not None else None
    if doc_type == "case":
        if row["c_id"] is None:
            return None
        name, native = public_name(
            consent_view(
                SimpleNamespace(
                    name=row["c_name"],
                    name_native=row["c_name_native"],
                    name_consent=row["c_name_consent"],
                )
            )
        )
        shown = f"{name} ({native})" if native else name
        return shown, f"{row['c_location'] or ''}\n{row['c_summary']}".strip(), None
    if doc_type == "benchmark":
        return (row["b_title"], row["b_description"], None) if row["b_id"] is not None else None
    return (None, row["m_text"], None) if row["m_id"] is not None else None


def _hits(query: Query, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page's rows as hits (`SearchHit`'s fields): each with its public title and a
    snippet of its text (read where the public views read it, in the page's statement)."""
    hits = []
    for row in rows:
        texts = _text(row)
        if texts is None:  # gone since the index row was written: never shown
            continue
        title, body, submission_id = texts
        found = _snippet(body, query) if body else None
        if (found is None or not found[1]) and title:
            in_title = _snippet(title, query)
            if in_title[1]:
                found = in_title
        text, matches = found or ("", [])
        hits.append(
            {
                "type": row["doc_type"],
                "id": row["doc_id"],
                "round_id": row["round_id"],
                "dialogue": row["dialogue"],
                "submission_id": submission_id,
                "language": row["language"],
                "published_at": row["published_at"],
                "title": title,
                "snippet": {"text": text, "matches": matches},
            }
        )
    return hits


def _snippets_from_translations(session: Session, query: Query, hits: list[dict[str, Any]]) -> None:
    """A submission or response found by a translation of it (the index holds its
    translations' text too) shows the match there: its snippet is taken from the first
    translation, by language, that matches. One query, only when a hit needs it."""
    missing = {
        str(uuid.UUID(str(hit["id"]))): hit
        for hit in hits
        if not hit["snippet"]["matches"] and hit["type"] in ("submission", "response")
    }
    if not missing:
        return
    rows = session.execute(
        sa.select(col(Translation.object_id), col(Translation.title), col(Translation.body))
        .where(col(Translation.object_id).in_([uuid.UUID(i) for i in missing]))
        .order_by(col(Translation.language))
    ).all()
    for object_id, title, body in rows:
        hit = missing.pop(str(object_id), None)
        if hit is None:
            continue
        for text in (body, title):
            piece, matches = _snippet(text, query) if text else ("", [])
            if matches:
                hit["snippet"] = {"text": piece, "matches": matches}
                break
        else:
            missing[str(object_id)] = hit  # another of its translations may match


def snippet(text: str, query: Query, width: int = SNIPPET_CHARS) -> Snippet:
    """Up to `width` characters of `text` around its first match, newlines as spaces,
    with the offsets of every match in it (overlapping bigrams merged)."""
    piece, matches = _snippet(text, query, width)
    return Snippet(text=piece, matches=matches)


def _snippet(text: str, query: Query, width: int = SNIPPET_CHARS) -> tuple[str, list[list[int]]]:
    matched = sorted(matching_spans(text, query.tokens))
    begin = max(0, matched[0][0] - _LEAD) if matched else 0
    end = min(len(text), begin + width)
    if end - begin < width:
        begin = max(0, end - width)
    merged: list[list[int]] = []
    for start, stop in matched:
        if start < begin or stop > end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    piece = text[begin:end].replace("\r", " ").replace("\n", " ")
    return piece, [[s - begin, e - begin] for s, e in merged]
