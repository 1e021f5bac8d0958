"""A server-side cache of anonymous reads (the API's JSON, the record's pages), kept
true across processes.

Public reads are the same for every anonymous caller, and third-party apps poll them.
An entry is served while it is younger than `ttl` seconds and no write has committed
since it was stored: any session that wrote and committed bumps this process's version.
Requests that miss while the same answer is being computed wait for it instead of
computing it again.

Several processes (``CIVIC_REDIS_URL``, api/shared.py): a hit must stay a dictionary
look-up, so a hit never asks Redis. Instead every commit that wrote publishes on a Redis
channel, and each process runs a listener thread (`Invalidation`) that bumps its own
version for every message: other processes' writes are seen as soon as the message
arrives (well within 1 s). A takedown (a withdrawal, removal or consent change: the
record log's content is nulled, `_TAKEDOWN`) must be gone everywhere before its 2xx is
sent, so its commit publishes and then waits, at most `ACK_WAIT` seconds, until every
subscriber has acknowledged (PUBLISH says how many there are; each listener pushes an
ack after bumping). Why no process can serve the removed content after that:

- The listener pings Redis on its subscription every `PING_EVERY` seconds; a process
  serves hits only within `LEASE` seconds of sending a ping whose pong has come back
  (`_fresh_until`). Redis answers one connection in order, so a pong for a ping that
  reached Redis after the publish comes after the message, and the listener has bumped
  before it reads the pong. A process whose last pong is for a ping sent before the
  publish stops serving hits `LEASE` after sending that ping, which is before the writer
  stops waiting (`ACK_WAIT` > `LEASE`). So every process has either bumped or stopped
  trusting its cache by the time the writer answers, acked or not: a dead, stalled or
  partitioned listener costs its process its hits, never correctness.
- A listener that (re)subscribes bumps before its first ping: what was stored while it
  was not listening is dropped.
- The writer that cannot publish (Redis down or unreachable) cannot tell anyone, so its
  commit waits `ttl`: every entry elsewhere was computed before the commit and has
  expired by then (an entry's age counts from when its computation began).
- While this process cannot reach Redis its lease lapses and every read is computed:
  slower, never stale. A new subscriber is counted by PUBLISH only once subscribed, and
  has bumped by then.

Without Redis a process trusts its own version (it sees its own writes at once) and
only one process may run (api/single.py).
"""

import asyncio
import contextlib
import itertools
import logging
import math
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import anyio
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.i18n import DEFAULT as DEFAULT_LANGUAGE
from api.i18n import language_of
from api.middleware import access_log, weak_etag
from api.shared import Shared
from api.sql.prepared import WROTE
from api.text import printable

log = logging.getLogger("civic_input")

_versions = itertools.count(1)
_version = 0
# Hits are served only before this instant (time.monotonic()): always, without Redis;
# with Redis, while the invalidation listener's lease holds (see the module docstring).
_fresh_until = math.inf
# the listener of this process, when there is Redis (set by the app's lifespan)
_broadcast: "Invalidation | None" = None

_TAKEDOWN = "civic_input.takedown"
PING_EVERY = 0.05
LEASE = 0.15
ACK_WAIT = 0.3


def bump() -> None:
    """A write committed: every cached read may be stale."""
    global _version
    _version = next(_versions)


def version_if_fresh() -> int | None:
    """This process's version of the record while cached reads may be served (the lease
    holds), else None: for a cache of values derived from the record (api/pages/context.py)
    that keeps to the same rules."""
    return _version if time.monotonic() < _fresh_until else None


# A session that wrote marks itself (`WROTE`): through the ORM here, outside it in
# `Prepared.execute`; its commit bumps the version.
@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _flush: UOWTransaction) -> None:
    session.info[WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True
    # The record log is append-only: an update to it takes content down (api/services/ledger.py).
    table = getattr(state.statement, "table", None) if state.is_update else None
    if table is not None and table.name == "record_entry":
        state.session.info[_TAKEDOWN] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    takedown = session.info.pop(_TAKEDOWN, False)
    if session.info.pop(WROTE, False):
        bump()
        if _broadcast is not None:
            _broadcast.publish(takedown=takedown)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_TAKEDOWN, None)


