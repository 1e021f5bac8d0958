"""The benchmark runner: every server in turn under wrk at 32 connections, on SQLite and
PostgreSQL; the table goes to bench/RESULTS.md with each figure as a ratio to the limit
(a bare ASGI app returning the same bytes) and to the naive peer (bench/naive.py).

    bench/run            # both databases
    bench/run sqlite     # one
"""

import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from api.db import make_engine
from api.pagination import encode_cursor
from bench import pages as pages_bench
from bench import search as search_bench
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
    statuses: dict[int, int] = field(default_factory=dict)


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


def tree_rss_mb(pid: int) -> float:
    """The RSS of a process and its children: a server of several processes (uvicorn's
    supervisor and its workers) is weighed whole."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += rss_mb(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            children = []
        todo += [int(child) for child in children]
    return total


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
    env: dict[str, str] | None = None,
    duration: str = DURATION,
    quiet: bool = False,
) -> Result:
    argv = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}", "--latency", "--timeout", "10s"]
    for key, value in (headers or {}).items():
        argv += ["-H", f"{key}: {value}"]
    if script:
        argv += ["-s", script]
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_mb(pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # BENCH_RUN: what makes a script's requests unique to this run (bench/deadline.lua)
    run_env = {**os.environ, "BENCH_RUN": uuid.uuid4().hex[:12], **(env or {})}
    out = subprocess.run(
        [*argv, url], capture_output=True, text=True, check=True, env=run_env
    ).stdout
    done.set()
    sampler.join()
    try:
        result = parse_wrk(out, name, peak[0])
    except (AttributeError, KeyError, ValueError):
        raise RuntimeError(f"cannot read wrk's output for {name}:\n{out}") from None
    if not quiet:
        show(result)
    return result


def show(result: Result) -> None:
    print(
        f"{result.name:<34} {result.rps:>9,.0f} req/s  p50 {result.p50_ms:.1f} ms  "
        f"p99 {result.p99_ms:.1f} ms  errors {result.errors}  rss {result.rss_mb:.0f} MB",
        file=sys.stderr,
    )


def _seconds(duration: str) -> float:
    value, unit = re.match(r"([\d.]+)([smh]?)", duration).groups()  # type: ignore[union-attr]
    return float(value) * {"": 1, "s": 1, "m": 60, "h": 3600}[unit]


# a load: its URL, its name, and optionally wrk()'s keyword arguments (script, env, headers)
Load = tuple[str, str] | tuple[str, str, dict[str, Any]]


def wrk_pair(
    first: Load, second: Load, *, pid: int | tuple[int, int], duration: str = DURATION
) -> tuple[Result, Result]:
    """Two loads whose ratio is a target, run in one-second slices, A B B A over and
    over, for the duration each (rounded up to an even number of seconds): a machine
    whose speed drifts, even from one second to the next, weighs on both alike. Each
    result is the mean of its slices (requests/s, p50), the worst p99, all errors and
    statuses. `pid` is the server whose RSS is sampled, or one for each load."""
    slices = math.ceil(_seconds(duration) / 2)  # A B B A: two seconds of each
    pids = pid if isinstance(pid, tuple) else (pid, pid)
    loads = {"A": (first, pids[0]), "B": (second, pids[1])}
    runs: dict[str, list[Result]] = {first[1]: [], second[1]: []}
    for key in "ABBA" * slices:
        load, load_pid = loads[key]
        options = load[2] if len(load) == 3 else {}  # type: ignore[misc]
        runs[load[1]].append(
            wrk(load[0], pid=load_pid, name=load[1], duration="1s", quiet=True, **options)
        )
    merged = []
    for name, parts in runs.items():
        statuses: dict[int, int] = {}
        for part in parts:
            for code, n in part.statuses.items():
                statuses[code] = statuses.get(code, 0) + n
        result = Result(
            name,
            rps=statistics.mean(r.rps for r in parts),
            p50_ms=statistics.mean(r.p50_ms for r in parts),
            p99_ms=max(r.p99_ms for r in parts),
            errors=sum(r.errors for r in parts),
            rss_mb=max(r.rss_mb for r in parts),
            statuses=statuses,
        )
        show(result)
        merged.append(result)
    return merged[0], merged[1]


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def parse_wrk(out: str, name: str, rss: float) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # anchored: "Latency ... 62.50%" (the +/- Stdev column) must not pass for the 50% line
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in m.groups())
    # printed by a script's done() (bench/deadline.lua)
    statuses = {int(code): int(n) for code, n in re.findall(r"^STATUS (\d+) (\d+)$", out, re.M)}
    return Result(name, rps, p50, p99, errors, rss, statuses=statuses)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read(), dict(response.headers)


def key_file(url: str) -> str:
    """Where the production server keeps its checkpoint signing key (it refuses to start
    without one): outside the database's directory, as the README asks."""
    name = "sqlite" if url.startswith("sqlite") else "postgresql"
    return str(Path(tempfile.gettempdir()) / f"civic-bench-signing-key-{name}.pem")


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


