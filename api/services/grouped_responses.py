"""Grouped answers: one response from a delegation to several submissions of a round.

The response is one row with its revisions, as any other; `ResponseSubmission` lists
what it answers, one row per submission, under the same key as an ordinary response's
(one response per submission and delegation). `Response.submission_id` names the first
(by id) of its members still published: the record log, search and `GET
/api/v1/responses/{id}` find the response through it, so `answer_groups.member_gone`
moves it on when that one is withdrawn or removed.
"""

import uuid

from sqlmodel import Session, col, select

from api import clock
from api.errors import Conflict, Forbidden, Unprocessable
from api.services import events, releases, rounds
from models.response import GroupedResponseCreate, Response, ResponseRevision, ResponseSubmission
from models.round import Phase, Round
from models.submission import Status, Submission, SubmissionAddressee
from models.user import User

NOT_PUBLISHED = (
    "Some submission_ids are not published submissions of this round (listed in `submission_ids`)."
)
NOT_ADDRESSED = (
    "Some submissions are not addressed to your delegation (listed in `submission_ids`)."
)
ANSWERED = (
    "Your delegation has answered some of these submissions already (listed in "
    "`submission_ids`, with `response_ids`): revise those responses instead."
)


def _listed(ids: list[uuid.UUID]) -> list[str]:
    return [str(i) for i in sorted(ids)]


def create(
    session: Session, *, rnd: Round, data: GroupedResponseCreate, official: User
) -> Response:
    """One response answering each of `data.submission_ids`; all or nothing.

    What is not published in the round (unknown, pending, rejected, withdrawn, removed,
    or of another round) is one 422 naming the ids as given: the caller learns nothing
    of a submission the public may not see. Then 403 for what is not addressed to the
    caller's delegation, 409 for what it answered already."""
    rounds.require_phase(
        rnd,
        Phase.accepting_responses,
        Phase.concluded,
        action="responding (after the session ends)",
    )
    wanted = list(data.submission_ids)
    published = set(
        session.exec(
            select(Submission.id).where(
                col(Submission.id).in_(wanted),
                col(Submission.round_id) == rnd.id,
                col(Submission.status) == Status.published,
            )
        )
    )
    unpublished = [i for i in wanted if i not in published]
    if unpublished:
        raise Unprocessable(NOT_PUBLISHED, submission_ids=_listed(unpublished))
    addressed = set(
        session.exec(
            select(SubmissionAddressee.submission_id).where(
                col(SubmissionAddressee.submission_id).in_(wanted),
                col(SubmissionAddressee.delegation_id) == official.delegation_id,
            )
        )
    )
    strangers = [i for i in wanted if i not in addressed]
    if official.delegation_id is None or strangers:
        raise Forbidden(NOT_ADDRESSED, submission_ids=_listed(strangers or wanted))
    answered = dict(
        session.exec(
            select(ResponseSubmission.submission_id, ResponseSubmission.response_id).where(
                col(ResponseSubmission.submission_id).in_(wanted),
                col(ResponseSubmission.delegation_id) == official.delegation_id,
            )
        ).all()
    )
    if answered:
        ids = sorted(answered)
        raise Conflict(
            ANSWERED,
            submission_ids=_listed(ids),
            response_ids=[str(answered[i]) for i in ids],
        )
    now = clock.now()
    members = sorted(wanted)
    response = Response(
        submission_id=members[0],
        delegation_id=official.delegation_id,
        responded_at=now,
        grouped=True,
    )
    held = releases.hold_new(
        session, response=response, round_id=rnd.id, embargo_until=data.embargo_until
    )
    session.add(response)
    session.flush()
    for submission_id in members:
        session.add(
            ResponseSubmission(
                submission_id=submission_id,
                delegation_id=official.delegation_id,
                response_id=response.id,
            )
        )
    session.add(
        ResponseRevision(
            response_id=response.id,
            number=1,
            kind=data.kind,
            body=data.body,
            language=data.language,
            reason_code=data.reason_code if data.reason_code else None,
            official_id=official.id,
            created_at=now,
        )
    )
    session.flush()
    if not held:  # a held answer enters the record when it is released
        events.response_published(session, response=response, event_type="response.published")
    return response
