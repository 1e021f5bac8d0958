"""The round page (HTML) against the same JSON record page.

Under wrk, in `make bench` (bench/run.py calls `uncached`, `cached` and `target_rows`):
each pair of loads taking turns in one-second slices, A B B A, on the server as
deployed, the response cache off (uncached) and on (cached).

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

import os
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


def _urls(base: str, fx: dict[str, Any]) -> tuple[str, str]:
    rid = fx["round_id"]
    return (
        f"{base}/api/v1/rounds/{rid}/record?limit={LIMIT}",
        f"{base}/record/rounds/{rid}?limit={LIMIT}&lang=en",
    )


def uncached(base: str, pid: int, fx: dict[str, Any]) -> list[Any]:
    """The JSON record page and the round page of the same 50 items, taking turns,
    on a server whose response cache is off."""
    from bench import run

    json_url, html_url = _urls(base, fx)
    return list(run.wrk_pair((json_url, JSON_UNCACHED), (html_url, HTML_UNCACHED), pid=pid))


def cached(base: str, pid: int, fx: dict[str, Any]) -> list[Any]:
    """The same two, taking turns, on a server as deployed: hits of the response cache."""
    from bench import run

    json_url, html_url = _urls(base, fx)
    return list(run.wrk_pair((json_url, JSON_CACHED), (html_url, HTML_CACHED), pid=pid))


def target_rows(rps: dict[str, float]) -> list[tuple[str, str, str, bool | None]]:
    """Issue 16's targets for the rows above, as bench/run.py's table of targets has them."""
    rows: list[tuple[str, str, str, bool | None]] = []
    for html, json, goal in (
        (HTML_UNCACHED, JSON_UNCACHED, 0.8),
        (HTML_CACHED, JSON_CACHED, 0.9),
    ):
        if html in rps and json in rps:
            ratio = rps[html] / rps[json]
            target = f"≥ {goal}× the JSON record page ({json})"
            rows.append((html, target, f"{ratio:.2f}×", ratio >= goal))
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