class RssWatch:
    """Samples a process's RSS in a thread until stopped; `peak` is the highest seen (MB)."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid, self.every, self.peak = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(self.every)

    def __enter__(self) -> "RssWatch":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb(self.pid))


# --- submissions at a deadline ----------------------------------------------------


@dataclass
class Deadline:
    result: Result
    created: int  # 201s seen by wrk
    rows: int  # rows counted in the round afterwards

    @property
    def failed(self) -> int:
        return sum(n for code, n in self.result.statuses.items() if code != 201)

    @property
    def lost(self) -> int:
        return max(self.created - self.rows, 0)


def deadline_round(url: str, secret: str, writers: int = CONNECTIONS) -> tuple[str, list[str]]:
    """A fresh dialogue (with a CN delegation) whose round accepts submissions now, and
    `writers` activists with their access tokens; returns the round's id and the tokens."""
    from api.config import Settings
    from api.security import Security
    from models.dialogue import Delegation, Dialogue
    from models.round import Round
    from models.user import User

    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%d%H%M%S%f")
    dialogue_id, round_id = uuid.uuid4(), uuid.uuid4()
    users = [
        {
            "id": uuid.uuid4(),
            "handle": f"dl-{stamp}-{i}"[:32],
            "handle_key": f"dl-{stamp}-{i}"[:32],
            "password_hash": "!",
            "role": "activist",
            "is_active": True,
            "session_version": 0,
            "created_at": now,
        }
        for i in range(writers)
    ]
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Dialogue.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": dialogue_id,
                    "slug": f"bench-deadline-{stamp}",
                    "title": "Bench deadline",
                    "description": "",
                    "created_at": now,
                }
            ],
        )
        conn.execute(
            sa.insert(Delegation.__table__),  # type: ignore[attr-defined]
            [{"id": uuid.uuid4(), "dialogue_id": dialogue_id, "code": "CN", "name": "CN"}],
        )
        conn.execute(
            sa.insert(Round.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": round_id,
                    "dialogue_id": dialogue_id,
                    "number": 1,
                    "title": "Deadline",
                    "location": "Geneva",
                    "submissions_open_at": now - timedelta(hours=1),
                    "submissions_close_at": now + timedelta(hours=1),
                    "starts_at": now + timedelta(hours=2),
                    "ends_at": now + timedelta(hours=3),
                    "responses_due_at": now + timedelta(hours=4),
                    "version": 1,
                    "created_at": now,
                }
            ],
        )
        conn.execute(sa.insert(User.__table__), users)  # type: ignore[attr-defined]
    engine.dispose()
    settings = Settings(
        secret_key=secret, env="production", database_url=url, signing_key_file=key_file(url)
    )
    security = Security(settings)
    return str(round_id), [security.mint_access_token(u["id"], 0) for u in users]


