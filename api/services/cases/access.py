"""Who sees what of a case: the public view, or its restricted details and real names
(each such read logged); its access log."""

import uuid
from dataclasses import dataclass
from typing import NoReturn

from sqlmodel import Session, col, select

from api.errors import Forbidden, NotFound
from api.pagination import keyset_page
from api.permissions import Permission, can
from api.views import cases as case_views
from models.case import Case, CaseAccess, CaseAccessPublic, CaseDetail, CaseReview, CaseShare
from models.dialogue import Delegation
from models.user import Role, User


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


def is_recorder(case: Case, user: User | None) -> bool:
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
    if case.review != CaseReview.published and not (
        is_recorder(case, viewer) or (viewer is not None and can(viewer.role, Permission.moderate))
    ):
        raise NotFound("No such case.")
    if viewer is None:
        return PUBLIC
    if is_recorder(case, viewer):
        return Access(private=True, logged=False)
    if can(viewer.role, Permission.see_restricted_case_details):
        return Access(private=True, logged=True)
    if can(viewer.role, Permission.see_shared_case_details) and _shared_with(
        session, case=case, delegation_id=viewer.delegation_id
    ):
        return Access(private=True, logged=True)
    return PUBLIC


def refuse(session: Session, *, case: Case, actor: User, detail: str) -> NoReturn:
    """404 to whoever may not see the case at all (its existence stays hidden), else 403."""
    access(session, case=case, viewer=actor)
    raise Forbidden(detail)


def log_read(session: Session, *, case: Case, viewer: User) -> CaseAccess:
    """Append a read of the case's restricted details to its access log: who (the account,
    its role and delegation now) and when. Never an address."""
    code = None
    if viewer.role == Role.official and viewer.delegation_id is not None:
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
    return case_views.detail(session, case=case, private=seen.private)


def access_log(
    session: Session, *, case: Case, actor: User, limit: int, cursor: str | None
) -> tuple[list[CaseAccessPublic], str | None]:
    """Who read the case's restricted details, newest first: for its recorder, moderators
    and admins."""
    if not (is_recorder(case, actor) or can(actor.role, Permission.read_case_access_log)):
        refuse(
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
