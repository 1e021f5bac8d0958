"""Submissions: create, edit, withdraw, endorse, moderate; and how each caller sees them."""

import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Sequence
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api import clock
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.pagination import decode_keyset_cursor, encode_cursor
from api.permissions import Permission, can
from api.services import audit, events, rounds, themes
from models.dialogue import Delegation
from models.response import AnswerAssessment, Response, ResponseRevision
from models.round import Phase, Round, Theme
from models.submission import (
    Attribution,
    Decision,
    Endorsement,
    ModerationCreate,
    Ratings,
    ResponsePublic,
    Status,
    Submission,
    SubmissionAddressee,
    SubmissionCreate,
    SubmissionPrivate,
    SubmissionPublic,
    SubmissionTheme,
    SubmissionUpdate,
)
from models.user import User


class View(Enum):
    """How much of a submission a caller sees."""

    public = "public"  # the published record
    private = "private"  # the author and moderators: status, reasons, times


def search_text(title: str, body: str) -> str:
    """What `q` is matched against: NFKC, casefolded, on every database alike."""
    return unicodedata.normalize("NFKC", f"{title}\n{body}").casefold()


def search_pattern(q: str) -> str:
    needle = unicodedata.normalize("NFKC", q).casefold()
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _delegation_ids(session: Session, *, rnd: Round, codes: list[str]) -> list[uuid.UUID]:
    found = dict(
        session.exec(
            select(Delegation.code, Delegation.id).where(
                Delegation.dialogue_id == rnd.dialogue_id, col(Delegation.code).in_(codes)
            )
        ).all()
    )
    unknown = sorted(set(codes) - set(found))
    if unknown:
        raise Unprocessable(
            f"Not a delegation of this dialogue: {', '.join(unknown)}.", unknown_delegations=unknown
        )
    return [found[code] for code in codes]


def _set_links(
    session: Session,
    *,
    submission: Submission,
    theme_ids: list[uuid.UUID],
    delegation_ids: list[uuid.UUID],
) -> None:
    session.execute(
        sa.delete(SubmissionTheme).where(col(SubmissionTheme.submission_id) == submission.id)
    )
    session.execute(
        sa.delete(SubmissionAddressee).where(
            col(SubmissionAddressee.submission_id) == submission.id
        )
    )
    session.add_all(SubmissionTheme(submission_id=submission.id, theme_id=t) for t in theme_ids)
    session.add_all(
        SubmissionAddressee(submission_id=submission.id, delegation_id=d) for d in delegation_ids
    )


def create(session: Session, *, rnd: Round, data: SubmissionCreate, author: User) -> Submission:
    rounds.require_phase(rnd, Phase.accepting_submissions, action="submitting")
    theme_ids = themes.ids_for(session, slugs=data.themes)
    delegation_ids = _delegation_ids(session, rnd=rnd, codes=data.addressed_to)
    if data.case_id is not None:
        _require_case(session, case_id=data.case_id, author=author)
    now = clock.now()
    submission = Submission(
        round_id=rnd.id,
        author_id=author.id,
        kind=data.kind.value,
        title=data.title,
        body=data.body,
        language=data.language,
        attribution=data.attribution.value,
        organisation=data.organisation,
        case_id=data.case_id,
        search_text=search_text(data.title, data.body),
        created_at=now,
        updated_at=now,
    )
    session.add(submission)
    session.flush()
    _set_links(session, submission=submission, theme_ids=theme_ids, delegation_ids=delegation_ids)
    session.flush()
    return submission


def _require_case(session: Session, *, case_id: uuid.UUID, author: User) -> None:
    """A case submission points at a published case, or at one its author recorded."""
    from models.case import Case, CaseReview

    case = session.get(Case, case_id)
    if case is None or (
        case.review != CaseReview.published.value and case.created_by_id != author.id
    ):
        raise Unprocessable("No such case.", field="case_id")


def get_or_404(session: Session, *, submission_id: uuid.UUID) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound("No such submission.")
    return submission