def count_submissions(url: str, round_id: str) -> int:
    from models.submission import Submission

    subs = Submission.__table__.c  # type: ignore[attr-defined]
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(sa.func.count()).where(subs.round_id == uuid.UUID(round_id))
        ).scalar_one()
    engine.dispose()
    return int(rows)


def run_deadline(url: str, secret: str, base: str, pid: int) -> Deadline:
    round_id, tokens = deadline_round(url, secret)
    token_file = DATA / "deadline-tokens.txt"
    token_file.write_text("\n".join(tokens) + "\n")
    try:
        result = wrk(
            f"{base}/api/v1/rounds/{round_id}/submissions",
            pid=pid,
            name="submissions at a deadline",
            script=str(ROOT / "bench" / "deadline.lua"),
            env={"BENCH_ROUND": round_id, "BENCH_TOKENS": str(token_file)},
        )
    finally:
        token_file.unlink(missing_ok=True)  # live access tokens: do not leave them lying about
    deadline = Deadline(result, result.statuses.get(201, 0), count_submissions(url, round_id))
    print(
        f"{'':<34} statuses {result.statuses}  rows {deadline.rows}  lost {deadline.lost}",
        file=sys.stderr,
    )
    return deadline


# --- export -----------------------------------------------------------------------


@dataclass
class Export:
    items: int
    seconds: float
    peak_rss_mb: float
    before_rss_mb: float

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds


def run_export(base: str, pid: int) -> Export:
    """Stream the whole NDJSON export once, counting lines, sampling RSS every 50 ms."""
    items, before = 0, rss_mb(pid)
    with RssWatch(pid, every=0.05) as watch:
        began = time.perf_counter()
        with urllib.request.urlopen(base + "/api/v1/export.ndjson", timeout=600) as response:
            while chunk := response.read(64 * 1024):
                items += chunk.count(b"\n")
        seconds = time.perf_counter() - began
    export = Export(items, seconds, watch.peak, before)
    print(
        f"{'export.ndjson':<34} {items:,} items in {seconds:.1f} s  "
        f"{export.items_per_second:,.0f} items/s  peak rss {watch.peak:.0f} MB",
        file=sys.stderr,
    )
    return export


# --- search against a LIKE scan -----------------------------------------------------


@dataclass
class Search:
    ours_ms: float
    like_ms: float
    same_ids: bool
    count: int
    scanned: int  # rows the LIKE scan reads, in its order, to find its 50
    matching: int  # the round's published submissions that match
    published: int  # the round's published submissions
    limit_ms: float = 0.0  # one request to the limit, measured the same way as ours

    @property
    def speedup(self) -> float:
        return self.like_ms / self.ours_ms


SEARCH_RUNS = 20
NEEDLE = "律师"


def _median_ms(run: Any, times: int = SEARCH_RUNS) -> tuple[float, Any]:
    run()  # warm up
    samples, value = [], None
    for _ in range(times):
        began = time.perf_counter()
        value = run()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), value


def like_scan(url: str, round_id: str) -> tuple[float, list[uuid.UUID], dict[str, int]]:
    """The plain LIKE '%律师%' query, run directly: its median time, its ids, and how
    many rows it reads to find them, out of how many matching and published."""
    from models.submission import Submission

    subs = Submission.__table__.c  # type: ignore[attr-defined]
    pattern = f"%{NEEDLE}%"
    published = (subs.round_id == uuid.UUID(round_id)) & (subs.status == "published")
    matches = sa.or_(subs.title.like(pattern), subs.body.like(pattern))
    query = (
        sa.select(subs.id, subs.published_at)
        .where(published, matches)
        .order_by(subs.published_at, subs.id)
        .limit(50)
    )
    engine = make_engine(url)
    with engine.connect() as conn:
        ms, rows = _median_ms(lambda: list(conn.execute(query)))
        last, at = rows[-1]
        before = (subs.published_at < at) | ((subs.published_at == at) & (subs.id <= last))
        count = sa.select(sa.func.count()).where(published)
        figures = {
            "scanned": conn.execute(count.where(before)).scalar_one(),
            "matching": conn.execute(count.where(matches)).scalar_one(),
            "published": conn.execute(count).scalar_one(),
        }
    engine.dispose()
    return ms, [uuid.UUID(str(row.id)) for row in rows], figures


