"""The record log: append one hash-chained entry per public event, in the same transaction
as the change it records; tombstone content that must leave the public record."""

import hashlib
import json
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api import clock
from models.ledger import RecordEntry, RecordHead, iso

GENESIS = "0" * 64


def canonical(content: Any) -> bytes:
    """The bytes that are hashed: JSON with sorted keys, no spaces, UTF-8."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(content: Any) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def entry_hash(
    *,
    seq: int,
    event_type: str,
    at: datetime | str,
    object_type: str,
    object_id: uuid.UUID | str,
    round_id: uuid.UUID | str | None,
    content_digest: str,
    prev_hash: str,
) -> str:
    """Every field of an entry but its content (which the content hash stands for). An
    instant given as text is hashed as it is: a verifier hashes the string it read."""
    fields = [
        str(seq),
        event_type,
        iso(at) if isinstance(at, datetime) else at,
        object_type,
        str(object_id),
        str(round_id or ""),
        content_digest,
        prev_hash,
    ]
    line = "|".join(fields)
    return hashlib.sha256(line.encode()).hexdigest()


def _lock_head(session: Session) -> RecordHead:
    head = session.exec(select(RecordHead).where(RecordHead.id == 1).with_for_update()).first()
    if head is None:
        head = RecordHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    return head


def append(
    session: Session,
    *,
    event_type: str,
    object_type: str,
    object_id: uuid.UUID,
    subject_id: uuid.UUID,
    round_id: uuid.UUID | None,
    content: dict[str, Any],
) -> RecordEntry:
    """Append one entry. The caller's transaction holds the head lock until it commits,
    so entries become visible in sequence order, and no change lands without its entry."""
    # A random salt travels inside the content and is hashed with it. When the content
    # is taken down, the salt goes too, so nobody can confirm a guess (a name, a text)
    # against the content hash that stays.
    content = json.loads(canonical({**content, "salt": secrets.token_hex(16)}))
    head = _lock_head(session)
    at = clock.now()
    digest = content_hash(content)
    seq = head.seq + 1
    entry = RecordEntry(
        seq=seq,
        event_type=event_type,
        at=at,
        object_type=object_type,
        object_id=object_id,
        round_id=round_id,
        subject_id=subject_id,
        content=content,
        content_hash=digest,
        prev_hash=head.hash,
        hash=entry_hash(
            seq=seq,
            event_type=event_type,
            at=at,
            object_type=object_type,
            object_id=object_id,
            round_id=round_id,
            content_digest=digest,
            prev_hash=head.hash,
        ),
    )
    session.add(entry)
    head.seq, head.hash = seq, entry.hash
    session.add(head)
    session.flush()
    if session.connection().dialect.name == "postgresql":
        # delivered at commit, never before, never without it: the live feed's listeners
        # in every process wake and read the new entry (api/stream.py)
        session.execute(sa.text("SELECT pg_notify('civic_record', :seq)"), {"seq": str(seq)})
    return entry


def tombstone_object(session: Session, *, object_type: str, object_id: uuid.UUID) -> None:
    """Take down the content of every entry about one object (e.g. a case's timeline)."""
    session.execute(
        sa.update(RecordEntry)
        .where(col(RecordEntry.object_type) == object_type, col(RecordEntry.object_id) == object_id)
        .values(content=sa.null())
    )


def move_subject(
    session: Session, *, object_type: str, object_id: uuid.UUID, old: uuid.UUID, new: uuid.UUID
) -> None:
    """The entries about one object are about `new` from now on, no longer `old` (a grouped
    answer whose naming submission was withdrawn): what takes them down changes, nothing
    public does (`subject_id` is in no hash and no public view)."""
    session.execute(
        sa.update(RecordEntry)
        .where(
            col(RecordEntry.subject_id) == old,
            col(RecordEntry.object_type) == object_type,
            col(RecordEntry.object_id) == object_id,
        )
        .values(subject_id=new)
    )


def tombstone(session: Session, *, subject_id: uuid.UUID) -> None:
    """Take the content of every entry about `subject_id` out of the public record.
    Hashes stay, so the chain still verifies and shows that something was there."""
    session.execute(
        sa.update(RecordEntry)
        .where(col(RecordEntry.subject_id) == subject_id)
        .values(content=sa.null())
    )


# The entries that take earlier content down, as `api/services/events.py` writes them
# (docs/record.md, "Tombstones", says the same to apps that keep content).
_SUBMISSION_GONE = frozenset({"submission.withdrawn", "submission.removed"})
_CASE_GONE = "case.removed"
_CASE_CHANGED = frozenset({"case.published", "case.consent_given", "case.consent_withdrawn"})
_TAKEDOWNS = (*_SUBMISSION_GONE, _CASE_GONE, *_CASE_CHANGED)


def _took_down(later: Any, entry: Any) -> bool:
    """Whether the entry `later` records the take-down of `entry`'s content."""
    if later.event_type in _SUBMISSION_GONE:
        # the submission's entries and its responses' (their subject is the submission)
        return bool(later.object_id == entry.subject_id)
    if later.event_type == _CASE_GONE:
        return bool(
            later.object_id == entry.subject_id
            or (entry.object_type == "case" and later.object_id == entry.object_id)
        )
    # a case published again, or its consent changed: the case's earlier entries
    return bool(later.subject_id == entry.subject_id)


def taken_down_at(session: Session, entries: Sequence[Any]) -> dict[int, datetime]:
    """When the content of each tombstoned entry of `entries` (rows with `seq`,
    `object_type`, `object_id`, `subject_id`) was taken down: the `at` of the first later
    entry that records it. An entry whose take-down no entry records (content erased
    before withdrawals were recorded) has none."""
    if not entries:
        return {}
    ids = {e.object_id for e in entries} | {e.subject_id for e in entries}
    table: sa.Table = RecordEntry.__table__  # type: ignore[attr-defined]
    later = (
        session.connection()
        .execute(
            sa.select(
                table.c.seq, table.c.event_type, table.c.at, table.c.object_id, table.c.subject_id
            )
            .where(
                table.c.seq > min(e.seq for e in entries),
                table.c.event_type.in_(_TAKEDOWNS),
                sa.or_(table.c.object_id.in_(ids), table.c.subject_id.in_(ids)),
            )
            .order_by(table.c.seq)
        )
        .all()
    )
    found: dict[int, datetime] = {}
    for entry in entries:
        for row in later:
            if row.seq > entry.seq and _took_down(row, entry):
                found[entry.seq] = row.at
                break
    return found
