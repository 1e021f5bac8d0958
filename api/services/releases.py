"""Joint releases: a delegation holds responses until an instant, then they all become
public together.

A response is held when it has an `embargo_until` and no `released_at`
(`models.response.is_public`). It is held from the start when its official gives it an
`embargo_until`, or when its delegation has set a release instant for the round that is
still ahead (`schedule`: which also moves every response it holds there to that
instant). While held, only the delegation's officials and moderators read it; the
public sees only that one is `scheduled`, and when (`api.views.responses.SCHEDULED`).
Nothing about it enters the record log, the search index or the caches' content.

Release (`release_due`, at the instant; `release_now`, when the delegation says so) is
one transaction: each response gets `released_at`, its public `responded_at` becomes
the instant it was released for (so `late` is judged by the release, not the drafting),
and its record-log entries are appended in a stable order: by release instant, then the
submission's place in the record (`published_at`, then id), then delegation code. The
log's own append (api/services/ledger.py) feeds the live stream and invalidates the
caches, as for any other event; `events.response_published` indexes it for search.

Exactly once, with any number of processes: the state is in the database (the held
responses and their instants), so a process started after an instant releases what is
due at once. Each pass claims the right to release (PostgreSQL: a transaction-scoped
advisory lock, taken by a try that never waits in the background; SQLite: the write
transaction, `BEGIN IMMEDIATE`, holds the database's only write lock) and, in the same
transaction, reads again what is still unreleased: a pass that comes after another's
commit finds nothing left to do. The rows are locked `FOR UPDATE` too, so a revision
being made at that moment is either in the released text or comes after it.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api import clock
from api.errors import Forbidden, NotFound, Unprocessable
from api.permissions import Permission, can
from api.services import events, rounds
from models.dialogue import Delegation
from models.release import DelegationRelease, HeldResponse, ReleasePlan
from models.response import Response, ResponseRevision
from models.round import Phase, Round
from models.submission import Status, Submission
from models.user import User

MAX_AHEAD = timedelta(days=30)
# pg_advisory_xact_lock's key: "civr" in ASCII, fixed so every version agrees on it
ADVISORY_KEY = 0x63697672


def held(response: Response) -> bool:
    return response.embargo_until is not None and response.released_at is None


def check_instant(at: datetime, *, field: str) -> None:
    """A release instant must be ahead, and at most `MAX_AHEAD` ahead: 422 otherwise."""
    now = clock.now()
    if at <= now:
        raise Unprocessable("The release instant must be in the future.", field=field)
    if at > now + MAX_AHEAD:
        raise Unprocessable("The release instant may be at most 30 days ahead.", field=field)


def _set(
    session: Session, *, round_id: uuid.UUID, delegation_id: uuid.UUID
) -> DelegationRelease | None:
    """The delegation's release instant for the round, if one is set (and not yet spent)."""
    return session.exec(
        select(DelegationRelease).where(
            DelegationRelease.round_id == round_id,
            DelegationRelease.delegation_id == delegation_id,
        )
    ).first()


def _pending(
    session: Session, *, round_id: uuid.UUID, delegation_id: uuid.UUID
) -> DelegationRelease | None:
    """The delegation's release instant for the round, while it is still ahead."""
    found = _set(session, round_id=round_id, delegation_id=delegation_id)
    return found if found is not None and found.release_at > clock.now() else None


def hold_new(
    session: Session, *, response: Response, round_id: uuid.UUID, embargo_until: datetime | None
) -> bool:
    """Whether a response being created is held, and until when: its own instant, else
    the delegation's release instant for the round if one is ahead. Sets
    `embargo_until`; the caller appends no record-log entry for a held response."""
    if embargo_until is not None:
        check_instant(embargo_until, field="embargo_until")
        response.embargo_until = embargo_until
        return True
    plan = _set(session, round_id=round_id, delegation_id=response.delegation_id)
    if plan is None:
        return False
    if plan.release_at > clock.now():
        response.embargo_until = plan.release_at
        return True
    # the instant has come, but no pass has released what it held yet: release that first,
    # so the new response comes after them in the record, never before
    release_due(session)
    return False


def _own_delegation(official: User, delegation: Delegation) -> None:
    if official.delegation_id != delegation.id:
        raise Forbidden("Only officials of this delegation set its release.")


_ACTION = "scheduling a release (after the session ends)"


def _held_in(round_id: uuid.UUID, delegation_id: uuid.UUID | None = None) -> sa.ColumnElement[bool]:
    in_round = col(Response.submission_id).in_(
        sa.select(col(Submission.id)).where(col(Submission.round_id) == round_id)
    )
    where = sa.and_(
        in_round, col(Response.embargo_until).is_not(None), col(Response.released_at).is_(None)
    )
    if delegation_id is not None:
        where = sa.and_(where, col(Response.delegation_id) == delegation_id)
    return where


def plan(session: Session, *, rnd: Round, delegation: Delegation) -> ReleasePlan:
    """The delegation's release instant for the round and what it holds there."""
    pending = _pending(session, round_id=rnd.id, delegation_id=delegation.id)
    rows = session.execute(
        _ordered(sa.select(Response).where(_held_in(rnd.id, delegation.id)))
    ).scalars()
    return ReleasePlan(
        round_id=rnd.id,
        delegation=delegation.code,
        release_at=pending.release_at if pending else None,
        held=[
            HeldResponse(
                response_id=r.id,
                submission_id=r.submission_id,
                release_at=r.embargo_until or clock.now(),
            )
            for r in rows
        ],
    )


