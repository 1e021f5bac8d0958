"""Templates to HTTP answers: the language, the headers every page carries, ETag and 304."""

import hashlib
import secrets
import threading
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic_core
from fastapi import Request, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from api.middleware import weak_etag
from api.pages import charts, i18n
from api.pages.context import Kept

# No script at all, no other host: the stylesheet and images from here only. A page's
# only form reads with GET from here.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# the same freshness as the JSON reads (api/middleware.py ConditionalGet): always revalidate
CACHE_CONTROL = "public, max-age=0, must-revalidate"
HTML = "text/html; charset=utf-8"

environment = Environment(
    loader=PackageLoader("api.pages", "templates"),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # the templates ship with the package: compiled once, not checked on disk at each use
    auto_reload=False,
)
environment.globals["colours"] = charts.COLOURS


@dataclass(frozen=True)
class Reader:
    """Who reads: the language and the address read, for links that keep the language."""

    lang: str
    path: str
    query: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, request: Request) -> "Reader":
        query = tuple(urllib.parse.parse_qsl(request.scope["query_string"].decode("latin-1")))
        lang = i18n.negotiate(
            request.query_params.get("lang"), request.headers.get("accept-language")
        )
        return cls(lang=lang, path=request.scope["path"], query=query)

    def t(self, key: str, **values: object) -> str:
        return i18n.text(key, self.lang, **values)

    def url(self, path: str, params: Mapping[str, Any] | None = None, fragment: str = "") -> str:
        """A link to a page of the record, in this reader's language."""
        pairs: list[tuple[str, str]] = []
        for key, value in (params or {}).items():
            if value is None or value == "":
                continue
            if isinstance(value, list | tuple):
                pairs.extend((key, str(v)) for v in value)
            else:
                pairs.append((key, str(value)))
        pairs.append(("lang", self.lang))
        tail = f"#{fragment}" if fragment else ""
        return f"{urllib.parse.quote(path)}?{urllib.parse.urlencode(pairs)}{tail}"

    def switch_url(self, *, echo: bool = True) -> str:
        """This very page in the other language; the first page when the address must
        not be echoed (an error page says nothing of what was asked for)."""
        if not echo:
            return f"/record?lang={i18n.other(self.lang)}"
        pairs = [(k, v) for k, v in self.query if k != "lang"]
        pairs.append(("lang", i18n.other(self.lang)))
        return f"{urllib.parse.quote(self.path)}?{urllib.parse.urlencode(pairs)}"


def _helpers(reader: Reader) -> dict[str, Any]:
    """What every template may call, in the reader's language."""
    lang = reader.lang
    return {
        "r": reader,
        "t": reader.t,
        "lang": lang,
        "other_lang": i18n.other(lang),
        "date": lambda value: i18n.format_date(value, lang),
        "instant": lambda value: i18n.format_instant(value, lang),
        "iso": i18n.iso,
        "percent": lambda value: i18n.percent(value, lang),
    }


def marked(text: str, matches: list[list[int]]) -> Markup:
    """A plain-text snippet as HTML: the text escaped, each [start, end) match (character
    offsets, as the search API gives them) in `<mark>`. Offsets out of order or outside
    the text are passed over: the text is shown whole whatever they say."""
    parts: list[str] = []
    at = 0
    for start, end in matches:
        start, end = max(start, at), min(end, len(text))
        if start >= end:
            continue
        parts.append(escape(text[at:start]))
        parts.append(Markup("<mark>%s</mark>") % text[start:end])
        at = end
    parts.append(escape(text[at:]))
    return Markup("".join(parts))  # noqa: S704 (every piece escaped above)


@dataclass(frozen=True)
class Piece:
    """Rendered HTML as bytes, with their hash, made once where it is kept (bytes
    alone: half the memory of keeping the text too)."""

    data: bytes
    digest: bytes

    @classmethod
    def of(cls, html: str) -> "Piece":
        data = html.encode("utf-8")
        return cls(data, hashlib.blake2b(data, digest_size=16).digest())

    @property
    def html(self) -> Markup:
        # the output of an autoescaping template: safe as it stands
        return Markup(self.data.decode("utf-8"))  # noqa: S704


