"""Progress on a benchmark or a commitment as the public sees it: the dated assessments
of both sides, the latest of each, and whether they disagree."""

import uuid
from collections import defaultdict

from sqlmodel import Session, col, select

from models.dialogue import Delegation
from models.progress import Progress, ProgressAssessment, ProgressPublic, ProgressStatus, Side


def progress_of(
    session: Session, *, target_type: str, ids: list[uuid.UUID]
) -> dict[uuid.UUID, Progress]:
    """Each target's progress: history oldest first, the latest per side, `contested`."""
    history: dict[uuid.UUID, list[ProgressPublic]] = defaultdict(list)
    if ids:
        for a in session.exec(
            select(ProgressAssessment)
            .where(
                ProgressAssessment.target_type == target_type,
                col(ProgressAssessment.target_id).in_(ids),
            )
            .order_by(col(ProgressAssessment.assessed_on), col(ProgressAssessment.created_at))
        ):
            history[a.target_id].append(
                ProgressPublic(
                    side=Side(a.side),
                    status=ProgressStatus(a.status),
                    note=a.note,
                    evidence_url=a.evidence_url,
                    assessed_on=a.assessed_on,
                )
            )
    out = {}
    for i in ids:
        items = history.get(i, [])
        civil = next((a for a in reversed(items) if a.side == Side.civil_society), None)
        official = next((a for a in reversed(items) if a.side == Side.delegation), None)
        out[i] = Progress(
            state=civil.status if civil else ProgressStatus.not_started,
            civil_society=civil,
            delegation_view=official,
            contested=bool(civil and official and civil.status != official.status),
            history=items,
        )
    return out


def delegation_codes(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Delegation codes by id."""
    return dict(
        session.exec(
            select(Delegation.id, Delegation.code).where(col(Delegation.id).in_(ids))
        ).all()
    )