def view_for(submission: Submission, viewer: User | None) -> View:
    """What `viewer` may see of `submission`; NotFound when nothing (its existence stays hidden)."""
    if viewer is not None and (
        viewer.id == submission.author_id or can(viewer.role, Permission.moderate)
    ):
        return View.private
    if submission.status == Status.published.value:
        return View.public
    raise NotFound("No such submission.")


def own_or_404(submission: Submission, author: User) -> Submission:
    if submission.author_id != author.id:
        raise NotFound("No such submission.")
    return submission


def update(
    session: Session, *, submission: Submission, data: SubmissionUpdate, author: User
) -> Submission:
    own_or_404(submission, author)
    if submission.status != Status.pending.value:
        raise Conflict(f"Only a pending submission can be edited; this one is {submission.status}.")
    rnd = session.get_one(Round, submission.round_id)
    rounds.require_phase(rnd, Phase.accepting_submissions, action="editing a submission")
    changes = data.model_dump(exclude_unset=True)
    for name in ("title", "body", "language"):
        if changes.get(name) is not None:
            setattr(submission, name, changes[name])
    attribution = changes.get("attribution") or submission.attribution
    organisation = changes.get("organisation", submission.organisation)
    if attribution != Attribution.organisation.value:
        organisation = None
    elif not organisation:
        raise Unprocessable("attribution `organisation` needs the organisation's name")
    submission.attribution, submission.organisation = str(attribution), organisation
    if data.themes is not None or data.addressed_to is not None:
        theme_ids = (
            themes.ids_for(session, slugs=sorted(set(data.themes)))
            if data.themes is not None
            else list(
                session.exec(
                    select(SubmissionTheme.theme_id).where(
                        SubmissionTheme.submission_id == submission.id
                    )
                )
            )
        )
        delegation_ids = (
            _delegation_ids(session, rnd=rnd, codes=sorted({c.upper() for c in data.addressed_to}))
            if data.addressed_to is not None
            else list(
                session.exec(
                    select(SubmissionAddressee.delegation_id).where(
                        SubmissionAddressee.submission_id == submission.id
                    )
                )
            )
        )
        _set_links(
            session, submission=submission, theme_ids=theme_ids, delegation_ids=delegation_ids
        )
    submission.search_text = search_text(submission.title, submission.body)
    submission.updated_at = clock.now()
    session.add(submission)
    session.flush()
    return submission


def withdraw(session: Session, *, submission: Submission, author: User) -> Submission:
    """The author takes it back, at any time: it leaves every public view at once."""
    own_or_404(submission, author)
    if submission.status == Status.withdrawn.value:
        return submission
    was_public = submission.status == Status.published.value
    now = clock.now()
    submission.status = Status.withdrawn.value
    submission.withdrawn_at = now
    submission.updated_at = now
    session.add(submission)
    session.flush()
    if was_public:
        events.submission_gone(session, submission=submission, event_type="submission.withdrawn")
    return submission


def endorse(session: Session, *, submission: Submission, activist: User) -> None:
    if submission.status != Status.published.value:
        raise NotFound("No such submission.")
    if submission.author_id == activist.id:
        raise Conflict("Authors cannot endorse their own submission.")
    exists = session.get(Endorsement, (submission.id, activist.id))
    if exists is not None:
        raise Conflict("You have endorsed this submission already.")
    session.add(Endorsement(submission_id=submission.id, user_id=activist.id))
    session.flush()


def unendorse(session: Session, *, submission: Submission, activist: User) -> None:
    endorsement = session.get(Endorsement, (submission.id, activist.id))
    if endorsement is None:
        raise NotFound("You have not endorsed this submission.")
    session.delete(endorsement)
    session.flush()


# Which status each decision moves from, and to.
TRANSITIONS: dict[Decision, tuple[frozenset[str], Status]] = {
    Decision.publish: (frozenset({Status.pending.value}), Status.published),
    Decision.reject: (frozenset({Status.pending.value}), Status.rejected),
    Decision.remove: (frozenset({Status.pending.value, Status.published.value}), Status.removed),
}