class Fragments:
    """Rendered pieces of a page kept by what they were rendered from.

    A record item's HTML is a function of its public fields (as the JSON record gives
    them), the reader's language and the round's phase alone, so it is kept under the
    hash of exactly those: an item that changes in any way (a response, a revision, a
    rating) has another key and is rendered again, and one that is withdrawn or removed
    is not on the page, whose list of items is read from the database every time. The
    newest `size` pieces are kept."""

    def __init__(self, template: str, size: int = 4096, lists: int = 32) -> None:
        self.template = template
        self.size = size
        self.kept: OrderedDict[bytes, Markup] = OrderedDict()
        self.lists = lists
        self.kept_lists: OrderedDict[bytes, Piece] = OrderedDict()
        self.lock = threading.Lock()

    def render_list(
        self,
        reader: Reader,
        name: str,
        items: list[dict[str, Any]],
        shape: Callable[[dict[str, Any]], dict[str, Any]],
        given: Any,
    ) -> "Piece":
        """The pieces of `items`, one a line, each rendered with `{name: shape(item)}`,
        where `shape` is a function of the item and of `given` (JSON) alone. A whole
        list is kept too, by the hash of the items as they are (one hash for the page
        rather than one an item): a page read again with nothing changed in it is one
        look-up."""
        key = hashlib.blake2b(
            pydantic_core.to_json([reader.lang, given, items]), digest_size=16
        ).digest()
        with self.lock:
            found = self.kept_lists.get(key)
            if found is not None:
                self.kept_lists.move_to_end(key)
                return found
        piece = Piece.of(
            Markup("\n").join(self.render(reader, {name: shape(item)}) for item in items)
        )
        with self.lock:
            self.kept_lists[key] = piece
            while len(self.kept_lists) > self.lists:
                self.kept_lists.popitem(last=False)
        return piece

    def render(self, reader: Reader, extra: dict[str, Any], **context: Any) -> Markup:
        key = hashlib.blake2b(
            pydantic_core.to_json([reader.lang, extra, context]), digest_size=16
        ).digest()
        with self.lock:
            found = self.kept.get(key)
            if found is not None:
                self.kept.move_to_end(key)
                return found
        # the output of an autoescaping template: safe as it stands
        template = environment.get_template(self.template)
        html = Markup(template.render(**_helpers(reader), **extra, **context))  # noqa: S704
        with self.lock:
            self.kept[key] = html
            while len(self.kept) > self.size:
                self.kept.popitem(last=False)
        return html


def render(
    request: Request,
    reader: Reader,
    template: str,
    *,
    status: int = 200,
    title: str,
    feed: str = "/api/v1/feed.atom",
    **context: Any,
) -> Response:
    """The page, with its ETag (a hash of its bytes, as for JSON reads): a matching
    `If-None-Match` gets a 304 without the body."""
    body = (
        environment.get_template(template)
        .render(
            **_helpers(reader),
            title=title,
            feed=feed,
            switch=reader.switch_url(echo=status == 200),
            **context,
        )
        .encode("utf-8")
    )
    return _answer(request, reader, body, status)


# Where a page's list goes in its skeleton: text no template writes, and no value can
# hold but by chance (it is drawn when the process starts).
HOLE = Markup(f"\x00{secrets.token_hex(16)}\x00")  # noqa: S704
_SKELETONS: Kept[tuple[Any, ...], tuple[Piece, Piece] | None] = Kept(size=512)


def render_around(
    request: Request,
    reader: Reader,
    template: str,
    *,
    key: tuple[Any, ...],
    ttl: float,
    name: str,
    fill: Piece,
    title: str,
    feed: str,
    **values: Any,
) -> Response:
    """`render` of a page whose list (`name`, a loop writing each piece then a new
    line) is `fill`, non-empty: the rest of the page, its skeleton, is rendered once
    around a hole and kept while the record is unchanged (`context.Kept`), under
    `key`, the reader's language and the address, so `key` must name every value the
    skeleton shows that is not read under the record's version (the phase, the form's
    values, the page links). The bytes are those `render` writes; the ETag is a hash
    of the hashes of the three parts (kept with them), not of the whole body again."""
    switch = reader.switch_url()

    def skeleton() -> tuple[Piece, Piece] | None:
        holed: dict[str, Any] = {**values, name: [HOLE]}
        html = environment.get_template(template).render(
            **_helpers(reader), title=title, feed=feed, switch=switch, **holed
        )
        parts = html.split(HOLE)
        if len(parts) != 2:
            return None  # the hole's text is in a value after all: no skeleton
        return Piece.of(parts[0]), Piece.of(parts[1])

    found = _SKELETONS.get((template, reader.lang, switch, key), skeleton, ttl=ttl)
    if found is None:  # the list as one piece: the loop writes it, then a new line
        whole: dict[str, Any] = {**values, name: [fill.html]}
        return render(request, reader, template, title=title, feed=feed, **whole)
    before, after = found
    digest = hashlib.blake2b(before.digest + fill.digest + after.digest, digest_size=16)
    body = b"".join((before.data, fill.data, after.data))
    return _answer(request, reader, body, 200, tag=f'W/"{digest.hexdigest()}"')


def _answer(
    request: Request, reader: Reader, body: bytes, status: int, tag: str | None = None
) -> Response:
    tag = tag or weak_etag(body)
    headers = {
        "Content-Security-Policy": CSP,
        "Content-Language": reader.lang,
        "Vary": "Accept-Language",
        "Cache-Control": CACHE_CONTROL if status == 200 else "no-cache",
    }
    if status == 200:
        headers["ETag"] = tag
        if _matches(request.headers.get("if-none-match", ""), tag):
            return Response(status_code=304, headers=headers)
    return Response(body, status_code=status, media_type=HTML, headers=headers)


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def _matches(if_none_match: str, tag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2), as If-None-Match requires."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(_opaque(c) == _opaque(tag) for c in if_none_match.split(","))
