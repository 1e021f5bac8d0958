"""English and Chinese: the answer's language, negotiated from `Accept-Language`.

Two languages are offered, `en` (the default) and `zh-Hans`. A request's language is
the offered one its `Accept-Language` weighs highest (`zh`, `zh-CN`, `zh-SG`,
`zh-Hans-CN` and every `zh-Hans-*` are read as `zh-Hans`, every `en-*` as `en`; a range
of weight 0 is refused); without a header, or with none of these, it is English.

What follows the language: a problem's `title` and `detail` and the validation messages
the code writes (`localized_problem`, called where api/errors.py renders a problem),
theme names (`name_for`) and enum labels (`labels`, served by `GET /api/v1/vocabulary`).
What never does: problem `type` URIs, field names, enum values, slugs and codes. Every
such answer says `Content-Language` and `Vary: Accept-Language`, so no cache between
here and the reader hands one reader's language to another; the server's own cache
(api/cache.py) keys its entries by the language too (`language_of`).

The texts are in `catalogue.py`, one plain table for translators to read.
"""

import contextlib
import contextvars
import functools
import re
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.i18n.catalogue import LABELS, MESSAGES, PHRASES, STATUS_TITLES, TITLES

EN = "en"
ZH_HANS = "zh-Hans"
DEFAULT = EN
LANGUAGES = (EN, ZH_HANS)
TYPE_PREFIX = "urn:civic-input:problem:"

# Accept-Language ranges read as one of ours, lower-cased; and ours by prefix.
_ALIASES = {
    "en": EN,
    "zh": ZH_HANS,
    "zh-hans": ZH_HANS,
    "zh-cn": ZH_HANS,
    "zh-sg": ZH_HANS,
    "zh-hans-cn": ZH_HANS,
}
_PREFIXES = (("en-", EN), ("zh-hans-", ZH_HANS))
_Q = re.compile(r"^q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$", re.IGNORECASE)  # RFC 9110 §12.4.2

_current: contextvars.ContextVar[str] = contextvars.ContextVar("civic_language", default=DEFAULT)


def _offered(language_range: str) -> str | None:
    lowered = language_range.lower()
    found = _ALIASES.get(lowered)
    if found is not None:
        return found
    for prefix, language in _PREFIXES:
        if lowered.startswith(prefix):
            return language
    return None


def negotiate(accept_language: str | None) -> str:
    """The offered language `accept_language` prefers (RFC 9110 §12.5.4): the highest
    weight wins, the first named among equals; `*` stands for every language it does not
    name; English when none is acceptable. A malformed item is passed over."""
    if not accept_language:
        return DEFAULT
    if len(accept_language) > 256:  # longer than any browser sends: not worth keeping
        return _negotiate.__wrapped__(accept_language)
    return _negotiate(accept_language)


@functools.lru_cache(maxsize=512)
def _negotiate(accept_language: str) -> str:
    weights: dict[str, float] = {}  # in the order first named
    wildcard: float | None = None
    for item in accept_language.split(","):
        language_range, *params = (part.strip() for part in item.split(";"))
        q: float | None = 1.0
        for param in params:
            if param[:2].lower() == "q=":
                match = _Q.match(param.replace(" ", ""))
                q = float(match[1]) if match is not None else None
        if q is None or not language_range:
            continue
        if language_range == "*":
            wildcard = max(q, wildcard or 0.0)
            continue
        language = _offered(language_range)
        if language is not None:
            weights[language] = max(q, weights.get(language, 0.0))
    if wildcard is not None:
        for language in LANGUAGES:  # the default first: it wins a tie
            weights.setdefault(language, wildcard)
    best = max(weights, key=lambda language: weights[language], default=DEFAULT)
    return best if weights.get(best, 0.0) > 0 else DEFAULT


def language_of(scope: Scope) -> str:
    """The language negotiated for an ASGI request: cheap, for the response cache's hits
    (one pass over the headers; the negotiation is cached by the header's bytes)."""
    raw: bytes | None = None
    for name, value in scope.get("headers", ()):
        if name == b"accept-language":
            raw = value if raw is None else raw + b"," + value
    if raw is None:
        return DEFAULT
    if len(raw) > 256:
        return negotiate(raw.decode("latin-1"))
    return _negotiated(raw)


@functools.lru_cache(maxsize=512)
def _negotiated(raw: bytes) -> str:
    return negotiate(raw.decode("latin-1"))


def current() -> str:
    """The language of the request being answered (English outside one)."""
    return _current.get()


