"""What the record log shows of an entry: in the feed (`FeedEntry`), the live feed and the
exports. One order of fields everywhere (`FIELDS`: the hash's inputs in the hash's order,
the hash, then the content), and one spelling of `at`, the string that was hashed
(`models.ledger.iso`). The entry's `content` is the public projection the event wrote
(`record_log`), or null once withdrawn or removed."""

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from api.views.tables import table
from models.ledger import RecordEntry, iso

_RECORD_ENTRY = table(RecordEntry)

# The fields of an entry in the feed, the live feed, NDJSON and CSV, in this order
# (docs/record.md, "Field dictionary"), and the column each comes from
FIELDS = (
    "seq",
    "type",
    "at",
    "object_type",
    "object_id",
    "round_id",
    "content_hash",
    "prev_hash",
    "hash",
    "content",
)
_COLUMNS = tuple(_RECORD_ENTRY.c["event_type" if f == "type" else f] for f in FIELDS)
_AT = FIELDS.index("at")


def entries(
    session: Session, *, after: int, limit: int, round_id: uuid.UUID | None
) -> list[dict[str, Any]]:
    """A page of the log as plain rows (a Core select: no ORM entities), each a dict in
    `FIELDS` order with `at` already spelled as it was hashed (once per entry: the feed
    is polled more than anything else)."""
    query = sa.select(*_COLUMNS).where(_RECORD_ENTRY.c.seq > after)
    if round_id is not None:
        query = query.where(_RECORD_ENTRY.c.round_id == round_id)
    rows = session.connection().execute(query.order_by(_RECORD_ENTRY.c.seq).limit(limit))
    items = []
    for row in rows:
        item = dict(zip(FIELDS, row, strict=True))
        item["at"] = iso(row[_AT])
        items.append(item)
    return items


def export_query(round_id: uuid.UUID | None) -> sa.Select[Any]:
    """Every entry (of a round), in order, for an export."""
    query = sa.select(*_COLUMNS).order_by(_RECORD_ENTRY.c.seq)
    if round_id is not None:
        query = query.where(_RECORD_ENTRY.c.round_id == round_id)
    return query


def export_item(row: Sequence[Any]) -> dict[str, Any]:
    """An entry of `export_query` as an export writes it: the feed's fields, as text."""
    seq, event_type, at, object_type, object_id, round_id, digest, prev, hash_, content = row
    return {
        "seq": seq,
        "type": event_type,
        "at": iso(at),
        "object_type": object_type,
        "object_id": str(object_id),
        "round_id": str(round_id) if round_id else None,
        "content_hash": digest,
        "prev_hash": prev,
        "hash": hash_,
        "content": content,
    }
