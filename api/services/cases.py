"""Cases: people tracked across rounds, named only with consent; their status timeline."""

import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api import clock
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.pagination import keyset_page
from api.permissions import Permission, can
from api.services import audit, events, submissions
from models.case import (
    NAME_WITHHELD,
    Case,
    CaseAccess,
    CaseAccessPublic,
    CaseConsent,
    CaseCreate,
    CaseDetail,
    CaseModeration,
    CasePrivate,
    CaseRaised,
    CaseReview,
    CaseShare,
    CaseSharing,
    CaseSharingPublic,
    CaseStatus,
    CaseSummary,
    CaseTimelineEntry,
    TimelineCreate,
    TimelinePublic,
)
from models.dialogue import Delegation, Dialogue
from models.round import Round
from models.submission import Status, Submission, SubmissionTheme
from models.user import Role, User


def _names_key(name: str, native: str | None) -> str:
    return unicodedata.normalize("NFKC", f"{name}\n{native or ''}").casefold()[:410]


def get_or_404(session: Session, *, case_id: uuid.UUID) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("No such case.")
    return case


@dataclass(frozen=True)
class Access:
    """What a viewer gets of a case they may see."""

    private: bool  # its restricted details and real names
    logged: bool  # and each such read goes into the case's access log


PUBLIC = Access(private=False, logged=False)


def _recorder(case: Case, user: User | None) -> bool:
    return user is not None and user.id == case.created_by_id


def _shared_with(session: Session, *, case: Case, delegation_id: uuid.UUID | None) -> bool:
    if delegation_id is None:
        return False
    return session.get(CaseShare, (case.id, delegation_id)) is not None


def access(session: Session, *, case: Case, viewer: User | None) -> Access:
    """What `viewer` gets of `case`; NotFound when they may not see it at all.

    Restricted details and real names without consent go to its recorder, to moderators
    and admins, and to officials of the delegations its recorder shared them with: the
    state that holds the person is one of the delegations, so nothing is shared by
    default. Everyone else, officials of other delegations included, gets exactly the
    public view. Every such read by anyone but the recorder is logged."""
    # A case under review (or rejected, or removed) is its recorder's and the moderators'.
    if case.review != CaseReview.published.value and not (
        _recorder(case, viewer) or (viewer is not None and can(viewer.role, Permission.moderate))
    ):
        raise NotFound("No such case.")
    if viewer is None:
        return PUBLIC
    if _recorder(case, viewer):
        return Access(private=True, logged=False)
    if can(viewer.role, Permission.see_restricted_case_details):
        return Access(private=True, logged=True)
    if can(viewer.role, Permission.see_shared_case_details) and _shared_with(
        session, case=case, delegation_id=viewer.delegation_id
    ):
        return Access(private=True, logged=True)
    return PUBLIC


def _refuse(session: Session, *, case: Case, actor: User, detail: str) -> NoReturn:
    """404 to whoever may not see the case at all (its existence stays hidden), else 403."""
    access(session, case=case, viewer=actor)
    raise Forbidden(detail)


def log_read(session: Session, *, case: Case, viewer: User) -> CaseAccess:
    """Append a read of the case's restricted details to its access log: who (the account,
    its role and delegation now) and when. Never an address."""
    code = None
    if viewer.role == Role.official.value and viewer.delegation_id is not None:
        delegation = session.get(Delegation, viewer.delegation_id)
        code = delegation.code if delegation is not None else None
    entry = CaseAccess(case_id=case.id, user_id=viewer.id, role=viewer.role, delegation=code)
    session.add(entry)
    session.flush()
    return entry


def shown(session: Session, *, case: Case, viewer: User | None) -> CaseDetail:
    """The case as `viewer` may see it; NotFound when they may not. A read of its
    restricted details by anyone but its recorder is logged in this transaction, so the
    details never leave without their log entry (on a GET, run it in a writing turn)."""
    seen = access(session, case=case, viewer=viewer)
    if seen.logged:
        assert viewer is not None
        log_read(session, case=case, viewer=viewer)
    return detail(session, case=case, private=seen.private)


def access_log(
    session: Session, *, case: Case, actor: User, limit: int, cursor: str | None
) -> tuple[list[CaseAccessPublic], str | None]:
    """Who read the case's restricted details, newest first: for its recorder, moderators
    and admins."""
    if not (_recorder(case, actor) or can(actor.role, Permission.read_case_access_log)):
        _refuse(
            session,
            case=case,
            actor=actor,
            detail="Only the case's recorder and moderators read its access log.",
        )
    rows, next_cursor = keyset_page(
        session,
        select(CaseAccess).where(CaseAccess.case_id == case.id),
        at_column=CaseAccess.at,
        id_column=CaseAccess.id,
        limit=limit,
        cursor=cursor,
        descending=True,
    )
    handles = (
        dict(
            session.exec(
                select(User.id, User.handle).where(col(User.id).in_({r.user_id for r in rows}))
            ).all()
        )
        if rows
        else {}
    )
    items = [
        CaseAccessPublic(handle=handles[r.user_id], role=r.role, delegation=r.delegation, at=r.at)
        for r in rows
    ]
    return items, next_cursor


# --- sharing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Known:
    """A delegation as sharing names it."""

    id: uuid.UUID
    code: str
    dialogue_id: uuid.UUID
    slug: str

    @property
    def qualified(self) -> str:
        return f"{self.slug}/{self.code}"


