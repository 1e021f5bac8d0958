"""A commitment as the public sees it: its delegation, what it links to, its progress,
and whether it is overdue."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from api import clock
from api.views.progress import delegation_codes, progress_of
from models.commitment import Commitment, CommitmentLink, CommitmentPublic
from models.progress import ProgressStatus


def views(session: Session, commitments: Sequence[Commitment]) -> list[CommitmentPublic]:
    ids = [c.id for c in commitments]
    if not ids:
        return []
    codes = delegation_codes(session, {c.delegation_id for c in commitments})
    links: dict[tuple[uuid.UUID, str], list[uuid.UUID]] = defaultdict(list)
    for link in session.exec(
        select(CommitmentLink).where(col(CommitmentLink.commitment_id).in_(ids))
    ):
        links[(link.commitment_id, link.target_type)].append(link.target_id)
    progress = progress_of(session, target_type="commitment", ids=ids)
    today: date = clock.now().date()
    return [
        CommitmentPublic(
            id=c.id,
            round_id=c.round_id,
            delegation=codes[c.delegation_id],
            text=c.text,
            due_on=c.due_on,
            overdue=bool(
                c.due_on and c.due_on < today and progress[c.id].state != ProgressStatus.met
            ),
            source_url=c.source_url,
            cases=sorted(links[(c.id, "case")], key=str),
            submissions=sorted(links[(c.id, "submission")], key=str),
            benchmarks=sorted(links[(c.id, "benchmark")], key=str),
            progress=progress[c.id],
        )
        for c in commitments
    ]
