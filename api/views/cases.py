"""A case as the public sees it (a summary, a detail with its timeline and the
submissions raising it), and as those who may read its restricted details see it.

The naming-consent rule lives here once: a case's real name is shown, and searched,
only while its person consents (`public_name`, `consented_names`); otherwise the
public sees `NAME_WITHHELD`."""

import uuid
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.views import submissions
from models.case import (
    NAME_WITHHELD,
    Case,
    CaseDetail,
    CasePrivate,
    CaseRaised,
    CaseReview,
    CaseStatus,
    CaseSummary,
    CaseTimelineEntry,
    TimelinePublic,
)
from models.round import Round
from models.submission import Status, Submission


def public_name(case: Case) -> tuple[str, str | None]:
    """The name and native name the public sees: the real ones only with consent."""
    if case.name_consent:
        return case.name, case.name_native
    return NAME_WITHHELD, None


def consented_names(pattern: str) -> sa.ColumnElement[bool]:
    """Cases whose names match the LIKE `pattern` (escaped by a backslash), among those
    whose names the public may see: a search never finds a name withheld."""
    return sa.and_(
        col(Case.name_consent).is_(True),
        col(Case.search_names).like(pattern, escape="\\"),
    )


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
            .where(col(Submission.case_id).in_(ids), Submission.status == Status.published)
            .group_by(col(Submission.case_id))
        ).all()
    )
    out = []
    for c in cases:
        status, since = current.get(c.id, (CaseStatus.unknown, None))
        name, native = public_name(c)
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
            .where(Submission.case_id == case.id, Submission.status == Status.published)
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