class Invalidation:
    """This process's side of the cross-process invalidation (module docstring)."""

    def __init__(self, shared: Shared, ttl: float) -> None:
        self.shared = shared
        self.ttl = ttl
        self.channel = shared.key("writes")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        global _broadcast, _fresh_until
        _fresh_until = 0.0  # nothing served from memory until the listener holds a lease
        _broadcast = self
        self._thread = threading.Thread(target=self._listen, name="civic-invalidation", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        global _broadcast, _fresh_until
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if _broadcast is self:
            _broadcast = None
            _fresh_until = math.inf

    def publish(self, *, takedown: bool) -> None:
        """Tell every process a write committed; for a takedown, wait until they all
        have it (or stopped trusting their caches), or `ttl` when Redis cannot be told."""
        if not takedown:
            self.shared.call(lambda client: client.publish(self.channel, b"w"), None)
            return
        token = secrets.token_hex(8)
        ack = self.shared.key("ack", token)
        told = self.shared.call(
            lambda client: client.publish(self.channel, b"t" + token.encode()), -1
        )
        if told < 0:
            time.sleep(self.ttl)
            return
        deadline = time.monotonic() + ACK_WAIT
        acked = 0
        while acked < told:
            left = deadline - time.monotonic()
            if left <= 0 or self._popped(ack, left) is None:
                # the silent ones stop serving hits before now (module docstring)
                time.sleep(max(0.0, deadline - time.monotonic()))
                break
            acked += 1
        self.shared.call(lambda client: client.delete(ack), None)

    def _popped(self, ack: str, wait: float) -> object:
        return self.shared.call(lambda client: client.blpop([ack], timeout=wait), None)

    def _listen(self) -> None:
        global _fresh_until
        while not self._stop.is_set():
            pubsub = self.shared.client.pubsub()
            pings: list[float] = []
            try:
                pubsub.subscribe(self.channel)
                while pubsub.get_message(timeout=1.0) is None:  # the subscription confirmed
                    if self._stop.is_set():
                        return
                bump()
                next_ping = 0.0
                while not self._stop.is_set():
                    now = time.monotonic()
                    if now >= next_ping:
                        pings.append(now)
                        pubsub.ping()
                        next_ping = now + PING_EVERY
                    message = pubsub.get_message(timeout=PING_EVERY)
                    if message is None:
                        continue
                    if message["type"] == "pong" and pings:
                        _fresh_until = pings.pop(0) + LEASE
                    elif message["type"] == "message":
                        bump()
                        data = message["data"]
                        if data.startswith(b"t"):
                            ack = self.shared.key("ack", data[1:].decode())
                            pipe = self.shared.client.pipeline()
                            pipe.rpush(ack, 1)
                            pipe.expire(ack, 5)
                            pipe.execute()
            except Exception as exc:  # Redis went away: computed reads until it is back
                _fresh_until = 0.0
                self.shared.mark_down(exc)
                self._stop.wait(1.0)
            finally:
                with contextlib.suppress(Exception):
                    pubsub.close()


# An inner entry's key: path, query string, and the request's Origin header (or None).
_Key = tuple[str, bytes, bytes | None]


@dataclass
class Entry:
    version: int
    stored: float
    start: Message
    body: bytes

    def fresh_start(self) -> Message:
        """A copy of the start message to send: the layers outside may edit the headers
        of what they are sent, and their edits must not stick to the entry."""
        return {**self.start, "headers": list(self.start["headers"])}


@dataclass
class _Filling:
    """An answer being computed for an entry, as of `version`; `done` once sent."""

    version: int
    done: anyio.Event


def _tagged(start: Message, body: bytes) -> Message:
    """The start message with the ETag ConditionalGet would give it: the route's own,
    or a hash of the body."""
    headers = list(start.get("headers", ()))
    if not any(name.lower() == b"etag" for name, _ in headers):
        headers.append((b"etag", weak_etag(body).encode("latin-1")))
    return {**start, "headers": headers}


# what either cache may keep: a whole 200 of JSON (the API) or of HTML (the pages)
_STORED_TYPES = (b"application/json", b"text/html")


def _public_read(path: str) -> bool:
    """A path whose anonymous GET answers are the same for everyone: the API's reads (not
    the live feed, which never ends) and the record's pages."""
    if path.startswith("/api/v1/"):
        return path != "/api/v1/feed/stream"
    return path == "/record" or path.startswith("/record/")


def _key(scope: Scope) -> tuple[str, bytes]:
    """An entry's key: its path and query, and the language negotiated from
    `Accept-Language` (a theme list or the vocabulary differs by it), written before the
    path when it is not the default (a path starts with "/")."""
    path, language = scope["path"], language_of(scope)
    if language != DEFAULT_LANGUAGE:
        path = f"{language} {path}"
    return path, scope.get("query_string", b"")


class ResponseCache:
    def __init__(
        self,
        app: ASGIApp,
        *,
        enabled: bool = True,
        ttl: float = 2.0,
        max_entries: int = 1024,
        max_body: int = 2 * 1024 * 1024,
    ) -> None:
        self.app = app
        self.enabled = enabled
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_body = max_body
        self.entries: OrderedDict[_Key, Entry] = OrderedDict()
        self.filling: dict[_Key, _Filling] = {}  # answers being computed

    def _cacheable(self, scope: Scope) -> bool:
        if not self.enabled or scope["type"] != "http" or scope["method"] != "GET":
            return False
        if not _public_read(scope["path"]):
            return False  # the live feed never ends: nothing to store, nobody may wait on it
        return all(name != b"authorization" for name, _ in scope.get("headers", ()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        # CORS (inside) answers by the request's Origin: one entry for each
        origin = next((value for name, value in scope["headers"] if name == b"origin"), None)
        key = (*_key(scope), origin)
        if await self._served(key, send):
            return
        filling = self.filling.get(key)
        if filling is not None and filling.version == _version:
            # The same answer is being computed, as of no older a write than this request
            # has seen: wait for it rather than compute it again. When an entry expires
            # under load, every connection misses at once; computed one by one behind
            # the database's turn, the last would wait for all the others.
            await filling.done.wait()
            if await self._served(key, send):
                return
        # computed here (waited for once at most: an answer not stored, a 404 say, is
        # computed by each), and waited for by those who miss meanwhile
        version = _version
        began = time.monotonic()
        flight = None
        current = self.filling.get(key)
        if current is None or current.version != version:
            flight = self.filling[key] = _Filling(version, anyio.Event())
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        storing = False

        async def capture(message: Message) -> None:
            # A storable response is held back until its body is complete, so that it
            # goes on with its ETag (what ConditionalGet would compute) already set:
            # the entry is tagged once, and neither a hit nor a 304 hashes the body.
            nonlocal start, size, storing
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", ())).get(b"content-type", b"")
                storing = message["status"] == 200 and content_type.startswith(_STORED_TYPES)
                if storing:
                    start = message
                    return
            elif storing and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > self.max_body:
                    storing = False  # too large to keep: let what was held back go on
                    assert start is not None
                    await send(start)
                    held, chunks[:] = chunks[:-1], []
                    for chunk in held:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                elif message.get("more_body", False):
                    return
                else:
                    assert start is not None
                    body = b"".join(chunks)
                    entry = Entry(version, began, _tagged(start, body), body)
                    self._store(key, entry)
                    await send(entry.fresh_start())
                    await send({"type": "http.response.body", "body": body})
                    return
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            if flight is not None:
                flight.done.set()  # stored or not: the waiters look, then compute if need be
                if self.filling.get(key) is flight:
                    del self.filling[key]

    async def _served(self, key: _Key, send: Send) -> bool:
        """Send the fresh entry for `key`, if there is one."""
        entry = self.entries.get(key)
        now = time.monotonic()
        if (
            entry is None
            or entry.version != _version
            or now - entry.stored >= self.ttl
            or now >= _fresh_until
        ):
            return False
        self.entries.move_to_end(key)
        await send(entry.fresh_start())
        await send({"type": "http.response.body", "body": entry.body})
        return True

    def _store(self, key: _Key, entry: Entry) -> None:
        if entry.version != _version:
            return  # a write landed while this was computed
        self.entries[key] = entry
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


# Request headers that make an answer depend on more than its path and query, or make it
# someone's own: a request with any of them is not answered by `FinalResponseCache`.
_NOT_PLAIN = frozenset((b"authorization", b"cookie", b"if-none-match", b"origin"))


@dataclass(slots=True)
class _Final:
    """A final answer as `FinalResponseCache` sends it: everything a hit needs, made once."""

    version: int
    expires: float  # time.monotonic(): the entry's age counts from when it began computing
    headers: tuple[tuple[bytes, bytes], ...]  # immutable: shared by every hit
    status: int
    body: bytes
    logged_path: str  # the path as the access line writes it


class FinalResponseCache:
    """The front door: a fresh hit is sent before any other layer does any work.

    `create_app` puts it in front of the whole app (`CivicApp`), outside Starlette's own
    error and exception middleware, so that a hit costs a dictionary look-up, a version
    and clock compare, two `send`s and its access line, and nothing else.

    It keeps the final answers (every header the layers inside added: the ETag and
    Cache-Control, Vary, the security headers) to plain anonymous polls: GETs without
    `Authorization`, `Cookie`, `If-None-Match` or `Origin`, whose answers depend on
    nothing but their path and query. Any other request goes on inside, where
    `ResponseCache` answers it (CORS's headers in its entries) through the layer that
    makes a 304.
    A hit writes the access line that `AccessLog` (inside) would have written. Its
    freshness rules are `ResponseCache`'s (the same version, lease and ttl): checking
    them is a compare of two numbers against module state that the invalidation
    listener keeps current, never a round-trip to Redis. A miss is computed by the
    layers inside, where misses at once wait for one answer."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        enabled: bool = True,
        ttl: float = 2.0,
        max_entries: int = 1024,
        max_body: int = 2 * 1024 * 1024,
    ) -> None:
        self.app = app
        self.enabled = enabled
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_body = max_body
        self.entries: OrderedDict[tuple[str, bytes], _Final] = OrderedDict()
        self._lines: list[tuple[str, int, float]] = []  # hits' access lines to write
        self._lines_loop: asyncio.AbstractEventLoop | None = None  # where they will be

    def _plain(self, scope: Scope) -> bool:
        if not self.enabled or scope["type"] != "http" or scope["method"] != "GET":
            return False
        if not _public_read(scope["path"]):
            return False
        for name, _ in scope["headers"]:  # noqa: SIM110 (a loop: cheaper than all() of a generator)
            if name in _NOT_PLAIN:
                return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._plain(scope):
            await self.app(scope, receive, send)
            return
        key = _key(scope)
        entry = self.entries.get(key)
        if entry is not None and entry.version == _version:
            began = time.monotonic()
            if began < entry.expires and began < _fresh_until:
                self.entries.move_to_end(key)
                # fresh messages around the shared (immutable) headers and body
                await send(
                    {
                        "type": "http.response.start",
                        "status": entry.status,
                        "headers": entry.headers,
                    }
                )
                await send({"type": "http.response.body", "body": entry.body})
                self._log(entry.logged_path, entry.status, (time.monotonic() - began) * 1000)
                return
        await self._computed(key, scope, receive, send)

    def _log(self, path: str, status: int, ms: float) -> None:
        """The hit's access line, written once this turn of the event loop is over,
        with the other hits' of the same turn: logging's code is run for a batch of
        lines at a time, not between every two answers (a third of the cost of a hit
        when it was)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not self._lines_loop:
            self._write_lines()  # any left by a loop that ended before its turn came
            if loop is None:
                access_log.info("GET %s %d %.1fms", path, status, ms)
                return
            loop.call_soon(self._write_lines)
            self._lines_loop = loop
        self._lines.append((path, status, ms))

    def _write_lines(self) -> None:
        lines, self._lines, self._lines_loop = self._lines, [], None
        for path, status, ms in lines:
            access_log.info("GET %s %d %.1fms", path, status, ms)

    async def _computed(
        self, key: tuple[str, bytes], scope: Scope, receive: Receive, send: Send
    ) -> None:
        """A miss: answered by the layers inside, and kept if it is a whole 200 of JSON or HTML."""
        version = _version
        expires = time.monotonic() + self.ttl
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0

        async def capture(message: Message) -> None:
            nonlocal start, size
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", ())).get(b"content-type", b"")
                if message["status"] == 200 and content_type.startswith(_STORED_TYPES):
                    start = message
            elif start is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > self.max_body:
                    start = None
                elif not message.get("more_body", False):
                    self._store(key, scope["path"], version, expires, start, b"".join(chunks))
            await send(message)

        await self.app(scope, receive, capture)

    def _store(
        self,
        key: tuple[str, bytes],
        path: str,
        version: int,
        expires: float,
        start: Message,
        body: bytes,
    ) -> None:
        if version != _version:
            return  # a write landed while this was computed
        headers = tuple((bytes(name), bytes(value)) for name, value in start.get("headers", ()))
        self.entries[key] = _Final(
            version, expires, headers, start["status"], body, printable(path)
        )
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)
