"""Stopping and crashing lose nothing acknowledged: real `civic-input serve` processes
(one, or `--workers 2` on one port) take a burst of concurrent submissions; mid-burst
they get SIGTERM (they stop accepting and finish what is in flight) or SIGKILL (a
crash); after a restart on the same database, every submission the clients saw a 201
for is a stored row. On SQLite, two workers writing one file at once is the case of
two processes on one file.
"""

import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from api import lifecycle, serve
from api.config import Settings
from api.main import create_app
from models.submission import Submission
from models.user import Role
from tests.client import submission_body
from tests.factories import PASSWORD, Factory
from tests.live import REPO, START_TIMEOUT, free_port, server_env

CLIENTS = 8
BEFORE_SIGNAL = 1.0  # seconds of burst at least before the signal,
ACKNOWLEDGED_BEFORE = 20  # and at least this many 201s (a loaded machine starts slowly)
AFTER_SIGNAL = 1.0  # seconds after the signal before the slow request ends
GRACE = 10.0  # api.serve.GRACE_SECONDS
# A second process on one database wants Redis for what processes share; a database
# number of its own keeps these keys apart from other tests'.
REDIS_URL = "redis://127.0.0.1:6379/11"


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Burst:
    acknowledged: list[uuid.UUID] = field(default_factory=list)
    answered_after_signal: int = 0
    failed: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(base_url + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def serving(database_url: str, secret: str, log_path: Path, *, workers: int) -> Iterator[Server]:
    """`python -m api.cli serve` on a free port, in a process group of its own (so that
    a crash of the whole group can be staged); whatever is left of it is killed on exit."""
    port = free_port()
    env = server_env(database_url, secret)
    if workers > 1:
        env["CIVIC_REDIS_URL"] = REDIS_URL
    argv = [sys.executable, "-m", "api.cli", "serve", "--port", str(port)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*argv, "--workers", str(workers)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(server.base_url):
            assert process.poll() is None, f"the server exited early:\n{server.log_tail()}"
            assert time.monotonic() < deadline, f"the server did not start:\n{server.log_tail()}"
            time.sleep(0.1)
        yield server
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=GRACE)


def _submit_until(
    base_url: str, path: str, token: str, stop: threading.Event, burst: Burst, signalled: list
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=GRACE + 5) as http:
        while not stop.is_set():
            try:
                response = http.post(path, json=submission_body())
            except httpx.HTTPError:
                with burst.lock:
                    burst.failed += 1
                time.sleep(0.05)  # the server is gone or going: do not spin
                continue
            with burst.lock:
                burst.statuses[response.status_code] = (
                    burst.statuses.get(response.status_code, 0) + 1
                )
                if response.status_code == 201:
                    burst.acknowledged.append(uuid.UUID(response.json()["id"]))
                    if signalled:
                        burst.answered_after_signal += 1


@dataclass
class SlowRequest:
    """A submission whose body arrives in two halves: the first before the signal, the
    second after it, so that it is certainly in flight while the server stops."""

    status: int | None = None
    id: uuid.UUID | None = None
    error: str | None = None


def _submit_slowly(
    base_url: str, path: str, token: str, release: threading.Event, slow: SlowRequest
) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    body = json.dumps(submission_body()).encode()
    half = len(body) // 2
    conn = http.client.HTTPConnection(host, int(port), timeout=GRACE + 5)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Authorization", f"Bearer {token}")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(message_body=body[:half])
        release.wait()
        conn.send(body[half:])
        response = conn.getresponse()
        slow.status = response.status
        if response.status == 201:
            slow.id = uuid.UUID(json.loads(response.read())["id"])
    except (OSError, http.client.HTTPException) as exc:
        slow.error = type(exc).__name__
    finally:
        conn.close()


def _sign_in(base_url: str, handle: str) -> str:
    response = httpx.post(
        base_url + "/api/v1/auth/token", data={"username": handle, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _stored(engine: sa.Engine, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    with engine.connect() as conn:
        rows = conn.execute(select(Submission.id).where(Submission.id.in_(ids)))  # type: ignore[attr-defined]
        return {row[0] for row in rows}


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "two-workers"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_every_acknowledged_submission_survives_a_stop_mid_burst(
    database_url: str,
    engine: sa.Engine,
    make: Factory,
    tmp_path: Path,
    sig: signal.Signals,
    workers: int,
) -> None:
    rnd = make.round()
    handles = [make.user(Role.activist).handle for _ in range(CLIENTS)]
    path = f"/api/v1/rounds/{rnd.id}/submissions"
    secret = secrets.token_urlsafe(36)
    log_path = tmp_path / "server.log"
    burst = Burst()
    signalled: list[float] = []
    stop = threading.Event()

    with serving(database_url, secret, log_path, workers=workers) as server:
        tokens = [_sign_in(server.base_url, handle) for handle in handles]
        clients = [
            threading.Thread(
                target=_submit_until,
                args=(server.base_url, path, token, stop, burst, signalled),
            )
            for token in tokens
        ]
        slow = SlowRequest()
        release = threading.Event()
        slow_client = threading.Thread(
            target=_submit_slowly, args=(server.base_url, path, tokens[0], release, slow)
        )
        for client in [slow_client, *clients]:
            client.start()
        started = time.monotonic()
        while time.monotonic() - started < BEFORE_SIGNAL or (
            len(burst.acknowledged) < ACKNOWLEDGED_BEFORE and time.monotonic() - started < GRACE
        ):
            time.sleep(0.05)
        with burst.lock:
            before = len(burst.acknowledged)
            signalled.append(time.monotonic())
            # SIGTERM as a service manager sends it, to the main process; SIGKILL to
            # the whole group, as a crash of the machine would take every worker
            if sig == signal.SIGTERM:
                server.process.send_signal(sig)
            else:
                os.killpg(server.process.pid, sig)
        time.sleep(AFTER_SIGNAL)  # the burst meets a stopping (or dead) server
        release.set()
        server.process.wait(timeout=GRACE + 5)
        stopped_in = time.monotonic() - signalled[0]
        stop.set()
        for client in [slow_client, *clients]:
            client.join(timeout=GRACE + 10)
        log = server.log_path.read_text(encoding="utf-8", errors="replace")

    assert before >= ACKNOWLEDGED_BEFORE, (
        f"too little was acknowledged before the signal: {burst.statuses}"
    )
    assert set(burst.statuses) == {201}, f"answers other than 201: {burst.statuses}"
    assert burst.failed > 0, "no request met the stopped server: the signal came too late"
    if sig == signal.SIGKILL:
        assert slow.status is None, f"a request to a killed server got {slow.status}"
    if sig == signal.SIGTERM:
        # a graceful stop: what was in flight was answered, and the app shut down
        assert slow.status == 201, f"the request in flight got {slow.status or slow.error}"
        assert slow.id is not None
        burst.acknowledged.append(slow.id)
        assert stopped_in < GRACE, f"the server took {stopped_in:.1f} s to stop"
        assert log.count("Application shutdown complete") == workers, log[-3000:]

    # the restarted server opens the database as it was left (SQLite recovers its WAL)
    with serving(database_url, secret, log_path, workers=1) as server:
        assert httpx.get(server.base_url + path.removesuffix("/submissions")).status_code == 200
    stored = _stored(engine, burst.acknowledged)
    lost = sorted(set(burst.acknowledged) - stored)
    print(
        f"\n{engine.dialect.name} {sig.name} workers={workers}: acknowledged "
        f"{len(burst.acknowledged)} (after the signal {burst.answered_after_signal}), "
        f"stored {len(stored)}, lost {len(lost)}, failed requests {burst.failed}"
    )
    assert len(set(burst.acknowledged)) == len(burst.acknowledged)
    assert lost == [], f"{len(lost)} acknowledged submissions were not stored: {lost[:5]}"


def test_a_stop_signal_closes_the_app_while_requests_are_still_in_flight(
    settings: Settings, engine: sa.Engine
) -> None:
    """Streams watch `closing`: it must be set when the signal arrives, not only when the
    app shuts down after the requests in flight (a stream would hold those open)."""
    app = create_app(settings)
    port = free_port()
    server = serve.Server(serve.server_config(app, host="127.0.0.1", port=port, workers=1))
    running = threading.Thread(target=server.run)
    running.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        assert running.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    handle = f"late-{uuid.uuid4().hex[:6]}"
    body = json.dumps({"handle": handle, "password": PASSWORD}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=GRACE + 5)
    try:
        conn.putrequest("POST", "/api/v1/auth/register")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(message_body=body[:10])
        time.sleep(0.2)  # the request has reached the app, which waits for its body

        server.handle_exit(signal.SIGTERM, None)
        time.sleep(0.3)
        assert lifecycle.closing(app.state).is_set()
        assert running.is_alive(), "the server stopped with a request in flight"

        conn.send(body[10:])
        assert conn.getresponse().status == 201
    finally:
        conn.close()
        server.should_exit = True
        running.join(timeout=GRACE + 5)
    assert not running.is_alive()
    with engine.connect() as db:
        stored = db.execute(
            sa.text("SELECT count(*) FROM user_account WHERE handle = :h"), {"h": handle}
        )
        assert stored.scalar_one() == 1
