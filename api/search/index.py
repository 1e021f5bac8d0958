"""Writing the search index: what of each public object is searchable, kept in step with
the object in the same transaction (`sync`, called by `api.services.events` with every
public event), and rebuilt whole by `rebuild` (`civic-input reindex`, the migration).

What is indexed is what the public sees, and only while it does: published submissions
(title and body, and their translations'); the current revision of each response to one
(and its translations); published cases (their
names only while naming consent stands, `api.views.cases.public_name`; their location
and summary); benchmarks (title and description) and commitments (text). A text that
leaves the public record (withdrawn, removed, consent withdrawn) leaves the index in
the same transaction: `sync` finds it no longer public and deletes or rewrites its row.
"""

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from api.search.tokens import index_text
from api.views.cases import public_name
from api.views.tables import table
from models.benchmark import Benchmark, BenchmarkTheme
from models.case import Case, CaseReview
from models.commitment import Commitment
from models.dialogue import Delegation
from models.response import Response, ResponseRevision, is_public
from models.round import Round
from models.search import SearchEntry
from models.submission import Status, Submission, SubmissionAddressee, SubmissionTheme
from models.theme import Theme
from models.translation import Translation

_ENTRY = table(SearchEntry)
_SUBMISSION = table(Submission)
_ROUND = table(Round)
_THEME = table(Theme)
_DELEGATION = table(Delegation)
_SUBMISSION_THEME = table(SubmissionTheme)
_ADDRESSEE = table(SubmissionAddressee)
_RESPONSE = table(Response)
_REVISION = table(ResponseRevision)
_CASE = table(Case)
_BENCHMARK = table(Benchmark)
_BENCHMARK_THEME = table(BenchmarkTheme)
_COMMITMENT = table(Commitment)
_TRANSLATION = table(Translation)


def consent_view(row: Any) -> Case:
    """The columns the consent rule reads, as the `Case` it takes (mapped first: a
    command line may not have used the ORM yet)."""
    sa.orm.configure_mappers()
    return Case.model_construct(
        name=row.name, name_native=row.name_native, name_consent=row.name_consent
    )


TYPES = ("submission", "response", "case", "benchmark", "commitment")

Doc = dict[str, Any]


def _words(names: Iterable[str]) -> str:
    """Names between spaces, for a `LIKE '% name %'` filter."""
    return " " + " ".join(sorted(set(names))) + " "


def _links(
    conn: sa.Connection,
    link: sa.Table,
    key: str,
    named: sa.Table,
    other: str,
    name: str,
    ids: Sequence[Any],
) -> dict[Any, list[str]]:
    found: dict[Any, list[str]] = defaultdict(list)
    if ids:
        rows = conn.execute(
            sa.select(link.c[key], named.c[name])
            .select_from(link.join(named, named.c.id == link.c[other]))
            .where(link.c[key].in_(ids))
        )
        for owner, value in rows:
            found[owner].append(value)
    return found


def _submission_themes(conn: sa.Connection, ids: Sequence[Any]) -> dict[Any, list[str]]:
    return _links(conn, _SUBMISSION_THEME, "submission_id", _THEME, "theme_id", "slug", ids)


def _has_translations(conn: sa.Connection) -> bool:
    """Whether the `translation` table is there: not yet while an older migration (0008)
    builds the index. Once seen, remembered on the connection."""
    if conn.info.get("civic_translation_table"):
        return True
    found = sa.inspect(conn).has_table(_TRANSLATION.name)
    if found:
        conn.info["civic_translation_table"] = True
    return found


def _translated(conn: sa.Connection, object_type: str, ids: Sequence[Any]) -> dict[Any, str]:
    """The translations of these objects, each object's as one text (titles and bodies),
    added to its entry: a submission in English is found by a Chinese query too."""
    found: dict[Any, list[str]] = defaultdict(list)
    if ids and _has_translations(conn):
        rows = conn.execute(
            sa.select(_TRANSLATION.c.object_id, _TRANSLATION.c.title, _TRANSLATION.c.body)
            .where(_TRANSLATION.c.object_type == object_type, _TRANSLATION.c.object_id.in_(ids))
            .order_by(_TRANSLATION.c.language)
        )
        for object_id, title, body in rows:
            found[object_id].append(f"{title}\n{body}" if title else body)
    return {object_id: "\n" + "\n".join(texts) for object_id, texts in found.items()}


def _entry(
    doc_type: str,
    doc_id: Any,
    *,
    round_id: Any,
    dialogue_id: Any,
    language: Any,
    themes: Iterable[str],
    delegations: Iterable[str],
    published_at: datetime,
    title: str,
    body: str,
) -> Doc:
    return {
        "doc_type": doc_type,
        "doc_id": doc_id,
        "round_id": round_id,
        "dialogue_id": dialogue_id,
        "language": language,
        "themes": _words(themes),
        "delegations": _words(delegations),
        "published_at": published_at,
        "title_tokens": index_text(title),
        "body_tokens": index_text(body),
    }


