"""Cases: people tracked across rounds, named only with consent; their status timeline."""

import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api import clock
from api.errors import Conflict, NotFound
from api.pagination import keyset_page
from api.permissions import Permission, can
from api.services import audit, events, submissions
from models.case import (
    NAME_WITHHELD,
    Case,
    CaseConsent,
    CaseCreate,
    CaseDetail,
    CaseModeration,
    CasePrivate,
    CaseRaised,
    CaseReview,
    CaseStatus,
    CaseSummary,
    CaseTimelineEntry,
    TimelineCreate,
    TimelinePublic,
)
from models.round import Round
from models.submission import Status, Submission, SubmissionTheme
from models.user import User


def _names_key(name: str, native: str | None) -> str:
    return unicodedata.normalize("NFKC", f"{name}\n{native or ''}").casefold()[:410]


def sees_restricted(case: Case, viewer: User | None) -> bool:
    return viewer is not None and (
        viewer.id == case.created_by_id or can(viewer.role, Permission.see_restricted_case_details)
    )


def get_or_404(session: Session, *, case_id: uuid.UUID) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("No such case.")
    return case


def visible_or_404(case: Case, viewer: User | None) -> bool:
    """Whether `viewer` gets the private view; NotFound when they may not see it at all."""
    # A case under review (or rejected) is its recorder's and the moderators' alone:
    # officials see restricted details only of the published record's cases.
    if case.review != CaseReview.published.value and not (
        viewer is not None
        and (viewer.id == case.created_by_id or can(viewer.role, Permission.moderate))
    ):
        raise NotFound("No such case.")
    return sees_restricted(case, viewer)


def create(session: Session, *, data: CaseCreate, activist: User) -> Case:
    now = clock.now()
    case = Case(
        created_by_id=activist.id,
        name=data.name,
        name_native=data.name_native,
        name_consent=data.name_consent,
        location=data.location,
        summary=data.summary,
        restricted_details=data.restricted_details,
        search_names=_names_key(data.name, data.name_native),
        created_at=now,
    )
    session.add(case)
    session.flush()
    session.add(
        CaseTimelineEntry(
            case_id=case.id,
            status=data.status.value,
            event_date=data.status_date,
            note="Status when the case was recorded.",
            created_by_id=activist.id,
            created_at=now,
        )
    )
    session.flush()
    return case


def moderate(session: Session, *, case: Case, data: CaseModeration, moderator: User) -> Case:
    if data.decision == CaseReview.removed:
        if case.review != CaseReview.published.value:
            raise Conflict("Only a published case can be removed.")
    elif case.review != CaseReview.pending.value:
        raise Conflict(f"This case was {case.review} already.")
    case.review = data.decision.value
    case.review_reason = data.reason
    if data.decision == CaseReview.published:
        case.published_at = clock.now()
    session.add(case)
    session.flush()
    if data.decision == CaseReview.published:
        events.case_changed(session, case=case, event_type="case.published")
    elif data.decision == CaseReview.removed:
        events.case_removed(session, case=case)
    audit.record(
        session,
        actor=moderator,
        action=f"case.{data.decision.value}",
        target_type="case",
        target_id=case.id,
        detail={"reason": data.reason} if data.reason else {},
    )
    return case


def set_consent(session: Session, *, case: Case, data: CaseConsent, actor: User) -> Case:
    """Record or withdraw consent to be named: every public output follows at once."""
    if actor.id != case.created_by_id and not can(actor.role, Permission.moderate):
        raise NotFound("No such case.")
    changed = case.name_consent != data.name_consent
    case.name_consent = data.name_consent
    session.add(case)
    session.flush()
    if changed and case.review == CaseReview.published.value:
        kind = "case.consent_given" if data.name_consent else "case.consent_withdrawn"
        events.case_changed(session, case=case, event_type=kind)
    if can(actor.role, Permission.moderate):
        audit.record(
            session,
            actor=actor,
            action="case.consent",
            target_type="case",
            target_id=case.id,
            detail={"name_consent": data.name_consent},
        )
    return case


def add_timeline(
    session: Session, *, case: Case, data: TimelineCreate, moderator: User
) -> CaseTimelineEntry:
    entry = CaseTimelineEntry(
        case_id=case.id,
        status=data.status.value,
        event_date=data.event_date,
        note=data.note,
        source_url=str(data.source_url) if data.source_url else None,
        created_by_id=moderator.id,
    )
    session.add(entry)
    session.flush()
    if case.review == CaseReview.published.value:
        events.case_timeline(session, entry=entry)
    audit.record(
        session,
        actor=moderator,
        action="case.timeline",
        target_type="case",
        target_id=case.id,
        detail={"status": entry.status, "event_date": entry.event_date.isoformat()},
    )
    return entry


