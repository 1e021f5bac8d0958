"""The live feed under load: many subscribers of `GET /api/v1/feed/stream` on one server
process (bench/subscribers.py, client processes of their own), then events published one
by one through the API (a moderator publishes pending submissions); for each event, the
time from its commit (PostgreSQL: heard by LISTEN; SQLite: from the publishing request) to
its arrival at every subscriber, the server's RSS, and the CPU time of the server and of
the clients (a client that cannot keep up would be measuring itself)."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from api.db import make_engine
from bench.run import DATA, PYTHON, ROOT, SECRET, RssWatch, deadline_round, key_file, rss_mb

SUBSCRIBERS = int(os.environ.get("BENCH_SUBSCRIBERS", "1000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "100"))
SPACING = 0.05  # seconds between two publications: a steady trickle, not one burst
# client processes the subscribers are shared among (each one event loop)
CLIENTS = int(os.environ.get("BENCH_STREAM_CLIENTS", "2"))


@dataclass
class Stream:
    missing_endpoint: bool = False
    subscribers: int = 0
    connected: int = 0
    statuses: dict[str, int] | None = None
    events: int = 0
    deliveries: int = 0
    missing: int = 0
    p50_s: float = 0.0
    p99_s: float = 0.0
    max_s: float = 0.0
    rss_before_mb: float = 0.0
    rss_peak_mb: float = 0.0
    request_p50_s: float = 0.0  # from the publishing request's start (the commit is after it)
    request_p99_s: float = 0.0
    from_commit: bool = False  # p50_s.. are from the commit (heard by LISTEN), not the request
    published_in_s: float = 0.0
    live: int = 0  # subscribers past their backlog before the first publication
    live_after_s: float = 0.0  # how long after connecting the last one was
    clients: int = 1
    # the server's CPU time from the first publication to the last arrival
    server_cpu_s: float = 0.0
    server_sys_s: float = 0.0  # of which in the kernel
    client_cpu_s: float = 0.0  # the subscribers' client's, over the same span
    load: str = ""  # the machine's load average when the run ended
    note: str = ""


def _post(url: str, token: str, body: dict[str, object], key: str | None = None) -> dict:  # type: ignore[type-arg]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def moderator_token(url: str) -> str:
    from api.config import Settings
    from api.security import Security
    from models.user import User

    user_id = uuid.uuid4()
    handle = f"bench-mod-{user_id.hex[:12]}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(User.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": user_id,
                    "handle": handle,
                    "handle_key": handle,
                    "password_hash": "!",
                    "role": "moderator",
                    "is_active": True,
                    "session_version": 0,
                    "created_at": datetime.now(UTC),
                }
            ],
        )
    engine.dispose()
    settings = Settings(
        secret_key=SECRET, env="production", database_url=url, signing_key_file=key_file(url)
    )
    return Security(settings).mint_access_token(user_id, 0)


def pending_submissions(url: str, base: str, count: int) -> list[str]:
    """`count` pending submissions in a fresh round, made through the API."""
    round_id, tokens = deadline_round(url, SECRET, writers=1)
    stamp = uuid.uuid4().hex[:8]
    ids = []
    for i in range(count):
        made = _post(
            f"{base}/api/v1/rounds/{round_id}/submissions",
            tokens[0],
            {
                "kind": "concern",
                "title": f"Stream event {stamp}-{i}",
                "body": f"Please explain the whereabouts of the detained lawyer ({stamp}-{i}).",
                "language": "en",
                "addressed_to": ["CN"],
            },
            key=f"bench-stream-{stamp}-{i}",
        )
        ids.append(str(made["id"]))
    return ids


def log_head(url: str) -> int:
    from models.ledger import RecordHead

    engine = make_engine(url)
    with engine.connect() as conn:
        head = conn.execute(sa.select(RecordHead.__table__.c.seq)).scalar_one_or_none()  # type: ignore[attr-defined]
    engine.dispose()
    return int(head or 0)


def seqs_of(url: str, after: int, object_ids: set[str]) -> dict[str, int]:
    """The log entries after `after` for these objects: object id → seq."""
    from models.ledger import RecordEntry

    entries = RecordEntry.__table__.c  # type: ignore[attr-defined]
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(entries.seq, entries.object_id).where(entries.seq > after)
        ).all()
    engine.dispose()
    return {str(oid): int(seq) for seq, oid in rows if str(oid) in object_ids}


def endpoint_missing(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/v1/feed/stream?after=0", timeout=5) as response:
            response.close()  # a stream: the status is all we want
            return False
    except urllib.error.HTTPError as error:
        return error.code in (404, 405)
    except TimeoutError:
        return False  # it answered with a stream and kept it open


def cpu_seconds(pid: int) -> tuple[float, float]:
    """A process's CPU time so far, user and system (the kernel's, in its syscalls), from
    /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


