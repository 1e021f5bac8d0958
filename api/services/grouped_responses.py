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

from api.errors import Conflict, Forbidden, Unprocessable
from api.services import responses, rounds
from models.response import GroupedResponseCreate, Response, ResponseSubmission
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
    return responses.open_response(
        session,
        round_id=rnd.id,
        delegation_id=official.delegation_id,
        submission_ids=sorted(wanted),
        data=data,
        official=official,
    )