def _submissions(conn: sa.Connection, where: Any) -> list[Doc]:
    rows = conn.execute(
        sa.select(
            _SUBMISSION.c.id,
            _SUBMISSION.c.round_id,
            _ROUND.c.dialogue_id,
            _SUBMISSION.c.language,
            _SUBMISSION.c.title,
            _SUBMISSION.c.body,
            _SUBMISSION.c.published_at,
        )
        .join(_ROUND, _ROUND.c.id == _SUBMISSION.c.round_id)
        .where(_SUBMISSION.c.status == Status.published.value, where)
        .order_by(_SUBMISSION.c.published_at, _SUBMISSION.c.id)
    ).all()
    ids = [row.id for row in rows]
    themes = _submission_themes(conn, ids)
    codes = _links(conn, _ADDRESSEE, "submission_id", _DELEGATION, "delegation_id", "code", ids)
    translated = _translated(conn, "submission", ids)
    return [
        _entry(
            "submission",
            row.id,
            round_id=row.round_id,
            dialogue_id=row.dialogue_id,
            language=row.language,
            themes=themes[row.id],
            delegations=codes[row.id],
            published_at=row.published_at,
            title=row.title,
            body=row.body + translated.get(row.id, ""),
        )
        for row in rows
    ]


def _public_responses(conn: sa.Connection) -> Any:
    """What the public may see of responses (`models.response.is_public`: none held for a
    joint release), once the columns are there: not yet while an older migration (0008)
    builds the index. Once seen, remembered on the connection."""
    if not conn.info.get("civic_release_columns"):
        columns = {column["name"] for column in sa.inspect(conn).get_columns(_RESPONSE.name)}
        if "embargo_until" not in columns:
            return sa.true()
        conn.info["civic_release_columns"] = True
    return is_public(_RESPONSE.c.embargo_until, _RESPONSE.c.released_at)


def _responses(conn: sa.Connection, where: Any) -> list[Doc]:
    rows = conn.execute(
        sa.select(
            _RESPONSE.c.id,
            _RESPONSE.c.submission_id,
            _SUBMISSION.c.round_id,
            _ROUND.c.dialogue_id,
            _REVISION.c.language,
            _REVISION.c.body,
            _RESPONSE.c.responded_at,
            _DELEGATION.c.code,
        )
        .select_from(_RESPONSE)
        .join(
            _REVISION,
            (_REVISION.c.response_id == _RESPONSE.c.id)
            & (_REVISION.c.number == _RESPONSE.c.revision_count),
        )
        .join(_SUBMISSION, _SUBMISSION.c.id == _RESPONSE.c.submission_id)
        .join(_ROUND, _ROUND.c.id == _SUBMISSION.c.round_id)
        .join(_DELEGATION, _DELEGATION.c.id == _RESPONSE.c.delegation_id)
        .where(_SUBMISSION.c.status == Status.published.value, _public_responses(conn), where)
        .order_by(_RESPONSE.c.responded_at, _RESPONSE.c.id)
    ).all()
    themes = _submission_themes(conn, sorted({row.submission_id for row in rows}))
    translated = _translated(conn, "response", [row.id for row in rows])
    return [
        _entry(
            "response",
            row.id,
            round_id=row.round_id,
            dialogue_id=row.dialogue_id,
            language=row.language,
            themes=themes[row.submission_id],
            delegations=[row.code],
            published_at=row.responded_at,
            title="",
            body=row.body + translated.get(row.id, ""),
        )
        for row in rows
    ]


def _cases(conn: sa.Connection, where: Any) -> list[Doc]:
    rows = conn.execute(
        sa.select(
            _CASE.c.id,
            _CASE.c.name,
            _CASE.c.name_native,
            _CASE.c.name_consent,
            _CASE.c.location,
            _CASE.c.summary,
            _CASE.c.published_at,
        )
        .where(_CASE.c.review == CaseReview.published.value, where)
        .order_by(_CASE.c.published_at, _CASE.c.id)
    ).all()
    docs = []
    for row in rows:
        # the consent rule of `api.views.cases`, on the columns it reads
        name, native = public_name(consent_view(row))
        title = f"{name}\n{native}" if row.name_consent else ""
        docs.append(
            _entry(
                "case",
                row.id,
                round_id=None,
                dialogue_id=None,
                language=None,
                themes=(),
                delegations=(),
                published_at=row.published_at,
                title=title,
                body=f"{row.location or ''}\n{row.summary}",
            )
        )
    return docs


