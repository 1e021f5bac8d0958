"""A benchmark as the public sees it: its delegation, cases, themes and progress."""

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlmodel import Session, col, select

from api.views.progress import delegation_codes, progress_of
from models.benchmark import Benchmark, BenchmarkCase, BenchmarkPublic, BenchmarkTheme
from models.theme import Theme


def views(session: Session, benchmarks: Sequence[Benchmark]) -> list[BenchmarkPublic]:
    ids = [b.id for b in benchmarks]
    if not ids:
        return []
    codes = delegation_codes(session, {b.delegation_id for b in benchmarks})
    cases: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for bid, cid in session.exec(
        select(BenchmarkCase.benchmark_id, BenchmarkCase.case_id).where(
            col(BenchmarkCase.benchmark_id).in_(ids)
        )
    ):
        cases[bid].append(cid)
    slugs: dict[uuid.UUID, list[str]] = defaultdict(list)
    for bid, slug in session.exec(
        select(BenchmarkTheme.benchmark_id, Theme.slug)
        .join(Theme, col(Theme.id) == col(BenchmarkTheme.theme_id))
        .where(col(BenchmarkTheme.benchmark_id).in_(ids))
        .order_by(col(Theme.slug))
    ):
        slugs[bid].append(slug)
    progress = progress_of(session, target_type="benchmark", ids=ids)
    return [
        BenchmarkPublic(
            id=b.id,
            round_id=b.round_id,
            delegation=codes[b.delegation_id],
            title=b.title,
            description=b.description,
            cases=sorted(cases[b.id], key=str),
            themes=slugs[b.id],
            progress=progress[b.id],
        )
        for b in benchmarks
    ]
