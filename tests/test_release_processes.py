"""Joint releases with real `civic-input serve` processes: two servers on one database
wake at the same instant and release every held response once, together, in the stable
order; a server stopped before an instant and started after it releases at start; and
`civic-input verify` accepts the record afterwards."""

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.db import open_session
from models.dialogue import Delegation
from models.ledger import RecordEntry
from models.response import Response
from models.round import Phase
from models.submission import Submission
from tests.factories import Factory
from tests.live import REPO, LiveServer, run_server, server_env

# Both servers learn of the instant on a poll (`release_poll_seconds`, 5 s) before it comes,
# then both sleep until exactly then.
AHEAD = timedelta(seconds=8)
WAIT = 30.0


@pytest.fixture
def two_servers(database_url: str) -> Iterator[list[LiveServer]]:
    with ExitStack() as stack:
        yield [stack.enter_context(run_server(database_url)) for _ in range(2)]


def _hold(make: Factory, *, count: int, until: datetime) -> list[Response]:
    """`count` submissions addressed to CN and US, each answered by both, held until `until`."""
    rnd = make.round(phase=Phase.accepting_responses)
    base = datetime.now(UTC) - timedelta(hours=3)
    held = []
    for n in reversed(range(count)):  # made in the reverse of their publication order
        submission = make.submission(
            rnd, addressed_to=("CN", "US"), published_at=base + n * timedelta(minutes=1)
        )
        for code in ("US", "CN"):
            response = make.response(submission, code=code, body=f"Held answer {n} {code}")
            response.embargo_until = until
            make.session.add(response)
            held.append(response)
    make.session.commit()
    return held


def _release_order(session: Session, ids: set[str]) -> list[str]:
    """The stable order: instant, the submission's published_at and id, delegation code."""
    rows = session.exec(
        select(Response.id)
        .join(Submission, col(Submission.id) == col(Response.submission_id))
        .join(Delegation, col(Delegation.id) == col(Response.delegation_id))
        .order_by(
            col(Response.embargo_until),
            col(Submission.published_at),
            col(Submission.id),
            col(Delegation.code),
        )
    ).all()
    session.commit()
    return [str(r) for r in rows if str(r) in ids]


def _published(session: Session, ids: set[str]) -> list[tuple[int, str]]:
    rows = session.exec(
        select(RecordEntry.seq, RecordEntry.object_id)
        .where(RecordEntry.event_type == "response.published")
        .order_by(col(RecordEntry.seq))
    ).all()
    session.commit()
    return [(seq, str(object_id)) for seq, object_id in rows if str(object_id) in ids]


def _unreleased(session: Session, ids: set[str]) -> int:
    rows = session.exec(select(Response.id).where(col(Response.released_at).is_(None))).all()
    session.commit()
    return len({str(r) for r in rows} & ids)


def _wait_released(engine: sa.Engine, ids: set[str], *, within: float) -> float:
    """Seconds until every one of `ids` is released (fails after `within`)."""
    began = time.monotonic()
    while True:
        with open_session(engine) as session:
            if _unreleased(session, ids) == 0:
                return time.monotonic() - began
        assert time.monotonic() - began < within, "not released in time"
        time.sleep(0.1)


def _released_in_logs(servers: list[LiveServer]) -> list[int]:
    pattern = re.compile(r"release: (\d+) held responses made public")
    return [int(n) for s in servers for n in pattern.findall(s.log_text())]


def _listen(base_url: str, want: int, got: list[dict[str, Any]], ready: threading.Event) -> None:
    """The live feed of one server: the first `want` response.published events."""
    with (
        httpx.Client(timeout=60) as http,
        http.stream("GET", base_url + "/api/v1/feed/stream") as response,
    ):
        for line in response.iter_lines():
            if line == ": live":
                ready.set()
            elif line.startswith("data: "):
                event = json.loads(line[6:])
                if event["type"] == "response.published":
                    got.append(event)
                    if len(got) == want:
                        return


def _verify(url: str, database_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "verify", url],
        cwd=REPO,
        env=server_env(database_url, "verify-test-secret-" + "v" * 40),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_two_servers_release_every_held_response_once_together_in_order(
    two_servers, make, engine, database_url
):
    until = datetime.now(UTC) + AHEAD
    held = _hold(make, count=4, until=until)
    ids = {str(r.id) for r in held}
    for server in two_servers:  # nothing shows before the instant
        record = httpx.get(f"{server.base_url}/api/v1/responses/{held[0].id}", timeout=10)
        assert record.status_code == 404
    # each server's live feed sees the release, whichever process made it
    streamed: list[list[dict[str, Any]]] = [[], []]
    listeners = []
    for server, got in zip(two_servers, streamed, strict=True):
        ready = threading.Event()
        listener = threading.Thread(
            target=_listen, args=(server.base_url, len(ids), got, ready), daemon=True
        )
        listener.start()
        assert ready.wait(10), "no stream"
        listeners.append(listener)

    _wait_released(engine, ids, within=(until - datetime.now(UTC)).total_seconds() + WAIT)
    time.sleep(1.0)  # a second pass anywhere would have happened by now

    with open_session(engine) as session:
        entries = _published(session, ids)
        order = _release_order(session, ids)
    assert [object_id for _, object_id in entries] == order  # each once, in the stable order
    seqs = [seq for seq, _ in entries]
    assert seqs == list(range(seqs[0], seqs[0] + len(ids)))  # one transaction: consecutive
    assert _released_in_logs(two_servers) == [len(ids)]  # by one pass of one process
    for listener, got in zip(listeners, streamed, strict=True):
        listener.join(timeout=10)
        assert [e["object_id"] for e in got] == order
    for server in two_servers:
        shown = httpx.get(f"{server.base_url}/api/v1/responses/{held[0].id}", timeout=10)
        assert shown.status_code == 200
        assert shown.json()["responded_at"] == until.isoformat().replace("+00:00", "Z")
    _verify(two_servers[0].base_url, database_url)


def test_a_server_started_after_the_instant_releases_at_start(make, engine, database_url):
    until = datetime.now(UTC) + timedelta(seconds=10)
    held = _hold(make, count=1, until=until)
    ids = {str(r.id) for r in held}
    with run_server(database_url) as server:
        r = httpx.get(f"{server.base_url}/api/v1/responses/{held[0].id}", timeout=10)
        assert r.status_code == 404
    assert datetime.now(UTC) < until, "the machine is too slow for this test's timing"
    # stopped before the instant; nothing runs while it passes
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 1.0)
    with open_session(engine) as session:
        assert _unreleased(session, ids) == len(ids)
    with run_server(database_url) as server:
        # the first pass runs as the server starts, before any poll would
        waited = _wait_released(engine, ids, within=WAIT)
        assert waited < 4.0, f"released {waited:.1f} s after the server answered"
        shown = httpx.get(f"{server.base_url}/api/v1/responses/{held[0].id}", timeout=10)
        assert shown.status_code == 200
        assert _released_in_logs([server]) == [len(ids)]
        _verify(server.base_url, database_url)
