"""The live feed's fan-out: one `Hub` per process wakes every subscriber of that process
when the record log grows, whichever process wrote the entry.

- PostgreSQL: the log's writer sends `NOTIFY civic_record, '<seq>'` in the entry's
  transaction (delivered at commit); the hub holds ONE `LISTEN` connection.
- SQLite (one file, maybe several processes, no notifications): the hub reads
  `record_head.seq` every `poll_seconds`.

Either way, on a wake-up the hub reads the new entries once (one query for the whole
process, in a worker thread), writes each as SSE bytes once and joins them into one
chunk (`Batch`), and hands that same chunk to every subscriber: a subscriber's task then
sends everything pending as ONE body write, however many entries and wake-ups it holds
(a round's subscribers share a chunk of their round's entries, joined once per batch).
One hub task sends the heartbeats: a subscriber's task only waits on a future between
writes. Idle subscribers cost a few small objects each and no database work. The hub
starts with the first subscriber.
"""

import asyncio
import contextlib
import functools
import logging
import uuid
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


class Batch:
    """New entries of one read, in seq order: their SSE bytes joined once for every
    subscriber, and once per round for the subscribers of that round."""

    __slots__ = ("_rounds", "data", "events", "first", "last")

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.first = events[0][0]
        self.last = events[-1][0]
        self.data = b"".join(data for _, _, data in events)
        self._rounds: dict[str, bytes] = {}

    def after(self, last: int, round_id: str | None) -> bytes:
        """The bytes of this batch's entries after seq `last` (of a round)."""
        if last >= self.last:
            return b""
        if last < self.first:
            if round_id is None:
                return self.data
            data = self._rounds.get(round_id)
            if data is None:
                data = self._rounds[round_id] = b"".join(
                    data for _, r, data in self.events if r == round_id
                )
            return data
        # (the batch overlaps what this subscriber's backlog read brought: rare)
        return b"".join(
            data
            for seq, r, data in self.events
            if seq > last and (round_id is None or r == round_id)
        )


def read_batch(engine: sa.Engine, *, after: int, limit: int) -> Batch | None:
    events = read_events(engine, after=after, limit=limit)
    return Batch(events) if events else None


class Subscriber:
    """What the hub keeps of one subscriber: the batches it has not sent yet, and the
    future its task waits on when it has nothing to send."""

    __slots__ = ("dropped", "pending", "ping", "round_id", "waiter", "written")

    def __init__(self, round_id: str | None, now: float = 0.0) -> None:
        self.round_id = round_id
        self.pending: list[Batch] = []
        self.waiter: asyncio.Future[None] | None = None
        self.dropped = False  # fell too far behind: its stream ends and the client resumes
        self.ping = False  # nothing sent for a while: send a heartbeat
        self.written = now  # loop.time() of its last write

    def deliver(self, batch: Batch) -> None:
        if len(self.pending) >= MAX_PENDING:
            self.dropped = True
        else:
            self.pending.append(batch)
        self.wake()

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        """Until `wake()` (whatever was pending or flagged before is the caller's to see)."""
        self.waiter = waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self.waiter = None

    def take(self, last: int) -> tuple[bytes, int]:
        """All pending batches' bytes after seq `last` (its newest sent), as one chunk,
        and the newest seq they held."""
        chunks = []
        for batch in self.pending:
            data = batch.after(last, self.round_id)
            if data:
                chunks.append(data)
            if batch.last > last:
                last = batch.last
        self.pending.clear()
        return (chunks[0] if len(chunks) == 1 else b"".join(chunks)), last


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
        subscriber = Subscriber(
            None if round_id is None else str(round_id), asyncio.get_running_loop().time()
        )
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def backlog(
        self, *, after: int, round_id: uuid.UUID | None, limit: int = READ_BATCH
    ) -> list[Event]:
        """Entries after `after` (of a round) for a subscriber of this hub, to send before
        what the hub hands on."""
        if after >= self.seen:
            # Nothing to read: every entry after `seen` reaches the subscriber through the
            # hub (it subscribed before this call). A reconnect storm of subscribers that
            # were up to date costs no database work.
            return []
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
                self._tasks.append(asyncio.create_task(self._heartbeats()))
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
            subscriber.wake()

    async def _heartbeats(self) -> None:
        """Every quarter of `heartbeat_seconds`, flag the subscribers that would otherwise
        go `heartbeat_seconds` without a write: no gap between writes is longer."""
        loop = asyncio.get_running_loop()
        while True:
            tick = self.heartbeat_seconds / 4
            await asyncio.sleep(tick)
            due = loop.time() - (self.heartbeat_seconds - tick)
            for subscriber in self.subscribers:
                if subscriber.written <= due:
                    subscriber.ping = True
                    subscriber.wake()

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
                functools.partial(read_batch, self.engine, after=self.seen, limit=READ_BATCH)
            )
            if batch is None:
                head = await anyio.to_thread.run_sync(read_head, self.engine)
                if head < self.seen:
                    self.seen = head  # the log started again (an emptied test database)
                return
            self.seen = batch.last
            for subscriber in self.subscribers:
                subscriber.deliver(batch)
            if len(batch.events) < READ_BATCH:
                return


class EventStream(Response):
    """The ASGI response of one subscriber: the backlog after `after`, then what the hub
    hands on, a comment line when nothing was sent for `heartbeat_seconds`, and on
    shutdown a `retry:` hint before it ends. Two tasks of its own: the one that writes
    and the one that notices the client has gone (a write to a closed connection says
    nothing under uvicorn)."""

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
        # The request's task only waits: the writing is done by a task of its own, whose
        # stack is shallow. Each wake-up of a task resumes every coroutine frame on its
        # stack (here the app's and every middleware's, a score of them) and suspends them
        # again; with a thousand subscribers woken per entry, that was most of the cost.
        gone = asyncio.Event()

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()
            self.subscriber.wake()

        watcher = asyncio.create_task(watch_disconnect())
        pump = asyncio.create_task(self._pump(send, gone))
        try:
            await pump
        finally:
            self.hub.unsubscribe(self.subscriber)
            for task in (pump, watcher):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _pump(self, send: Send, gone: asyncio.Event) -> None:
        hub, subscriber = self.hub, self.subscriber
        time = asyncio.get_running_loop().time

        async def write(body: bytes, *, more: bool = True) -> None:
            await send({"type": "http.response.body", "body": body, "more_body": more})
            subscriber.written = time()

        start = {"type": "http.response.start", "status": 200, "headers": self.start_headers}
        await send(start)
        last = self.after
        while not gone.is_set() and not hub.closing.is_set():
            events = await hub.backlog(after=last, round_id=self.round_id)
            if events:
                last = events[-1][0]
                body = b"".join(data for _, _, data in events)
                await write(body)
            if len(events) < READ_BATCH:
                break
        await write(b": live\n\n")  # caught up: what follows is new
        closing = hub.closing
        while not gone.is_set() and not subscriber.dropped and not closing.is_set():
            if subscriber.pending:
                # everything that came since the last write, in one
                body, last = subscriber.take(last)
                if body:
                    subscriber.ping = False
                    await write(body)
                    continue
            if subscriber.ping:
                subscriber.ping = False
                await write(b": ping\n\n")
                continue
            await subscriber.wait()
        if not gone.is_set():
            # shutting down, or fallen too far behind: come back, from Last-Event-ID
            await write(b"retry: %d\n\n" % RETRY_MS, more=False)
