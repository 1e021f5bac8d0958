"""What the record log shows of an entry: in the feed (`FeedEntry`), the live feed and the
exports. One order of fields everywhere (`FIELDS`: the hash's inputs in the hash's order,
the hash, then the content), and one spelling of `at`, the string that was hashed
(`models.ledger.iso`). The entry's `content` is the public projection the event wrote
(`record_log`), or null once withdrawn or removed."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
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
_AT = FIELDS.index("at")
_AT_COLUMN = _RECORD_ENTRY.c.at
# `at` spelled by the database, as `iso` spells it, so that no row pays for a datetime
# made only to be written out again. PostgreSQL formats the instant; SQLite keeps it as
# the text SQLAlchemy wrote (naive UTC, six digits of microseconds) and swaps in the `T`
# and the `Z`. `_at_text` checks the length and spells anything unexpected with `iso`.
_AT_TEXT: dict[str, sa.ColumnElement[Any]] = {
    "postgresql": sa.func.to_char(
        sa.func.timezone("UTC", _AT_COLUMN), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
    ),
    "sqlite": sa.func.replace(sa.type_coerce(_AT_COLUMN, sa.String), " ", "T").concat("Z"),
}
_ISO_LENGTH = len("2015-07-04T00:00:01.000000Z")


def _columns(dialect: str) -> tuple[sa.ColumnElement[Any], ...]:
    columns: list[sa.ColumnElement[Any]] = [
        _RECORD_ENTRY.c["event_type" if f == "type" else f] for f in FIELDS
    ]
    columns[_AT] = _AT_TEXT.get(dialect, _AT_COLUMN)
    return tuple(columns)


_COLUMNS = {dialect: _columns(dialect) for dialect in (*_AT_TEXT, "other")}


def _at_text(value: Any) -> str:
    """The `at` of a row of `_columns`, as `iso` spells it."""
    if isinstance(value, str):
        if len(value) == _ISO_LENGTH:
            return value
        value = datetime.fromisoformat(value.removesuffix("Z").replace("T", " "))
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return iso(value)


def entries(
    session: Session, *, after: int, limit: int, round_id: uuid.UUID | None
) -> list[dict[str, Any]]:
    """A page of the log as plain rows (a Core select: no ORM entities), each a dict in
    `FIELDS` order with `at` spelled as it was hashed (by the database: the feed is
    polled more than anything else)."""
    connection = session.connection()
    query = sa.select(*_COLUMNS.get(connection.dialect.name, _COLUMNS["other"]))
    query = query.where(_RECORD_ENTRY.c.seq > after)
    if round_id is not None:
        query = query.where(_RECORD_ENTRY.c.round_id == round_id)
    rows = connection.execute(query.order_by(_RECORD_ENTRY.c.seq).limit(limit))
    items = []
    for row in rows:
        item = dict(zip(FIELDS, row, strict=True))
        at = item["at"]
        if type(at) is not str or len(at) != _ISO_LENGTH:
            item["at"] = _at_text(at)
        items.append(item)
    return items


def export_query(round_id: uuid.UUID | None, *, dialect: str) -> sa.Select[Any]:
    """Every entry (of a round), in order, for an export (rows for `export_item`)."""
    query = sa.select(*_COLUMNS.get(dialect, _COLUMNS["other"])).order_by(_RECORD_ENTRY.c.seq)
    if round_id is not None:
        query = query.where(_RECORD_ENTRY.c.round_id == round_id)
    return query


def export_item(row: Sequence[Any]) -> dict[str, Any]:
    """An entry of `export_query` as an export writes it: the feed's fields, as text."""
    seq, event_type, at, object_type, object_id, round_id, digest, prev, hash_, content = row
    return {
        "seq": seq,
        "type": event_type,
        "at": _at_text(at),
        "object_type": object_type,
        "object_id": str(object_id),
        "round_id": str(round_id) if round_id else None,
        "content_hash": digest,
        "prev_hash": prev,
        "hash": hash_,
        "content": content,
    }
