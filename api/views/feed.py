"""What the record log shows of an entry: in the feed (`FeedEntry`) and in the exports
(the same fields, instants and ids as text). The entry's `content` is the public
projection the event wrote (`record_log`), or null once withdrawn or removed."""

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from api.views.tables import table
from models.ledger import FeedEntry, RecordEntry, iso

_RECORD_ENTRY = table(RecordEntry)

# `FeedEntry`'s fields in its order (a page is written from them as plain dicts) and the
# column each comes from
FIELDS = tuple(FeedEntry.model_fields)
_COLUMNS = tuple(_RECORD_ENTRY.c["event_type" if f == "type" else f] for f in FIELDS)
# The exports' fields: the feed's, the content last
EXPORT_FIELDS = (*(f for f in FIELDS if f != "content"), "content")


def entries(
    session: Session, *, after: int, limit: int, round_id: uuid.UUID | None
) -> list[dict[str, Any]]:
    """A page of the log as plain rows (a Core select: no ORM entities), each a dict in
    `FeedEntry`'s field order."""
    query = sa.select(*_COLUMNS).where(_RECORD_ENTRY.c.seq > after)
    if round_id is not None:
        query = query.where(_RECORD_ENTRY.c.round_id == round_id)
    rows = session.connection().execute(query.order_by(_RECORD_ENTRY.c.seq).limit(limit))
    return [dict(zip(FIELDS, row, strict=True)) for row in rows]


def export_query(round_id: uuid.UUID | None) -> sa.Select[Any]:
    """Every entry (of a round), in order, for an export."""
    query = sa.select(_RECORD_ENTRY).order_by(_RECORD_ENTRY.c.seq)
    if round_id is not None:
        query = query.where(_RECORD_ENTRY.c.round_id == round_id)
    return query


def export_item(row: sa.RowMapping) -> dict[str, Any]:
    """An entry of `export_query` as an export writes it: the feed's fields, as text."""
    return {
        "seq": row["seq"],
        "type": row["event_type"],
        "at": iso(row["at"]),
        "object_type": row["object_type"],
        "object_id": str(row["object_id"]),
        "round_id": str(row["round_id"]) if row["round_id"] else None,
        "content_hash": row["content_hash"],
        "prev_hash": row["prev_hash"],
        "hash": row["hash"],
        "content": row["content"],
    }
