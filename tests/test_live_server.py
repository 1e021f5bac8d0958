"""Promises that only hold against a real server process: `civic-input serve`, over TCP.

- a 201 means the row is committed (hundreds of concurrent registrations all land);
- a Schemathesis run over every operation finds no 5xx and no response off its schema;
- no log line of the run holds a client address or user agent (this test runs last,
  so it greps the log of every request the module made).
"""

import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from api.config import Settings
from models.user import Role
from tests.factories import PASSWORD, Factory
from tests.live import LiveServer, run_server

REGISTER = "/api/v1/auth/register"
TOKEN = "/api/v1/auth/token"
ME = "/api/v1/users/me"
LOGOUT = "/api/v1/auth/logout"

PROBE_UA = "CivicProbe/9.9 secret-ua"
PROBE_ADDRESS = "203.0.113.77"
SCHEMATHESIS_CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance"
SCHEMATHESIS_SEED = "20120502"


@pytest.fixture(scope="module")
def live_server(database_url: str, settings: Settings) -> Iterator[LiveServer]:
    """`civic-input serve` on a free port, sharing the test database (migrated by `settings`)."""
    with run_server(database_url) as server:
        yield server


def _count_users(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM user_account")).scalar_one())


def _sign_in(base_url: str, handle: str, password: str = PASSWORD) -> str:
    response = httpx.post(
        base_url + TOKEN, data={"username": handle, "password": password}, timeout=30
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


# --- a 201 means committed ------------------------------------------------------


def test_concurrent_registrations_all_land(live_server: LiveServer, engine: sa.Engine) -> None:
    n = 200
    prefix = f"crowd-{uuid.uuid4().hex[:6]}"
    handles = [f"{prefix}-{i:03d}" for i in range(n)]
    before = _count_users(engine)
    go = threading.Event()
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)

    with httpx.Client(base_url=live_server.base_url, timeout=120, limits=limits) as http:

        def register(handle: str) -> tuple[str, int | str, str | None]:
            go.wait()
            body = {"handle": handle, "password": f"pw-{handle}-long-enough"}
            try:
                response = http.post(REGISTER, json=body)
            except httpx.HTTPError as exc:
                return handle, type(exc).__name__, None
            stored = response.json().get("handle") if response.status_code == 201 else None
            return handle, response.status_code, stored

        with ThreadPoolExecutor(max_workers=50) as pool:
            futures = [pool.submit(register, handle) for handle in handles]
            go.set()
            results = [future.result() for future in futures]

    failed = [(handle, status) for handle, status, _ in results if status != 201]
    assert not failed, f"{len(failed)} of {n} not 201: {failed[:20]}\n{live_server.log_tail()}"
    assert [stored for _, _, stored in results] == handles

    assert _count_users(engine) - before == n
    with engine.connect() as conn:
        stored_handles = set(
            conn.execute(
                sa.text("SELECT handle FROM user_account WHERE handle LIKE :p"),
                {"p": f"{prefix}-%"},
            ).scalars()
        )
    assert stored_handles == set(handles)


# --- Schemathesis over the whole OpenAPI document -----------------------------------


def _schemathesis(base_url: str, token: str, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        SCHEMATHESIS_CHECKS,
        "--seed",
        SCHEMATHESIS_SEED,
        "--header",
        f"Authorization: Bearer {token}",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--no-color",
        *extra,
    ]
    with tempfile.TemporaryDirectory(prefix="civic-st-") as cwd:
        return subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
        )


def _summary(output: str) -> str:
    start = output.find("=== SUMMARY")
    return output[start:] if start >= 0 else output[-4000:]


def _operations(output: str) -> tuple[int, int]:
    """(selected, tested) from the summary, e.g. `Selected: 13/14` and `Tested: 13`."""
    selected = re.search(r"Selected: (\d+)/\d+", output)
    tested = re.search(r"Tested: (\d+)", output)
    assert selected and tested, output[-3000:]
    return int(selected.group(1)), int(tested.group(1))


