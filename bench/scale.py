"""Several processes against one: the same loads on a server of 1 process and one of 2,
both up at once and loaded in turn (`wrk_pair`), and cached public reads against the
limit, alternating with it the same way."""

import functools
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.run import (
    DATA,
    PYTHON,
    ROOT,
    SECRET,
    Deadline,
    Result,
    count_submissions,
    deadline_round,
    free_port,
    get,
    serve_ours,
    serve_uvicorn,
    server,
    wrk_pair,
)

# a database of its own on the shared Redis: what the processes share there stays apart
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/13")
# the loads of this module, each in a pair: A B B A for this long each
DURATION = os.environ.get("BENCH_SCALE_DURATION", "6s")


@functools.cache
def cli_has_workers() -> bool:
    """Whether `civic-input serve` runs several processes itself (`--workers`)."""
    out = subprocess.run(
        [*serve_ours(0)[:4], "--help"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    return "--workers" in out.stdout


def serve_processes(port: int, workers: int) -> list[str]:
    """Our server as `workers` processes on one port; one process and two are served
    by the same launcher, so that only the number differs."""
    if cli_has_workers():
        return [*serve_ours(port), "--workers", str(workers)]
    return [PYTHON, "-m", "uvicorn", "--factory", "bench.factory:create_app",
            "--workers", str(workers), "--port", str(port), "--log-level", "warning",
            "--no-access-log", "--no-server-header", "--no-proxy-headers"]  # fmt: skip


def launcher() -> str:
    if cli_has_workers():
        return "`civic-input serve --workers N`"
    return (
        "`uvicorn --factory bench.factory:create_app --workers N` (the app and logging "
        "of `civic-input serve`, which has no `--workers` yet)"
    )


@dataclass
class Scale:
    kind: str
    pages: tuple[Result, Result]  # 1 process, 2 processes
    deadlines: tuple[Deadline, ...]  # 1 process, 2 processes
    cached_one: tuple[Result, Result]  # ours (1 process, no Redis), the limit in turn
    cached_two: tuple[Result, Result]  # ours (2 processes, Redis), the limit in turn
    load: tuple[float, float]  # the machine's 1-minute load average before and after


def _deadline_load(base: str, url: str, name: str) -> tuple[str, tuple[str, str, dict[str, Any]]]:
    round_id, tokens = deadline_round(url, SECRET)
    tokens_file = DATA / f"tokens-{round_id}.txt"
    tokens_file.write_text("\n".join(tokens) + "\n")
    options = {
        "script": str(ROOT / "bench" / "deadline.lua"),
        "env": {"BENCH_ROUND": round_id, "BENCH_TOKENS": str(tokens_file)},
    }
    return round_id, (f"{base}/api/v1/rounds/{round_id}/submissions", name, options)


def run_scale(kind: str, url: str, env: dict[str, str], fx: dict[str, Any]) -> Scale:
    load_before = os.getloadavg()[0]
    record = f"/api/v1/rounds/{fx['round_id']}/record?limit=50"
    multi = {"CIVIC_REDIS_URL": REDIS}
    uncached = env | {"CIVIC_RESPONSE_CACHE": "false"}
    p1, p2 = free_port(), free_port()
    with (
        server(serve_processes(p1, 1), uncached, p1) as (one, base1),
        server(serve_processes(p2, 2), uncached | multi, p2) as (two, base2),
    ):
        pids = (one.pid, two.pid)
        pages = wrk_pair(
            (base1 + record, "record page 1 (not cached), 1 process"),
            (base2 + record, "record page 1 (not cached), 2 processes"),
            pid=pids,
            duration=DURATION,
        )
        round1, load1 = _deadline_load(base1, url, "submissions at a deadline, 1 process")
        round2, load2 = _deadline_load(base2, url, "submissions at a deadline, 2 processes")
        try:
            at_deadline = wrk_pair(load1, load2, pid=pids, duration=DURATION)
        finally:
            for load in (load1, load2):  # live access tokens: do not leave them lying about
                Path(load[2]["env"]["BENCH_TOKENS"]).unlink(missing_ok=True)
    deadlines = tuple(
        Deadline(result, result.statuses.get(201, 0), count_submissions(url, round_id))
        for result, round_id in zip(at_deadline, (round1, round2), strict=True)
    )
    page = DATA / "page.json"
    if not page.exists():
        raise RuntimeError("bench/data/page.json is written by the uncached reads, run first")
    p1, p2, p3 = free_port(), free_port(), free_port()
    with (
        server(serve_processes(p1, 1), env, p1) as (one, base1),
        server(serve_processes(p2, 2), env | multi, p2) as (two, base2),
        server(serve_uvicorn("bench.limit:app", p3), {"BENCH_BODY": str(page)}, p3, health="/") as (
            limit,
            base3,
        ),
    ):
        get(base1 + record), get(base2 + record)  # the limit's bytes are this answer's
        cached_one = wrk_pair(
            (base1 + record, "cached reads, 1 process, no Redis"),
            (base3 + "/", "limit, in turn with 1 process"),
            pid=(one.pid, limit.pid),
            duration=DURATION,
        )
        cached_two = wrk_pair(
            (base2 + record, "cached reads, 2 processes, Redis"),
            (base3 + "/", "limit, in turn with 2 processes"),
            pid=(two.pid, limit.pid),
            duration=DURATION,
        )
    load = (load_before, os.getloadavg()[0])
    return Scale(kind, pages, deadlines, cached_one, cached_two, load)


def _row(r: Result, ratio: str) -> str:
    return (
        f"| {r.name} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} "
        f"| {r.rss_mb:.0f} | {ratio} |"
    )


def section(s: Scale) -> str:
    (p1, p2), (d1, d2) = s.pages, s.deadlines
    (c1, l1), (c2, l2) = s.cached_one, s.cached_two
    lines = [
        "#### Several processes on one port",
        "",
        f"Served by {launcher()}; the server of 2 processes has `CIVIC_REDIS_URL` set, the "
        "single process not. Both servers are up at once and loaded in turn, A B B A in "
        f"one-second slices for {DURATION} each; likewise ours and the limit for the cached "
        f"reads. **This machine has {os.cpu_count()} cores, shared by the server processes, "
        "wrk (2 threads) and PostgreSQL**: 2 processes cannot have two cores to themselves, "
        "and the ratios below are what 2 cores give, not what 2 free cores would. Server RSS "
        "is that of all the server's processes together. The machine's 1-minute load "
        f"average was {s.load[0]:.1f} before these loads and {s.load[1]:.1f} after (other "
        "work on the machine counts in it: above 2, the cores were already busy).",
        "",
        "| what | requests/s | p50 ms | p99 ms | errors | server RSS MB | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        _row(p1, "1.00× 1 process"),
        _row(p2, f"{p2.rps / p1.rps:.2f}× 1 process"),
        _row(d1.result, "1.00× 1 process"),
        _row(d2.result, f"{d2.result.rps / d1.result.rps:.2f}× 1 process"),
        _row(c1, f"{c1.rps / l1.rps:.1%} of the limit"),
        _row(l1, "1.00"),
        _row(c2, f"{c2.rps / 2 / l2.rps:.1%} of the limit per process"),
        _row(l2, "1.00"),
        "",
        "| deadline | 201s seen | rows counted | lost | other statuses |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for d in (d1, d2):
        others = ", ".join(f"{c}: {n}" for c, n in sorted(d.result.statuses.items()) if c != 201)
        lines.append(
            f"| {d.result.name} | {d.created:,} | {d.rows:,} | {d.lost} | {others or 'none'} |"
        )
    lines.append("")
    lines.append(
        "Rows beyond the 201s are requests in flight when a one-second slice ended: stored and "
        "committed, but wrk no longer reads the answers."
    )
    return "\n".join(lines) + "\n"


def target_rows(s: Scale) -> list[tuple[str, str, str, bool | None]]:
    (p1, p2), (d1, d2) = s.pages, s.deadlines
    (c1, l1), (c2, l2) = s.cached_one, s.cached_two
    pg = "" if s.kind == "postgresql" else " (a PostgreSQL target)"
    return [
        ("record page 1 (not cached), 2 processes", "≥ 1.8× 1 process" + pg,
         f"{p2.rps / p1.rps:.2f}×", p2.rps >= 1.8 * p1.rps),
        ("submissions at a deadline, 2 processes", "≥ 1.6× 1 process" + pg,
         f"{d2.result.rps / d1.result.rps:.2f}×", d2.result.rps >= 1.6 * d1.result.rps),
        ("submissions at a deadline, 1 and 2 processes", "0 failed, 0 lost",
         f"{d1.failed + d2.failed} non-2xx, "
         f"{max(d1.result.errors - d1.failed, 0) + max(d2.result.errors - d2.failed, 0)} "
         f"socket errors, {d1.lost + d2.lost} lost",
         d1.result.errors + d2.result.errors == 0 and d1.lost + d2.lost == 0),
        ("cached reads, 2 processes, Redis", "≥ 40% of the limit per process" + pg,
         f"{c2.rps / 2 / l2.rps:.1%}", c2.rps / 2 >= 0.4 * l2.rps),
        ("cached reads, 1 process, no Redis", "≥ 50% of the limit",
         f"{c1.rps / l1.rps:.1%}", c1.rps >= 0.5 * l1.rps),
    ]  # fmt: skip
