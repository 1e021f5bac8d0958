"""Recording a case, its review, naming consent and timeline; the public list of cases."""

import unicodedata

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api import clock
from api.errors import Conflict, Forbidden
from api.pagination import keyset_page
from api.permissions import Permission, can
from api.services import audit, events
from api.services.cases.access import is_recorder, refuse
from api.views import cases as case_views
from models.case import (
    Case,
    CaseConsent,
    CaseCreate,
    CaseModeration,
    CaseReview,
    CaseStatus,
    CaseTimelineEntry,
    TimelineCreate,
)
from models.submission import Status, Submission, SubmissionTheme
from models.theme import Theme
from models.user import User


def _names_key(name: str, native: str | None) -> str:
    return unicodedata.normalize("NFKC", f"{name}\n{native or ''}").casefold()[:410]


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
            status=data.status,
            event_date=data.status_date,
            note="Status when the case was recorded.",
            created_by_id=activist.id,
            created_at=now,
        )
    )
    session.flush()
    return case


def moderate(session: Session, *, case: Case, data: CaseModeration, moderator: User) -> Case:
    review = data.review
    if review == CaseReview.removed:
        if case.review != CaseReview.published:
            raise Conflict("Only a published case can be removed.")
    elif case.review != CaseReview.pending:
        raise Conflict(f"This case was {case.review} already.")
    case.review = review
    case.review_reason = data.reason
    if review == CaseReview.published:
        case.published_at = clock.now()
    session.add(case)
    session.flush()
    if review == CaseReview.published:
        events.case_changed(session, case=case, event_type="case.published")
    elif review == CaseReview.removed:
        events.case_removed(session, case=case)
    audit.record(
        session,
        actor=moderator,
        action=f"case.{review.value}",
        target_type="case",
        target_id=case.id,
        detail={"reason": data.reason} if data.reason else {},
    )
    return case


def set_consent(session: Session, *, case: Case, data: CaseConsent, actor: User) -> Case:
    """Record or withdraw consent to be named: every public output follows at once.
    Consent is its recorder's to give; a moderator may only withdraw it (for safety).
    Audited either way."""
    if not is_recorder(case, actor):
        if not can(actor.role, Permission.moderate):
            refuse(
                session,
                case=case,
                actor=actor,
                detail="Only the case's recorder (or, to withdraw it, a moderator) "
                "changes naming consent.",
            )
        if data.name_consent:
            raise Forbidden(
                "Naming consent is its recorder's to give; a moderator may only withdraw it."
            )
    changed = case.name_consent != data.name_consent
    case.name_consent = data.name_consent
    session.add(case)
    session.flush()
    if changed and case.review == CaseReview.published:
        kind = "case.consent_given" if data.name_consent else "case.consent_withdrawn"
        events.case_changed(session, case=case, event_type=kind)
    audit.record(
        session,
        actor=actor,
        action="case.consent",
        target_type="case",
        target_id=case.id,
        detail={"name_consent": data.name_consent, "changed": changed},
    )
    return case


def add_timeline(
    session: Session, *, case: Case, data: TimelineCreate, moderator: User
) -> CaseTimelineEntry:
    entry = CaseTimelineEntry(
        case_id=case.id,
        status=data.status,
        event_date=data.event_date,
        note=data.note,
        source_url=str(data.source_url) if data.source_url else None,
        created_by_id=moderator.id,
    )
    session.add(entry)
    session.flush()
    if case.review == CaseReview.published:
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
    latest = case_views.latest_entry_query()
    query = (
        select(Case)
        .join(latest, latest.c.case_id == col(Case.id))
        .where(Case.review == CaseReview.published)
    )
    if q:
        needle = unicodedata.normalize("NFKC", q).casefold()
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(case_views.consented_names(f"%{escaped}%"))
    if status is not None:
        query = query.where(latest.c.status == status.value)
    if theme is not None:
        query = query.where(
            sa.select(sa.literal(1))
            .select_from(Submission)
            .join(SubmissionTheme, col(SubmissionTheme.submission_id) == col(Submission.id))
            .join(Theme, col(Theme.id) == col(SubmissionTheme.theme_id))
            .where(
                col(Submission.case_id) == col(Case.id),
                col(Submission.status) == Status.published,
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
