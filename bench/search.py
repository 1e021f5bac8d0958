"""The search index on the 100,000-submission bench data (issue 17):

- a rare term, planted in 8 submissions of 8 rounds across both dialogues: one request
  of `GET /api/v1/search` against a plain `LIKE` scan of the same published rows (run
  directly, no HTTP), medians of alternating runs, and the same submissions found;
- a common term (律师, in about 30% of the submissions): page 1 of the search against
  an unfiltered record page (limit 50 each), single requests alternating A B B A, the
  medians compared (`alternating`);
- the index built again from the record (`api.search.index.rebuild`): its time, and
  the database's size with and without the index.

    python -m bench.search sqlite:///bench/data/bench.db [--no-build]
"""

import argparse
import statistics
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from api.db import make_engine, open_session
from api.search import index
from models.submission import Submission

RARE = "高智晟"
COMMON = "律师"
PLANTED = 8
RUNS = 15


@dataclass
class SearchBench:
    rare_ms: float
    like_ms: float
    like_serial_ms: float
    direct_ms: float
    same: bool
    found: int
    common_rps: float
    record_rps: float
    build_s: float | None
    entries: int
    index_mb: float
    database_mb: float

    @property
    def speedup(self) -> float:
        return self.like_ms / self.rare_ms

    @property
    def common_ratio(self) -> float:
        return self.common_rps / self.record_rps

    @property
    def size_ratio(self) -> float:
        return self.database_mb / (self.database_mb - self.index_mb)


