"""Official responses: one per (submission, delegation), revised openly."""

import hashlib
import re
import uuid

from sqlmodel import Session, col, select

from api import clock
from api.errors import Conflict, Forbidden, NotFound, PreconditionFailed, Unprocessable
from api.permissions import Permission, can
from api.services import events, releases, rounds, translations
from api.views import responses as response_views
from models.response import (
    AnswerAssessment,
    AssessmentCreate,
    ReasonCode,
    Response,
    ResponseCreate,
    ResponseKind,
    ResponsePublic,
    ResponseRevision,
    ResponseSubmission,
    RevisionCreate,
)
from models.round import Phase, Round
from models.submission import Status, Submission, SubmissionAddressee
from models.user import User


def etag(response: Response, view: ResponsePublic) -> str:
    """`"response-<revision>.<digest>"`. If-Match guards the revision, the text two officials
    could overwrite; the digest of the whole view (its ratings, `late`) makes If-None-Match
    revalidate when those change too, so a cache never hides a new rating."""
    digest = hashlib.blake2b(view.model_dump_json().encode(), digest_size=8).hexdigest()
    return f'"response-{response.revision_count}.{digest}"'


_TAG = re.compile(r'(?:W/)?"response-(\d+)(?:\.[0-9a-f]+)?"')


def _revision_in(if_match: str) -> int | None:
    match = _TAG.fullmatch(if_match.strip())
    return int(match.group(1)) if match else None


def get_or_404(session: Session, *, response_id: uuid.UUID) -> Response:
    response = session.get(Response, response_id)
    if response is None:
        raise NotFound("No such response.")
    return response


def require_visible(*, response: Response, viewer: User | None) -> None:
    """404 for a response held for a joint release, but to its delegation's officials
    and moderators."""
    if not releases.may_see(viewer, response):
        raise NotFound("No such response.")


def published_submission(
    session: Session, *, response: Response, viewer: User | None = None
) -> Submission:
    """The response's submission; a response to an unpublished one does not exist publicly,
    nor does one held for a joint release, but to its delegation's officials and
    moderators (`releases.may_see`)."""
    submission = session.get_one(Submission, response.submission_id)
    if submission.status != Status.published or not releases.may_see(viewer, response):
        raise NotFound("No such response.")
    return submission


def create(
    session: Session, *, submission: Submission, data: ResponseCreate, official: User
) -> Response:
    if submission.status != Status.published:
        raise NotFound("No such submission.")
    addressed = session.get(SubmissionAddressee, (submission.id, official.delegation_id))
    if official.delegation_id is None or addressed is None:
        raise Forbidden("This submission is not addressed to your delegation.")
    rnd = session.get_one(Round, submission.round_id)
    rounds.require_phase(
        rnd,
        Phase.accepting_responses,
        Phase.concluded,
        action="responding (after the session ends)",
    )
    # alone or in a grouped answer: the link holds one response per (submission, delegation)
    exists = session.exec(
        select(ResponseSubmission.response_id).where(
            ResponseSubmission.submission_id == submission.id,
            ResponseSubmission.delegation_id == official.delegation_id,
        )
    ).first()
    if exists is not None:
        raise Conflict(
            "Your delegation has responded already: revise that response instead.",
            response_id=str(exists),
        )
    return open_response(
        session,
        round_id=rnd.id,
        delegation_id=official.delegation_id,
        submission_ids=[submission.id],
        data=data,
        official=official,
    )