def _benchmarks(conn: sa.Connection, where: Any) -> list[Doc]:
    rows = conn.execute(
        sa.select(
            _BENCHMARK.c.id,
            _BENCHMARK.c.round_id,
            _ROUND.c.dialogue_id,
            _BENCHMARK.c.title,
            _BENCHMARK.c.description,
            _BENCHMARK.c.created_at,
            _DELEGATION.c.code,
        )
        .join(_ROUND, _ROUND.c.id == _BENCHMARK.c.round_id)
        .join(_DELEGATION, _DELEGATION.c.id == _BENCHMARK.c.delegation_id)
        .where(where)
        .order_by(_BENCHMARK.c.created_at, _BENCHMARK.c.id)
    ).all()
    themes = _links(
        conn, _BENCHMARK_THEME, "benchmark_id", _THEME, "theme_id", "slug", [row.id for row in rows]
    )
    return [
        _entry(
            "benchmark",
            row.id,
            round_id=row.round_id,
            dialogue_id=row.dialogue_id,
            language=None,
            themes=themes[row.id],
            delegations=[row.code],
            published_at=row.created_at,
            title=row.title,
            body=row.description,
        )
        for row in rows
    ]


def _commitments(conn: sa.Connection, where: Any) -> list[Doc]:
    rows = conn.execute(
        sa.select(
            _COMMITMENT.c.id,
            _COMMITMENT.c.round_id,
            _ROUND.c.dialogue_id,
            _COMMITMENT.c.text,
            _COMMITMENT.c.created_at,
            _DELEGATION.c.code,
        )
        .join(_ROUND, _ROUND.c.id == _COMMITMENT.c.round_id)
        .join(_DELEGATION, _DELEGATION.c.id == _COMMITMENT.c.delegation_id)
        .where(where)
        .order_by(_COMMITMENT.c.created_at, _COMMITMENT.c.id)
    ).all()
    return [
        _entry(
            "commitment",
            row.id,
            round_id=row.round_id,
            dialogue_id=row.dialogue_id,
            language=None,
            themes=(),
            delegations=[row.code],
            published_at=row.created_at,
            title="",
            body=row.text,
        )
        for row in rows
    ]


# Each type: the documents that are public now, among the rows `where` selects, and
# the id column `where` is written over.
_SOURCES: dict[str, tuple[Callable[[sa.Connection, Any], list[Doc]], sa.Column[Any]]] = {
    "submission": (_submissions, _SUBMISSION.c.id),
    "response": (_responses, _RESPONSE.c.id),
    "case": (_cases, _CASE.c.id),
    "benchmark": (_benchmarks, _BENCHMARK.c.id),
    "commitment": (_commitments, _COMMITMENT.c.id),
}


def _fts_delete(conn: sa.Connection, rows: Sequence[Any]) -> None:
    """Take rows out of the FTS5 index (an external-content table is told the old text)."""
    if rows:
        conn.execute(
            sa.text(
                "INSERT INTO search_fts(search_fts, rowid, title_tokens, body_tokens) "
                "VALUES ('delete', :seq, :title_tokens, :body_tokens)"
            ),
            [
                {"seq": r.seq, "title_tokens": r.title_tokens, "body_tokens": r.body_tokens}
                for r in rows
            ],
        )