class Commits:
    """PostgreSQL: when each entry's commit was announced (`NOTIFY civic_record`, which
    PostgreSQL delivers at commit), heard on a LISTEN connection of our own: the start of
    an event's journey, measured as the server's hub hears it."""

    def __init__(self, url: str) -> None:
        import psycopg

        conninfo = sa.engine.make_url(url).set(drivername="postgresql")
        self.conn = psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True)
        self.conn.execute("LISTEN civic_record")
        self.at: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for notice in self.conn.notifies(timeout=0.2):
                self.at.setdefault(int(notice.payload), time.monotonic())

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.conn.close()


def _pct(values: list[float], p: float) -> float:
    return values[min(int(p * len(values)), len(values) - 1)] if values else 0.0


def run_stream(url: str, base: str, pid: int) -> Stream:
    if endpoint_missing(base):
        return Stream(missing_endpoint=True, subscribers=SUBSCRIBERS)
    ids = pending_submissions(url, base, EVENTS)
    moderator = moderator_token(url)
    after = log_head(url)
    before = rss_mb(pid)
    shares = [SUBSCRIBERS // CLIENTS + (i < SUBSCRIBERS % CLIENTS) for i in range(CLIENTS)]
    clients = [
        subprocess.Popen(
            [PYTHON, "-m", "bench.subscribers", base, str(n), str(after)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(DATA / f"subscribers-{i}.log", "w"),  # noqa: SIM115
            text=True,
            cwd=ROOT,
        )
        for i, n in enumerate(shares)
    ]
    commits = Commits(url) if url.startswith("postgresql") else None
    try:
        with RssWatch(pid) as watch:
            opened: dict[str, Any] = {"connected": 0, "statuses": {}, "live": 0}
            live_after = 0.0
            for client in clients:
                assert client.stdout is not None
                ready = client.stdout.readline()
                if not ready.startswith("READY "):
                    raise RuntimeError(f"subscribers did not connect: {ready!r}")
                got = json.loads(ready[6:])
                opened["connected"] += got["connected"]
                opened["live"] += got["live"]
                live_after = max(live_after, got["live_after_s"])
                for code, n in got["statuses"].items():
                    opened["statuses"][code] = opened["statuses"].get(code, 0) + n
            sent_at: dict[str, float] = {}
            cpu_before = cpu_seconds(pid)
            started = time.monotonic()
            for sid in ids:
                sent_at[sid] = time.monotonic()  # the commit is after this: an upper bound
                _post(f"{base}/api/v1/submissions/{sid}/moderation", moderator,
                      {"decision": "publish"})  # fmt: skip
                time.sleep(SPACING)
            published_in = time.monotonic() - started
            seqs = seqs_of(url, after, set(ids))
            wanted = json.dumps({seqs[sid]: sent_at[sid] for sid in seqs}) + "\n"
            for client in clients:
                assert client.stdin is not None
                client.stdin.write(wanted)
                client.stdin.flush()
            arrivals: list[dict[str, float]] = []
            client_cpu = 0.0
            for client in clients:
                assert client.stdout is not None
                line = client.stdout.readline()
                if not line.startswith("RESULT "):
                    raise RuntimeError(f"subscribers gave no result: {line!r}")
                got = json.loads(line[7:])
                arrivals += got["arrivals"]
                client_cpu += got["cpu_s"]
            cpu_after = cpu_seconds(pid)
            server_cpu = cpu_after[0] - cpu_before[0] + cpu_after[1] - cpu_before[1]
            server_sys = cpu_after[1] - cpu_before[1]
    finally:
        for client in clients:
            client.kill()
            client.wait()
        if commits is not None:
            commits.close()
    from_request: list[float] = []
    from_commit: list[float] = []
    missing = 0
    for sid, seq in seqs.items():
        committed = commits.at.get(seq) if commits is not None else None
        for arrived in arrivals:
            at = arrived.get(str(seq))
            if at is None:
                missing += 1
                continue
            from_request.append(at - sent_at[sid])
            if committed is not None:
                from_commit.append(at - committed)
    # for a closer look: per event, its commit, request and arrival times
    (DATA / "stream-arrivals.json").write_text(
        json.dumps(
            {
                str(seq): {
                    "sent": sent_at[sid],
                    "committed": commits.at.get(seq) if commits is not None else None,
                    "arrived": sorted(a[str(seq)] for a in arrivals if str(seq) in a),
                }
                for sid, seq in seqs.items()
            }
        )
    )
    from_request.sort()
    from_commit.sort()
    # the target's figure: from the commit where it is heard (PostgreSQL), else from the
    # publishing request (the commit is after it)
    figures = from_commit if commits is not None and from_commit else from_request
    stream = Stream(
        subscribers=SUBSCRIBERS,
        connected=opened["connected"],
        statuses=opened["statuses"],
        events=len(seqs),
        deliveries=len(from_request),
        missing=missing + len(seqs) * (SUBSCRIBERS - len(arrivals)),
        p50_s=_pct(figures, 0.50),
        p99_s=_pct(figures, 0.99),
        max_s=figures[-1] if figures else 0.0,
        request_p50_s=_pct(from_request, 0.50),
        request_p99_s=_pct(from_request, 0.99),
        from_commit=commits is not None and bool(from_commit),
        published_in_s=published_in,
        live=opened["live"],
        live_after_s=live_after,
        clients=CLIENTS,
        rss_before_mb=before,
        rss_peak_mb=watch.peak,
        server_cpu_s=server_cpu,
        server_sys_s=server_sys,
        client_cpu_s=client_cpu,
        load=" ".join(f"{x:.1f}" for x in os.getloadavg()),
        note="" if len(seqs) == len(ids) else f"{len(ids) - len(seqs)} publications had no entry",
    )
    print(
        f"{'live feed':<34} {stream.connected}/{SUBSCRIBERS} subscribers  {stream.events} events  "
        f"p50 {stream.p50_s * 1000:.0f} ms  p99 {stream.p99_s * 1000:.0f} ms  "
        f"(from the request: p50 {stream.request_p50_s * 1000:.0f} p99 "
        f"{stream.request_p99_s * 1000:.0f})  missing {stream.missing}  "
        f"rss {stream.rss_before_mb:.0f}→{stream.rss_peak_mb:.0f} MB  "
        f"cpu server {stream.server_cpu_s:.2f} s (sys {stream.server_sys_s:.2f}) "
        f"client {stream.client_cpu_s:.2f} s  "
        f"published in {stream.published_in_s:.1f} s  load {stream.load}  "
        f"{stream.live} live {stream.live_after_s:.2f} s after connecting",
        file=sys.stderr,
    )
    return stream


def section(s: Stream) -> str:
    head = "#### Live feed (`GET /api/v1/feed/stream`)\n\n"
    if s.missing_endpoint:
        return head + "Skipped: the server answers 404 for `/api/v1/feed/stream` (not built yet).\n"
    others = ", ".join(f"{code}: {n}" for code, n in sorted((s.statuses or {}).items()))
    start = (
        "the commit (heard on a LISTEN connection of the bench's own: PostgreSQL announces "
        "the entry at its commit)"
        if s.from_commit
        else "the moment the publishing request is sent (the commit is after it)"
    )
    return (
        head + f"{s.subscribers:,} subscribers on one server process ({s.clients} client processes "
        "of their own, bare asyncio protocols on uvloop); every stream past its backlog "
        f"(`: live`) before the first event; then {s.events} events published one by one "
        f"through the API with {SPACING * 1000:.0f} ms between them (a moderator publishes "
        f"pending submissions; all {s.events} took {s.published_in_s:.1f} s). Latency is from "
        f"{start} to the event's arrival at a subscriber, over every event and subscriber; "
        "from the publishing request's start: p50 "
        f"{s.request_p50_s * 1000:.0f} ms, p99 {s.request_p99_s * 1000:.0f} ms. CPU time "
        f"over the publications and the fan-out: server {s.server_cpu_s:.2f} s (of which "
        f"kernel {s.server_sys_s:.2f} s), subscribers' clients {s.client_cpu_s:.2f} s; load "
        f"average {s.load}.\n\n"
        "| subscribers connected | events | deliveries | missing | p50 ms | p99 ms | max ms "
        "| server RSS before MB | peak server RSS MB |\n"
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        f"| {s.connected:,} | {s.events} | {s.deliveries:,} | {s.missing:,} "
        f"| {s.p50_s * 1000:.0f} | {s.p99_s * 1000:.0f} | {s.max_s * 1000:.0f} "
        f"| {s.rss_before_mb:.0f} | {s.rss_peak_mb:.0f} |\n"
        + (f"\nStatuses when connecting: {others}.\n" if s.connected < s.subscribers else "")
        + (f"\n{s.note}.\n" if s.note else "")
    )


def target_rows(s: Stream) -> list[tuple[str, str, str, bool | None]]:
    if s.missing_endpoint:
        return [("live feed", "p99 ≤ 1 s, RSS ≤ 300 MB", "no endpoint (404)", None)]
    return [
        ("live feed, 1,000 subscribers", "every event at every subscriber",
         f"{s.connected:,} connected, {s.missing:,} deliveries missing",
         s.connected == s.subscribers and s.missing == 0 and s.events >= EVENTS),
        ("live feed, 1,000 subscribers", "p99 ≤ 1 s", f"{s.p99_s * 1000:,.0f} ms",
         s.p99_s <= 1.0 and s.deliveries > 0),
        ("live feed, 1,000 subscribers", "server RSS ≤ 300 MB", f"{s.rss_peak_mb:.0f} MB",
         s.rss_peak_mb <= 300),
    ]  # fmt: skip


def main(argv: list[str]) -> int:
    """The live feed's bench alone, on a small database of its own:

    python -m bench.stream [postgresql|sqlite]

    BENCH_PROFILE=FILE runs the server under cProfile (bench/profiled.py) and writes there
    the profile of its main thread during the run (the subscribers' connections, the
    publications and the fan-out)."""
    from api.cli import migrate
    from bench.run import PG_SERVER, free_port, serve_ours, server
    from bench.scale import REDIS

    if argv and argv[0] == "cpu":
        kind = argv[1] if len(argv) > 1 else "sqlite"
        print(json.dumps(fan_out_cpu(kind, SUBSCRIBERS, EVENTS)))
        return 0
    kind = argv[0] if argv else "postgresql"
    DATA.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        url = f"sqlite:///{DATA / 'stream.db'}"
    else:
        admin_url = sa.engine.make_url(PG_SERVER)
        admin = sa.create_engine(admin_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = 'civic_bench_stream'")
            ).first():
                conn.execute(sa.text('CREATE DATABASE "civic_bench_stream"'))
        admin.dispose()
        url = admin_url.set(database="civic_bench_stream").render_as_string(hide_password=False)
    migrate(url)
    env = {
        "CIVIC_DATABASE_URL": url,
        "CIVIC_SECRET_KEY": SECRET,
        "CIVIC_ENV": "production",
        "CIVIC_SIGNING_KEY_FILE": key_file(url),
        "CIVIC_STREAM_MAX_SUBSCRIBERS": str(max(2000, SUBSCRIBERS * 2)),
    }
    if kind != "sqlite":
        env |= {"CIVIC_REDIS_URL": REDIS, "CIVIC_REDIS_PREFIX": "civic-bench-stream:"}
    port = free_port()
    argv_server = serve_ours(port)
    if profile := os.environ.get("BENCH_PROFILE"):
        argv_server = [PYTHON, "-m", "bench.profiled", profile, *argv_server[1:]]
    with server(argv_server, env, port) as (proc, base):
        if profile:
            os.kill(proc.pid, signal.SIGUSR1)  # what the start cost: left out
            time.sleep(1)
        result = run_stream(url, base, proc.pid)
        if profile:
            os.kill(proc.pid, signal.SIGUSR1)
            time.sleep(3)
    print(section(result))
    return 0


def fan_out_cpu(kind: str, subscribers: int = 1000, events: int = 50) -> dict[str, float]:
    """The CPU time the event loop's thread spends per delivered event, with no sockets:
    the app (every middleware) served in this process to `subscribers` in-memory ASGI
    streams, `events` entries appended one by one in another thread. Stable under a
    loaded machine where wall-clock latency is not.

    python -m bench.stream cpu [sqlite|postgresql]
    """
    import asyncio
    import tempfile

    from api.cli import migrate
    from api.config import Settings
    from api.db import open_session
    from api.main import create_app
    from api.services import ledger

    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="civic-stream-cpu-")
        url = f"sqlite:///{folder}/cpu.db"
    else:
        from bench.run import PG_SERVER

        url = sa.engine.make_url(PG_SERVER).set(database="civic_bench_stream")
        url = url.render_as_string(hide_password=False)
    migrate(url)
    settings = Settings(
        database_url=url,
        env="test",
        secret_key=SECRET,
        stream_max_subscribers=subscribers + 10,
        response_cache=False,
    )
    app = create_app(settings)
    engine = make_engine(url)
    ids = re.compile(rb"(?:^|\n)id: (\d+)\n")

    def append_one() -> int:
        with open_session(engine, write=True) as session:
            entry = ledger.append(
                session,
                event_type="submission.published",
                object_type="submission",
                object_id=uuid.uuid4(),
                subject_id=uuid.uuid4(),
                round_id=None,
                content={"title": "live", "body": "x" * 400},
            )
            seq = entry.seq
            session.commit()
        return seq

    async def run() -> dict[str, float]:
        got: list[set[int]] = [set() for _ in range(subscribers)]
        live = [asyncio.Event() for _ in range(subscribers)]
        never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def make(i: int) -> tuple[Any, Any]:
            async def receive() -> dict[str, Any]:
                await never
                return {"type": "http.disconnect"}

            async def send(message: dict[str, Any]) -> None:
                body = message.get("body", b"")
                if b": live" in body:
                    live[i].set()
                got[i].update(int(seq) for seq in ids.findall(body))

            return receive, send

        head = log_head(url)
        tasks = []
        async with app.router.lifespan_context(app):
            for i in range(subscribers):
                scope = {
                    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                    "method": "GET", "scheme": "http", "path": "/api/v1/feed/stream",
                    "raw_path": b"/api/v1/feed/stream", "root_path": "",
                    "query_string": f"after={head}".encode(),
                    "headers": [(b"host", b"bench"), (b"accept", b"text/event-stream")],
                    "client": ("127.0.0.1", 40000 + i), "server": ("127.0.0.1", 80),
                    "state": {},
                }  # fmt: skip
                receive, send = make(i)
                tasks.append(asyncio.create_task(app(scope, receive, send)))
            await asyncio.gather(*(event.wait() for event in live))
            await asyncio.sleep(0.5)
            cpu = time.thread_time()
            began = time.monotonic()
            seqs = set()
            for _ in range(events):
                seqs.add(await asyncio.to_thread(append_one))
                await asyncio.sleep(SPACING)
            while not all(seqs <= g for g in got) and time.monotonic() - began < 120:
                await asyncio.sleep(0.01)
            cpu = time.thread_time() - cpu
            delivered = sum(len(seqs & g) for g in got)
            never.cancel()
            app.state.lifecycle_closing = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return {
            "subscribers": subscribers,
            "events": events,
            "delivered": delivered,
            "loop_cpu_s": cpu,
            "us_per_delivery": cpu / max(delivered, 1) * 1e6,
        }

    try:
        return asyncio.run(run())
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
