"""The bulk exports stream in constant memory: 100,000 entries through a real server
process, whose peak resident memory during the export stays within a fixed bound.

The peak is the kernel's own high-water mark (VmHWM, reset just before the export through
/proc/<pid>/clear_refs), cross-checked by sampling VmRSS every 50 ms. Throughput is
printed, not asserted (run with -s to see it)."""

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.config import Settings
from models.ledger import RecordEntry
from tests.live import LiveServer, run_server

ENTRIES = RecordEntry.__table__  # type: ignore[attr-defined]
COUNT = 100_000
CHUNK = 5_000
BOUND_MB = 150  # over the server's resident memory just before the export
BASE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def live_server(database_url: str, settings: Settings) -> Iterator[LiveServer]:
    with run_server(database_url) as server:
        yield server


def _content(n: int, round_id: uuid.UUID, object_id: uuid.UUID) -> dict[str, Any]:
    """About 300 bytes of JSON, shaped like a published submission."""
    return {
        "id": str(object_id),
        "round_id": str(round_id),
        "kind": "concern",
        "title": f"Concern {n}: detained labour lawyers",
        "body": f"Lawyers who took labour cases were detained (item {n}).",
        "language": "en",
        "themes": ["labour-rights"],
        "addressed_to": ["CN"],
        "attribution": "anonymous",
        "author": None,
        "published_at": (BASE + timedelta(seconds=n)).isoformat().replace("+00:00", "Z"),
    }


@pytest.fixture
def many_entries(engine: sa.Engine) -> int:
    """COUNT entries written straight to the table in chunks (the chain need not be valid
    here); the `engine` fixture's cleanup empties the table afterwards."""
    round_id = uuid.uuid4()
    began = time.perf_counter()
    with engine.begin() as conn:
        for start in range(1, COUNT + 1, CHUNK):
            rows = []
            for n in range(start, start + CHUNK):
                object_id = uuid.uuid4()
                rows.append(
                    {
                        "seq": n,
                        "event_type": "submission.published",
                        "at": BASE + timedelta(seconds=n),
                        "object_type": "submission",
                        "object_id": object_id,
                        "round_id": round_id,
                        "subject_id": object_id,
                        "content": _content(n, round_id, object_id),
                        "content_hash": f"{n:064x}",
                        "prev_hash": f"{n - 1:064x}",
                        "hash": f"{n:064x}",
                    }
                )
            conn.execute(ENTRIES.insert(), rows)
    print(f"\ninserted {COUNT} entries in {time.perf_counter() - began:.1f} s")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ENTRIES)).scalar_one() == COUNT
    return COUNT


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _reset_peak(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux 4.0+); False if not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class Sampler(threading.Thread):
    """VmRSS of `pid` every 50 ms, keeping the largest."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak_kib = max(self.peak_kib, _status_kib(self.pid, "VmRSS"))
            self.samples += 1
            self._stop_event.wait(0.05)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@pytest.mark.parametrize(
    ("path", "header_lines"), [("/api/v1/export.ndjson", 0), ("/api/v1/export.csv", 1)]
)
def test_export_of_100000_entries_streams_in_bounded_memory(
    live_server: LiveServer, many_entries: int, path: str, header_lines: int
) -> None:
    pid = live_server.pid
    url = live_server.base_url + path
    with httpx.Client(timeout=600) as http:
        # Warm up: the route, its imports and a pooled connection, on an empty export.
        warm = http.get(url, params={"round_id": str(uuid.uuid4())})
        assert warm.status_code == 200

        baseline_kib = _status_kib(pid, "VmRSS")
        hwm_reset = _reset_peak(pid)
        sampler = Sampler(pid)
        sampler.start()
        lines, size, head, tail = 0, 0, b"", b""
        began = time.perf_counter()
        with http.stream("GET", url) as response:
            assert response.status_code == 200
            for chunk in response.iter_bytes(64 * 1024):
                if len(head) < 8192:
                    head += chunk[:8192]
                lines += chunk.count(b"\n")
                size += len(chunk)
                tail = (tail + chunk)[-4096:]
        elapsed = time.perf_counter() - began
        sampler.stop()
        peak_kib = max(sampler.peak_kib, _status_kib(pid, "VmHWM") if hwm_reset else 0)

    assert lines == many_entries + header_lines
    first = head.split(b"\n")[header_lines].decode()
    last = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode()
    if path.endswith(".ndjson"):
        assert json.loads(first)["seq"] == 1
        assert json.loads(last)["seq"] == many_entries
    else:
        assert head.startswith(b"seq,type,at,")
        assert first.startswith("1,submission.published,")
        assert last.startswith(f"{many_entries},submission.published,")

    growth_mb = (peak_kib - baseline_kib) / 1024
    print(
        f"\n{path}: {many_entries} items, {size / 2**20:.1f} MiB in {elapsed:.1f} s "
        f"= {many_entries / elapsed:,.0f} items/s; server RSS {baseline_kib / 1024:.1f} MiB "
        f"before, peak {peak_kib / 1024:.1f} MiB (+{growth_mb:.1f} MiB; "
        f"{'VmHWM reset + ' if hwm_reset else ''}{sampler.samples} samples)"
    )
    assert sampler.samples > 0
    assert growth_mb < BOUND_MB, f"the export grew the server by {growth_mb:.0f} MiB"