def open_response(
    session: Session,
    *,
    round_id: uuid.UUID,
    delegation_id: uuid.UUID,
    submission_ids: list[uuid.UUID],
    data: ResponseCreate,
    official: User,
) -> Response:
    """A response of the official's delegation (`delegation_id`), with its first
    revision, answering each of `submission_ids` (the caller has checked them; more than
    one is a grouped answer, named by the first). Held for a joint release if one
    applies; otherwise its record-log entry is written now."""
    now = clock.now()
    response = Response(
        submission_id=submission_ids[0],
        delegation_id=delegation_id,
        responded_at=now,
        grouped=len(submission_ids) > 1,
    )
    held = releases.hold_new(
        session, response=response, round_id=round_id, embargo_until=data.embargo_until
    )
    session.add(response)
    session.flush()
    for submission_id in submission_ids:
        session.add(
            ResponseSubmission(
                submission_id=submission_id,
                delegation_id=delegation_id,
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
    if not held:  # a held response enters the record when it is released
        events.response_published(session, response=response, event_type="response.published")
    return response


def revise(
    session: Session,
    *,
    response: Response,
    data: RevisionCreate,
    official: User,
    if_match: str | None,
) -> Response:
    """Append a revision. Revisions never overwrite: with If-Match, a stale base is a 412."""
    published_submission(session, response=response, viewer=official)
    if official.delegation_id != response.delegation_id:
        # the response is public (or the caller a moderator), so refusing hides nothing:
        # 403, as for responding
        raise Forbidden("Only the delegation that responded revises its response.")
    session.refresh(response, with_for_update=True)
    stale = if_match is not None and if_match.strip() != "*"
    if stale and _revision_in(if_match or "") != response.revision_count:
        raise PreconditionFailed("The response was revised since you read it; GET it again.")
    current = session.exec(
        select(ResponseRevision).where(
            ResponseRevision.response_id == response.id,
            ResponseRevision.number == response.revision_count,
        )
    ).one()
    if releases.held(response):
        return _replace_draft(
            session,
            response=response,
            current=current,
            data=data,
            official=official,
            if_match=if_match,
        )
    kind, reason_code = _kind_and_reason(current, data)
    response.revision_count += 1
    session.add(response)
    session.add(
        ResponseRevision(
            response_id=response.id,
            number=response.revision_count,
            kind=kind,
            body=data.body,
            language=data.language or current.language,
            reason_code=reason_code if reason_code else None,
            reason=data.reason,
            official_id=official.id,
            created_at=clock.now(),
        )
    )
    session.flush()
    events.response_published(session, response=response, event_type="response.revised")
    translations.revised(session, response=response)
    return response


def _kind_and_reason(
    current: ResponseRevision, data: RevisionCreate
) -> tuple[ResponseKind, ReasonCode | None]:
    kind = data.kind or ResponseKind(current.kind)
    if kind == ResponseKind.declined:
        reason_code = data.reason_code or (
            ReasonCode(current.reason_code) if current.reason_code else None
        )
        if reason_code is None:
            raise Unprocessable("a declined response needs a reason_code")
        return kind, reason_code
    if data.reason_code is not None:
        raise Unprocessable("reason_code is only for declined responses")
    return kind, None


def _replace_draft(
    session: Session,
    *,
    response: Response,
    current: ResponseRevision,
    data: RevisionCreate,
    official: User,
    if_match: str | None,
) -> Response:
    """A held response is a draft nobody outside its delegation has seen: a revision
    replaces its text in place, with no record-log entry and no new revision number.
    Its revision number does not change, so If-Match must name the whole `ETag`."""
    if if_match is not None and if_match.strip() != "*":
        view = response_views.views(session, response_ids=[response.id], held=True)
        if if_match.strip().removeprefix("W/") != etag(response, view[response.submission_id][0]):
            raise PreconditionFailed("The response was revised since you read it; GET it again.")
    kind, reason_code = _kind_and_reason(current, data)
    current.kind, current.body, current.reason_code = kind, data.body, reason_code
    current.language = data.language or current.language
    current.official_id, current.created_at = official.id, clock.now()
    session.add(current)
    session.flush()
    return response


def revisions(
    session: Session, *, response: Response, viewer: User | None = None
) -> list[ResponseRevision]:
    published_submission(session, response=response, viewer=viewer)
    return list(
        session.exec(
            select(ResponseRevision)
            .where(ResponseRevision.response_id == response.id)
            .order_by(col(ResponseRevision.number))
        )
    )


def _authored_a_member(session: Session, *, response: Response, user: User) -> bool:
    """Whether `user` wrote one of the published submissions a grouped answer answers."""
    return (
        session.exec(
            select(Submission.id)
            .join(ResponseSubmission, col(ResponseSubmission.submission_id) == col(Submission.id))
            .where(
                col(ResponseSubmission.response_id) == response.id,
                col(Submission.author_id) == user.id,
                col(Submission.status) == Status.published,
            )
        ).first()
        is not None
    )


def assess(
    session: Session, *, response: Response, data: AssessmentCreate, rater: User
) -> AnswerAssessment:
    """The submission's author or a moderator rates a response; one per rater, replaceable."""
    submission = published_submission(session, response=response, viewer=rater)
    if (
        rater.id != submission.author_id
        and not can(rater.role, Permission.moderate)
        and not (response.grouped and _authored_a_member(session, response=response, user=rater))
    ):
        raise Forbidden("Only the submission's author and moderators assess its responses.")
    if releases.held(response):
        raise Conflict("The response is held for a joint release: assess it once it is public.")
    now = clock.now()
    existing = session.exec(
        select(AnswerAssessment).where(
            AnswerAssessment.response_id == response.id, AnswerAssessment.rater_id == rater.id
        )
    ).first()
    if existing is None:
        existing = AnswerAssessment(
            response_id=response.id,
            rater_id=rater.id,
            rating=data.rating,
            comment=data.comment,
            created_at=now,
            updated_at=now,
        )
    else:
        existing.rating, existing.comment, existing.updated_at = (
            data.rating,
            data.comment,
            now,
        )
    session.add(existing)
    session.flush()
    events.answer_assessed(session, assessment=existing, response=response)
    return existing
