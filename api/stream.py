"""The live feed's fan-out: one `Hub` per process wakes every subscriber of that process
when the record log grows, whichever process wrote the entry.

- PostgreSQL: the log's writer sends `NOTIFY civic_record, '<seq>'` in the entry's
  transaction (delivered at commit); the hub holds ONE `LISTEN` connection.
- SQLite (one file, maybe several processes, no notifications): the hub reads
  `record_head.seq` every `poll_seconds`.

Either way, on a wake-up the hub reads the new entries once (one query for the whole
process), writes each as SSE bytes once, and hands the same batch to every subscriber;
a subscriber keeps only what matches its round. Idle subscribers cost a few small
objects each and no database work. The hub starts with the first subscriber.
"""

import asyncio
import contextlib
import functools
import logging
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

import anyio
import psycopg
import pydantic_core
import sqlalchemy as sa
from sqlmodel import Session
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from api.errors import Busy, Unavailable
from api.views import feed as feed_views
from models.ledger import RecordHead

log = logging.getLogger("civic_input.stream")

CHANNEL = "civic_record"
READ_BATCH = 500  # entries a read brings back at most
MAX_PENDING = 256  # batches a subscriber may fall behind before it is dropped (it resumes)
RETRY_MS = 3000  # what a stream ends with on shutdown: reconnect after this long

_RECORD_HEAD: sa.Table = RecordHead.__table__  # type: ignore[attr-defined]

# (seq, round_id as text or None, the event as SSE bytes)
Event = tuple[int, str | None, bytes]


class TooManySubscribers(Busy):
    slug = "too-many-subscribers"
    title = "This server has as many live-feed subscribers as it takes"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "10"}


def encode(item: dict[str, Any]) -> Event:
    """An entry (a `feed_views.entries` item) as an SSE event: `id` its seq, type `entry`,
    the data the polling feed's JSON for it."""
    data = pydantic_core.to_json(item)
    round_id = item["round_id"]
    return (
        item["seq"],
        None if round_id is None else str(round_id),
        b"id: %d\nevent: entry\ndata: %s\n\n" % (item["seq"], data),
    )


def read_events(
    engine: sa.Engine, *, after: int, limit: int, round_id: uuid.UUID | None = None
) -> list[Event]:
    """Entries after `after` (of a round), as the polling feed shows them now, encoded."""
    with Session(engine) as session:
        return [
            encode(item)
            for item in feed_views.entries(session, after=after, limit=limit, round_id=round_id)
        ]