def _case_dialogues(session: Session, *, case: Case) -> set[uuid.UUID]:
    """The dialogues in which the case is raised (by submissions published or pending)."""
    return set(
        session.exec(
            select(Round.dialogue_id)
            .join(Submission, col(Submission.round_id) == col(Round.id))
            .where(
                Submission.case_id == case.id,
                col(Submission.status).in_((Status.published.value, Status.pending.value)),
            )
            .distinct()
        ).all()
    )


class _Resolver:
    """Delegation codes belong to dialogues, and one code (`CN`) may name a delegation
    in several. A bare code names the delegation with that code in the dialogues that
    raise the case, else the only one in the service with that code; where that is
    still more than one, the code is ambiguous and must be written `dialogue-slug/CODE`.
    Sharing never guesses: over-sharing is the dangerous direction."""

    def __init__(self, session: Session, *, case: Case, codes: set[str]) -> None:
        rows = session.exec(
            select(Delegation.id, Delegation.code, Delegation.dialogue_id, Dialogue.slug)
            .join(Dialogue, col(Dialogue.id) == col(Delegation.dialogue_id))
            .where(col(Delegation.code).in_(codes))
        ).all()
        self.by_code: dict[str, list[_Known]] = defaultdict(list)
        for row in rows:
            self.by_code[row[1]].append(_Known(*row))
        self.raised_in = _case_dialogues(session, case=case)

    def candidates(self, name: str) -> list[_Known]:
        slug, _, code = name.rpartition("/")
        known = self.by_code.get(code, [])
        if slug:
            return [k for k in known if k.slug == slug]
        if len(known) <= 1:
            return known
        return [k for k in known if k.dialogue_id in self.raised_in] or known

    def label(self, known: _Known) -> str:
        """The shortest name that resolves back to `known`."""
        return known.code if self.candidates(known.code) == [known] else known.qualified


def _codes(names: Sequence[str]) -> set[str]:
    return {name.rpartition("/")[2] for name in names}


def sharing(session: Session, *, case: Case) -> CaseSharingPublic:
    shared = list(
        session.exec(select(CaseShare.delegation_id).where(CaseShare.case_id == case.id)).all()
    )
    if not shared:
        return CaseSharingPublic(delegations=[])
    codes = set(session.exec(select(Delegation.code).where(col(Delegation.id).in_(shared))).all())
    resolver = _Resolver(session, case=case, codes=codes)
    ids = set(shared)
    known = [k for ks in resolver.by_code.values() for k in ks if k.id in ids]
    return CaseSharingPublic(delegations=sorted(resolver.label(k) for k in known))


def read_sharing(session: Session, *, case: Case, actor: User) -> CaseSharingPublic:
    """The delegations the case is shared with: for its recorder, moderators and admins."""
    if not (_recorder(case, actor) or can(actor.role, Permission.read_case_access_log)):
        _refuse(
            session,
            case=case,
            actor=actor,
            detail="Only the case's recorder and moderators see whom it is shared with.",
        )
    return sharing(session, case=case)


def set_sharing(
    session: Session, *, case: Case, data: CaseSharing, actor: User
) -> CaseSharingPublic:
    """Replace the delegations whose officials may read the case's restricted details and
    real names (its recorder only; audited). `[]` shares with none."""
    if not _recorder(case, actor):
        _refuse(
            session,
            case=case,
            actor=actor,
            detail="Only the activist who recorded the case chooses whom it is shared with.",
        )
    resolver = _Resolver(session, case=case, codes=_codes(data.delegations))
    chosen: dict[uuid.UUID, _Known] = {}
    unknown: list[str] = []
    ambiguous: dict[str, list[str]] = {}
    for name in dict.fromkeys(data.delegations):
        found = resolver.candidates(name)
        if not found:
            unknown.append(name)
        elif len(found) > 1:
            ambiguous[name] = sorted(k.qualified for k in found)
        else:
            chosen[found[0].id] = found[0]
    if unknown or ambiguous:
        parts = []
        if unknown:
            parts.append(f"No such delegation: {', '.join(unknown)}.")
        if ambiguous:
            parts.append(
                "Ambiguous, name one as dialogue-slug/CODE: "
                + "; ".join(f"{name} ({', '.join(q)})" for name, q in ambiguous.items())
                + "."
            )
        raise Unprocessable(
            " ".join(parts), unknown_delegations=unknown, ambiguous_delegations=ambiguous
        )
    # Two changes at once replace the list one after the other: on PostgreSQL the second
    # would otherwise insert the rows the first just inserted (a 409 from the key); on
    # SQLite the writer's turn already orders them.
    session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    session.execute(sa.delete(CaseShare).where(col(CaseShare.case_id) == case.id))
    session.add_all(CaseShare(case_id=case.id, delegation_id=d) for d in chosen)
    session.flush()
    labels = sorted(resolver.label(k) for k in chosen.values())
    audit.record(
        session,
        actor=actor,
        action="case.sharing",
        target_type="case",
        target_id=case.id,
        detail={"delegations": labels},
    )
    return CaseSharingPublic(delegations=labels)


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
    """Record or withdraw consent to be named: every public output follows at once.
    Consent is its recorder's to give; a moderator may only withdraw it (for safety).
    Audited either way."""
    if not _recorder(case, actor):
        if not can(actor.role, Permission.moderate):
            _refuse(
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
    if changed and case.review == CaseReview.published.value:
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
        from models.theme import Theme

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
