"""Text in and text out: only valid Unicode enters, only printable text reaches a log line.

Python's JSON parser accepts a lone UTF-16 surrogate (`"ab\\ud800cd"`), which then fails
to encode wherever it goes: the database driver, the record log's hash, a response. And
a percent-encoded path or query may decode to bytes that are not UTF-8 at all (`%ff`),
which Starlette silently turns into U+FFFD. `TextGuard` refuses both at the door, with
the same 422 problem as any invalid field, before any route, schema or service sees
them, so no endpoint (today's or tomorrow's) can be given such text. NUL is refused
alongside: no text column may hold it (PostgreSQL refuses it; SQLite would store it).
"""

import json
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import validation_problem

# A JSON body can only carry a lone surrogate or a NUL as an escape (the raw bytes are
# not UTF-8, and raw control characters are not JSON): look for the escapes first,
# and parse only a body that has one.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:[dD][89a-fA-F][0-9a-fA-F]{2}|0000)")
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_FORM_TYPE = b"application/x-www-form-urlencoded"

NOT_TEXT = "Text must be valid Unicode (UTF-8), without lone surrogates or NUL characters."


def _decodes(raw: bytes) -> bool:
    """Whether percent-encoded `raw` decodes to UTF-8 text without NUL."""
    if b"%" not in raw and raw.isascii():
        return b"\x00" not in raw
    decoded = unquote_to_bytes(raw)
    if b"\x00" in decoded:
        return False
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _strings(value: Any) -> Iterator[tuple[list[str | int], str]]:
    """Every string in a parsed JSON document, keys included, with where it is."""
    stack: list[tuple[list[str | int], Any]] = [(["body"], value)]
    while stack:
        loc, item = stack.pop()
        if isinstance(item, str):
            yield loc, item
        elif isinstance(item, dict):
            for key, child in item.items():
                yield loc, key  # a bad key is reported where its object is
                stack.append(([*loc, key], child))
        elif isinstance(item, list):
            stack.extend(([*loc, index], child) for index, child in enumerate(item))


def bad_json_text(body: bytes) -> list[str | int] | None:
    """Where a JSON body holds a string that is not valid Unicode or holds NUL; None if
    none does. A body that is not JSON passes: the route's parsing answers it."""
    if _SUSPECT_ESCAPE.search(body) is None:
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    for loc, text in _strings(document):
        if _BAD_TEXT.search(text):
            return loc  # its keys are good: each key is looked at before what it holds
    return None


def _content_type(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower()
    return None


class TextGuard:
    """Answer 422 for a path, query or body holding what is not text (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path")
        if raw_path is None:
            raw_path = scope["path"].encode("utf-8", "surrogateescape")
        if not _decodes(raw_path.split(b"?", 1)[0]):
            await self._reject(scope, receive, send, ["path"])
            return
        if not _decodes(scope.get("query_string", b"")):
            await self._reject(scope, receive, send, ["query"])
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        content_type = _content_type(scope)
        # FastAPI reads as JSON a body without a content type, or of application/*json
        json_body = content_type is None or (
            content_type.startswith(b"application/") and content_type.endswith(b"json")
        )
        if not (json_body or content_type == _FORM_TYPE):
            await self.app(scope, receive, send)
            return
        # Read the body whole (the route would, and BodyLimit outside bounds it), check
        # it, and hand it on as one message.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay(message, receive), send)  # a disconnect
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        body_loc: list[str | int] = ["body"]
        where = bad_json_text(body) if json_body else None if _decodes(body) else body_loc
        if where is not None:
            await self._reject(scope, receive, send, where)
            return
        await self.app(scope, _replay({"type": "http.request", "body": body}, receive), send)

    @staticmethod
    async def _reject(scope: Scope, receive: Receive, send: Send, loc: list[str | int]) -> None:
        response = validation_problem([{"loc": loc, "msg": NOT_TEXT, "type": "string_unicode"}])
        await response(scope, receive, send)


def _replay(first: Message, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first
        return await receive()

    return replayed


def printable(text: str) -> str:
    """`text` for a log line: every control, separator or other unprintable character
    (a newline, `\\r`, ESC, U+2028...) and the backslash itself written as an escape, so
    that nothing in a request can start a line of its own or colour a terminal."""
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(char if char.isprintable() and char != "\\" else _escape(char) for char in text)


def _escape(char: str) -> str:
    if char == "\\":
        return "\\\\"
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


class PrintableMessages(logging.Filter):
    """On a handler: a message holding an unprintable character (request text logged
    anywhere) is written with it escaped, so one record is always one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.isprintable():
            record.msg, record.args = printable(message), ()
        return True
