"""Replay the demo dialogue through the services, each step with the clock set to the instant
it happened: the phase rules, permissions and checks the API enforces hold by construction,
and the record log reads as the dialogue happened."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from api import clock
from api.demo.data import (
    BenchmarkItem,
    CaseItem,
    CommitmentItem,
    Dated,
    DemoData,
    DemoDataError,
    GroupedResponseItem,
    ReleaseItem,
    ResponseItem,
    SubmissionItem,
)
from api.errors import ApiError
from api.services import (
    accounts,
    cases,
    dialogues,
    grouped_responses,
    progress,
    releases,
    responses,
    rounds,
    submissions,
    translations,
)
from models.case import CaseModeration, CaseReview
from models.dialogue import Delegation
from models.round import Round
from models.submission import Decision, ModerationCreate, Submission
from models.user import Role, User


class DemoConflict(RuntimeError):
    """The demo accounts' handles are taken by real accounts."""


@dataclass
class _Replay:
    session: Session
    data: DemoData
    users: dict[str, User] = field(default_factory=dict)
    delegations: dict[str, Delegation] = field(default_factory=dict)
    rounds: dict[int, Round] = field(default_factory=dict)
    cases: dict[str, uuid.UUID] = field(default_factory=dict)
    submissions: dict[int, uuid.UUID] = field(default_factory=dict)
    refs: dict[str, uuid.UUID] = field(default_factory=dict)
    steps: list[tuple[datetime, str, Callable[[], object]]] = field(default_factory=list)

    def at(self, when: datetime, where: str, step: Callable[[], object]) -> None:
        self.steps.append((when, where, step))

    def run(self) -> None:
        # A stable sort: steps at the same instant run in the order they were planned.
        for when, where, step in sorted(self.steps, key=lambda s: s[0]):
            with clock.frozen(when):
                try:
                    step()
                except ApiError as exc:
                    refused = f"{where}: refused at {when:%Y-%m-%d %H:%M}Z: {exc.detail}"
                    raise DemoDataError(refused) from exc
                self.session.flush()

    @property
    def moderator(self) -> User:
        return self.users[self.data.one(Role.moderator)]


def replay(session: Session, data: DemoData, *, password_hash: str) -> None:
    keys = [accounts.handle_key(handle) for handle in data.accounts]
    taken = session.exec(select(User.handle).where(col(User.handle_key).in_(keys))).all()
    if taken:
        raise DemoConflict(f"handles already in use: {', '.join(sorted(taken))}")
    demo = _Replay(session, data)
    with clock.frozen(data.set_up_at):
        _set_up(demo, password_hash=password_hash)
    for case in data.cases.values():
        _case(demo, case)
    for n, item in enumerate(data.submissions):
        _submission(demo, n, item)
    for grouped in data.grouped_responses:
        _grouped(demo, grouped)
    for benchmark in data.benchmarks:
        _benchmark(demo, benchmark)
    for commitment in data.commitments:
        _commitment(demo, commitment)
    for release in data.releases:
        _release(demo, release)
    demo.run()


def _set_up(demo: _Replay, *, password_hash: str) -> None:
    """The dialogue, its delegations, the accounts and the rounds, before anything else."""
    session, data = demo.session, demo.data
    dialogue = dialogues.create(session, data=data.dialogue)
    for spec in data.delegations:
        demo.delegations[spec.code] = dialogues.add_delegation(
            session, dialogue=dialogue, data=spec
        )
    for account in data.accounts.values():
        demo.users[account.handle] = accounts.create_user(
            session,
            handle=account.handle,
            password_hash=password_hash,
            role=account.role,
            delegation_id=demo.delegations[account.delegation].id if account.delegation else None,
        )
    admin = demo.users[data.one(Role.admin)]
    for number, window in data.rounds.items():
        demo.rounds[number] = rounds.create(session, dialogue=dialogue, data=window, admin=admin)


