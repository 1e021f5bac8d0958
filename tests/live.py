"""The real server as a separate process: `civic-input serve` on a free port, against
the test database, logging to a file the tests can read.

    with run_server(database_url) as server:
        httpx.get(server.base_url + "/healthz")
        server.log_text()

The product promises (a 201 means committed, no address in any log) are about the
process a deployment runs, so these tests start exactly that process.
"""

import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    port: int
    log_path: Path
    secret: str
    pid: int

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(database_url: str, secret: str) -> dict[str, str]:
    """The inherited environment without any stray CIVIC_ setting, plus ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVIC_")}
    env.update(
        CIVIC_DATABASE_URL=database_url,
        CIVIC_SECRET_KEY=secret,
        CIVIC_ENV="test",
        # the tests write to the database behind the server's back, so the server must
        # not answer from its read cache (which sees only its own writes at once)
        CIVIC_RESPONSE_CACHE="false",
        # the tests' own requests come through a "proxy": a forwarded address is believed
        # (for throttling) and must still never reach a log
        CIVIC_TRUSTED_PROXIES="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    return env


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, get SIGTERM if the test process dies first,
    so a killed test run leaves no server behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


@contextmanager
def run_server(
    database_url: str, *, log_dir: Path | None = None, timeout: float = START_TIMEOUT
) -> Iterator[LiveServer]:
    """Start `python -m api.cli serve` on a free port; stop it (SIGTERM, then kill) on exit."""
    with tempfile.TemporaryDirectory(prefix="civic-live-") as tmp:
        directory = log_dir or Path(tmp)
        log_path = directory / "server.log"
        secret = secrets.token_urlsafe(36)  # 48 characters
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "api.cli",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                cwd=REPO,
                env=server_env(database_url, secret),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        try:
            deadline = time.monotonic() + timeout
            while not _healthy(f"{base_url}/healthz"):
                if process.poll() is not None:
                    raise RuntimeError(
                        f"the server exited with {process.returncode} before answering "
                        f"/healthz; log tail:\n{_tail(log_path)}"
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the server did not answer {base_url}/healthz within {timeout:.0f} s; "
                        f"log tail:\n{_tail(log_path)}"
                    )
                time.sleep(0.1)
            yield LiveServer(
                base_url=base_url, port=port, log_path=log_path, secret=secret, pid=process.pid
            )
        finally:
            _stop(process)