def moderate(
    session: Session, *, submission: Submission, data: ModerationCreate, moderator: User
) -> Submission:
    sources, target = TRANSITIONS[data.decision]
    was_public = submission.status == Status.published.value
    if submission.status not in sources:
        raise Conflict(f"A {submission.status} submission cannot be given `{data.decision.value}`.")
    now = clock.now()
    submission.status = target.value
    submission.status_reason = data.reason if target != Status.published else None
    if target == Status.published:
        submission.published_at = now
    submission.updated_at = now
    session.add(submission)
    session.flush()
    audit.record(
        session,
        actor=moderator,
        action=f"submission.{data.decision.value}",
        target_type="submission",
        target_id=submission.id,
        detail={"reason": data.reason} if data.reason else {},
    )
    if target == Status.published:
        events.submission_published(session, submission=submission)
    elif was_public:
        events.submission_gone(session, submission=submission, event_type="submission.removed")
    return submission


def require_can_moderate(user: User) -> None:
    if not can(user.role, Permission.moderate):
        raise Forbidden("Only moderators decide on submissions.")


# --- pages -------------------------------------------------------------------------


def mine(
    session: Session, *, author: User, limit: int, cursor: str | None
) -> tuple[list[Submission], str | None]:
    """The author's own, newest first, every status."""
    query = select(Submission).where(Submission.author_id == author.id)
    return _newest_first(session, query, limit=limit, cursor=cursor)


def queue(
    session: Session, *, round_id: uuid.UUID | None, limit: int, cursor: str | None
) -> tuple[list[Submission], str | None]:
    """Pending submissions, oldest first (first come, first reviewed)."""
    query = select(Submission).where(Submission.status == Status.pending.value)
    if round_id is not None:
        query = query.where(Submission.round_id == round_id)
    query = query.order_by(col(Submission.created_at), col(Submission.id))
    after = decode_keyset_cursor(cursor)
    if after is not None:
        at, sid = after
        query = query.where(
            (col(Submission.created_at) > at)
            | ((col(Submission.created_at) == at) & (col(Submission.id) > sid))
        )
    rows = list(session.exec(query.limit(limit + 1)))
    return _cut(rows, limit, lambda s: s.created_at)


def _newest_first(
    session: Session,
    query: sa.Select,
    *,
    limit: int,
    cursor: str | None,  # type: ignore[type-arg]
) -> tuple[list[Submission], str | None]:
    query = query.order_by(col(Submission.created_at).desc(), col(Submission.id).desc())
    after = decode_keyset_cursor(cursor)
    if after is not None:
        at, sid = after
        query = query.where(
            (col(Submission.created_at) < at)
            | ((col(Submission.created_at) == at) & (col(Submission.id) < sid))
        )
    rows = list(session.exec(query.limit(limit + 1)))  # type: ignore[call-overload]
    return _cut(rows, limit, lambda s: s.created_at)


def _cut(rows: list[Submission], limit: int, key: object) -> tuple[list[Submission], str | None]:
    more = len(rows) > limit
    rows = rows[:limit]
    if not more:
        return rows, None
    last = rows[-1]
    return rows, encode_cursor([key(last).isoformat(), str(last.id)])  # type: ignore[operator]


# --- views: a constant number of queries for a page of any size --------------------


