"""Plain factories for test data, and real tokens for their users."""

import uuid
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlmodel import Session, select

from api import clock
from api.security import Security
from api.services import submissions
from api.services.accounts import handle_key
from models.dialogue import Delegation, Dialogue
from models.response import Response, ResponseRevision, ResponseSubmission
from models.round import Phase, Round
from models.submission import Decision, ModerationCreate, Status, Submission, SubmissionCreate
from models.user import Role, User

PASSWORD = "correct horse battery staple"
HOUR = timedelta(hours=1)


def window(phase: Phase, now: datetime | None = None) -> dict[str, datetime]:
    """Five instants, in order, that put a round in `phase` right now (each an hour apart
    around now, so a test has time to run)."""
    now = now or datetime.now(UTC)
    # offsets (in hours) of open, close, starts, ends, due relative to now
    offsets = {
        Phase.upcoming: (1, 2, 3, 4, 5),
        Phase.accepting_submissions: (-1, 1, 2, 3, 4),
        Phase.awaiting_session: (-2, -1, 1, 2, 3),
        Phase.in_session: (-3, -2, -1, 1, 2),
        Phase.accepting_responses: (-4, -3, -2, -1, 1),
        Phase.concluded: (-5, -4, -3, -2, -1),
    }[phase]
    names = (
        "submissions_open_at",
        "submissions_close_at",
        "starts_at",
        "ends_at",
        "responses_due_at",
    )
    return {name: now + hours * HOUR for name, hours in zip(names, offsets, strict=True)}


def _clock_at(instant: datetime | None) -> AbstractContextManager[object]:
    """The clock held at `instant` (None: the real clock) while a factory makes something
    happen then."""
    return nullcontext() if instant is None else clock.frozen(instant)


@cache
def _password_hash(security: Security) -> str:
    # Hash once per run: Argon2 is slow on purpose.
    return security.hash_password(PASSWORD)


