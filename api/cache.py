"""A server-side cache of anonymous JSON reads.

Public reads are the same for every anonymous caller, and third-party apps poll them.
An entry is served while it is younger than `ttl` seconds and no write has committed
in this process since it was stored (any session that wrote and committed bumps the
version): a process sees its own writes at once, and other processes' writes within
`ttl` seconds. Requests that miss while the same answer is being computed wait for it
instead of computing it again.
"""

import itertools
import time
from collections import OrderedDict
from dataclasses import dataclass

import anyio
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import weak_etag
from api.sql.prepared import WROTE

_versions = itertools.count(1)
_version = 0


def bump() -> None:
    """A write committed: every cached read may be stale."""
    global _version
    _version = next(_versions)


# A session that wrote marks itself (`WROTE`): through the ORM here, outside it in
# `Prepared.execute`; its commit bumps the version.
@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _flush: UOWTransaction) -> None:
    session.info[WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(WROTE, False):
        bump()


@dataclass
class Entry:
    version: int
    stored: float
    start: Message
    body: bytes

    def fresh_start(self) -> Message:
        """A copy of the start message to send: middleware outside (CORS) edits the
        headers of what it is sent, and those edits must not stick to the entry."""
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
        self.entries: OrderedDict[tuple[str, bytes], Entry] = OrderedDict()
        self.filling: dict[tuple[str, bytes], _Filling] = {}  # answers being computed

    def _cacheable(self, scope: Scope) -> bool:
        if not self.enabled or scope["type"] != "http" or scope["method"] != "GET":
            return False
        if not scope["path"].startswith("/api/v1/") or scope["path"] == "/api/v1/feed/stream":
            return False  # the live feed never ends: nothing to store, nobody may wait on it
        return all(name != b"authorization" for name, _ in scope.get("headers", ()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope.get("query_string", b""))
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
                storing = message["status"] == 200 and content_type.startswith(b"application/json")
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
                    entry = Entry(version, time.monotonic(), _tagged(start, body), body)
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

    async def _served(self, key: tuple[str, bytes], send: Send) -> bool:
        """Send the fresh entry for `key`, if there is one."""
        entry = self.entries.get(key)
        if (
            entry is None
            or entry.version != _version
            or time.monotonic() - entry.stored >= self.ttl
        ):
            return False
        self.entries.move_to_end(key)
        await send(entry.fresh_start())
        await send({"type": "http.response.body", "body": entry.body})
        return True

    def _store(self, key: tuple[str, bytes], entry: Entry) -> None:
        if entry.version != _version:
            return  # a write landed while this was computed
        self.entries[key] = entry
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)