def run_search(url: str, base: str, round_id: str) -> Search:
    q = urllib.parse.quote(NEEDLE)
    endpoint = f"{base}/api/v1/rounds/{round_id}/record?limit=50&q={q}"

    def ours() -> list[uuid.UUID]:
        body, _ = get(endpoint)
        return [uuid.UUID(item["id"]) for item in json.loads(body)["items"]]

    ours_ms, our_ids = _median_ms(ours)
    like_ms, like_ids, figures = like_scan(url, round_id)
    search = Search(ours_ms, like_ms, our_ids == like_ids, len(our_ids), **figures)
    print(
        f"{'search q=律师, one request':<34} ours {ours_ms:.1f} ms  LIKE {like_ms:.1f} ms  "
        f"speed-up {search.speedup:.2f}×  same ids {search.same_ids} ({len(our_ids)})",
        file=sys.stderr,
    )
    return search


# --- one database -------------------------------------------------------------------


@dataclass
class Run:
    kind: str
    results: list[Result]
    deadline: Deadline
    export: Export
    search: Search
    server_peak_mb: float
    scale: Any = None  # bench.scale.Scale
    stream: Any = None  # bench.stream.Stream, or None where not run
    layers: list[Any] = field(default_factory=list)  # bench.layers.Layer
    search_index: Any = None  # bench.search.SearchBench


SECRET = "b" * 48


def serve_ours(port: int) -> list[str]:
    return [PYTHON, "-m", "api.cli", "serve", "--port", str(port)]


def serve_uvicorn(app: str, port: int) -> list[str]:
    return [PYTHON, "-m", "uvicorn", app, "--port", str(port), "--log-level", "warning",
            "--no-access-log"]  # fmt: skip


def reads_uncached(base: str, pid: int, fx: dict[str, Any]) -> list[Result]:
    record = f"{base}/api/v1/rounds/{fx['round_id']}/record?limit=50"
    (DATA / "page.json").write_bytes(get(record)[0])
    pages = wrk_pair(
        (record, "record page 1 (not cached)"),
        (f"{record}&cursor={fx['deep_cursor']}", "record deep page (cursor)"),
        pid=pid,
    )
    feed = wrk_pair(
        (f"{base}/api/v1/feed?after=0&limit=50", "feed near the start"),
        (f"{base}/api/v1/feed?after={fx['head'] - 50}&limit=50", "feed near the end"),
        pid=pid,
    )
    search = wrk(f"{record}&q=%E5%BE%8B%E5%B8%88", pid=pid, name="search q=律师")
    return [*pages, *feed, search]


def reads_cached(base: str, pid: int, fx: dict[str, Any]) -> list[Result]:
    record = f"{base}/api/v1/rounds/{fx['round_id']}/record?limit=50"
    _, headers = get(record)
    etag = headers.get("etag", headers.get("ETag", ""))
    return [
        wrk(record, pid=pid, name="repeated reads, 200"),
        wrk(record, pid=pid, name="repeated reads, 304", headers={"If-None-Match": etag}),
    ]


def one_request_ms(url: str) -> float:
    """The median time of one GET, sequentially, as `run_search` measures ours."""
    return _median_ms(lambda: get(url))[0]