def read_head(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        seq = conn.execute(
            sa.select(_RECORD_HEAD.c.seq).where(_RECORD_HEAD.c.id == 1)
        ).scalar_one_or_none()
    return int(seq or 0)


@dataclass(eq=False)
class Subscriber:
    round_id: str | None
    pending: deque[list[Event]] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: bool = False  # fell too far behind: its stream ends and the client resumes

    def deliver(self, batch: list[Event]) -> None:
        if len(self.pending) >= MAX_PENDING:
            self.dropped = True
        else:
            self.pending.append(batch)
        self.wake.set()


class Hub:
    """Made by the app's lifespan, in the loop that serves the app."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        max_subscribers: int,
        closing: asyncio.Event,
        heartbeat_seconds: float = 15.0,
        poll_seconds: float = 0.25,
    ) -> None:
        self.engine = engine
        self.max_subscribers = max_subscribers
        self.closing = closing
        self.heartbeat_seconds = heartbeat_seconds
        self.poll_seconds = poll_seconds
        # PostgreSQL's NOTIFY may be missed while the listener reconnects: read the head
        # this often anyway
        self.safety_seconds = 5.0
        self.subscribers: set[Subscriber] = set()
        self.reserved = 0
        self.seen = 0  # the newest seq handed to subscribers
        self._dirty = asyncio.Event()
        self._started: asyncio.Future[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        # backlog reads of new subscribers, at most a few at once: a reconnect storm
        # must not take every pooled connection
        self._backlog = anyio.Semaphore(4)

    # --- subscribers --------------------------------------------------------------

    async def subscribe(self, round_id: uuid.UUID | None) -> Subscriber:
        """A new subscriber, or `TooManySubscribers` (503) when the process has its fill."""
        if len(self.subscribers) + self.reserved >= self.max_subscribers:
            raise TooManySubscribers(
                f"At most {self.max_subscribers} live-feed subscribers per server; "
                "poll GET /api/v1/feed or try again later."
            )
        self.reserved += 1
        try:
            await self._start()
        finally:
            self.reserved -= 1
        subscriber = Subscriber(None if round_id is None else str(round_id))
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def backlog(
        self, *, after: int, round_id: uuid.UUID | None, limit: int = READ_BATCH
    ) -> list[Event]:
        async with self._backlog:
            return await anyio.to_thread.run_sync(
                lambda: read_events(self.engine, after=after, limit=limit, round_id=round_id)
            )

    # --- the hub's own tasks --------------------------------------------------------

    async def _start(self) -> None:
        if self._started is None:
            # (again, after a start that failed)
            self._started = asyncio.get_running_loop().create_future()
            if not self._tasks:
                self._tasks.append(asyncio.create_task(self._watch_closing()))
            self._tasks.append(asyncio.create_task(self._run()))
        await asyncio.shield(self._started)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _watch_closing(self) -> None:
        await self.closing.wait()
        for subscriber in self.subscribers:
            subscriber.wake.set()

    async def _run(self) -> None:
        fan_out = asyncio.create_task(self._fan_out())
        try:
            if self.engine.dialect.name == "postgresql":
                await self._listen()
            else:
                await self._begin()
                await self._poll()
        except Exception as exc:
            if self._started is None or self._started.done():
                raise
            log.warning("live feed: cannot start (%s)", type(exc).__name__)
            self._started.set_exception(Unavailable())
            self._started = None
        finally:
            fan_out.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fan_out

    async def _begin(self) -> None:
        """Subscribers' backlogs reach at least the head read here: the hub hands on what
        follows. (On PostgreSQL, read once LISTEN is on: nothing falls between.)"""
        assert self._started is not None
        self.seen = await anyio.to_thread.run_sync(read_head, self.engine)
        self._started.set_result(None)

    async def _poll(self) -> None:
        """SQLite: the head, every `poll_seconds`; a change wakes the fan-out."""
        while True:
            await asyncio.sleep(self.poll_seconds)
            await self._check_head()

    async def _check_head(self) -> None:
        """Wake the fan-out if the log's head moved (a cheap read of one row)."""
        if not self.subscribers:
            return
        try:
            head = await anyio.to_thread.run_sync(read_head, self.engine)
        except sa.exc.SQLAlchemyError as exc:
            log.warning("live feed: reading the log's head failed (%s)", type(exc).__name__)
            return
        if head != self.seen:
            self._dirty.set()

    async def _listen(self) -> None:
        """PostgreSQL: one LISTEN connection; reconnects after a failure, and catches up."""
        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    url, autocommit=True, connect_timeout=5
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    delay = 0.5
                    if self._started is not None and not self._started.done():
                        await self._begin()
                    else:
                        self._dirty.set()  # whatever committed while nobody listened
                    while True:
                        async for _notice in conn.notifies(timeout=self.safety_seconds):
                            self._dirty.set()
                        await self._check_head()
            except psycopg.Error as exc:
                if self._started is not None and not self._started.done():
                    raise  # no listener yet: the subscriber gets a 503, the next one retries
                log.warning("live feed: the LISTEN connection failed (%s)", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _fan_out(self) -> None:
        """After each wake-up: the new entries, read once, handed to every subscriber."""
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            if not self.subscribers:
                continue
            try:
                await self._read_new()
            except sa.exc.SQLAlchemyError as exc:
                log.warning("live feed: reading new entries failed (%s)", type(exc).__name__)
                await asyncio.sleep(1.0)
                self._dirty.set()

    async def _read_new(self) -> None:
        while True:
            batch = await anyio.to_thread.run_sync(
                functools.partial(read_events, self.engine, after=self.seen, limit=READ_BATCH)
            )
            if not batch:
                head = await anyio.to_thread.run_sync(read_head, self.engine)
                if head < self.seen:
                    self.seen = head  # the log started again (an emptied test database)
                return
            self.seen = batch[-1][0]
            for subscriber in self.subscribers:
                subscriber.deliver(batch)
            if len(batch) < READ_BATCH:
                return


def frames(subscriber: Subscriber, *, last: int) -> tuple[list[bytes], int]:
    """What the subscriber's pending batches add after `last` (its newest seq sent)."""
    out: list[bytes] = []
    while subscriber.pending:
        for seq, round_id, data in subscriber.pending.popleft():
            if seq > last and (subscriber.round_id is None or round_id == subscriber.round_id):
                out.append(data)
                last = seq
            elif seq > last:
                last = seq
    return out, last


class EventStream(Response):
    """The ASGI response of one subscriber: the backlog after `after`, then what the hub
    hands on, a comment line when nothing was sent for `heartbeat_seconds`, and on
    shutdown a `retry:` hint before it ends. One extra task: the one that notices the
    client has gone (a write to a closed connection says nothing under uvicorn)."""

    media_type = "text/event-stream"
    start_headers: ClassVar[list[tuple[bytes, bytes]]] = [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-cache"),
        (b"x-accel-buffering", b"no"),
    ]

    def __init__(
        self, hub: Hub, subscriber: Subscriber, *, after: int, round_id: uuid.UUID | None
    ) -> None:
        # no Response.__init__: nothing here has a body to render
        self.hub = hub
        self.subscriber = subscriber
        self.after = after
        self.round_id = round_id
        self.status_code = 200
        self.background = None

    @property
    def headers(self) -> MutableHeaders:  # type: ignore[override]
        return MutableHeaders(raw=list(self.start_headers))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hub, subscriber = self.hub, self.subscriber
        gone = False

        loop = asyncio.get_running_loop()
        written = loop.time()

        async def write(body: bytes, *, more: bool = True) -> None:
            nonlocal written
            await send({"type": "http.response.body", "body": body, "more_body": more})
            written = loop.time()

        async def watch_disconnect() -> None:
            nonlocal gone
            while (await receive())["type"] != "http.disconnect":
                pass
            gone = True
            subscriber.wake.set()

        watcher = asyncio.create_task(watch_disconnect())
        try:
            start = {"type": "http.response.start", "status": 200, "headers": self.start_headers}
            await send(start)
            last = self.after
            while not gone and not hub.closing.is_set():
                events = await hub.backlog(after=last, round_id=self.round_id)
                if events:
                    last = events[-1][0]
                    body = b"".join(data for _, _, data in events)
                    await write(body)
                if len(events) < READ_BATCH:
                    break
            await write(b": live\n\n")  # caught up: what follows is new
            while not gone and not subscriber.dropped and not hub.closing.is_set():
                out, last = frames(subscriber, last=last)
                if out:
                    body = b"".join(out)
                    await write(body)
                    continue
                subscriber.wake.clear()
                if subscriber.pending or subscriber.dropped or hub.closing.is_set() or gone:
                    continue
                # counted from the last write: wake-ups with nothing for this
                # subscriber's round must not put its heartbeat off
                quiet = written + hub.heartbeat_seconds - loop.time()
                if quiet <= 0:
                    await write(b": ping\n\n")
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(quiet):
                        await subscriber.wake.wait()
            if not gone:
                # shutting down, or fallen too far behind: come back, from Last-Event-ID
                await write(b"retry: %d\n\n" % RETRY_MS, more=False)
        finally:
            hub.unsubscribe(subscriber)
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