class Language:
    """Negotiate each request's language once, for whatever answers it (a route, an error
    handler, a middleware's own problem): outside every layer that can send a problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with speaking(language_of(scope)):
            await self.app(scope, receive, send)


@contextlib.contextmanager
def speaking(language: str) -> Iterator[None]:
    """Answer in `language` within the block."""
    token = _current.set(language)
    try:
        yield
    finally:
        _current.reset(token)


def headers(language: str) -> dict[str, str]:
    """What an answer whose text follows the language says about it."""
    return {"Content-Language": language, "Vary": "Accept-Language"}


def _language_dependency(
    response: Response,
    accept_language: Annotated[
        str | None,
        Header(
            description="`en` (the default) or `zh-Hans` (also `zh`, `zh-CN`, `zh-SG`), "
            "with q-values; the answer's Content-Language says which was used.",
        ),
    ] = None,
) -> str:
    # As `Language` negotiated it for the whole request, and as the caches key it (several
    # Accept-Language lines are read as one); the parameter documents the header.
    language = current()
    response.headers.update(headers(language))
    return language


# A route's dependency: the answer's language, with Content-Language and Vary set on it.
AnswerLanguage = Annotated[str, Depends(_language_dependency)]


# --- the catalogue, indexed -------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class _Message:
    def __init__(self, entry: dict[str, Any]) -> None:
        self.en: str = entry["en"]
        self.translations: dict[str, str] = entry
        self.translate: dict[str, str] = entry.get("translate", {})
        pattern, last = "", 0
        for match in _PLACEHOLDER.finditer(self.en):
            pattern += re.escape(self.en[last : match.start()]) + f"(?P<{match[1]}>.+?)"
            last = match.end()
        self.pattern = re.compile(pattern + re.escape(self.en[last:]), re.DOTALL)
        self.literal = len(_PLACEHOLDER.sub("", self.en))

    def render(self, language: str, values: dict[str, str]) -> str:
        translated = {
            name: _term(self.translate.get(name), value, language) for name, value in values.items()
        }
        return self.translations[language].format(**translated)


def _term(vocabulary: str | None, value: str, language: str) -> str:
    """`value` put in a message, translated through `vocabulary` when it names one."""
    if vocabulary in LABELS:
        label = LABELS[vocabulary].get(value)
        return label[language] if label else value
    for phrase in PHRASES.get(vocabulary or "", {}).values():
        if phrase["en"] == value:
            return phrase[language]
    return value


_MESSAGES = [_Message(entry) for entry in MESSAGES.values()]
_EXACT = {m.en: m for m in _MESSAGES if not m.translate and "{" not in m.en}
# templates with more fixed text first: "No such delegation: {a}. Ambiguous...: {b}." is
# tried before "No such delegation: {a}."
_TEMPLATES = sorted((m for m in _MESSAGES if m.en not in _EXACT), key=lambda m: -m.literal)
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def message(text: str, language: str) -> str:
    """`text`, an English message the code wrote, in `language` (as is if unknown)."""
    if language == DEFAULT:
        return text
    exact = _EXACT.get(text)
    if exact is not None:
        return exact.translations[language]
    for template in _TEMPLATES:
        match = template.pattern.fullmatch(text)
        if match is not None:
            return template.render(language, match.groupdict())
    return text


def _issue_message(text: str, language: str) -> str:
    # Pydantic writes a validator's message after its own prefix: the message is ours.
    for prefix in _PYDANTIC_PREFIXES:
        if text.startswith(prefix):
            translated = message(text[len(prefix) :], language)
            return translated if translated != text[len(prefix) :] else text
    return message(text, language)


def title(type_: str, status: int, text: str, language: str) -> str:
    """A problem's title in `language`: by its type, else by its status."""
    if language == DEFAULT:
        return text
    slug = type_.removeprefix(TYPE_PREFIX).split(":", 1)[0]
    entry = TITLES.get(slug) or STATUS_TITLES.get(status)
    return entry[language] if entry else text


def localized_problem(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A problem body in the request's language, and the headers that say so. `type`,
    `status`, field names and every extension member's value are left as they are."""
    language = current()
    if language != DEFAULT:
        body = dict(body)
        body["title"] = title(body["type"], body["status"], body["title"], language)
        if isinstance(body.get("detail"), str):
            body["detail"] = message(body["detail"], language)
        issues = body.get("errors")
        if isinstance(issues, list):
            body["errors"] = [
                {**issue, "msg": _issue_message(issue["msg"], language)}
                if isinstance(issue, dict) and isinstance(issue.get("msg"), str)
                else issue
                for issue in issues
            ]
    return body, headers(language)


# --- names and labels ---------------------------------------------------------------

# The tags a name in each language may be stored under, most fitting first.
_NAME_TAGS = {
    EN: ("en", "en-GB", "en-US"),
    ZH_HANS: ("zh-Hans", "zh-Hans-CN", "zh-CN", "zh-SG", "zh-Hans-SG", "zh"),
}


def name_for(names: dict[str, str], language: str) -> str:
    """The name in `language` from names by language tag: else English, else the first
    by tag (a theme has at least one name)."""
    for tags in (_NAME_TAGS[language], _NAME_TAGS[DEFAULT]):
        for tag in tags:
            if tag in names:
                return names[tag]
    for tag, name in names.items():
        if _offered(tag) == language:
            return name
    return names[min(names)] if names else ""


def labels(language: str) -> dict[str, dict[str, str]]:
    """Every enum's values with their labels in `language`, by vocabulary."""
    return {
        vocabulary: {value: text[language] for value, text in values.items()}
        for vocabulary, values in LABELS.items()
    }


def texts() -> Iterable[tuple[str, dict[str, str]]]:
    """Every text in the catalogue with its translations, named (for the tests)."""
    for slug, entry in TITLES.items():
        yield f"title {slug}", entry
    for status, entry in STATUS_TITLES.items():
        yield f"status title {status}", entry
    for key, entry in MESSAGES.items():
        yield f"message {key}", entry
    for group, phrases in PHRASES.items():
        for key, entry in phrases.items():
            yield f"phrase {group}.{key}", entry
    for vocabulary, values in LABELS.items():
        for value, entry in values.items():
            yield f"label {vocabulary}.{value}", entry
