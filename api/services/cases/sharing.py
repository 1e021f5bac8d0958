"""Whom a case's restricted details are shared with: delegations, named by code."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.errors import Unprocessable
from api.permissions import Permission, can
from api.services import audit
from api.services.cases.access import is_recorder, refuse
from models.case import Case, CaseShare, CaseSharing, CaseSharingPublic
from models.dialogue import Delegation, Dialogue
from models.round import Round
from models.submission import Status, Submission
from models.user import User


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
                col(Submission.status).in_((Status.published, Status.pending)),
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
    if not (is_recorder(case, actor) or can(actor.role, Permission.read_case_access_log)):
        refuse(
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
    if not is_recorder(case, actor):
        refuse(
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
