"""What is taken back is gone: a withdrawn submission's text, and a removed one's once
moderators no longer need it, erased from the database and from everything derived.

What stays of an erased submission: its row (ids, status, instants: the author still
sees that it was withdrawn), and in the record log the entries' hashes, which never
held the text itself (the content hash covers a random salt that is erased with the
content: api/services/ledger.py), so the chain still verifies.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api import clock
from api.db import open_session, truncate_wal
from api.services import idempotency, ledger, translations
from models.submission import Status, Submission

# Submissions erased per transaction by `purge`.
BATCH = 200


def erase(session: Session, *, submission: Submission) -> None:
    """Blank the submission's title, body and search text; delete its translations; null
    the content of every record-log entry about it (its responses' and translations'
    entries included); reduce its idempotency record to the id. In the caller's
    transaction."""
    submission.title = ""
    submission.body = ""
    submission.search_text = ""
    submission.erased_at = clock.now()
    session.add(submission)
    session.flush()
    translations.erase(session, submission_id=submission.id)
    ledger.tombstone(session, subject_id=submission.id)
    idempotency.forget(
        session, user_id=submission.author_id, resource_id=submission.id, status=submission.status
    )


def due(now: datetime, *, retention_days: int) -> sa.ColumnElement[bool]:
    """Not yet erased, and withdrawn (before erasure came with withdrawal) or removed
    more than `retention_days` ago."""
    cutoff = now - timedelta(days=retention_days)
    return sa.and_(
        col(Submission.erased_at).is_(None),
        sa.or_(
            col(Submission.status) == Status.withdrawn,
            sa.and_(
                col(Submission.status) == Status.removed,
                col(Submission.removed_at) <= cutoff,
            ),
        ),
    )


@dataclass
class Purged:
    withdrawn: int = 0
    removed: int = 0

    @property
    def total(self) -> int:
        return self.withdrawn + self.removed


def purge_batch(session: Session, *, now: datetime, retention_days: int, into: Purged) -> int:
    """Erase up to `BATCH` submissions that are due; how many were."""
    batch = session.exec(
        select(Submission)
        .where(due(now, retention_days=retention_days))
        .order_by(col(Submission.id))
        .limit(BATCH)
    ).all()
    for submission in batch:
        erase(session, submission=submission)
        if submission.status == Status.withdrawn:
            into.withdrawn += 1
        else:
            into.removed += 1
    return len(batch)


def purge(engine: sa.Engine, *, retention_days: int, now: datetime | None = None) -> Purged:
    """Erase every submission that is due, `BATCH` to a transaction; then, on SQLite,
    empty the write-ahead log so no old copy of the text stays in it."""
    now = now or clock.now()
    purged = Purged()
    while True:
        with open_session(engine, write=True) as session:
            count = purge_batch(session, now=now, retention_days=retention_days, into=purged)
            session.commit()
        if count < BATCH:
            break
    truncate_wal(engine)
    return purged