def read_plan(session: Session, *, rnd: Round, delegation: Delegation, viewer: User) -> ReleasePlan:
    """The delegation's officials and moderators read its plan; nobody else."""
    if not _may_see(viewer, delegation.id):
        raise Forbidden("Only officials of this delegation and moderators see its release.")
    return plan(session, rnd=rnd, delegation=delegation)


def _may_see(viewer: User | None, delegation_id: uuid.UUID) -> bool:
    if viewer is None:
        return False
    return viewer.delegation_id == delegation_id or can(viewer.role, Permission.moderate)


def may_see(viewer: User | None, response: Response) -> bool:
    """Whether `viewer` may read `response`: anyone once it is public; while it is held,
    only its delegation's officials and moderators."""
    return not held(response) or _may_see(viewer, response.delegation_id)


def schedule(
    session: Session,
    *,
    rnd: Round,
    delegation: Delegation,
    release_at: datetime,
    official: User,
) -> ReleasePlan:
    """Set the delegation's release instant for the round: every response it holds there,
    and every one it posts before the instant, is released then."""
    _own_delegation(official, delegation)
    rounds.require_phase(rnd, Phase.accepting_responses, Phase.concluded, action=_ACTION)
    check_instant(release_at, field="release_at")
    found = session.exec(
        select(DelegationRelease)
        .where(
            DelegationRelease.round_id == rnd.id,
            DelegationRelease.delegation_id == delegation.id,
        )
        .with_for_update()
    ).first()
    if found is None:
        found = DelegationRelease(
            round_id=rnd.id,
            delegation_id=delegation.id,
            release_at=release_at,
            set_by_id=official.id,
        )
    found.release_at, found.set_by_id, found.set_at = release_at, official.id, clock.now()
    session.add(found)
    session.execute(
        sa.update(Response)
        .where(_held_in(rnd.id, delegation.id))
        .values(embargo_until=release_at)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.expire_all()
    return plan(session, rnd=rnd, delegation=delegation)


def release_now(
    session: Session, *, rnd: Round, delegation: Delegation, official: User
) -> ReleasePlan:
    """Release every response the delegation holds in the round now, and drop its release
    instant: what it posts from now on is public at once."""
    _own_delegation(official, delegation)
    rounds.require_phase(rnd, Phase.accepting_responses, Phase.concluded, action=_ACTION)
    session.execute(
        sa.delete(DelegationRelease).where(
            col(DelegationRelease.round_id) == rnd.id,
            col(DelegationRelease.delegation_id) == delegation.id,
        )
    )
    _claim(session, wait=True)
    now = clock.now()
    due = _lock(session, sa.select(Response).where(_held_in(rnd.id, delegation.id)))
    _release(session, due, now=now)
    return plan(session, rnd=rnd, delegation=delegation)


def _ordered(query: Any) -> Any:
    """The release order: by instant, then the submission's place in the round's record
    (published_at, id), then the delegation's code."""
    return (
        query.join(Submission, col(Submission.id) == col(Response.submission_id))
        .join(Delegation, col(Delegation.id) == col(Response.delegation_id))
        .order_by(
            col(Response.embargo_until),
            col(Submission.published_at),
            col(Submission.id),
            col(Delegation.code),
        )
    )


def _lock(session: Session, query: Any) -> list[Response]:
    return list(session.execute(_ordered(query).with_for_update(of=Response)).scalars())


def _claim(session: Session, *, wait: bool) -> bool:
    """The right to release, for this transaction (module docstring)."""
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: the write transaction holds the only write lock
    if wait:
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_KEY})
        return True
    return bool(
        session.execute(
            sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_KEY}
        ).scalar_one()
    )


def _release(session: Session, due: Sequence[Response], *, now: datetime) -> None:
    for response in due:
        instant = min(response.embargo_until or now, now)
        response.released_at = now
        response.responded_at = instant
        session.add(response)
        # its one revision (drafts were replaced in place) is published at that instant
        session.execute(
            sa.update(ResponseRevision)
            .where(col(ResponseRevision.response_id) == response.id)
            .values(created_at=instant)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    published = set(
        session.exec(
            select(Submission.id).where(
                col(Submission.id).in_({r.submission_id for r in due}),
                Submission.status == Status.published,
            )
        ).all()
    )
    for response in due:
        # a submission withdrawn or removed meanwhile takes its responses with it
        if response.submission_id in published:
            events.response_published(session, response=response, event_type="response.published")


def release_due(session: Session, *, now: datetime | None = None) -> list[Response]:
    """Release every held response whose instant has come, in one transaction (the
    caller's, which must be a writing one and commit); none if another process is
    releasing at this moment (it will have released them, or the next pass will)."""
    now = now or clock.now()
    if not _claim(session, wait=False):
        return []
    due = _lock(
        session,
        sa.select(Response).where(
            col(Response.embargo_until) <= now, col(Response.released_at).is_(None)
        ),
    )
    _release(session, due, now=now)
    # the round release instants that have come are spent: what comes next is public
    session.execute(sa.delete(DelegationRelease).where(col(DelegationRelease.release_at) <= now))
    return due


def next_due(session: Session) -> datetime | None:
    """The earliest instant a held response waits for, if any."""
    found: datetime | None = session.exec(
        select(sa.func.min(col(Response.embargo_until))).where(
            col(Response.embargo_until).is_not(None), col(Response.released_at).is_(None)
        )
    ).one()
    return found


def delegation_of_round(session: Session, *, rnd: Round, code: str) -> Delegation:
    """The delegation with this code in the round's dialogue, or 404."""
    found = session.exec(
        select(Delegation).where(
            Delegation.dialogue_id == rnd.dialogue_id, Delegation.code == code.upper()
        )
    ).first()
    if found is None:
        raise NotFound("No delegation with this code in the round's dialogue.")
    return found
