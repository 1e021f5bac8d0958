"""The live feed under load: many subscribers of `GET /api/v1/feed/stream` on one server
process (bench/subscribers.py, a process of their own), then events published one by one
through the API (a moderator publishes pending submissions); for each event, the time
from the publishing request to its arrival at every subscriber, and the server's RSS."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from api.db import make_engine
from bench.run import DATA, PYTHON, ROOT, SECRET, RssWatch, deadline_round, key_file, rss_mb

SUBSCRIBERS = int(os.environ.get("BENCH_SUBSCRIBERS", "1000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "100"))
SPACING = 0.05  # seconds between two publications: a steady trickle, not one burst


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


def run_stream(url: str, base: str, pid: int) -> Stream:
    if endpoint_missing(base):
        return Stream(missing_endpoint=True, subscribers=SUBSCRIBERS)
    ids = pending_submissions(url, base, EVENTS)
    moderator = moderator_token(url)
    after = log_head(url)
    before = rss_mb(pid)
    client = subprocess.Popen(
        [PYTHON, "-m", "bench.subscribers", base, str(SUBSCRIBERS), str(after)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=open(DATA / "subscribers.log", "w"),  # noqa: SIM115
        text=True,
        cwd=ROOT,
    )
    assert client.stdin is not None and client.stdout is not None
    try:
        with RssWatch(pid) as watch:
            ready = client.stdout.readline()
            if not ready.startswith("READY "):
                raise RuntimeError(f"subscribers did not connect: {ready!r}")
            opened = json.loads(ready[6:])
            sent_at: dict[str, float] = {}
            for sid in ids:
                sent_at[sid] = time.monotonic()  # the commit is after this: an upper bound
                _post(f"{base}/api/v1/submissions/{sid}/moderation", moderator,
                      {"decision": "publish"})  # fmt: skip
                time.sleep(SPACING)
            seqs = seqs_of(url, after, set(ids))
            client.stdin.write(json.dumps({seqs[sid]: sent_at[sid] for sid in seqs}) + "\n")
            client.stdin.flush()
            line = client.stdout.readline()
        if not line.startswith("RESULT "):
            raise RuntimeError(f"subscribers gave no result: {line!r}")
        got = json.loads(line[7:])
    finally:
        client.kill()
        client.wait()
    stream = Stream(
        subscribers=SUBSCRIBERS,
        connected=opened["connected"],
        statuses=opened["statuses"],
        events=got["events"],
        deliveries=got["deliveries"],
        missing=got["missing"],
        p50_s=got["p50"],
        p99_s=got["p99"],
        max_s=got["max"],
        rss_before_mb=before,
        rss_peak_mb=watch.peak,
        note="" if len(seqs) == len(ids) else f"{len(ids) - len(seqs)} publications had no entry",
    )
    print(
        f"{'live feed':<34} {stream.connected}/{SUBSCRIBERS} subscribers  {stream.events} events  "
        f"p50 {stream.p50_s * 1000:.0f} ms  p99 {stream.p99_s * 1000:.0f} ms  "
        f"missing {stream.missing}  rss {stream.rss_before_mb:.0f}→{stream.rss_peak_mb:.0f} MB",
        file=sys.stderr,
    )
    return stream


def section(s: Stream) -> str:
    head = "#### Live feed (`GET /api/v1/feed/stream`)\n\n"
    if s.missing_endpoint:
        return head + "Skipped: the server answers 404 for `/api/v1/feed/stream` (not built yet).\n"
    others = ", ".join(f"{code}: {n}" for code, n in sorted((s.statuses or {}).items()))
    return (
        head
        + f"{s.subscribers:,} subscribers on one server process (a client process of their own, "
        f"raw asyncio sockets), then {s.events} events published one every "
        f"{SPACING * 1000:.0f} ms through the API (a moderator publishes pending "
        "submissions); latency is from the moment the publishing request is sent (the commit "
        "is after it) to the event's arrival at a subscriber, over every event and subscriber.\n\n"
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