def baselines(url: str, search: Search) -> list[Result]:
    fx_round = fixtures(url)["round_id"]
    port = free_port()
    with server(serve_uvicorn("bench.naive:app", port), {"CIVIC_DATABASE_URL": url}, port,
                health="/docs") as (proc, base):  # fmt: skip
        naive = f"{base}/rounds/{fx_round}/record?limit=50"
        # whole runs, not halves: its answers take seconds, and wrk does not count the
        # ones in flight when a run ends
        results = [
            wrk(f"{naive}&offset=0", pid=proc.pid, name="naive peer page 1"),
            wrk(f"{naive}&offset=4900", pid=proc.pid, name="naive peer deep page (offset)"),
        ]
    port = free_port()
    body = {"BENCH_BODY": str(DATA / "page.json")}
    with server(serve_uvicorn("bench.limit:app", port), body, port, health="/") as (proc, base):
        results.append(wrk(f"{base}/", pid=proc.pid, name="limit (bare ASGI, same bytes)"))
        search.limit_ms = one_request_ms(f"{base}/")
    return results


def run_database(kind: str) -> Run:
    url = prepare(kind)
    fx = fixtures(url)
    env = {
        "CIVIC_DATABASE_URL": url,
        "CIVIC_SECRET_KEY": SECRET,
        "CIVIC_ENV": "production",
        # production refuses to start without a home for the checkpoint signing key
        "CIVIC_SIGNING_KEY_FILE": key_file(url),
    }
    port = free_port()
    # the export first, on a fresh server, so its peak RSS is its own
    with server(serve_ours(port), env, port) as (proc, base), RssWatch(proc.pid) as watch:
        export = run_export(base, proc.pid)
    peak = watch.peak
    # ours, the response cache off: every request does the work
    uncached = env | {"CIVIC_RESPONSE_CACHE": "false"}
    with server(serve_ours(port), uncached, port) as (proc, base), RssWatch(proc.pid) as watch:
        results = reads_uncached(base, proc.pid, fx)
        results += pages_bench.uncached(base, proc.pid, fx, url)  # issue 16: the round page
        search = run_search(url, base, fx["round_id"])
        indexed = search_bench.run(url, base, proc.pid, fx["round_id"])
        deadline = run_deadline(url, SECRET, base, proc.pid)
    peak = max(peak, watch.peak)
    # ours, as deployed: the response cache on
    with server(serve_ours(port), env, port) as (proc, base), RssWatch(proc.pid) as watch:
        results += reads_cached(base, proc.pid, fx)
        results += pages_bench.cached(base, proc.pid, fx, url)
    peak = max(peak, watch.peak)
    results += baselines(url, search)
    # issue 14: several processes, cached reads against the limit, the live feed
    from bench import layers, scale, stream

    run = Run(kind, results, deadline, export, search, peak, search_index=indexed)
    run.scale = scale.run_scale(kind, url, env, fx)
    if kind == "postgresql":
        # the live feed on PostgreSQL only (as the issue measures it), on one process
        # with Redis set, as deployed with several
        live = env | {"CIVIC_REDIS_URL": scale.REDIS, "CIVIC_STREAM_MAX_SUBSCRIBERS": "2000"}
        with server(serve_ours(port), live, port) as (proc, base):
            run.stream = stream.run_stream(url, base, proc.pid)
    run.layers = layers.measure(url, fx["round_id"])
    return run


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


def _mark(ok: bool | None) -> str:
    if ok is None:
        return "not measured"
    return "met" if ok else "**not met**"


def deadline_section(run: Run, limit: float) -> str:
    d, r = run.deadline, run.deadline.result
    others = ", ".join(f"{code}: {n}" for code, n in sorted(r.statuses.items()) if code != 201)
    return (
        "#### Submissions at a deadline (32 writers, unique Idempotency-Key and title)\n\n"
        "| requests/s | p50 ms | p99 ms | non-2xx | socket errors | 201s seen | rows counted "
        "| lost | server RSS MB | × limit |\n"
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        f"| {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {d.failed} "
        f"| {max(r.errors - d.failed, 0)} | {d.created:,} | {d.rows:,} | {d.lost} "
        f"| {r.rss_mb:.0f} | {r.rps / limit:.3f} |\n"
        + (f"\nOther statuses: {others}.\n" if others else "")
        + (
            f"\n{d.rows - d.created} more rows than 201s: requests still in flight when wrk "
            "stopped (stored and committed, but wrk no longer reads the answers).\n"
            if d.rows > d.created
            else ""
        )
    )