def latest_entry_query() -> sa.Subquery:
    """Each case's latest timeline entry (by event date, then recording time)."""
    ranked = sa.select(
        col(CaseTimelineEntry.case_id).label("case_id"),
        col(CaseTimelineEntry.status).label("status"),
        col(CaseTimelineEntry.event_date).label("event_date"),
        sa.func.row_number()
        .over(
            partition_by=col(CaseTimelineEntry.case_id),
            order_by=(
                col(CaseTimelineEntry.event_date).desc(),
                col(CaseTimelineEntry.created_at).desc(),
                col(CaseTimelineEntry.id).desc(),
            ),
        )
        .label("n"),
    ).subquery()
    return (
        sa.select(ranked.c.case_id, ranked.c.status, ranked.c.event_date)
        .where(ranked.c.n == 1)
        .subquery()
    )


def page(
    session: Session,
    *,
    q: str | None,
    status: CaseStatus | None,
    theme: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Case], str | None]:
    """Published cases, oldest publication first; `q` matches names only where consent stands."""
    latest = latest_entry_query()
    query = (
        select(Case)
        .join(latest, latest.c.case_id == col(Case.id))
        .where(Case.review == CaseReview.published.value)
    )
    if q:
        needle = unicodedata.normalize("NFKC", q).casefold()
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            col(Case.name_consent).is_(True),
            col(Case.search_names).like(f"%{escaped}%", escape="\\"),
        )
    if status is not None:
        query = query.where(latest.c.status == status.value)
    if theme is not None:
        from models.round import Theme

        query = query.where(
            sa.select(sa.literal(1))
            .select_from(Submission)
            .join(SubmissionTheme, col(SubmissionTheme.submission_id) == col(Submission.id))
            .join(Theme, col(Theme.id) == col(SubmissionTheme.theme_id))
            .where(
                col(Submission.case_id) == col(Case.id),
                col(Submission.status) == Status.published.value,
                col(Theme.slug) == theme,
            )
            .exists()
        )
    return keyset_page(
        session,
        query,
        at_column=Case.published_at,
        id_column=Case.id,
        limit=limit,
        cursor=cursor,
    )


def _public_name(case: Case) -> tuple[str, str | None]:
    if case.name_consent:
        return case.name, case.name_native
    return NAME_WITHHELD, None


def summaries(session: Session, cases: Sequence[Case]) -> list[CaseSummary]:
    """Constant queries for a page: the current status and how many rounds raised each case."""
    if not cases:
        return []
    ids = [c.id for c in cases]
    latest = latest_entry_query()
    current = {
        row.case_id: (row.status, row.event_date)
        for row in session.execute(sa.select(latest).where(latest.c.case_id.in_(ids)))
    }
    rounds_raised = dict(
        session.exec(
            select(Submission.case_id, sa.func.count(sa.distinct(col(Submission.round_id))))
            .where(col(Submission.case_id).in_(ids), Submission.status == Status.published.value)
            .group_by(col(Submission.case_id))
        ).all()
    )
    out = []
    for c in cases:
        status, since = current.get(c.id, (CaseStatus.unknown.value, None))
        name, native = _public_name(c)
        out.append(
            CaseSummary(
                id=c.id,
                name=name,
                name_native=native,
                status=CaseStatus(status),
                status_since=since,
                location=c.location,
                summary=c.summary,
                rounds_raised=rounds_raised.get(c.id, 0),
            )
        )
    return out


def detail(session: Session, *, case: Case, private: bool) -> CaseDetail:
    summary = summaries(session, [case])[0]
    timeline = [
        TimelinePublic(
            status=CaseStatus(e.status),
            event_date=e.event_date,
            note=e.note,
            source_url=e.source_url,
        )
        for e in session.exec(
            select(CaseTimelineEntry)
            .where(CaseTimelineEntry.case_id == case.id)
            .order_by(col(CaseTimelineEntry.event_date), col(CaseTimelineEntry.created_at))
        )
    ]
    subs = list(
        session.exec(
            select(Submission)
            .join(Round, col(Round.id) == col(Submission.round_id))
            .where(Submission.case_id == case.id, Submission.status == Status.published.value)
            .order_by(col(Round.starts_at), col(Submission.published_at))
        )
    )
    round_rows = (
        {
            r.id: r
            for r in session.exec(
                select(Round).where(col(Round.id).in_({s.round_id for s in subs}))
            )
        }
        if subs
        else {}
    )
    raised: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for s in subs:
        raised[s.round_id].append(s.id)
    raised_in = [
        CaseRaised(
            round_id=rid,
            round_number=round_rows[rid].number,
            round_title=round_rows[rid].title,
            submission_ids=sids,
        )
        for rid, sids in raised.items()
    ]
    fields = summary.model_dump() | {
        "timeline": timeline,
        "raised_in": raised_in,
        "submissions": submissions.views(session, subs, view=submissions.View.public),
    }
    if not private:
        return CaseDetail(**fields)
    return CasePrivate(
        **fields,
        real_name=case.name,
        real_name_native=case.name_native,
        name_consent=case.name_consent,
        restricted_details=case.restricted_details,
        review=CaseReview(case.review),
        review_reason=case.review_reason,
    )
