"""The round page (HTML) against the same JSON record page.

Under wrk, in `make bench` (bench/run.py calls `uncached`, `cached` and `target_rows`):
the two loads taking turns in two-second slices, A B B A, on the server as deployed,
the response cache off (uncached) and on (cached); beside requests/s, the CPU per
request of the server and of the database's backends (from /proc), which a machine
loaded by others disturbs less.

In CPU time per request (`measure`, below, and `python -m bench.pages`):

Both are called in-process through the whole ASGI stack (every middleware, the route,
the database, the template), taking turns in slices A B B A so that a moment of load
from elsewhere on the machine weighs on both alike; CPU time (time.process_time, all
threads of the process) rather than wall-clock time, which others' work on a shared
machine would distort. Uncached: the response cache is off, so each request is computed.

    python -m bench.pages [DATABASE_URL]   (default: a scratch SQLite file, seeded here)

The target (issue 16): the page of 50 items at ≥ 80% of the JSON page's requests/s,
that is, its CPU per request at most 1.25 times the JSON's.
"""

import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from starlette.testclient import TestClient

from api.config import Settings
from api.main import create_app
from bench import seed as seeder

SECRET = "bench-pages-secret-0123456789abcdef0123456789"
LIMIT = 50
SLICE = int(os.environ.get("BENCH_PAGES_SLICE", "40"))  # requests per turn
TURNS = int(os.environ.get("BENCH_PAGES_TURNS", "30"))


def _round_id(url: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT r.id FROM round r JOIN dialogue d ON d.id = r.dialogue_id "
                "WHERE d.slug = 'bench-dialogue-0' AND r.number = 1"
            )
        ).scalar_one()
    engine.dispose()
    return str(found)


def _scope(app: Any, path: str, query: bytes, accept_language: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"127.0.0.1"), (b"accept-language", accept_language)],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
        "app": app,
    }


async def _turns(app: Any, scopes: dict[str, dict[str, Any]]) -> dict[str, float]:
    """µs of CPU per request for each scope: the sum over TURNS turns of SLICE requests,
    the scopes taking turns A B B A."""
    stack = app.middleware_stack or app.build_middleware_stack()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses: list[int] = []
    sizes: dict[str, int] = {}

    def sender(name: str) -> Any:
        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            elif message["type"] == "http.response.body":
                sizes[name] = sizes.get(name, 0) + len(message.get("body", b""))

        return send

    names = list(scopes)
    for name in names:  # warm: templates compiled, statements prepared
        for _ in range(5):
            await stack(dict(scopes[name]), receive, sender(name))
    assert set(statuses) == {200}, statuses
    spent = dict.fromkeys(names, 0.0)
    for turn in range(TURNS):
        order = names if turn % 2 == 0 else list(reversed(names))
        for name in order:
            began = time.process_time()
            for _ in range(SLICE):
                await stack(dict(scopes[name]), receive, sender(name))
            spent[name] += time.process_time() - began
    assert set(statuses) == {200}, statuses
    return {name: spent[name] / (TURNS * SLICE) * 1e6 for name in names}


def measure(url: str) -> dict[str, float]:
    settings = Settings(
        secret_key=SECRET,
        env="test",
        database_url=url,
        response_cache=False,
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings)
    round_id = _round_id(url)
    query = f"limit={LIMIT}".encode()
    scopes = {
        "json": _scope(app, f"/api/v1/rounds/{round_id}/record", query, b"en"),
        "html en": _scope(app, f"/record/rounds/{round_id}", query, b"en"),
        "html zh-Hans": _scope(app, f"/record/rounds/{round_id}", query, b"zh-CN"),
    }
    with TestClient(app, base_url="http://127.0.0.1") as client:
        portal = client.portal
        assert portal is not None
        return portal.call(_turns, app, scopes)


# --- under wrk, in bench/run.py ----------------------------------------------------

JSON_UNCACHED = "record page 1, beside the HTML page"
HTML_UNCACHED = "round page HTML, uncached"
JSON_CACHED = "repeated reads, 200, beside the HTML page"
HTML_CACHED = "round page HTML, cached"
SLICE_SECONDS = 2  # a slice holds many answers even when the machine is loaded
TICK = os.sysconf("SC_CLK_TCK")
# CPU seconds per request of the server and of the database's backends, by row name
cpu_per_request: dict[str, tuple[float, float]] = {}


def _urls(base: str, fx: dict[str, Any]) -> tuple[str, str]:
    rid = fx["round_id"]
    return (
        f"{base}/api/v1/rounds/{rid}/record?limit={LIMIT}",
        f"{base}/record/rounds/{rid}?limit={LIMIT}&lang=en",
    )