def other_sections(run: Run) -> str:
    e, s = run.export, run.search
    return (
        "#### Export of the record log (`/api/v1/export.ndjson`, streamed once)\n\n"
        "On a freshly started server (ours, as deployed), before any other load.\n\n"
        "| items | seconds | items/s | server RSS before MB "
        "| peak server RSS MB (sampled every 50 ms) |\n"
        "| ---: | ---: | ---: | ---: | ---: |\n"
        f"| {e.items:,} | {e.seconds:.2f} | {e.items_per_second:,.0f} | {e.before_rss_mb:.0f} "
        f"| {e.peak_rss_mb:.0f} |\n\n"
        f"#### Search `q={NEEDLE}`: our record endpoint against a plain LIKE scan\n\n"
        f"Median of {SEARCH_RUNS} runs each, one at a time; ours is a whole HTTP request, the "
        "LIKE scan is the bare query (`title LIKE '%律师%' OR body LIKE '%律师%'`, "
        "`ORDER BY published_at, id LIMIT 50`) in Python.\n\n"
        "| ours ms | LIKE scan ms | speed-up (LIKE ÷ ours) | same ids | the limit, one request ms "
        "| rows the scan reads for its 50 | matching / published in the round |\n"
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: |\n"
        f"| {s.ours_ms:.1f} | {s.like_ms:.2f} | {s.speedup:.2f}× "
        f"| {'yes' if s.same_ids else '**no**'} ({s.count}) | {s.limit_ms:.2f} "
        f"| {s.scanned:,} | {s.matching:,} / {s.published:,} |\n\n"
        f"{NEEDLE} is in {s.matching / max(s.published, 1):.0%} of the round's submissions, so "
        f"the scan has its 50 after reading {s.scanned:,} rows in {s.like_ms:.2f} ms; the limit "
        f"(bytes from memory) takes {s.limit_ms:.2f} ms to answer one request, and 20 times "
        f"faster than the scan is {s.like_ms / 20:.3f} ms: "
        + (
            "less than any HTTP answer takes here. The target can hold only for a needle the "
            "scan must look far for.\n\n"
            if s.limit_ms > s.like_ms / 20
            else "within reach of an HTTP answer.\n\n"
        )
        + f"Server memory: the highest RSS of our server over the whole run was "
        f"**{run.server_peak_mb:.0f} MB**.\n"
    )


