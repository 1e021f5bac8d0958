"""The live feed across processes: entries committed by this process reach subscribers
of two real servers (`python -m api.cli serve`) on the same database within 1 s
(PostgreSQL: LISTEN/NOTIFY; SQLite: each server's head poll)."""

import json
import threading
import time
import uuid

import httpx
import sqlalchemy as sa

from api.db import open_session
from api.services import ledger
from tests.live import run_server

COMMITS = 10
LIMIT_SECONDS = 1.0


def _listen(base_url: str, arrived: dict[int, float], ready: threading.Event) -> None:
    with (
        httpx.Client(timeout=10) as http,
        http.stream("GET", base_url + "/api/v1/feed/stream") as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if line == ": live":
                ready.set()
            elif line.startswith("data: "):
                seq = json.loads(line[6:])["seq"]
                arrived[seq] = time.monotonic()
                if len(arrived) == COMMITS:
                    return


def test_a_commit_reaches_subscribers_of_other_processes_within_a_second(
    database_url: str, engine: sa.Engine
) -> None:
    with run_server(database_url) as first, run_server(database_url) as second:
        arrivals: list[dict[int, float]] = [{}, {}]
        threads = []
        for server, arrived in zip((first, second), arrivals, strict=True):
            ready = threading.Event()
            thread = threading.Thread(
                target=_listen, args=(server.base_url, arrived, ready), daemon=True
            )
            thread.start()
            assert ready.wait(10), "no stream"
            threads.append(thread)
        committed: dict[int, float] = {}
        for _ in range(COMMITS):
            with open_session(engine, write=True) as session:
                entry = ledger.append(
                    session,
                    event_type="submission.published",
                    object_type="submission",
                    object_id=uuid.uuid4(),
                    subject_id=uuid.uuid4(),
                    round_id=None,
                    content={"title": "live"},
                )
                seq = entry.seq
                session.commit()
            committed[seq] = time.monotonic()
            time.sleep(0.2)
        for thread in threads:
            thread.join(timeout=5)
    latencies = [arrived[seq] - at for arrived in arrivals for seq, at in committed.items()]
    print(
        f"commit -> event: max {max(latencies):.3f} s, mean {sum(latencies) / len(latencies):.3f} s"
    )
    assert all(sorted(arrived) == sorted(committed) for arrived in arrivals), arrivals
    assert max(latencies) < LIMIT_SECONDS, latencies
