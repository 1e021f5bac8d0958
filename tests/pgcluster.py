"""A throwaway PostgreSQL cluster of the test's own: `initdb` into a temporary directory,
served on a free port, which the test may stop, start, pause (SIGSTOP) and resume
without going near the shared server.

    with throwaway_cluster() as cluster:
        cluster.url            # postgresql+psycopg://postgres@127.0.0.1:<port>/postgres
        cluster.stop(); cluster.start()
        cluster.pause(); cluster.resume()
"""

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from tests.live import free_port

SEARCH = (
    "/usr/local/bin",
    *sorted(map(str, Path("/usr/lib/postgresql").glob("*/bin")), reverse=True),
)


def find_binary(name: str) -> str | None:
    for directory in SEARCH:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def available() -> bool:
    return all(find_binary(name) for name in ("initdb", "pg_ctl", "postgres"))


def _as_owner() -> list[str]:
    """initdb and postgres refuse to run as root: run them as `postgres` then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class Cluster:
    directory: Path
    port: int
    paused: list[int] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*_as_owner(), str(find_binary("pg_ctl")), "-D", str(self.data), "-s", *args],
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory} -c fsync=off "
            "-c shared_buffers=16MB -c max_connections=40"
        )
        self._pg_ctl("-w", "-t", "30", "-l", str(self.directory / "log"), "-o", options, "start")

    def stop(self) -> None:
        """Stop at once, as a crash would (`-m immediate`)."""
        self._pg_ctl("-w", "-m", "immediate", "stop")

    def processes(self) -> list[int]:
        """The postmaster and every process it started (backends, checkpointer, ...)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(
            ["pgrep", "-P", str(postmaster)], capture_output=True, text=True, check=False
        ).stdout.split()
        return [postmaster, *map(int, children)]

    def pause(self) -> None:
        """SIGSTOP every process of the cluster: the sockets stay open, nothing answers."""
        self.paused = self.processes()
        for pid in self.paused:
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self.paused:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.paused = []


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt("SIGTERM")


@contextmanager
def _teardown_on_sigterm() -> Iterator[None]:
    """A test run stopped with SIGTERM (a CI timeout) still runs the finalizers: a
    cluster left paused, or running, would outlive it (pg_ctl detaches the server)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A new cluster, running; resumed and stopped (then deleted) whatever happens."""
    with _teardown_on_sigterm(), tempfile.TemporaryDirectory(prefix="civic-pg-") as tmp:
        directory = Path(tmp)
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        cluster = Cluster(directory=directory, port=free_port())
        subprocess.run(
            [
                *_as_owner(),
                str(find_binary("initdb")),
                "-D",
                str(cluster.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=120,
        )
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.resume()
            if (cluster.data / "postmaster.pid").exists():
                try:
                    cluster.stop()
                except subprocess.SubprocessError:
                    for pid in cluster.processes():
                        os.kill(pid, signal.SIGKILL)
                    time.sleep(0.5)