def test_schemathesis_finds_no_server_error_or_schema_violation(
    live_server: LiveServer, engine: sa.Engine, make: Factory
) -> None:
    admin = make.user(Role.admin)
    admin_token = _sign_in(live_server.base_url, admin.handle)

    # Every operation but logout, as an admin (logout would end the admin's token
    # halfway through the run and leave the rest to 401s).
    run = _schemathesis(
        live_server.base_url, admin_token, "--max-examples", "15", "--exclude-path", LOGOUT
    )
    print(_summary(run.stdout))
    assert run.returncode == 0, f"schemathesis failed:\n{run.stdout}\n{run.stderr}"
    selected, tested = _operations(run.stdout)
    assert tested == selected > 1

    # The token held for the whole run: authenticated operations really ran as admin.
    me = httpx.get(
        live_server.base_url + ME, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30
    )
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "admin"

    # Then logout, on an account of its own.
    activist = make.user(Role.activist)
    activist_token = _sign_in(live_server.base_url, activist.handle)
    # (no stateful phase: the links that chain calls lead to operations left out here)
    run = _schemathesis(
        live_server.base_url,
        activist_token,
        *("--max-examples", "15", "--include-path", LOGOUT),
        *("--phases", "examples,coverage,fuzzing"),
    )
    print(_summary(run.stdout))
    assert run.returncode == 0, f"schemathesis (logout) failed:\n{run.stdout}\n{run.stderr}"
    assert _operations(run.stdout) == (1, 1)


def test_a_control_character_in_the_path_cannot_forge_a_log_line(live_server: LiveServer) -> None:
    """The server's own log (uvicorn, `configure_logging`): `%0a` and ESC stay escaped."""
    marker = uuid.uuid4().hex[:8]
    r = httpx.get(f"{live_server.base_url}/api/v1/x%0aFORGED-{marker}%0d%1b[31m", timeout=30)
    assert r.status_code == 404
    deadline = time.monotonic() + 5
    while f"FORGED-{marker}" not in live_server.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [line for line in live_server.log_text().splitlines() if f"FORGED-{marker}" in line]
    assert len(lines) == 1, lines
    assert f"/api/v1/x\\x0aFORGED-{marker}\\x0d\\x1b[31m 404" in lines[0]
    assert "\x1b" not in live_server.log_text()


# --- no address or user agent in any log line (keep this test last) ---------------------


def test_logs_hold_no_client_address_or_user_agent(
    live_server: LiveServer, engine: sa.Engine
) -> None:
    probe = {
        "User-Agent": PROBE_UA,
        "X-Forwarded-For": PROBE_ADDRESS,
        "X-Real-IP": PROBE_ADDRESS,
        "Forwarded": f"for={PROBE_ADDRESS}",
    }
    handle = f"probe-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=live_server.base_url, headers=probe, timeout=30) as http:
        assert http.get("/healthz").status_code == 200
        registered = http.post(REGISTER, json={"handle": handle, "password": PASSWORD})
        assert registered.status_code == 201, registered.text
        failed = http.post(TOKEN, data={"username": handle, "password": "wrong password!"})
        assert failed.status_code == 401
        assert http.get("/api/v1/no-such-thing").status_code == 404
        # The query string may hold a search: it is not logged either.
        assert http.get("/api/v1/dialogues", params={"cursor": "querysecret"}).status_code == 400

    expected = [
        "civic_input.access: GET /healthz 200 ",
        "civic_input.access: POST /api/v1/auth/register 201 ",
        "civic_input.access: POST /api/v1/auth/token 401 ",
        "civic_input.access: GET /api/v1/no-such-thing 404 ",
        "civic_input.access: GET /api/v1/dialogues 400 ",
    ]
    # The access line is written just after the response is sent: give it a moment.
    log = _wait_for(live_server, expected[-1], seconds=5.0)
    for line in expected:
        assert line in log, f"no access line {line!r} in the log:\n{live_server.log_tail()}"

    startup = f"Uvicorn running on http://127.0.0.1:{live_server.port} "
    lines = log.splitlines()
    assert sum(startup in line for line in lines) == 1
    ipv4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")
    leaks = [
        line
        for line in lines
        if startup not in line
        and (
            "127.0.0.1" in line
            or PROBE_ADDRESS in line
            or "secret-ua" in line
            or "CivicProbe" in line
            or "python-httpx" in line
            or "schemathesis/" in line
            or "querysecret" in line
            or ipv4.search(line)
        )
    ]
    assert not leaks, "client address, user agent or query string in the log:\n" + "\n".join(
        leaks[:20]
    )


def _wait_for(server: LiveServer, text: str, *, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    log = server.log_text()
    while text not in log and time.monotonic() < deadline:
        time.sleep(0.05)
        log = server.log_text()
    return log
