"""Rounds: their phase (derived here, and only here), creation and deadline changes."""

import uuid
from datetime import datetime

from sqlmodel import Session, col, select

from api import clock
from api.errors import (
    ApiError,
    Conflict,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Unprocessable,
)
from api.services import audit
from api.sql.snapshot import snapshot
from models.dialogue import Dialogue
from models.round import INSTANTS, Phase, Round, RoundCreate, RoundPublic, RoundUpdate, check_order
from models.user import User


class WrongPhase(ApiError):
    """Writing in the wrong phase: 409, with a type that names the phase."""

    status, title = 409, "The round is not in the phase this needs"

    def __init__(self, phase: Phase, detail: str) -> None:
        super().__init__(detail, phase=phase.value)
        self.slug = f"wrong-phase:{phase.value}"


def phase_of(rnd: Round, now: datetime | None = None) -> Phase:
    """The one place a round's phase is computed: from its five instants and the clock."""
    now = now or clock.now()
    if now < rnd.submissions_open_at:
        return Phase.upcoming
    if now < rnd.submissions_close_at:
        return Phase.accepting_submissions
    if now < rnd.starts_at:
        return Phase.awaiting_session
    if now < rnd.ends_at:
        return Phase.in_session
    if now < rnd.responses_due_at:
        return Phase.accepting_responses
    return Phase.concluded


def etag(rnd: Round, phase: Phase) -> str:
    # The phase is part of the representation, so it is part of the tag.
    return f'"round-{rnd.version}-{phase.value}"'


def get_or_404(session: Session, *, round_id: uuid.UUID) -> Round:
    rnd = session.get(Round, round_id)
    if rnd is None:
        raise NotFound("No such round.")
    return rnd


def snapshot_or_404(session: Session, *, round_id: uuid.UUID) -> Round:
    """A read-only copy of the round (`api.sql.snapshot`), for the write path."""
    rnd = snapshot(session, Round, round_id)
    if rnd is None:
        raise NotFound("No such round.")
    return rnd


def public(rnd: Round, *, dialogue_slug: str, now: datetime | None = None) -> RoundPublic:
    return RoundPublic(
        id=rnd.id,
        dialogue_slug=dialogue_slug,
        number=rnd.number,
        title=rnd.title,
        location=rnd.location,
        submissions_open_at=rnd.submissions_open_at,
        submissions_close_at=rnd.submissions_close_at,
        starts_at=rnd.starts_at,
        ends_at=rnd.ends_at,
        responses_due_at=rnd.responses_due_at,
        phase=phase_of(rnd, now),
    )


def dialogue_slug(session: Session, *, rnd: Round) -> str:
    slug = session.exec(select(Dialogue.slug).where(Dialogue.id == rnd.dialogue_id)).one()
    return str(slug)


def of_dialogue(session: Session, *, dialogue: Dialogue) -> list[Round]:
    return list(
        session.exec(
            select(Round).where(Round.dialogue_id == dialogue.id).order_by(col(Round.number))
        )
    )


def create(session: Session, *, dialogue: Dialogue, data: RoundCreate, admin: User) -> Round:
    taken = session.exec(
        select(Round.id).where(Round.dialogue_id == dialogue.id, Round.number == data.number)
    ).first()
    if taken is not None:
        raise Conflict(f"This dialogue already has a round {data.number}.")
    rnd = Round(dialogue_id=dialogue.id, **data.model_dump())
    session.add(rnd)
    session.flush()
    audit.record(
        session,
        actor=admin,
        action="round.create",
        target_type="round",
        target_id=rnd.id,
        detail={name: getattr(rnd, name).isoformat() for name in INSTANTS},
    )
    return rnd


def update(
    session: Session, *, rnd: Round, data: RoundUpdate, if_match: str | None, admin: User
) -> Round:
    """Change a round's instants (a deadline extension) or title; audited, guarded by If-Match."""
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the round's ETag (from GET).")
    session.refresh(rnd, with_for_update=True)  # two admins cannot both pass the check
    current = etag(rnd, phase_of(rnd))
    if if_match.strip() not in (current, "W/" + current, "*"):
        raise PreconditionFailed("The round changed since you read it; GET it again.")
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    merged = {name: changes.get(name, getattr(rnd, name)) for name in INSTANTS}
    try:
        check_order(merged)
    except ValueError as exc:
        raise Unprocessable(str(exc)) from None
    before = {name: _plain(getattr(rnd, name)) for name in changes}
    for name, value in changes.items():
        setattr(rnd, name, value)
    rnd.version += 1
    session.add(rnd)
    session.flush()
    audit.record(
        session,
        actor=admin,
        action="round.update",
        target_type="round",
        target_id=rnd.id,
        detail={"before": before, "after": {name: _plain(v) for name, v in changes.items()}},
    )
    return rnd


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def require_phase(rnd: Round, *allowed: Phase, action: str) -> Phase:
    phase = phase_of(rnd)
    if phase not in allowed:
        raise WrongPhase(phase, f"The round is {phase.value}: {action} is not possible now.")
    return phase