def views(
    session: Session, submissions: Sequence[Submission], *, view: View
) -> list[SubmissionPublic]:
    """Build the views of a page of submissions with one query per related kind of row."""
    if not submissions:
        return []
    ids = [s.id for s in submissions]
    theme_slugs: dict[uuid.UUID, list[str]] = defaultdict(list)
    for sid, slug in session.exec(
        select(SubmissionTheme.submission_id, Theme.slug)
        .join(Theme, col(Theme.id) == col(SubmissionTheme.theme_id))
        .where(col(SubmissionTheme.submission_id).in_(ids))
        .order_by(col(Theme.slug))
    ):
        theme_slugs[sid].append(slug)
    addressed: dict[uuid.UUID, list[str]] = defaultdict(list)
    for sid, code in session.exec(
        select(SubmissionAddressee.submission_id, Delegation.code)
        .join(Delegation, col(Delegation.id) == col(SubmissionAddressee.delegation_id))
        .where(col(SubmissionAddressee.submission_id).in_(ids))
        .order_by(col(Delegation.code))
    ):
        addressed[sid].append(code)
    endorsements = dict(
        session.exec(
            select(Endorsement.submission_id, sa.func.count())
            .where(col(Endorsement.submission_id).in_(ids))
            .group_by(col(Endorsement.submission_id))
        ).all()
    )
    handle_ids = {s.author_id for s in submissions if s.attribution == Attribution.handle.value}
    handles = (
        dict(session.exec(select(User.id, User.handle).where(col(User.id).in_(handle_ids))).all())
        if handle_ids
        else {}
    )
    responses = response_views(session, submission_ids=ids)
    out: list[SubmissionPublic] = []
    for s in submissions:
        author = None
        if s.attribution == Attribution.handle.value:
            author = handles.get(s.author_id)
        elif s.attribution == Attribution.organisation.value:
            author = s.organisation
        fields = dict(
            id=s.id,
            round_id=s.round_id,
            kind=s.kind,
            title=s.title,
            body=s.body,
            language=s.language,
            themes=theme_slugs.get(s.id, []),
            addressed_to=addressed.get(s.id, []),
            attribution=s.attribution,
            author=author,
            case_id=s.case_id,
            published_at=s.published_at,
            endorsement_count=endorsements.get(s.id, 0),
            responses=responses.get(s.id, []),
        )
        if view == View.private:
            out.append(
                SubmissionPrivate(
                    **fields,
                    status=s.status,
                    status_reason=s.status_reason,
                    created_at=s.created_at,
                    updated_at=s.updated_at,
                )
            )
        else:
            out.append(SubmissionPublic(**fields))
    return out


def response_views(
    session: Session,
    *,
    submission_ids: list[uuid.UUID] | None = None,
    response_ids: list[uuid.UUID] | None = None,
) -> dict[uuid.UUID, list[ResponsePublic]]:
    """Current responses (their latest revision) by submission id: two queries."""
    query = (
        select(Response, ResponseRevision, Delegation.code, Round.responses_due_at)
        .join(
            ResponseRevision,
            (col(ResponseRevision.response_id) == col(Response.id))
            & (col(ResponseRevision.number) == col(Response.revision_count)),
        )
        .join(Delegation, col(Delegation.id) == col(Response.delegation_id))
        .join(Submission, col(Submission.id) == col(Response.submission_id))
        .join(Round, col(Round.id) == col(Submission.round_id))
        .order_by(col(Delegation.code))
    )
    if submission_ids is not None:
        query = query.where(col(Response.submission_id).in_(submission_ids))
    if response_ids is not None:
        query = query.where(col(Response.id).in_(response_ids))
    rows = list(session.exec(query))
    if not rows:
        return {}
    counts: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for rid, rating, n in session.exec(
        select(AnswerAssessment.response_id, AnswerAssessment.rating, sa.func.count())
        .where(col(AnswerAssessment.response_id).in_([r.id for r, *_ in rows]))
        .group_by(col(AnswerAssessment.response_id), col(AnswerAssessment.rating))
    ):
        counts[rid][rating] = n
    out: dict[uuid.UUID, list[ResponsePublic]] = defaultdict(list)
    for response, revision, code, due in rows:
        out[response.submission_id].append(
            ResponsePublic(
                id=response.id,
                submission_id=response.submission_id,
                delegation=code,
                kind=revision.kind,
                body=revision.body,
                language=revision.language,
                reason_code=revision.reason_code,
                responded_at=response.responded_at,
                updated_at=revision.created_at,
                revision_count=response.revision_count,
                late=response.responded_at > due,
                ratings=Ratings(**counts.get(response.id, {})),
            )
        )
    return out
