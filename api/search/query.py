"""Searching the whole public record (`GET /api/v1/search`).

Ranking. Results come in two tiers of relevance: first the documents whose title (a
submission's or benchmark's title, a case's public name) holds every word and phrase
of the query, then those that hold them anywhere else; within a tier, newest first.
Both tiers are read straight off each database's inverted index in the order of its
row ids (`seq`, the order of publication), so a page costs the same for a term in
five documents or in fifty thousand: a score computed over every match (FTS5's bm25,
`ts_rank`) would have to read all of them before the first page, and would move
whenever a new document changes the collection's statistics.

Cursor pages are stable while new items are published: the first page fixes a
snapshot (the highest `seq` at the time), and the cursor carries it with the tier and
the `seq` of the last result; rows indexed later are past the snapshot. A text revised
meanwhile keeps its `seq` (`api.search.index.sync`), so it keeps its place.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session

from api.errors import BadRequest, Unprocessable
from api.pagination import decode_cursor, encode_cursor
from api.search import sql
from api.search.index import consent_view
from api.search.tokens import Query, QueryError, matching_spans, parse_query
from api.views.cases import public_name
from api.views.tables import table
from models.base import UTCDateTime
from models.benchmark import Benchmark
from models.case import Case
from models.commitment import Commitment
from models.dialogue import Dialogue
from models.response import Response, ResponseRevision
from models.submission import Status, Submission

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


_SUBMISSION = table(Submission)
_RESPONSE = table(Response)
_REVISION = table(ResponseRevision)
_CASE = table(Case)
_BENCHMARK = table(Benchmark)
_COMMITMENT = table(Commitment)
_DIALOGUE = table(Dialogue)


_COLUMN_TYPES: dict[str, Any] = {
    "seq": sa.Integer(),
    "doc_type": sa.String(),
    "doc_id": sa.Uuid(),
    "round_id": sa.Uuid(),
    "dialogue_id": sa.Uuid(),
    "language": sa.String(),
    "published_at": UTCDateTime(),
}


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


def _tier_rows(
    session: Session,
    *,
    dialect: str,
    query: Query,
    tier: int,
    filters: str,
    params: dict[str, Any],
    snapshot: int,
    after: int | None,
    limit: int,
) -> list[Any]:
    """Up to `limit` rows of one tier, newest first, at or below the snapshot and below
    `after`: tier 0 matches in the title, tier 1 elsewhere only."""
    key = sql.order_key(dialect)
    bounds = f" AND {key} <= :snapshot" + (f" AND {key} < :after" if after is not None else "")
    values = dict(params, snapshot=snapshot, after=after, limit=limit)
    if tier == 0:
        condition = sql.matching(dialect, title=True)
        values["match"] = sql.match_param(dialect, query, title=True)
    elif dialect == "sqlite":
        # FTS5: every clause anywhere, NOT every clause in the title
        condition = sql.matching(dialect, title=False)
        values["match"] = f"({sql.fts5_match(query)}) NOT ({sql.fts5_match(query, title=True)})"
    else:
        condition = (
            f"{sql.matching(dialect, title=False)} AND NOT "
            f"{sql.matching(dialect, title=True).replace(':match', ':title_match')}"
        )
        values["match"] = sql.tsquery(query)
        values["title_match"] = sql.tsquery(query)
    statement = sa.text(
        # the fragments are this package's constant SQL; every value is a parameter
        f"SELECT {key} AS seq, e.doc_type, e.doc_id, e.round_id, e.dialogue_id, "  # noqa: S608
        f"e.language, e.published_at FROM {sql.from_clause(dialect)} "
        f"WHERE {condition}{bounds}{filters} ORDER BY {key} DESC LIMIT :limit"
    ).columns(**_COLUMN_TYPES)
    return list(session.connection().execute(statement, values))


def _snapshot(session: Session) -> int:
    top = session.connection().execute(sa.text("SELECT max(seq) FROM search_entry")).scalar()
    return int(top or 0)


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
    try:
        query = parse_query(q)
    except QueryError as error:
        raise Unprocessable(str(error), field="q") from None
    dialect = session.get_bind().dialect.name
    params: dict[str, Any] = {}
    where = _filters(dialect, filters, params)
    position = _decode(cursor)
    if position is None:
        snapshot, tier, after = _snapshot(session), 0, None
    else:
        snapshot, tier, after = position
    found: list[tuple[int, Any]] = []
    while tier < 2 and len(found) <= limit:
        rows = _tier_rows(
            session,
            dialect=dialect,
            query=query,
            tier=tier,
            filters=where,
            params=params,
            snapshot=snapshot,
            after=after,
            limit=limit + 1 - len(found),
        )
        found.extend((tier, row) for row in rows)
        if len(found) <= limit:
            tier, after = tier + 1, None
    more = len(found) > limit
    found = found[:limit]
    hits = _hits(session, query, [row for _, row in found])
    next_cursor = None
    if more:
        last_tier, last = found[-1]
        next_cursor = encode_cursor([snapshot, last_tier, int(last.seq)])
    return hits, next_cursor


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _hits(session: Session, query: Query, rows: list[Any]) -> list[SearchHit]:
    """The page's rows as hits: each with its public title and a snippet of its text
    (read again here, where the public views read it, by the page's ids)."""
    conn = session.connection()
    ids: dict[str, list[uuid.UUID]] = {t.value: [] for t in DocType}
    for row in rows:
        ids[row.doc_type].append(_uuid(row.doc_id))
    texts: dict[uuid.UUID, tuple[str | None, str, uuid.UUID | None]] = {}
    r: Any
    if ids["submission"]:
        for r in conn.execute(
            sa.select(_SUBMISSION.c.id, _SUBMISSION.c.title, _SUBMISSION.c.body).where(
                _SUBMISSION.c.id.in_(ids["submission"]),
                _SUBMISSION.c.status == Status.published.value,
            )
        ):
            texts[r.id] = (r.title, r.body, None)
    if ids["response"]:
        for r in conn.execute(
            sa.select(_RESPONSE.c.id, _RESPONSE.c.submission_id, _REVISION.c.body)
            .join(
                _REVISION,
                (_REVISION.c.response_id == _RESPONSE.c.id)
                & (_REVISION.c.number == _RESPONSE.c.revision_count),
            )
            .where(_RESPONSE.c.id.in_(ids["response"]))
        ):
            texts[r.id] = (None, r.body, r.submission_id)
    if ids["case"]:
        for r in session.connection().execute(sa.select(_CASE).where(_CASE.c.id.in_(ids["case"]))):
            name, native = public_name(consent_view(r))
            shown = f"{name} ({native})" if native else name
            texts[r.id] = (shown, f"{r.location or ''}\n{r.summary}".strip(), None)
    if ids["benchmark"]:
        for r in conn.execute(
            sa.select(_BENCHMARK.c.id, _BENCHMARK.c.title, _BENCHMARK.c.description).where(
                _BENCHMARK.c.id.in_(ids["benchmark"])
            )
        ):
            texts[r.id] = (r.title, r.description, None)
    if ids["commitment"]:
        for r in conn.execute(
            sa.select(_COMMITMENT.c.id, _COMMITMENT.c.text).where(
                _COMMITMENT.c.id.in_(ids["commitment"])
            )
        ):
            texts[r.id] = (None, r.text, None)
    dialogue_ids = {_uuid(row.dialogue_id) for row in rows if row.dialogue_id is not None}
    slugs = (
        dict(
            conn.execute(
                sa.select(_DIALOGUE.c.id, _DIALOGUE.c.slug).where(_DIALOGUE.c.id.in_(dialogue_ids))
            ).all()
        )
        if dialogue_ids
        else {}
    )
    hits = []
    for row in rows:
        doc_id = _uuid(row.doc_id)
        if doc_id not in texts:  # gone since the index row was read: never shown
            continue
        title, body, submission_id = texts[doc_id]
        found = snippet(body, query) if body else None
        if (found is None or not found.matches) and title:
            in_title = snippet(title, query)
            if in_title.matches:
                found = in_title
        hits.append(
            SearchHit(
                type=DocType(row.doc_type),
                id=doc_id,
                round_id=_uuid(row.round_id) if row.round_id is not None else None,
                dialogue=slugs.get(_uuid(row.dialogue_id)) if row.dialogue_id else None,
                submission_id=submission_id,
                language=row.language,
                published_at=row.published_at,
                title=title,
                snippet=found or Snippet(text="", matches=[]),
            )
        )
    return hits


def snippet(text: str, query: Query, width: int = SNIPPET_CHARS) -> Snippet:
    """Up to `width` characters of `text` around its first match, newlines as spaces,
    with the offsets of every match in it (overlapping bigrams merged)."""
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
    return Snippet(text=piece, matches=[(s - begin, e - begin) for s, e in merged])
