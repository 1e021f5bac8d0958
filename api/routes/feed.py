"""The record log for third-party apps: incremental sync, Atom, bulk export, checkpoints."""

import csv
import hashlib
import io
import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any
from xml.sax.saxutils import escape, quoteattr

import pydantic_core
import sqlalchemy as sa
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from api import stream
from api.deps import SessionDep, Tx
from api.errors import Unprocessable, error_responses
from api.head import is_head
from api.pagination import next_link
from api.services import checkpoints, ledger
from api.views import feed as feed_views
from models.ledger import Checkpoint, FeedPage, Jwks, RecordEntry, RecordHead, SigningKey, iso

router = APIRouter(prefix="/api/v1", tags=["feed and export"])
keys_router = APIRouter(tags=["feed and export"])

MAX_FEED_LIMIT = 1000

AfterQuery = Annotated[
    int, Query(ge=0, le=2**62, description="Entries after this sequence number.")
]
RoundQuery = Annotated[uuid.UUID | None, Query(description="Only entries of this round.")]


_RECORD_HEAD: sa.Table = RecordHead.__table__  # type: ignore[attr-defined]


def _feed_page(
    session: Session, *, request: Request, after: int, limit: int, round_id: uuid.UUID | None
) -> Response:
    items = feed_views.entries(session, after=after, limit=limit, round_id=round_id)
    head_seq = (
        session.connection()
        .execute(sa.select(_RECORD_HEAD.c.seq).where(_RECORD_HEAD.c.id == 1))
        .scalar_one_or_none()
        or 0
    )
    next_after = items[-1]["seq"] if len(items) == limit else None
    # pollers hit this most: serialised straight from the rows, as FeedPage would
    # (tests/api/test_feed.py compares)
    page = {"items": items, "next_after": next_after, "head_seq": head_seq}
    response = Response(pydantic_core.to_json(page), media_type="application/json")
    if next_after is not None:
        response.headers["Link"] = next_link(request, "after", str(next_after))
    return response


@router.get("/feed", response_model=FeedPage, responses=error_responses(422))
async def feed(
    request: Request,
    tx: Tx,
    after: AfterQuery = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_FEED_LIMIT)] = 100,
    round_id: RoundQuery = None,
) -> Response:
    """Sync incrementally: entries with `seq` > `after`, in order, each with its public
    content (null once withdrawn or removed) and hashes. Poll with the last `seq` you saw."""
    return await tx(_feed_page, request=request, after=after, limit=limit, round_id=round_id)


@router.get(
    "/feed/stream",
    response_class=Response,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "Server-Sent Events: each entry as an `entry` event, `id` its seq.",
        },
        **error_responses(422, 503),
    },
)
async def feed_stream(
    request: Request,
    after: AfterQuery = 0,
    round_id: RoundQuery = None,
    last_event_id: Annotated[
        str | None, Header(description="The last `id` received: resume after it.")
    ] = None,
) -> Response:
    """Live: every entry after `Last-Event-ID` (or `after`), then each new one as it is
    recorded, as Server-Sent Events (`event: entry`, `id` = seq, `data` = the entry as
    in the feed). Comment lines keep it alive; on shutdown it ends with `retry:`."""
    if last_event_id is not None:
        # a browser's EventSource reconnects to the same URL (the same `after`) with the
        # id it saw last: the header is the newer news
        try:
            after = int(last_event_id)
        except ValueError:
            raise Unprocessable("Last-Event-ID must be an entry's seq.") from None
        if not 0 <= after <= 2**62:
            raise Unprocessable("Last-Event-ID must be an entry's seq.")
    if is_head(request):
        # the headers a subscriber would get, without subscribing
        headers = {k.decode(): v.decode() for k, v in stream.EventStream.start_headers}
        return StreamingResponse(iter(()), headers=headers)
    hub: stream.Hub = request.app.state.stream
    subscriber = await hub.subscribe(round_id)
    return stream.EventStream(hub, subscriber, after=after, round_id=round_id)


ATOM_ENTRIES = 50
# Changes whenever the way an export or the Atom feed is written changes, so that a
# stored ETag never matches bytes written another way.
_FORMAT = "2"
_CACHE_CONTROL = "public, max-age=0, must-revalidate"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ATOM_COLUMNS = ("seq", "event_type", "at", "object_type", "object_id", "subject_id", "content")
_RECORD_ENTRY: sa.Table = RecordEntry.__table__  # type: ignore[attr-defined]
_SIGNING_KEY: sa.Table = SigningKey.__table__  # type: ignore[attr-defined]


