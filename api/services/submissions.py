"""Submissions: create, edit, withdraw, endorse, moderate; the author's and the moderation
pages. What each caller sees of them is `api.views.submissions`."""

import functools
import unicodedata
import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api import clock
from api.errors import Conflict, NotFound, Unprocessable
from api.pagination import keyset_page
from api.permissions import Permission, can
from api.services import audit, erasure, events, rounds, themes
from api.sql.prepared import Prepared, one_of, one_of_values
from api.views.submissions import View
from api.views.tables import table
from models.case import Case, CaseReview
from models.dialogue import Delegation
from models.round import Phase, Round
from models.submission import (
    Attribution,
    Decision,
    Endorsement,
    ModerationCreate,
    Status,
    Submission,
    SubmissionAddressee,
    SubmissionCreate,
    SubmissionTheme,
    SubmissionUpdate,
)
from models.user import User


def search_text(title: str, body: str) -> str:
    """What `q` is matched against: NFKC, casefolded, on every database alike."""
    return unicodedata.normalize("NFKC", f"{title}\n{body}").casefold()


def search_pattern(q: str) -> str:
    needle = unicodedata.normalize("NFKC", q).casefold()
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _delegation_ids(session: Session, *, rnd: Round, codes: list[str]) -> list[uuid.UUID]:
    params = {"dialogue_id": rnd.dialogue_id, **one_of_values(codes)}
    rows = _delegations_by_code(len(codes)).rows(session, params) if codes else []
    found: dict[str, uuid.UUID] = {code: id_ for code, id_ in rows}
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
    replace: bool = True,
) -> None:
    """Store a submission's themes and addressees (plain inserts: no ORM objects);
    `replace=False` for a new submission, which has none to delete."""
    if replace:
        session.execute(
            sa.delete(SubmissionTheme).where(col(SubmissionTheme.submission_id) == submission.id)
        )
        session.execute(
            sa.delete(SubmissionAddressee).where(
                col(SubmissionAddressee.submission_id) == submission.id
            )
        )
    if theme_ids:
        _INSERT_THEME_LINK.execute(
            session, [{"submission_id": submission.id, "theme_id": t} for t in theme_ids]
        )
    if delegation_ids:
        _INSERT_ADDRESSEE_LINK.execute(
            session,
            [{"submission_id": submission.id, "delegation_id": d} for d in delegation_ids],
        )


def create(session: Session, *, rnd: Round, data: SubmissionCreate, author: User) -> Submission:
    """A new pending submission, stored with plain inserts (the hot path at a deadline:
    no unit of work); the `Submission` returned is a read-only copy, not in the session."""
    rounds.require_phase(rnd, Phase.accepting_submissions, action="submitting")
    theme_ids = themes.ids_for(session, slugs=data.themes)
    delegation_ids = _delegation_ids(session, rnd=rnd, codes=data.addressed_to)
    if data.case_id is not None:
        _require_case(session, case_id=data.case_id, author=author)
    now = clock.now()
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "round_id": rnd.id,
        "author_id": author.id,
        "kind": data.kind.value,
        "title": data.title,
        "body": data.body,
        "language": data.language,
        "attribution": data.attribution.value,
        "organisation": data.organisation,
        "case_id": data.case_id,
        "status": Status.pending.value,
        "status_reason": None,
        "search_text": search_text(data.title, data.body),
        "created_at": now,
        "updated_at": now,
        "published_at": None,
        "withdrawn_at": None,
        "removed_at": None,
        "erased_at": None,
    }
    _INSERT_SUBMISSION.execute(session, row)
    submission = Submission.model_construct(**row)
    _set_links(
        session,
        submission=submission,
        theme_ids=theme_ids,
        delegation_ids=delegation_ids,
        replace=False,
    )
    return submission