class Factory:
    def __init__(self, session: Session, security: Security) -> None:
        self.session = session
        self.security = security
        self._ticks = 0
        self._moderating: User | None = None

    def user(
        self,
        role: Role = Role.activist,
        *,
        handle: str | None = None,
        delegation: Delegation | None = None,
        email: str | None = None,
    ) -> User:
        handle = handle or f"{role.value}-{uuid.uuid4().hex[:8]}"
        user = User(
            handle=handle,
            handle_key=handle_key(handle),
            email=email,
            password_hash=_password_hash(self.security),
            role=role.value,
            delegation_id=delegation.id if delegation else None,
        )
        self.session.add(user)
        self.session.commit()
        return user

    def dialogue(self, slug: str | None = None) -> Dialogue:
        dialogue = Dialogue(slug=slug or f"d-{uuid.uuid4().hex[:8]}", title="A dialogue")
        self.session.add(dialogue)
        self.session.commit()
        return dialogue

    def delegation(self, dialogue: Dialogue | None = None, code: str = "CN") -> Delegation:
        dialogue = dialogue or self.dialogue()
        delegation = Delegation(dialogue_id=dialogue.id, code=code, name=f"Delegation {code}")
        self.session.add(delegation)
        self.session.commit()
        return delegation

    def headers(self, user: User) -> dict[str, str]:
        """A real access token for `user`, minted as the server mints them."""
        token = self.security.mint_access_token(user.id, user.session_version)
        return {"Authorization": f"Bearer {token}"}

    def round(
        self,
        dialogue: Dialogue | None = None,
        *,
        phase: Phase = Phase.accepting_submissions,
        number: int | None = None,
    ) -> Round:
        """A round in `phase` now; its dialogue gets US and CN delegations if it has none."""
        dialogue = dialogue or self.dialogue()
        if not self.session.exec(
            select(Delegation).where(Delegation.dialogue_id == dialogue.id)
        ).first():
            self.delegation(dialogue, "US")
            self.delegation(dialogue, "CN")
        if number is None:
            number = (
                len(
                    list(
                        self.session.exec(select(Round.id).where(Round.dialogue_id == dialogue.id))
                    )
                )
                + 1
            )
        rnd = Round(
            dialogue_id=dialogue.id, number=number, title=f"Round {number}", **window(phase)
        )
        self.session.add(rnd)
        self.session.commit()
        return rnd

    def delegation_of(self, rnd: Round, code: str) -> Delegation:
        return self.session.exec(
            select(Delegation).where(
                Delegation.dialogue_id == rnd.dialogue_id, Delegation.code == code
            )
        ).one()

    def submission(
        self,
        rnd: Round,
        *,
        author: User | None = None,
        status: Status = Status.published,
        kind: str = "concern",
        title: str = "Detained labour lawyers",
        body: str = "Where are the detained labour lawyers held?",
        language: str = "en",
        attribution: str = "anonymous",
        organisation: str | None = None,
        addressed_to: tuple[str, ...] = ("CN",),
        themes: tuple[str, ...] = ("labour-rights",),
        published_at: datetime | None = None,
    ) -> Submission:
        """A submission in `status`, made as the API makes it: submitted through
        `submissions.create` while its round accepts submissions (the clock is set inside
        that window when now is not), then moderated or withdrawn through the services,
        so the record log and audit hold what they would (publishing at `published_at`)."""
        author = author or self.user(Role.activist)
        data = SubmissionCreate.model_validate(
            {
                "kind": kind,
                "title": title,
                "body": body,
                "language": language,
                "attribution": attribution,
                "organisation": organisation,
                "addressed_to": list(addressed_to),
                "themes": list(themes),
            }
        )
        with _clock_at(self._submitting_instant(rnd)):
            created = submissions.create(self.session, rnd=rnd, data=data, author=author)
        self.session.commit()
        submission = self.session.get_one(Submission, created.id)
        if status == Status.withdrawn:
            submissions.withdraw(self.session, submission=submission, author=author)
        elif status != Status.pending:
            decision = {
                Status.published: Decision.publish,
                Status.rejected: Decision.reject,
                Status.removed: Decision.remove,
            }[status]
            reason = None if decision == Decision.publish else "Set by the test's arrangement."
            with _clock_at(published_at):
                submissions.moderate(
                    self.session,
                    submission=submission,
                    data=ModerationCreate(decision=decision, reason=reason),
                    moderator=self._moderator(),
                )
        self.session.commit()
        return submission

    def _submitting_instant(self, rnd: Round) -> datetime | None:
        """None (the real clock) while the round accepts submissions; otherwise an
        instant inside its window, a microsecond later for each submission so that
        creation order stays the order they were made in."""
        now = clock.now()
        if rnd.submissions_open_at <= now < rnd.submissions_close_at:
            return None
        self._ticks += 1
        return rnd.submissions_close_at - HOUR / 2 + timedelta(microseconds=self._ticks)

    def _moderator(self) -> User:
        if self._moderating is None:
            self._moderating = self.user(Role.moderator)
        return self._moderating

    def official(self, rnd: Round, code: str = "CN") -> User:
        return self.user(Role.official, delegation=self.delegation_of(rnd, code))

    def response(
        self,
        submission: Submission,
        *,
        code: str = "CN",
        kind: str = "answer",
        body: str = "The lawyers are held in Beijing.",
        reason_code: str | None = None,
        responded_at: datetime | None = None,
        official: User | None = None,
    ) -> Response:
        """A response written straight to the database, with its first revision."""
        rnd = self.session.get_one(Round, submission.round_id)
        delegation = self.delegation_of(rnd, code)
        official = official or self.user(Role.official, delegation=delegation)
        at = responded_at or clock.now()
        response = Response(
            submission_id=submission.id, delegation_id=delegation.id, responded_at=at
        )
        self.session.add(response)
        self.session.flush()
        self.session.add(
            ResponseSubmission(
                submission_id=submission.id, delegation_id=delegation.id, response_id=response.id
            )
        )
        self.session.add(
            ResponseRevision(
                response_id=response.id,
                number=1,
                kind=kind,
                body=body,
                language="en",
                reason_code=reason_code,
                official_id=official.id,
                created_at=at,
            )
        )
        self.session.commit()
        return response
