"""The record log for third-party apps: incremental sync, Atom, bulk export, checkpoints."""

import csv
import io
import json
import uuid
from collections.abc import Iterator
from typing import Annotated, Any
from xml.sax.saxutils import escape

import pydantic_core
import sqlalchemy as sa
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlmodel import Session, col, select

from api import stream
from api.deps import SessionDep, Tx
from api.errors import Unprocessable, error_responses
from api.pagination import next_link
from api.services import checkpoints
from api.views import feed as feed_views
from models.ledger import Checkpoint, FeedPage, Jwks, RecordEntry, RecordHead, iso

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
) -> stream.EventStream:
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
    hub: stream.Hub = request.app.state.stream
    subscriber = await hub.subscribe(round_id)
    return stream.EventStream(hub, subscriber, after=after, round_id=round_id)


@router.get(
    "/feed.atom",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}, "description": "An Atom 1.0 feed."}},
)
def feed_atom(request: Request, session: SessionDep, round_id: RoundQuery = None) -> Response:
    """The newest 50 public events as an Atom feed, for any feed reader."""
    query = select(RecordEntry)
    if round_id is not None:
        query = query.where(RecordEntry.round_id == round_id)
    rows = list(session.exec(query.order_by(col(RecordEntry.seq).desc()).limit(50)))
    base = str(request.base_url).rstrip("/")
    updated = iso(rows[0].at) if rows else "1970-01-01T00:00:00.000000Z"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        "<title>Civic Input: the public record</title>",
        f"<id>urn:civic-input:feed{':' + str(round_id) if round_id else ''}</id>",
        f"<updated>{updated}</updated>",
        f'<link rel="self" href="{escape(base)}/api/v1/feed.atom"/>',
        "<author><name>Civic Input</name></author>",
    ]
    for row in rows:
        parts.append(_atom_entry(row, base))
    parts.append("</feed>")
    body = "\n".join(parts).encode()
    return Response(content=body, media_type="application/atom+xml; charset=utf-8")


def _atom_entry(row: RecordEntry, base: str) -> str:
    content = row.content or {}
    title = content.get("title") or row.event_type.replace(".", " ")
    if row.content is None:
        title = f"{row.event_type} (withdrawn from the public record)"
    summary = content.get("body") or content.get("text") or content.get("note") or ""
    link = ""
    if row.event_type == "submission.published" and row.content is not None:
        link = f'<link href="{escape(base)}/api/v1/submissions/{row.object_id}"/>'
    return (
        "<entry>"
        f"<id>urn:civic-input:record:{row.seq}</id>"
        f"<title>{escape(str(title))}</title>"
        f"<updated>{iso(row.at)}</updated>"
        f'<category term="{escape(row.event_type)}"/>'
        f"{link}"
        f"<summary>{escape(str(summary)[:1000])}</summary>"
        "</entry>"
    )


def _stream(request: Request, round_id: uuid.UUID | None) -> Iterator[dict[str, Any]]:
    """Every entry, read with a server-side cursor in batches: constant memory."""
    engine: sa.Engine = request.app.state.engine
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=1000).execute(
            feed_views.export_query(round_id)
        )
        for row in result.mappings():
            yield feed_views.export_item(row)


@router.get(
    "/export.ndjson",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "One entry a line."}},
)
def export_ndjson(request: Request, round_id: RoundQuery = None) -> StreamingResponse:
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

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "One entry a row."}},
)
def export_csv(request: Request, round_id: RoundQuery = None) -> StreamingResponse:
    """The whole record log as CSV (a header row; `content` is a JSON string, empty once
    withdrawn or removed), streamed."""

    def rows() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=feed_views.EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for item in _stream(request, round_id):
            content = item["content"]
            item["content"] = (
                "" if content is None else json.dumps(content, ensure_ascii=False, sort_keys=True)
            )
            item["round_id"] = item["round_id"] or ""
            writer.writerow(item)
            if buffer.tell() > 64_000:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="civic-input-record.csv"'},
    )


@router.get("/record/checkpoint", response_model=Checkpoint, responses=error_responses(503))
def record_checkpoint(session: SessionDep, request: Request, response: Response) -> Checkpoint:
    """The signed head of the record log: verify it with a key from /.well-known/jwks.json."""
    response.headers["Cache-Control"] = "no-cache"
    return checkpoints.checkpoint(session, signer=request.app.state.signing_keys.signer(session))


@keys_router.get("/.well-known/jwks.json", response_model=Jwks)
def jwks(session: SessionDep) -> dict[str, Any]:
    """The public keys of every checkpoint signer, old ones included."""
    return checkpoints.jwks(session)