def _fts_insert(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(
            sa.text(
                "INSERT INTO search_fts(rowid, title_tokens, body_tokens) "
                "VALUES (:seq, :title_tokens, :body_tokens)"
            ),
            rows,
        )


def sync(conn: sa.Connection, doc_type: str, ids: Sequence[uuid.UUID]) -> None:
    """Make the index hold what the public sees now of these objects: a new row for one
    newly public, its text rewritten in place (its `seq`, and so its place in a search
    being paged, kept) for one changed, no row for one no longer public."""
    if not ids:
        return
    build, id_column = _SOURCES[doc_type]
    docs = {doc["doc_id"]: doc for doc in build(conn, id_column.in_(ids))}
    sqlite = conn.dialect.name == "sqlite"
    existing = conn.execute(
        sa.select(_ENTRY.c.seq, _ENTRY.c.doc_id, _ENTRY.c.title_tokens, _ENTRY.c.body_tokens).where(
            _ENTRY.c.doc_type == doc_type, _ENTRY.c.doc_id.in_(ids)
        )
    ).all()
    if sqlite:
        _fts_delete(conn, existing)
    gone = [row.seq for row in existing if row.doc_id not in docs]
    if gone:
        conn.execute(sa.delete(_ENTRY).where(_ENTRY.c.seq.in_(gone)))
    kept = {row.doc_id: row.seq for row in existing if row.doc_id in docs}
    written: list[dict[str, Any]] = []
    for doc_id, doc in docs.items():
        if doc_id in kept:
            seq = kept[doc_id]
            conn.execute(sa.update(_ENTRY).where(_ENTRY.c.seq == seq).values(doc))
        else:
            seq = conn.execute(sa.insert(_ENTRY).values(doc).returning(_ENTRY.c.seq)).scalar_one()
        written.append({"seq": seq, **doc})
    if sqlite:
        _fts_insert(conn, written)


def sync_submission(conn: sa.Connection, submission_id: uuid.UUID) -> None:
    """A submission published, withdrawn or removed: it and its responses."""
    sync(conn, "submission", [submission_id])
    response_ids = list(
        conn.execute(
            sa.select(_RESPONSE.c.id).where(_RESPONSE.c.submission_id == submission_id)
        ).scalars()
    )
    sync(conn, "response", response_ids)


def _keys(conn: sa.Connection) -> list[tuple[datetime, str, Any]]:
    """(published at, type, id) of every public document, oldest first, so that the
    newest get the highest `seq`."""
    published = _SUBMISSION.c.status == Status.published.value
    selects = [
        sa.select(_SUBMISSION.c.published_at, sa.literal("submission"), _SUBMISSION.c.id).where(
            published
        ),
        sa.select(_RESPONSE.c.responded_at, sa.literal("response"), _RESPONSE.c.id)
        .join(_SUBMISSION, _SUBMISSION.c.id == _RESPONSE.c.submission_id)
        .where(published, _public_responses(conn)),
        sa.select(_CASE.c.published_at, sa.literal("case"), _CASE.c.id).where(
            _CASE.c.review == CaseReview.published.value
        ),
        sa.select(_BENCHMARK.c.created_at, sa.literal("benchmark"), _BENCHMARK.c.id),
        sa.select(_COMMITMENT.c.created_at, sa.literal("commitment"), _COMMITMENT.c.id),
    ]
    keys: list[tuple[datetime, str, Any]] = []
    for select in selects:
        keys.extend(tuple(row) for row in conn.execute(select))  # type: ignore[misc]
    keys.sort(key=lambda key: (key[0], key[1], str(key[2])))
    return keys


def rebuild(
    conn: sa.Connection,
    *,
    progress: Callable[[int, int], None] | None = None,
    batch: int = 5_000,
) -> int:
    """Empty the index and write it again from the public record, oldest first, in the
    caller's transaction; `progress(done, total)` after each batch. How many rows it holds."""
    sqlite = conn.dialect.name == "sqlite"
    indexes: list[str] = []
    if sqlite:
        conn.execute(sa.text("INSERT INTO search_fts(search_fts) VALUES ('delete-all')"))
        conn.execute(sa.delete(_ENTRY))
    else:
        # the full-text indexes are built again over all the rows at once, faster than
        # kept up row by row; the table emptied without leaving the old rows behind
        # (until the commit, readers of the index wait, as for the migration's build)
        found = conn.execute(
            sa.text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = 'search_entry' AND indexname LIKE 'search\\_fts%'"
            )
        ).all()
        conn.execute(sa.text("TRUNCATE search_entry"))
        for name, definition in found:
            conn.execute(sa.text(f'DROP INDEX "{name}"'))
            indexes.append(definition)
    keys = _keys(conn)
    for start in range(0, len(keys), batch):
        chunk = keys[start : start + batch]
        by_type: dict[str, list[Any]] = defaultdict(list)
        for _, doc_type, doc_id in chunk:
            by_type[doc_type].append(doc_id)
        docs: dict[tuple[str, Any], Doc] = {}
        for doc_type, ids in by_type.items():
            build, id_column = _SOURCES[doc_type]
            for doc in build(conn, id_column.in_(ids)):
                docs[(doc_type, doc["doc_id"])] = doc
        rows = [
            {"seq": start + n + 1, **docs[(doc_type, doc_id)]}
            for n, (_, doc_type, doc_id) in enumerate(chunk)
            if (doc_type, doc_id) in docs
        ]
        if rows:
            conn.execute(sa.insert(_ENTRY), rows)
        if progress is not None:
            progress(start + len(chunk), len(keys))
    if sqlite:
        conn.execute(sa.text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
    else:
        if keys:
            # explicit `seq` values leave the identity behind: move it past them
            conn.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence('search_entry', 'seq'), "
                    "(SELECT max(seq) FROM search_entry))"
                )
            )
        conn.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))
        for definition in indexes:
            conn.exec_driver_sql(definition)
        # the planner's statistics of the new rows (autovacuum would, later)
        conn.execute(sa.text("ANALYZE search_entry"))
    return len(keys)