def _case(demo: _Replay, item: CaseItem) -> None:
    """Recorded by an activist (with its status then), its history added, published; later
    timeline entries added when they were recorded."""
    session = demo.session

    def record() -> None:
        case = cases.create(session, data=item.data, activist=demo.users[item.recorded_by])
        for entry in item.history:
            cases.add_timeline(session, case=case, data=entry, moderator=demo.moderator)
        demo.cases[item.key] = case.id

    def publish() -> None:
        cases.moderate(
            session,
            case=cases.get_or_404(session, case_id=demo.cases[item.key]),
            data=CaseModeration(decision=CaseReview.published),
            moderator=demo.moderator,
        )

    def add(entry: Dated) -> Callable[[], object]:
        return lambda: cases.add_timeline(
            session,
            case=cases.get_or_404(session, case_id=demo.cases[item.key]),
            data=entry.data,
            moderator=demo.users[entry.by],
        )

    demo.at(item.published_at - demo.data.written_before, item.where, record)
    demo.at(item.published_at, item.where, publish)
    for entry in item.later:
        demo.at(entry.at, entry.where, add(entry))


def _submission(demo: _Replay, n: int, item: SubmissionItem) -> None:
    """Written a while before it is published; endorsed a day apart after that; then the
    responses, their revisions and the ratings."""
    session = demo.session

    def submission() -> Submission:
        return submissions.get_or_404(session, submission_id=demo.submissions[n])

    def write() -> None:
        data = item.data
        if item.case is not None:
            data = data.model_copy(update={"case_id": demo.cases[item.case]})
        row = submissions.create(
            session, rnd=demo.rounds[item.round], data=data, author=demo.users[item.author]
        )
        demo.submissions[n] = row.id
        if item.ref:
            demo.refs[item.ref] = row.id

    def publish() -> None:
        submissions.moderate(
            session,
            submission=submission(),
            data=ModerationCreate(decision=Decision.publish),
            moderator=demo.moderator,
        )

    def endorse(handle: str) -> Callable[[], object]:
        return lambda: submissions.endorse(
            session,
            submission=submission(),
            activist=demo.users[handle],
        )

    demo.at(item.published_at - demo.data.written_before, item.where, write)
    demo.at(item.published_at, item.where, publish)
    for days, handle in enumerate(item.endorsed_by, start=1):
        demo.at(item.published_at + timedelta(days=days), item.where, endorse(handle))
    for entry in item.translations:
        demo.at(entry.at, entry.where, _translated(demo, entry, submission))
    for spec in item.responses:
        _response(demo, spec, submission)


def _translated(
    demo: _Replay, entry: Dated, submission: Callable[[], Submission]
) -> Callable[[], object]:
    return lambda: translations.translate_submission(
        demo.session, submission=submission(), data=entry.data, user=demo.users[entry.by]
    )


def _response(demo: _Replay, item: ResponseItem, submission: Callable[[], Submission]) -> None:
    """From the delegation's official once the session is over; revised; then rated."""
    session = demo.session
    made: dict[str, uuid.UUID] = {}

    def respond() -> None:
        official = demo.users[demo.data.one(Role.official, item.delegation)]
        response = responses.create(
            session, submission=submission(), data=item.data, official=official
        )
        made["id"] = response.id

    def revise(entry: Dated) -> Callable[[], object]:
        return lambda: responses.revise(
            session,
            response=responses.get_or_404(session, response_id=made["id"]),
            data=entry.data,
            official=demo.users[entry.by],
            if_match=None,
        )

    def rate(entry: Dated) -> Callable[[], object]:
        return lambda: responses.assess(
            session,
            response=responses.get_or_404(session, response_id=made["id"]),
            data=entry.data,
            rater=demo.users[entry.by],
        )

    def translate(entry: Dated) -> Callable[[], object]:
        return lambda: translations.translate_response(
            session,
            response=responses.get_or_404(session, response_id=made["id"]),
            data=entry.data,
            user=demo.users[entry.by],
        )

    def stand_behind(entry: Dated) -> Callable[[], object]:
        return lambda: translations.set_authoritative(
            session,
            response=responses.get_or_404(session, response_id=made["id"]),
            data=entry.data,
            official=demo.users[entry.by],
        )

    demo.at(item.at, item.where, respond)
    for entry in item.revisions:
        demo.at(entry.at, entry.where, revise(entry))
    for entry in item.translations:
        demo.at(entry.at, entry.where, translate(entry))
    for entry in item.authoritative:
        demo.at(entry.at, entry.where, stand_behind(entry))
    for entry in item.assessments:
        demo.at(entry.at, entry.where, rate(entry))