def _matches(if_none_match: str | None, tag: str) -> bool:
    """If-None-Match against `tag`, by weak comparison (RFC 9110 §13.1.2)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = tag.removeprefix("W/")
    return any(c.strip().removeprefix("W/") == wanted for c in if_none_match.split(","))


def _not_modified(tag: str) -> Response:
    return Response(status_code=304, headers={"ETag": tag, "Cache-Control": _CACHE_CONTROL})


class _Names:
    """The Atom feed's ids and links. From `CIVIC_PUBLIC_URL` when it is set: the feed's
    URL, and for an entry the feed URL that answers exactly that entry. Unset: `urn:uuid`
    ids made from the deployment's first signing key (unique to it, and kept across key
    rotations), and links relative to wherever the reader fetched the feed. Never from
    the request's Host header."""

    def __init__(self, session: Session, public_url: str | None) -> None:
        self.base = public_url or ""
        self.deployment = None
        if public_url is None:
            first = session.connection().execute(
                sa.select(_SIGNING_KEY.c.kid)
                .order_by(_SIGNING_KEY.c.created_at, _SIGNING_KEY.c.kid)
                .limit(1)
            )
            self.deployment = first.scalar_one_or_none() or ""

    def _urn(self, name: str) -> str:
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'civic-input:{self.deployment}:{name}')}"

    def self_link(self, round_id: uuid.UUID | None) -> str:
        return self.base + "/api/v1/feed.atom" + (f"?round_id={round_id}" if round_id else "")

    def feed(self, round_id: uuid.UUID | None) -> str:
        url = self.self_link(round_id)
        return self._urn(url) if self.deployment is not None else url

    def entry(self, seq: int) -> str:
        if self.deployment is not None:
            return self._urn(f"record:{seq}")
        return f"{self.base}/api/v1/feed?after={seq - 1}&limit=1"

    def link(self, path: str) -> str:
        return self.base + path


def _text(value: Any) -> str:
    return _NOT_XML.sub("", str(value))


def _atom_content(content: dict[str, Any]) -> str:
    """An entry's content as plain text: its prose, or else its plain fields."""
    for name in ("body", "text", "note"):
        if content.get(name):
            return str(content[name])
    return "\n".join(
        f"{name}: {value}"
        for name, value in sorted(content.items())
        if name != "salt" and isinstance(value, str | int | float) and value != ""
    )


def _atom_entry(row: sa.Row[Any], taken_down: datetime | None, names: _Names) -> tuple[str, str]:
    """One `<entry>`, and its `updated`: the take-down's instant once its content is gone."""
    at = iso(row.at)
    kind = row.event_type.replace(".", " ")
    link = ""
    if row.content is None:
        updated = iso(taken_down) if taken_down else at
        title = f"{row.event_type} (withdrawn from the public record)"
        when = f" at {updated}" if taken_down else ""
        text = (
            f"The content of entry {row.seq} was taken out of the public record{when}. "
            "Its hashes stay in the log, so the chain still verifies."
        )
    else:
        updated = at
        title = row.content.get("title") or kind
        text = _atom_content(row.content) or kind
        if row.event_type == "submission.published":
            href = names.link(f"/api/v1/submissions/{row.object_id}")
            link = f'<link rel="alternate" type="application/json" href={quoteattr(href)}/>'
    entry = (
        "<entry>"
        f"<id>{escape(names.entry(row.seq))}</id>"
        f"<title>{escape(_text(title))}</title>"
        f"<published>{at}</published>"
        f"<updated>{updated}</updated>"
        f"<category term={quoteattr(row.event_type)}/>"
        f"{link}"
        f'<content type="text">{escape(_text(text))}</content>'
        "</entry>"
    )
    return entry, updated


@router.get(
    "/feed.atom",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}, "description": "An Atom 1.0 feed."}},
)
def feed_atom(request: Request, session: SessionDep, round_id: RoundQuery = None) -> Response:
    """The newest 50 public events as an Atom feed (RFC 4287), for any feed reader. An
    entry whose content was taken down shows that instead, `updated` at the take-down."""
    query = sa.select(*(_RECORD_ENTRY.c[name] for name in _ATOM_COLUMNS))
    if round_id is not None:
        query = query.where(_RECORD_ENTRY.c.round_id == round_id)
    query = query.order_by(_RECORD_ENTRY.c.seq.desc()).limit(ATOM_ENTRIES)
    rows = session.connection().execute(query).all()
    taken = ledger.taken_down_at(session, [row for row in rows if row.content is None])
    names = _Names(session, request.app.state.settings.public_url)
    entries = [_atom_entry(row, taken.get(row.seq), names) for row in rows]
    updated = max((u for _, u in entries), default="1970-01-01T00:00:00.000000Z")
    self_href = names.self_link(round_id)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<id>{escape(names.feed(round_id))}</id>",
        "<title>Civic Input: the public record</title>",
        f"<updated>{updated}</updated>",
        "<author><name>Civic Input</name></author>",
        f'<link rel="self" type="application/atom+xml" href={quoteattr(self_href)}/>',
        *(entry for entry, _ in entries),
        "</feed>",
    ]
    body = "\n".join(parts).encode()
    tag = f'W/"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
    if _matches(request.headers.get("if-none-match"), tag):
        return _not_modified(tag)
    return Response(
        content=body,
        media_type="application/atom+xml; charset=utf-8",
        headers={"ETag": tag, "Cache-Control": _CACHE_CONTROL},
    )


