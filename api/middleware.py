"""ASGI middleware: a body-size limit that never reads past it, and an IP-free access log."""

import hashlib
import logging
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import send_problem
from api.text import printable

access_log = logging.getLogger("civic_input.access")


class BodyTooLarge(HTTPException):
    """Raised from `receive`: an HTTPException, so FastAPI's body parsing lets it through
    and the problem handler renders it as 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"Request bodies are limited to {limit} bytes.")


class BodyLimit:
    """Answer 413 for a body over `limit` bytes: at once from Content-Length, or as
    soon as a chunked body passes the limit, without buffering it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.limit:
                    await self._reject(send)
                    return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        await send_problem(
            send,
            413,
            slug="payload-too-large",
            title="Request body too large",
            detail=f"Request bodies are limited to {self.limit} bytes.",
            close=True,
        )


class AccessLog:
    """One line per request: method, path, status, milliseconds. Never the client
    address, the user agent, or the query string (it may hold a search). The path is
    the client's text: its control characters are escaped (`%0a` cannot forge a line)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            access_log.info(
                "%s %s %d %.1fms",
                printable(scope["method"]),
                printable(scope["path"]),
                status,
                (time.perf_counter() - began) * 1000,
            )


class ConditionalGet:
    """ETag, Cache-Control and 304 for JSON GETs, and for HTML that carries its own ETag
    (the record's pages; not the docs pages, whose script nonce changes every time).

    A route may set its own ETag (a round's tag carries its version); otherwise the
    tag is a hash of the body. Answers to a signed-in request are never stored.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        request_headers = dict(scope.get("headers", ()))
        if_none_match = request_headers.get(b"if-none-match", b"").decode("latin-1")
        signed_in = b"authorization" in request_headers
        start: Message | None = None
        chunks: list[bytes] = []
        passthrough = False

        async def buffered_send(message: Message) -> None:
            nonlocal start, passthrough
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", ()))
                content_type = headers.get(b"content-type", b"")
                tagged = content_type.startswith(b"application/json") or (
                    content_type.startswith(b"text/html") and b"etag" in headers
                )
                if message["status"] != 200 or not tagged:
                    passthrough = True
                    await send(message)
                else:
                    start = message
                return
            if passthrough or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._finish(send, start, b"".join(chunks), if_none_match, signed_in)

        await self.app(scope, receive, buffered_send)

    @staticmethod
    async def _finish(
        send: Send, start: Message, body: bytes, if_none_match: str, signed_in: bool
    ) -> None:
        headers = [(k, v) for k, v in start.get("headers", ()) if k.lower() != b"content-length"]
        names = {k.lower() for k, _ in headers}
        existing = dict(headers).get(b"etag")
        tag = existing.decode("latin-1") if existing else weak_etag(body)
        if not existing:
            headers.append((b"etag", tag.encode("latin-1")))
        if b"cache-control" not in names:
            # signed in: never stored anywhere (SecurityHeaders holds every answer to that)
            policy = b"no-store" if signed_in else b"public, max-age=0, must-revalidate"
            headers.append((b"cache-control", policy))
        headers.append((b"vary", b"Authorization"))
        if if_none_match and _matches(if_none_match, tag):
            keep = {b"etag", b"cache-control", b"vary", b"date", b"link"}
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": [(k, v) for k, v in headers if k.lower() in keep],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def weak_etag(body: bytes) -> str:
    """The tag of a body whose route set none."""
    return f'W/"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def _matches(if_none_match: str, tag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2), as If-None-Match requires."""
    if if_none_match.strip() == "*":
        return True
    wanted = _opaque(tag)
    return any(_opaque(candidate) == wanted for candidate in if_none_match.split(","))


class CatchAll:
    """The last line: an unexpected error becomes a bare 500 problem, logged once,
    and the connection stays usable (nothing is re-raised to the server)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            logging.getLogger("civic_input.errors").error(
                "unexpected %s", type(exc).__name__, exc_info=exc
            )
            if started:
                raise
            await send_problem(send, 500, slug="internal-server-error", title="Internal error")
