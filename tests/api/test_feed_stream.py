"""The live feed (`GET /api/v1/feed/stream`): served by a real uvicorn in a thread (a
second app on the same database, with its own engine), read with httpx streaming; the
writes go through the test app, as another process's would."""

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from api import lifecycle, stream
from api.config import Settings
from api.db import open_session
from api.main import create_app
from api.services import ledger
from tests.api.feed import FEED, feed_all, pending, world
from tests.live import free_port

STREAM = "/api/v1/feed/stream"
LIVE = {"": "live"}  # the comment that ends the backlog
WAIT = 5.0  # seconds a read may wait for the next line before the test fails


@dataclass
class Server:
    app: FastAPI
    base_url: str


@contextmanager
def serve(settings: Settings, **override: Any) -> Iterator[Server]:
    app = create_app(settings.model_copy(update=override))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield Server(app, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def live(settings: Settings) -> Iterator[Server]:
    with serve(settings) as server:
        yield server


class Reader:
    """An open stream, read event by event (an event: its fields; comments under ":")."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()

    def next(self) -> dict[str, Any]:
        """The next event or comment, but the one that says the backlog is over."""
        event = self.next_any()
        return self.next_any() if event == LIVE else event

    def until_live(self) -> None:
        while self.next_any() != LIVE:
            pass

    def next_any(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for line in self.lines:
            if line == "":
                if fields:
                    return fields
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        raise EOFError(f"the stream ended; read so far: {fields}")

    def next_entry(self) -> dict[str, Any]:
        while True:
            event = self.next()
            if "data" in event:
                assert event["event"] == "entry"
                entry: dict[str, Any] = json.loads(event["data"])
                assert event["id"] == str(entry["seq"])
                return entry

    def entries(self, count: int) -> list[dict[str, Any]]:
        return [self.next_entry() for _ in range(count)]


@contextmanager
def subscribe(
    server: Server, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Iterator[Reader]:
    with (
        httpx.Client(base_url=server.base_url, timeout=WAIT) as http,
        http.stream("GET", STREAM, params=params, headers=headers) as response,
    ):
        assert response.status_code == 200, response.read()
        yield Reader(response)


def published(make, driver, w, count: int) -> list[Any]:
    subs = [pending(make, w) for _ in range(count)]
    for sub in subs:
        driver.publish(w.moderator, sub.id)
    return subs


def test_entries_arrive_in_order_as_the_feed_shows_them(client, make, driver, live):
    w = world(make)
    published(make, driver, w, 2)
    with subscribe(live) as reader:
        headers = reader.response.headers
        assert headers["content-type"].startswith("text/event-stream")
        assert headers["cache-control"] == "no-cache"
        assert headers["x-accel-buffering"] == "no"
        assert "etag" not in headers
        backlog = reader.entries(2)
        published(make, driver, w, 2)
        new = reader.entries(2)
    assert [e["seq"] for e in backlog + new] == [1, 2, 3, 4]
    assert backlog + new == feed_all(client)  # the very JSON of the polling feed


def test_resume_after_last_event_id_or_after(client, make, driver, live):
    w = world(make)
    published(make, driver, w, 3)
    with subscribe(live, headers={"Last-Event-ID": "1"}) as reader:
        assert [e["seq"] for e in reader.entries(2)] == [2, 3]
    with subscribe(live, params={"after": 2}) as reader:
        assert reader.next_entry()["seq"] == 3
    # an EventSource reconnects to its first URL with the id it saw last: the header wins
    with subscribe(live, params={"after": 0}, headers={"Last-Event-ID": "2"}) as reader:
        assert reader.next_entry()["seq"] == 3
    bad = httpx.get(live.base_url + STREAM, headers={"Last-Event-ID": "x"})
    assert bad.status_code == 422


def test_round_filter(client, make, driver, live):
    w = world(make)
    other = world(make)
    published(make, driver, other, 1)
    published(make, driver, w, 1)
    with subscribe(live, params={"round_id": str(w.rnd.id)}) as reader:
        assert reader.next_entry()["seq"] == 2
        published(make, driver, other, 1)
        published(make, driver, w, 1)
        entry = reader.next_entry()
    assert (entry["seq"], entry["round_id"]) == (4, str(w.rnd.id))


def test_a_tombstone_arrives_and_a_resume_shows_the_content_gone(client, make, driver, live):
    w = world(make)
    with subscribe(live) as reader:
        (sub,) = published(make, driver, w, 1)
        first = reader.next_entry()
        assert first["type"] == "submission.published"
        assert first["content"]["title"] == sub.title
        driver.withdraw(w.author, sub.id)
        gone = reader.next_entry()
    assert gone["type"] == "submission.withdrawn"
    assert gone["object_id"] == str(sub.id)
    assert gone["content"]["status"] == "withdrawn"
    with subscribe(live) as reader:
        again = reader.entries(2)
    assert again[0]["content"] is None  # as the polling feed shows it now
    assert again == ok_items(client)


def ok_items(client) -> list[dict[str, Any]]:
    response = client.get(FEED)
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_heartbeat_while_nothing_happens(client, live):
    live.app.state.stream.heartbeat_seconds = 0.2
    with subscribe(live) as reader:
        began = time.monotonic()
        event = reader.next()
        assert event == {"": "ping"}
        assert time.monotonic() - began < 2


def test_subscribers_beyond_the_limit_get_503(client, settings):
    with serve(settings, stream_max_subscribers=2) as server:
        with subscribe(server) as one, subscribe(server) as two:
            one.until_live()
            two.until_live()
            refused = httpx.get(server.base_url + STREAM, timeout=WAIT)
            assert refused.status_code == 503
            assert refused.headers["content-type"] == "application/problem+json"
            assert int(refused.headers["retry-after"]) > 0
            assert refused.json()["type"] == "urn:civic-input:problem:too-many-subscribers"
        # the places free up as the streams close
        deadline = time.monotonic() + WAIT
        while server.app.state.stream.subscribers and time.monotonic() < deadline:
            time.sleep(0.05)
        with subscribe(server):
            pass


def test_shutdown_ends_the_stream_with_a_retry_hint(client, settings):
    with serve(settings) as server, subscribe(server) as reader:
        server.app.state.stream.heartbeat_seconds = 60
        reader.until_live()
        lifecycle.begin_shutdown(server.app.state)
        assert reader.next() == {"retry": "3000"}
        with pytest.raises(EOFError):
            reader.next()


def test_one_read_per_wake_up_whatever_the_subscribers(client, make, driver, live):
    """Each new entry is read once for the process, not once per subscriber."""
    w = world(make)
    hub = live.app.state.stream
    hub.safety_seconds = 60  # no routine head check inside the test's window
    reads: list[str] = []

    def count(_conn, _cursor, statement: str, *_args: Any) -> None:
        if "record_entry" in statement:
            reads.append(statement)

    with (
        subscribe(live) as a,
        subscribe(live) as b,
        subscribe(live) as c,
        subscribe(live, params={"round_id": str(w.rnd.id)}) as d,
    ):
        for reader in (a, b, c, d):
            reader.until_live()  # backlogs read
        sa.event.listen(live.app.state.engine, "before_cursor_execute", count)
        try:
            published(make, driver, w, 1)
            seqs = [r.next_entry()["seq"] for r in (a, b, c, d)]
        finally:
            sa.event.remove(live.app.state.engine, "before_cursor_execute", count)
    assert seqs == [1, 1, 1, 1]
    # one read for the wake-up (a second when a routine head check or a late
    # notification wakes the hub again), never one per subscriber
    assert len(reads) == 1, reads


def append_burst(engine: sa.Engine, rounds: list[uuid.UUID]) -> list[int]:
    """Entries for these rounds (one each, in turn), committed in ONE transaction: the
    hub reads them in one wake-up. Returns their seqs."""
    seqs = []
    with open_session(engine, write=True) as session:
        for round_id in rounds:
            entry = ledger.append(
                session,
                event_type="submission.published",
                object_type="submission",
                object_id=uuid.uuid4(),
                subject_id=uuid.uuid4(),
                round_id=round_id,
                content={"title": "burst"},
            )
            seqs.append(entry.seq)
        session.commit()
    return seqs


def test_a_burst_keeps_order_and_ids_for_every_subscriber(client, live):
    """Entries that come together are sent together, each once, in order, `id` its seq,
    to subscribers of every round and of one round."""
    engine = live.app.state.engine
    a, b = uuid.uuid4(), uuid.uuid4()
    with (
        subscribe(live) as everyone,
        subscribe(live, params={"round_id": str(a)}) as of_a,
    ):
        everyone.until_live()
        of_a.until_live()
        first = append_burst(engine, [a, b] * 15)
        second = append_burst(engine, [b, a, a] * 10)
        seqs = first + second
        assert seqs == list(range(seqs[0], seqs[0] + 60))
        got = everyone.entries(60)
        assert [e["seq"] for e in got] == seqs
        assert got == feed_all(client)
        wanted = [e["seq"] for e in got if e["round_id"] == str(a)]
        assert [e["seq"] for e in of_a.entries(len(wanted))] == wanted
    # a resume from the middle of the burst goes on from there
    with subscribe(live, headers={"Last-Event-ID": str(seqs[29])}) as resumed:
        assert [e["seq"] for e in resumed.entries(30)] == seqs[30:]


def test_pending_batches_go_as_one_chunk_in_order_without_repeats():
    """What a subscriber sends on a wake-up: every batch handed to it since its last
    write, joined in one body; what its backlog already sent (seq <= last) is left out,
    and a round's subscriber gets only that round's entries."""

    def event(seq: int, round_id: str | None) -> stream.Event:
        return stream.encode({"seq": seq, "round_id": round_id})

    batches = [
        stream.Batch([event(1, "r"), event(2, None), event(3, "r")]),
        stream.Batch([event(4, "q"), event(5, "r")]),
        stream.Batch([event(6, None)]),
    ]
    everyone, of_r = stream.Subscriber(None), stream.Subscriber("r")
    for batch in batches:
        everyone.deliver(batch)
        of_r.deliver(batch)
    body, last = everyone.take(2)  # its backlog went as far as 2
    assert [int(i) for i in re.findall(rb"^id: (\d+)$", body, re.M)] == [3, 4, 5, 6]
    assert last == 6 and not everyone.pending
    assert body.count(b"\n\n") == 4  # whole events, nothing else
    body, last = of_r.take(0)
    assert [int(i) for i in re.findall(rb"^id: (\d+)$", body, re.M)] == [1, 3, 5]
    assert last == 6
    assert everyone.take(6) == (b"", 6)


def test_subscribers_as_far_as_the_hub_read_no_backlog(client, make, driver, live):
    """A reconnect storm of subscribers that were up to date costs no database read:
    the hub hands on everything after what it has seen."""
    w = world(make)
    published(make, driver, w, 2)
    hub = live.app.state.stream
    hub.safety_seconds = 60
    with subscribe(live) as first:
        assert [e["seq"] for e in first.entries(2)] == [1, 2]
        assert hub.seen == 2
        reads: list[str] = []

        def count(_conn, _cursor, statement: str, *_args: Any) -> None:
            if "record_entry" in statement:
                reads.append(statement)

        sa.event.listen(live.app.state.engine, "before_cursor_execute", count)
        try:
            with (
                subscribe(live, headers={"Last-Event-ID": "2"}) as second,
                subscribe(live, params={"after": 2}) as third,
            ):
                second.until_live()
                third.until_live()
                assert reads == []
                published(make, driver, w, 1)
                assert [r.next_entry()["seq"] for r in (first, second, third)] == [3, 3, 3]
        finally:
            sa.event.remove(live.app.state.engine, "before_cursor_execute", count)
    # one behind the hub: its backlog is read
    with subscribe(live, params={"after": 1}) as behind:
        assert [e["seq"] for e in behind.entries(2)] == [2, 3]


def test_heartbeats_go_on_while_other_rounds_are_busy(client, live):
    """Entries of other rounds wake a round's subscriber but send it nothing: they must
    not put its heartbeat off."""
    hub = live.app.state.stream
    hub.heartbeat_seconds = 0.4
    engine = live.app.state.engine
    mine, other = uuid.uuid4(), uuid.uuid4()
    with subscribe(live, params={"round_id": str(mine)}) as reader:
        reader.until_live()
        stop = threading.Event()

        def busy() -> None:
            while not stop.is_set():
                append_burst(engine, [other])
                time.sleep(0.1)

        thread = threading.Thread(target=busy, daemon=True)
        thread.start()
        try:
            began = time.monotonic()
            pings = 0
            while pings < 3:
                assert reader.next() == {"": "ping"}
                pings += 1
            # three beats of at most 0.4 s each, with room for a slow machine
            assert time.monotonic() - began < 3
        finally:
            stop.set()
            thread.join()