def _export_tag(request: Request, kind: str, round_id: uuid.UUID | None) -> str:
    """The tag of an export as the log stands: it changes with every new entry (the head)
    and every take-down (the number of entries without content only grows)."""
    engine: sa.Engine = request.app.state.engine
    with engine.connect() as conn:
        head = conn.execute(
            sa.select(_RECORD_HEAD.c.seq, _RECORD_HEAD.c.hash).where(_RECORD_HEAD.c.id == 1)
        ).first()
        gone = conn.execute(
            sa.select(sa.func.count()).where(_RECORD_ENTRY.c.content.is_(None))
        ).scalar_one()
    seq, digest = (head.seq, head.hash) if head else (0, ledger.GENESIS)
    state = f"{_FORMAT}|{kind}|{round_id or ''}|{seq}|{digest}|{gone}"
    return f'W/"{hashlib.blake2b(state.encode(), digest_size=16).hexdigest()}"'


def _stream(request: Request, round_id: uuid.UUID | None) -> Iterator[dict[str, Any]]:
    """Every entry, read with a server-side cursor in batches: constant memory."""
    engine: sa.Engine = request.app.state.engine
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=1000).execute(
            feed_views.export_query(round_id, dialect=engine.dialect.name)
        )
        for row in result:
            yield feed_views.export_item(row)


def _export(
    request: Request,
    kind: str,
    round_id: uuid.UUID | None,
    body: Callable[[], Iterator[bytes]],
    media_type: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """An export streamed, with its ETag; a 304 when the client holds it already, and the
    headers alone for HEAD."""
    tag = _export_tag(request, kind, round_id)
    if _matches(request.headers.get("if-none-match"), tag):
        return _not_modified(tag)
    headers = {**(headers or {}), "ETag": tag, "Cache-Control": _CACHE_CONTROL}
    chunks = iter(()) if is_head(request) else body()
    return StreamingResponse(chunks, media_type=media_type, headers=headers)


@router.get(
    "/export.ndjson",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "One entry a line."}},
)
def export_ndjson(request: Request, round_id: RoundQuery = None) -> Response:
    """The whole record log, one JSON object a line (fields as in the feed), streamed."""

    def lines() -> Iterator[bytes]:
        # ~64 KiB a chunk: one thread hop and one write per chunk, not per line
        chunk: list[bytes] = []
        size = 0
        for item in _stream(request, round_id):
            line = json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
            chunk.append(line)
            size += len(line)
            if size >= 64_000:
                yield b"".join(chunk)
                chunk, size = [], 0
        yield b"".join(chunk)

    return _export(request, "ndjson", round_id, lines, "application/x-ndjson")


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "One entry a row."}},
)
def export_csv(request: Request, round_id: RoundQuery = None) -> Response:
    """The whole record log as CSV (a header row, the columns in the feed's order;
    `content` is its canonical JSON, empty once withdrawn or removed), streamed."""

    def rows() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=feed_views.FIELDS, lineterminator="\n")
        writer.writeheader()
        for item in _stream(request, round_id):
            content = item["content"]
            # the canonical JSON itself: its SHA-256 is the content_hash
            item["content"] = "" if content is None else ledger.canonical(content).decode()
            item["round_id"] = item["round_id"] or ""
            writer.writerow(item)
            if buffer.tell() > 64_000:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()

    return _export(
        request,
        "csv",
        round_id,
        rows,
        "text/csv; charset=utf-8",
        {"Content-Disposition": 'attachment; filename="civic-input-record.csv"'},
    )


@router.get("/record/checkpoint", response_model=Checkpoint, responses=error_responses(503))
def record_checkpoint(session: SessionDep, request: Request) -> Response:
    """The signed head of the record log: verify it with a key from /.well-known/jwks.json.
    `at` is written exactly as it is in the signed payload."""
    signed = checkpoints.checkpoint(session, signer=request.app.state.signing_keys.signer(session))
    return Response(
        pydantic_core.to_json(signed),
        media_type="application/json",
        headers={"Cache-Control": "no-cache"},
    )


@keys_router.get("/.well-known/jwks.json", response_model=Jwks)
def jwks(session: SessionDep) -> dict[str, Any]:
    """The public keys of every checkpoint signer, old ones included."""
    return checkpoints.jwks(session)