def plant(url: str) -> list[uuid.UUID]:
    """Put `RARE` in `PLANTED` published submissions, each of another round, through the
    index writer (as publishing would); once: later runs find them planted."""
    subs = Submission.__table__.c  # type: ignore[attr-defined]
    published = subs.status == "published"
    engine = make_engine(url)
    try:
        with open_session(engine, write=True) as session:
            conn = session.connection()
            planted = list(
                conn.execute(
                    sa.select(subs.id).where(published, subs.body.like(f"%{RARE}%"))
                ).scalars()
            )
            if not planted:
                rounds = conn.execute(
                    sa.select(subs.round_id).where(published).group_by(subs.round_id)
                ).scalars()
                for round_id in list(rounds)[:: max(1, 20 // PLANTED)][:PLANTED]:
                    row = conn.execute(
                        sa.select(subs.id, subs.body)
                        .where(published, subs.round_id == round_id)
                        .order_by(subs.published_at)
                        .offset(100)
                        .limit(1)
                    ).one()
                    body = f"{row.body} 请说明{RARE}律师的下落。"
                    conn.execute(
                        sa.update(Submission.__table__)  # type: ignore[arg-type]
                        .where(subs.id == row.id)
                        .values(body=body)
                    )
                    index.sync_submission(conn, row.id)
                    planted.append(row.id)
                session.commit()
    finally:
        engine.dispose()
    return planted


def like_scan(url: str, *, serial: bool = False) -> tuple[float, set[uuid.UUID]]:
    """The plain `LIKE` over every published submission's title and body (a full scan
    of the table: no index serves `LIKE '%...%'`); `serial`: on PostgreSQL without the
    parallel workers it otherwise shares the scan with (one process, as on SQLite)."""
    subs = Submission.__table__.c  # type: ignore[attr-defined]
    pattern = f"%{RARE}%"
    query = (
        sa.select(subs.id)
        .where(
            subs.status == "published", sa.or_(subs.title.like(pattern), subs.body.like(pattern))
        )
        .order_by(subs.published_at.desc(), subs.id)
        .limit(50)
    )
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if serial and engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET max_parallel_workers_per_gather = 0")
            return _median(lambda: {uuid.UUID(str(i)) for i in conn.execute(query).scalars()}, 5)
    finally:
        engine.dispose()


def direct(url: str) -> tuple[float, set[uuid.UUID]]:
    """The rare term's page by the search service itself, on a connection (no HTTP), as
    `like_scan` runs the LIKE: the database's part of a request and the service's."""
    from api.search.query import DocType, SearchFilters, search_page

    filters = SearchFilters(type=DocType.submission)
    engine = make_engine(url)
    try:
        with open_session(engine) as session:

            def page() -> set[uuid.UUID]:
                items, _ = search_page(session, q=RARE, filters=filters, limit=50, cursor=None)
                return {uuid.UUID(str(item["id"])) for item in items}

            return _median(page)
    finally:
        engine.dispose()


def _median(run: Any, times: int = RUNS) -> tuple[float, Any]:
    run()
    samples, value = [], None
    for _ in range(times):
        began = time.perf_counter()
        value = run()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), value


def alternating(get: Any, first: str, second: str, rounds: int = 40) -> tuple[float, float]:
    """Median milliseconds of one request to each URL, sent one at a time, A B B A over
    and over: on a machine shared with other work a ratio of these holds better than one
    of two loads run apart (requests/s here is 1000 / the median)."""
    samples: dict[str, list[float]] = {first: [], second: []}
    get(first), get(second)
    for _ in range(rounds):
        for url in (first, second, second, first):
            began = time.perf_counter()
            get(url)
            samples[url].append((time.perf_counter() - began) * 1000)
    return statistics.median(samples[first]), statistics.median(samples[second])


def sizes(url: str) -> tuple[float, float]:
    """(the index's MB, the database's MB)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                page = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
                total = conn.exec_driver_sql("PRAGMA page_count").scalar_one() * page
                ours = conn.exec_driver_sql(
                    "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search%' "
                    "OR name LIKE 'sqlite_autoindex_search_entry%' "
                    "OR name = 'ix_search_entry_round_id_seq'"
                ).scalar_one()
            else:
                total = conn.execute(
                    sa.text("SELECT pg_database_size(current_database())")
                ).scalar_one()
                ours = conn.execute(
                    sa.text("SELECT pg_total_relation_size('search_entry')")
                ).scalar_one()
    finally:
        engine.dispose()
    return ours / 2**20, total / 2**20


def build(url: str) -> tuple[float, int]:
    engine = make_engine(url)
    began = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"\rreindex {done:,}/{total:,}", end="", file=sys.stderr, flush=True)

    try:
        with open_session(engine, write=True) as session:
            count = index.rebuild(session.connection(), progress=progress)
            session.commit()
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM ANALYZE search_entry"
                )
    finally:
        engine.dispose()
    print(file=sys.stderr)
    return time.perf_counter() - began, count


def run(
    url: str,
    base: str,
    pid: int,
    round_id: str,
    *,
    rebuild: bool = True,
    build_s: float | None = None,
) -> SearchBench:
    """The rows of the search's section; `base` is a server on `url` without the cache.
    `rebuild` times `civic-input reindex`'s work; or `build_s` is a build timed already
    (the migration's, on data seeded before the index)."""
    from bench.run import get

    if rebuild:
        build_s, _ = build(url)
    planted = set(plant(url))
    q = urllib.parse.quote(RARE)
    rare_url = f"{base}/api/v1/search?q={q}&type=submission&limit=50"

    def ours() -> set[uuid.UUID]:
        import json

        body, _ = get(rare_url)
        return {uuid.UUID(item["id"]) for item in json.loads(body)["items"]}

    rare_ms, found = _median(ours)
    direct_ms, direct_found = direct(url)
    like_ms, like_found = like_scan(url)
    like_serial_ms = like_scan(url, serial=True)[0] if url.startswith("postgresql") else like_ms
    common_ms, record_ms = alternating(
        get,
        f"{base}/api/v1/search?q={urllib.parse.quote(COMMON)}&limit=50",
        f"{base}/api/v1/rounds/{round_id}/record?limit=50",
    )
    engine = make_engine(url)
    with engine.connect() as conn:
        entries = conn.execute(sa.text("SELECT count(*) FROM search_entry")).scalar_one()
    engine.dispose()
    index_mb, database_mb = sizes(url)
    result = SearchBench(
        rare_ms=rare_ms,
        like_ms=like_ms,
        like_serial_ms=like_serial_ms,
        direct_ms=direct_ms,
        same=found == like_found == planted == direct_found,
        found=len(found),
        common_rps=1000 / common_ms,
        record_rps=1000 / record_ms,
        build_s=build_s,
        entries=entries,
        index_mb=index_mb,
        database_mb=database_mb,
    )
    print(
        f"search q={RARE} (rare) {rare_ms:.1f} ms  LIKE {like_ms:.1f} ms  "
        f"{result.speedup:.0f}×  same {result.same} ({len(found)}); LIKE in one process "
        f"{like_serial_ms:.1f} ms: {like_serial_ms / rare_ms:.0f}×; the service without "
        f"HTTP {direct_ms:.2f} ms: {like_ms / direct_ms:.0f}×\n"
        f"search q={COMMON} page 1 {result.common_ratio:.2f}× the record page\n"
        f"index: {entries:,} rows, built in {build_s or 0:.0f} s, {index_mb:.0f} MB of "
        f"{database_mb:.0f} MB ({result.size_ratio:.2f}× the database without it)",
        file=sys.stderr,
    )
    return result


def section(result: SearchBench) -> str:
    def mark(ok: bool) -> str:
        return "met" if ok else "**missed**"

    build = f"{result.build_s:.0f} s" if result.build_s is not None else "not run"
    return (
        "#### Search index (issue 17)\n\n"
        "| measure | figure | target | |\n| --- | --- | --- | --- |\n"
        f"| rare term `{RARE}` ({result.found} submissions, {result.found} rounds), one request "
        f"| {result.rare_ms:.1f} ms vs LIKE {result.like_ms:.0f} ms: {result.speedup:.0f}×, "
        f"same results {result.same} | ≥ 50× | {mark(result.speedup >= 50 and result.same)} |\n"
        f"| the same, against the LIKE scan in one process (PostgreSQL: no parallel workers) "
        f"| LIKE {result.like_serial_ms:.0f} ms: {result.like_serial_ms / result.rare_ms:.0f}× "
        "| | |\n"
        f"| the same, the search service run on a connection as the LIKE is (no HTTP) "
        f"| {result.direct_ms:.2f} ms vs LIKE {result.like_ms:.0f} ms: "
        f"{result.like_ms / result.direct_ms:.0f}× | | |\n"
        f"| common term `{COMMON}` page 1 (limit 50), one request at a time | "
        f"{1000 / result.common_rps:.1f} ms vs record page {1000 / result.record_rps:.1f} ms: "
        f"{result.common_ratio:.2f}× its requests/s | ≥ 0.8× | "
        f"{mark(result.common_ratio >= 0.8)} |\n"
        f"| index build ({result.entries:,} texts) | {build} | reported | |\n"
        f"| index size | {result.index_mb:.0f} MB of {result.database_mb:.0f} MB: the database "
        f"{result.size_ratio:.2f}× its size without it | ≤ 2× | {mark(result.size_ratio <= 2)} |\n"
    )


def main(argv: list[str]) -> int:
    from bench.run import SECRET, fixtures, free_port, key_file, serve_ours, server

    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument(
        "--no-build",
        action="store_true",
        help="report the migration's build (the first run on data seeded without the index)",
    )
    parser.add_argument(
        "--built-in",
        type=float,
        metavar="SECONDS",
        help="with --no-build: the build time measured by an earlier run's migration",
    )
    args = parser.parse_args(argv)
    from api.cli import migrate

    began, cpu = time.perf_counter(), time.process_time()
    migrate(args.url)
    migrated = time.perf_counter() - began
    print(
        f"migrated in {migrated:.0f} s ({time.process_time() - cpu:.0f} s of CPU here)",
        file=sys.stderr,
    )
    fx = fixtures(args.url)
    env = {
        "CIVIC_DATABASE_URL": args.url,
        "CIVIC_SECRET_KEY": SECRET,
        "CIVIC_ENV": "production",
        "CIVIC_SIGNING_KEY_FILE": key_file(args.url),
        "CIVIC_RESPONSE_CACHE": "false",
    }
    port = free_port()
    with server(serve_ours(port), env, port) as (proc, base):
        result = run(
            args.url,
            base,
            proc.pid,
            fx["round_id"],
            rebuild=not args.no_build,
            build_s=args.built_in or (migrated if args.no_build else None),
        )
    print(section(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