def _grouped(demo: _Replay, item: GroupedResponseItem) -> None:
    """One response from the delegation's official to several submissions; revised."""
    session = demo.session
    made: dict[str, uuid.UUID] = {}

    def respond() -> None:
        official = demo.users[demo.data.one(Role.official, item.delegation)]
        ids = [demo.refs[ref] for ref in item.refs]
        data = item.data.model_copy(update={"submission_ids": ids})
        response = grouped_responses.create(
            session, rnd=demo.rounds[item.round], data=data, official=official
        )
        made["id"] = response.id

    def revise(entry: Dated) -> Callable[[], object]:
        return lambda: responses.revise(
            session,
            response=responses.get_or_404(session, response_id=made["id"]),
            data=entry.data,
            official=demo.users[entry.by],
            if_match=None,
        )

    demo.at(item.at, item.where, respond)
    for entry in item.revisions:
        demo.at(entry.at, entry.where, revise(entry))


def _benchmark(demo: _Replay, item: BenchmarkItem) -> None:
    """Adopted by the moderator before its round; assessed by both sides."""
    made: dict[str, uuid.UUID] = {}

    def adopt() -> None:
        data = item.data.model_copy(update={"cases": [demo.cases[k] for k in item.cases]})
        benchmark = progress.create_benchmark(
            demo.session, rnd=demo.rounds[item.round], data=data, moderator=demo.moderator
        )
        made["id"], made["delegation"] = benchmark.id, benchmark.delegation_id

    demo.at(item.adopted_at, item.where, adopt)
    _progress(demo, item.progress, "benchmark", made, item.round)


def _commitment(demo: _Replay, item: CommitmentItem) -> None:
    """Recorded in its round; assessed by both sides."""
    made: dict[str, uuid.UUID] = {}

    def record() -> None:
        data = item.data.model_copy(update={"submissions": [demo.refs[r] for r in item.refs]})
        commitment = progress.create_commitment(
            demo.session,
            rnd=demo.rounds[item.round],
            data=data,
            actor=demo.users[item.recorded_by],
        )
        made["id"], made["delegation"] = commitment.id, commitment.delegation_id

    demo.at(item.recorded_at, item.where, record)
    _progress(demo, item.progress, "commitment", made, item.round)


def _progress(
    demo: _Replay, entries: list[Dated], target_type: str, made: dict[str, uuid.UUID], number: int
) -> None:
    def assess(entry: Dated) -> Callable[[], object]:
        return lambda: progress.assess(
            demo.session,
            target_type=target_type,
            target_id=made["id"],
            delegation_id=made["delegation"],
            round_id=demo.rounds[number].id,
            data=entry.data,
            actor=demo.users[entry.by],
        )

    for entry in entries:
        demo.at(entry.at, entry.where, assess(entry))


def _release(demo: _Replay, item: ReleaseItem) -> None:
    """Set by the delegation's official; at the instant, released as `serve` would."""
    session = demo.session

    def schedule() -> None:
        rnd = demo.rounds[item.round]
        releases.schedule(
            session,
            rnd=rnd,
            delegation=demo.delegations[item.delegation],
            release_at=item.data.release_at,
            official=demo.users[demo.data.one(Role.official, item.delegation)],
        )

    demo.at(item.set_at, item.where, schedule)
    demo.at(item.data.release_at, item.where, lambda: releases.release_due(session))