def _require_case(session: Session, *, case_id: uuid.UUID, author: User) -> None:
    """A case submission points at a published case, or at one its author recorded."""
    case = session.get(Case, case_id)
    if case is None or (case.review != CaseReview.published and case.created_by_id != author.id):
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
    if submission.status == Status.published:
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
    if submission.status != Status.pending:
        raise Conflict(f"Only a pending submission can be edited; this one is {submission.status}.")
    rnd = session.get_one(Round, submission.round_id)
    rounds.require_phase(rnd, Phase.accepting_submissions, action="editing a submission")
    changes = data.model_dump(exclude_unset=True)
    for name in ("title", "body", "language"):
        if changes.get(name) is not None:
            setattr(submission, name, changes[name])
    attribution = changes.get("attribution") or submission.attribution
    organisation = changes.get("organisation", submission.organisation)
    if attribution != Attribution.organisation:
        organisation = None
    elif not organisation:
        raise Unprocessable("attribution `organisation` needs the organisation's name")
    submission.attribution, submission.organisation = Attribution(attribution), organisation
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
    """The author takes it back, at any time: it leaves every public view at once, and
    its text leaves the database (`erasure.erase`)."""
    own_or_404(submission, author)
    if submission.status == Status.withdrawn:
        return submission
    was_public = submission.status == Status.published
    now = clock.now()
    submission.status = Status.withdrawn
    submission.withdrawn_at = now
    submission.updated_at = now
    session.add(submission)
    session.flush()
    if was_public:
        events.submission_gone(session, submission=submission, event_type="submission.withdrawn")
    erasure.erase(session, submission=submission)
    return submission


def endorse(session: Session, *, submission: Submission, activist: User) -> None:
    if submission.status != Status.published:
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
TRANSITIONS: dict[Decision, tuple[frozenset[Status], Status]] = {
    Decision.publish: (frozenset({Status.pending}), Status.published),
    Decision.reject: (frozenset({Status.pending}), Status.rejected),
    Decision.remove: (frozenset({Status.pending, Status.published}), Status.removed),
}


def moderate(
    session: Session, *, submission: Submission, data: ModerationCreate, moderator: User
) -> Submission:
    sources, target = TRANSITIONS[data.decision]
    was_public = submission.status == Status.published
    if submission.status not in sources:
        raise Conflict(f"A {submission.status} submission cannot be given `{data.decision.value}`.")
    now = clock.now()
    submission.status = target
    submission.status_reason = data.reason if target != Status.published else None
    if target == Status.published:
        submission.published_at = now
    if target == Status.removed:
        submission.removed_at = now  # its text is erased after the retention period
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


# --- pages -------------------------------------------------------------------------


def mine(
    session: Session, *, author: User, limit: int, cursor: str | None
) -> tuple[list[Submission], str | None]:
    """The author's own, newest first, every status."""
    query = select(Submission).where(Submission.author_id == author.id)
    return keyset_page(
        session,
        query,
        at_column=Submission.created_at,
        id_column=Submission.id,
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def queue(
    session: Session, *, round_id: uuid.UUID | None, limit: int, cursor: str | None
) -> tuple[list[Submission], str | None]:
    """Pending submissions, oldest first (first come, first reviewed)."""
    query = select(Submission).where(Submission.status == Status.pending)
    if round_id is not None:
        query = query.where(Submission.round_id == round_id)
    return keyset_page(
        session,
        query,
        at_column=Submission.created_at,
        id_column=Submission.id,
        limit=limit,
        cursor=cursor,
    )


# --- statements --------------------------------------------------------------------

_SUBMISSION = table(Submission)
_SUBMISSION_THEME = table(SubmissionTheme)
_SUBMISSION_ADDRESSEE = table(SubmissionAddressee)
_DELEGATION = table(Delegation)

# The statements of submitting, compiled once and run on the cursor (`Prepared`): the
# hot path at a deadline.
_INSERT_SUBMISSION = Prepared(sa.insert(_SUBMISSION))
_INSERT_THEME_LINK = Prepared(sa.insert(_SUBMISSION_THEME))
_INSERT_ADDRESSEE_LINK = Prepared(sa.insert(_SUBMISSION_ADDRESSEE))


@functools.cache
def _delegations_by_code(count: int) -> Prepared:
    """The ids of a dialogue's delegations by `count` codes."""
    return Prepared(
        sa.select(_DELEGATION.c.code, _DELEGATION.c.id).where(
            _DELEGATION.c.dialogue_id
            == sa.bindparam("dialogue_id", type_=_DELEGATION.c.dialogue_id.type),
            one_of(_DELEGATION.c.code, count),
        )
    )