def _cpu(pids: list[int]) -> float:
    """CPU seconds (user and system) spent so far by these processes."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def _backends(url: str) -> list[int]:
    """The PostgreSQL backends serving the bench database (none for SQLite, which runs
    in the server's process)."""
    if not url.startswith("postgresql"):
        return []
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        pids = conn.execute(
            sa.text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalars()
        found = [int(pid) for pid in pids]
    engine.dispose()
    return found


def _pair(url: str, pid: int, first: tuple[str, str], second: tuple[str, str]) -> list[Any]:
    """Two loads taking turns A B B A in slices of SLICE_SECONDS, for bench/run's
    duration each: requests/s as the mean over slices, and the CPU per request of the
    server and of the database's backends (/proc), which other work on the machine
    disturbs less than requests/s."""
    from bench import run

    for target, _ in (first, second):  # warm: statements prepared, pages kept
        for _ in range(3):
            run.get(target)
    loads = {"A": first, "B": second}
    parts: dict[str, list[Any]] = {first[1]: [], second[1]: []}
    cpu = {first[1]: [0.0, 0.0], second[1]: [0.0, 0.0]}
    slices = max(1, math.ceil(run._seconds(run.DURATION) / (2 * SLICE_SECONDS)))
    for key in "ABBA" * slices:
        target, name = loads[key]
        backends = _backends(url)  # the server's pool may have grown
        server, database = _cpu([pid]), _cpu(backends)
        result = run.wrk(target, pid=pid, name=name, duration=f"{SLICE_SECONDS}s", quiet=True)
        cpu[name][0] += _cpu([pid]) - server
        cpu[name][1] += _cpu(backends) - database
        parts[name].append(result)
    merged = []
    for name, results in parts.items():
        result = run.Result(
            name,
            rps=statistics.mean(r.rps for r in results),
            p50_ms=statistics.mean(r.p50_ms for r in results),
            p99_ms=max(r.p99_ms for r in results),
            errors=sum(r.errors for r in results),
            rss_mb=max(r.rss_mb for r in results),
        )
        answered = sum(r.rps for r in results) * SLICE_SECONDS
        cpu_per_request[name] = (cpu[name][0] / answered, cpu[name][1] / answered)
        run.show(result)
        merged.append(result)
    return merged


def uncached(base: str, pid: int, fx: dict[str, Any], url: str) -> list[Any]:
    """The JSON record page and the round page of the same 50 items, taking turns,
    on a server whose response cache is off."""
    json_url, html_url = _urls(base, fx)
    return _pair(url, pid, (json_url, JSON_UNCACHED), (html_url, HTML_UNCACHED))


def cached(base: str, pid: int, fx: dict[str, Any], url: str) -> list[Any]:
    """The same two, taking turns, on a server as deployed: hits of the response cache."""
    json_url, html_url = _urls(base, fx)
    return _pair(url, pid, (json_url, JSON_CACHED), (html_url, HTML_CACHED))


def target_rows(rps: dict[str, float]) -> list[tuple[str, str, str, bool | None]]:
    """Issue 16's targets for the rows above, as bench/run.py's table of targets has
    them: requests/s against the JSON page's in the same run, with the CPU per request
    of each (server + database backends) beside it."""
    rows: list[tuple[str, str, str, bool | None]] = []
    for html, json, goal in (
        (HTML_UNCACHED, JSON_UNCACHED, 0.8),
        (HTML_CACHED, JSON_CACHED, 0.9),
    ):
        if html not in rps or json not in rps:
            continue
        ratio = rps[html] / rps[json]
        measured = f"{ratio:.2f}×"
        if html in cpu_per_request and json in cpu_per_request:
            (hs, hd), (js, jd) = cpu_per_request[html], cpu_per_request[json]
            measured += (
                f" (CPU per request: HTML {hs * 1e6:,.0f} + {hd * 1e6:,.0f} µs, "
                f"JSON {js * 1e6:,.0f} + {jd * 1e6:,.0f} µs, server + database)"
            )
        target = f"≥ {goal}× the requests/s of the JSON record page ({json})"
        rows.append((html, target, measured, ratio >= goal))
    return rows


# --- in process, CPU time per request -----------------------------------------------


def section(found: dict[str, float]) -> str:
    json_us = found["json"]
    lines = [
        "#### The round page (HTML) against the JSON record page, uncached",
        "",
        f"A page of {LIMIT} items, in-process through the whole ASGI stack, the response "
        f"cache off; CPU µs per request (time.process_time over {TURNS} turns of {SLICE} "
        "requests each, the loads taking turns A B B A). Requests/s relative to JSON is "
        "the inverse ratio of CPU per request; the target is ≥ 80%.",
        "",
        "| page | CPU µs per request | requests/s relative to JSON |",
        "| --- | ---: | ---: |",
    ]
    for name, us in found.items():
        lines.append(f"| {name} | {us:,.0f} | {json_us / us:.0%} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1:
        print(section(measure(sys.argv[1])))
        return
    with tempfile.TemporaryDirectory(prefix="civic-bench-pages-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'pages.db'}"
        seeder.seed(url, submissions=3000, rounds_per_dialogue=5)
        print(section(measure(url)))


if __name__ == "__main__":
    main()