def targets(run: Run) -> str:
    by = {r.name: r for r in run.results}
    rps = {name: r.rps for name, r in by.items()}
    limit = rps["limit (bare ASGI, same bytes)"]
    page1, deep = rps["record page 1 (not cached)"], rps["record deep page (cursor)"]
    naive1, naive_deep = rps["naive peer page 1"], rps["naive peer deep page (offset)"]
    start, end = rps["feed near the start"], rps["feed near the end"]
    spread = abs(start - end) / max(start, end)
    d, e, s = run.deadline, run.export, run.search
    rows = [
        ("record page 1 (not cached)", "≥ 10× naive page 1", f"{page1 / naive1:.1f}×",
         page1 >= 10 * naive1),
        ("record deep page (cursor)", "≥ 0.9× our page 1", f"{deep / page1:.2f}×",
         deep >= 0.9 * page1),
        ("record deep page (cursor)", "≥ 30× naive deep page", f"{deep / naive_deep:.1f}×",
         deep >= 30 * naive_deep),
        ("repeated reads, 200", "≥ 20% of the limit", f"{rps['repeated reads, 200'] / limit:.1%}",
         rps["repeated reads, 200"] >= 0.2 * limit),
        ("repeated reads, 304", "≥ 25% of the limit", f"{rps['repeated reads, 304'] / limit:.1%}",
         rps["repeated reads, 304"] >= 0.25 * limit),
        ("feed near the start / the end", "within 10%", f"{spread:.1%} apart", spread <= 0.10),
        (f"search q={NEEDLE}", "≥ 20× the LIKE scan, same ids",
         f"{s.speedup:.2f}×, same ids: {'yes' if s.same_ids else 'no'}",
         s.speedup >= 20 and s.same_ids),
        ("submissions at a deadline", "0 failed", f"{d.failed} non-2xx, "
         f"{max(d.result.errors - d.failed, 0)} socket errors", d.result.errors == 0),
        ("submissions at a deadline", "0 lost (rows ≥ 201s)",
         f"{d.rows:,} rows for {d.created:,} 201s", d.lost == 0),
        ("submissions at a deadline", "≥ 400/s" + (" (a SQLite target)" if run.kind != "sqlite"
         else ""), f"{d.result.rps:,.0f}/s", d.result.rps >= 400),
        ("submissions at a deadline", "p99 ≤ 1 s", f"{d.result.p99_ms:,.0f} ms",
         d.result.p99_ms <= 1000),
        ("export of 100,000 items", "peak RSS ≤ 150 MB", f"{e.peak_rss_mb:.0f} MB",
         e.peak_rss_mb <= 150),
        ("export of 100,000 items", "≥ 20,000 items/s", f"{e.items_per_second:,.0f}/s",
         e.items_per_second >= 20_000),
        ("server memory under the load above", "RSS ≤ 200 MB", f"{run.server_peak_mb:.0f} MB",
         run.server_peak_mb <= 200),
    ]  # fmt: skip
    rows = [*rows, *_issue14_rows(run), *pages_bench.target_rows(rps)]
    lines = ["#### Targets", "", "| what | target | measured | |", "| --- | --- | --- | --- |"]
    lines += [f"| {what} | {goal} | {got} | {_mark(ok)} |" for what, goal, got, ok in rows]
    return "\n".join(lines) + "\n"


def _issue14_rows(run: Run) -> list[tuple[str, str, str, bool | None]]:
    from bench import scale, stream

    rows = scale.target_rows(run.scale) if run.scale else []
    if run.stream is not None:
        rows += stream.target_rows(run.stream)
    return rows


def _issue14_sections(run: Run, limit: float) -> list[str]:
    from bench import layers, scale, stream

    out = [scale.section(run.scale)] if run.scale else []
    if run.stream is not None:
        out.append(stream.section(run.stream))
    else:
        out.append("#### Live feed (`GET /api/v1/feed/stream`)\n\nMeasured on PostgreSQL only.\n")
    if run.layers:
        out.append(layers.section(run.layers, limit))
    return out


def report(run: Run) -> str:
    limit = next(r.rps for r in run.results if r.name.startswith("limit"))
    return "\n".join(
        [
            table(run.kind, run.results),
            deadline_section(run, limit),
            other_sections(run),
            *_issue14_sections(run, limit),
            search_bench.section(run.search_index),
            targets(run),
        ]
    )


def main(argv: list[str]) -> int:
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    kinds = argv or ["sqlite", "postgresql"]
    sections = []
    for kind in kinds:
        print(f"== {kind}", file=sys.stderr)
        sections.append(report(run_database(kind)))
    out = ROOT / "bench" / "RESULTS.md"
    out.write_text(
        "# Benchmark results\n\n"
        f"`bench/run` on {os.cpu_count()} cores, wrk -t2 -c{CONNECTIONS} -d{DURATION}; "
        "ratios are to the limit and to the naive peer measured in the same run. "
        "Loads compared with each other (our page 1 and deep page, the feed's start and "
        "end) run in one-second slices, A B B A over and over, so a drift in the machine's "
        "speed weighs on both alike. "
        "Server RSS is our server's resident memory, sampled while the load runs; "
        "it only grows over a server's life (CPython keeps what it has taken).\n\n"
        + "\n".join(sections)
    )
    print(out.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
