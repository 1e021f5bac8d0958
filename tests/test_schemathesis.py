"""Schemathesis, every check and every phase, against the real server: whatever the
OpenAPI document promises (statuses, bodies, headers, content types, auth) is what the
server does, for the examples, the boundary cases, random input and chains of calls."""

import os
import subprocess
import sys
from pathlib import Path

import httpx

from models.user import Role
from tests.factories import PASSWORD
from tests.live import run_server

ST = Path(sys.executable).with_name("st")
CONFIG = Path(__file__).with_name("schemathesis.toml")

# Small enough that each database's run stays well under three minutes.
MAX_EXAMPLES = int(os.environ.get("CIVIC_SCHEMATHESIS_MAX_EXAMPLES", "5"))

EXCLUDED = [
    # would end the token every other call is made with
    "--exclude-operation-id",
    "logout",
    # never ends: a live stream (tests/api/test_feed_stream.py)
    "--exclude-operation-id",
    "stream_feed",
]


def test_schemathesis_finds_nothing(database_url, make, tmp_path):
    admin = make.user(Role.admin)
    with run_server(database_url) as server:
        token = httpx.post(
            f"{server.base_url}/api/v1/auth/token",
            data={"username": admin.handle, "password": PASSWORD},
            timeout=30,
        ).json()["access_token"]
        run = subprocess.run(
            [
                str(ST),
                "--config-file",
                str(CONFIG),
                "run",
                f"{server.base_url}/openapi.json",
                "--checks",
                "all",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                "15",
                "--workers",
                "1",
                "--request-timeout",
                "30",
                "--header",
                f"Authorization: Bearer {token}",
                "--report",
                "junit",
                "--report-dir",
                str(tmp_path),
                *EXCLUDED,
            ],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,
        )
    summary = run.stdout[run.stdout.find("=== SUMMARY") :]
    print(summary)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout or "passed" in run.stdout, run.stdout[-5000:]
