"""The benchmark runner: every server in turn under wrk at 32 connections, on SQLite and
PostgreSQL; the table goes to bench/RESULTS.md with each figure as a ratio to the limit
(a bare ASGI app returning the same bytes) and to the naive peer (bench/naive.py).

    bench/run            # both databases
    bench/run sqlite     # one
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from api.db import make_engine
from api.pagination import encode_cursor
from bench import seed as seeder

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
PYTHON = sys.executable
DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = 32
PG_SERVER = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    rss_mb: float
    note: str = ""
    ratios: dict[str, float] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(base: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{base} did not start")


def rss_mb(pid: int) -> float:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"VmRSS:\s+(\d+) kB", text)
    return int(match.group(1)) / 1024 if match else 0.0


@contextmanager
def server(argv: list[str], env: dict[str, str], port: int, health: str = "/healthz"):  # type: ignore[no-untyped-def]
    log = open(DATA / f"server-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(argv, env={**os.environ, **env}, stdout=log, stderr=log, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(base + health, timeout=2):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"server exited: {(DATA / f'server-{port}.log').read_text()[-2000:]}"
                    ) from None
                time.sleep(0.3)
        yield proc, base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def wrk(
    url: str,
    *,
    pid: int,
    name: str,
    script: str | None = None,
    headers: dict[str, str] | None = None,
) -> Result:
    argv = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", "--timeout", "10s"]
    for key, value in (headers or {}).items():
        argv += ["-H", f"{key}: {value}"]
    if script:
        argv += ["-s", script]
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb(pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    done.set()
    sampler.join()
    try:
        result = parse_wrk(out, name, peak[0])
    except (AttributeError, KeyError, ValueError):
        raise RuntimeError(f"cannot read wrk's output for {name}:\n{out}") from None
    print(
        f"{name:<34} {result.rps:>9,.0f} req/s  p50 {result.p50_ms:.1f} ms  "
        f"p99 {result.p99_ms:.1f} ms  errors {result.errors}  rss {result.rss_mb:.0f} MB",
        file=sys.stderr,
    )
    return result


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def parse_wrk(out: str, name: str, rss: float) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in m.groups())
    return Result(name, rps, p50, p99, errors, rss)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read(), dict(response.headers)


def prepare(kind: str) -> str:
    DATA.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        url = f"sqlite:///{DATA / 'bench.db'}"
    else:
        base = sa.engine.make_url(PG_SERVER)
        admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = 'civic_bench'")
            ).first():
                conn.execute(sa.text('CREATE DATABASE "civic_bench"'))
        admin.dispose()
        url = base.set(database="civic_bench").render_as_string(hide_password=False)
    seeder.seed(url)
    return url


def fixtures(url: str) -> dict[str, Any]:
    """A round with 5,000 published submissions, the cursor of a deep page, the log head."""
    from models.dialogue import Dialogue
    from models.ledger import RecordHead
    from models.round import Round
    from models.submission import Submission

    engine = make_engine(url)
    rounds, dialogues, subs = Round.__table__.c, Dialogue.__table__.c, Submission.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as conn:
        round_id = conn.execute(
            sa.select(rounds.id)
            .join(Dialogue.__table__, dialogues.id == rounds.dialogue_id)  # type: ignore[attr-defined]
            .where(dialogues.slug == "bench-dialogue-0", rounds.number == 1)
        ).scalar_one()
        at, sid = conn.execute(
            sa.select(subs.published_at, subs.id)
            .where(subs.round_id == round_id, subs.status == "published")
            .order_by(subs.published_at, subs.id)
            .limit(1)
            .offset(4899)
        ).one()
        head = conn.execute(sa.select(RecordHead.__table__.c.seq)).scalar_one()  # type: ignore[attr-defined]
    engine.dispose()
    cursor = encode_cursor([at.isoformat(), str(sid)])
    return {"round_id": str(round_id), "deep_cursor": cursor, "head": int(head)}


def run_database(kind: str) -> list[Result]:
    url = prepare(kind)
    fx = fixtures(url)
    record = f"/api/v1/rounds/{fx['round_id']}/record"
    results: list[Result] = []
    env = {"CIVIC_DATABASE_URL": url, "CIVIC_SECRET_KEY": "b" * 48, "CIVIC_ENV": "production"}
    port = free_port()

    # ours, the response cache off: every request does the work
    with server(
        [PYTHON, "-m", "api.cli", "serve", "--port", str(port)],
        env | {"CIVIC_RESPONSE_CACHE": "false"},
        port,
    ) as (proc, base):
        page1, _ = get(f"{base}{record}?limit=50")
        (DATA / "page.json").write_bytes(page1)
        results.append(
            wrk(f"{base}{record}?limit=50", pid=proc.pid, name="record page 1 (not cached)")
        )
        results.append(
            wrk(
                f"{base}{record}?limit=50&cursor={fx['deep_cursor']}",
                pid=proc.pid,
                name="record deep page (cursor)",
            )
        )
        results.append(
            wrk(f"{base}/api/v1/feed?after=0&limit=50", pid=proc.pid, name="feed near the start")
        )
        results.append(
            wrk(
                f"{base}/api/v1/feed?after={fx['head'] - 50}&limit=50",
                pid=proc.pid,
                name="feed near the end",
            )
        )
        results.append(
            wrk(f"{base}{record}?limit=50&q=%E5%BE%8B%E5%B8%88", pid=proc.pid, name="search q=律师")
        )
    # ours, as deployed: the response cache on
    with server([PYTHON, "-m", "api.cli", "serve", "--port", str(port)], env, port) as (proc, base):
        _, headers = get(f"{base}{record}?limit=50")
        results.append(wrk(f"{base}{record}?limit=50", pid=proc.pid, name="repeated reads, 200"))
        results.append(
            wrk(
                f"{base}{record}?limit=50",
                pid=proc.pid,
                name="repeated reads, 304",
                headers={"If-None-Match": headers.get("etag", headers.get("ETag", ""))},
            )
        )
    port = free_port()
    with server(
        [
            PYTHON,
            "-m",
            "uvicorn",
            "bench.naive:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        {"CIVIC_DATABASE_URL": url},
        port,
        health="/docs",
    ) as (proc, base):
        results.append(
            wrk(
                f"{base}/rounds/{fx['round_id']}/record?offset=0&limit=50",
                pid=proc.pid,
                name="naive peer page 1",
            )
        )
        results.append(
            wrk(
                f"{base}/rounds/{fx['round_id']}/record?offset=4900&limit=50",
                pid=proc.pid,
                name="naive peer deep page (offset)",
            )
        )
    port = free_port()
    with server(
        [
            PYTHON,
            "-m",
            "uvicorn",
            "bench.limit:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        {"BENCH_BODY": str(DATA / "page.json")},
        port,
        health="/",
    ) as (proc, base):
        results.append(wrk(f"{base}/", pid=proc.pid, name="limit (bare ASGI, same bytes)"))
    return results


def table(kind: str, results: list[Result]) -> str:
    by = {r.name: r for r in results}
    limit = by["limit (bare ASGI, same bytes)"].rps
    naive1 = by["naive peer page 1"].rps
    naive_deep = by["naive peer deep page (offset)"].rps
    lines = [
        f"### {kind}",
        "",
        "| what | requests/s | p50 ms | p99 ms | errors | server RSS MB | × limit | × naive |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        naive = naive_deep if "deep" in r.name else naive1
        lines.append(
            f"| {r.name} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} "
            f"| {r.rss_mb:.0f} | {r.rps / limit:.3f} | {r.rps / naive:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    kinds = argv or ["sqlite", "postgresql"]
    sections = []
    for kind in kinds:
        print(f"== {kind}", file=sys.stderr)
        sections.append(table(kind, run_database(kind)))
    out = ROOT / "bench" / "RESULTS.md"
    out.write_text(
        "# Benchmark results\n\n"
        f"`bench/run` on {os.cpu_count()} cores, wrk -t2 -c{CONNECTIONS} -d{DURATION}; "
        "ratios are to the limit and to the naive peer measured in the same run.\n\n"
        + "\n".join(sections)
    )
    print(out.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
