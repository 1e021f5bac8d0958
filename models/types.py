"""Input types shared by every request schema: clean, bounded, NFC-normalised text."""

import re
import unicodedata
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints

from models.passwords import MAX_LENGTH, MIN_LENGTH, is_common

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(value: object) -> object:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        if _CONTROL.search(value):
            raise ValueError("text must not contain control characters")
        return unicodedata.normalize("NFC", value).strip()
    return value


def _clean_line(value: object) -> object:
    value = _clean(value)
    if isinstance(value, str) and ("\n" in value or "\r" in value):
        raise ValueError("must be a single line")
    return value


Line = Annotated[str, BeforeValidator(_clean_line), StringConstraints(min_length=1, max_length=200)]
ShortLine = Annotated[
    str, BeforeValidator(_clean_line), StringConstraints(min_length=1, max_length=80)
]
Title = Annotated[
    str, BeforeValidator(_clean_line), StringConstraints(min_length=3, max_length=200)
]
Body = Annotated[str, BeforeValidator(_clean), StringConstraints(min_length=1, max_length=20_000)]
Note = Annotated[str, BeforeValidator(_clean), StringConstraints(min_length=1, max_length=2_000)]
Description = Annotated[str, BeforeValidator(_clean), StringConstraints(max_length=5_000)]

Slug = Annotated[
    str,
    StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
]
Handle = Annotated[
    str,
    StringConstraints(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"),
]


def _not_common(value: str) -> str:
    if is_common(value):
        raise ValueError(
            "this password is on a list of common passwords; choose another of at least "
            f"{MIN_LENGTH} characters (a few unrelated words work well)"
        )
    return value


# The length is checked by the `str` schema itself (the constraints come before the
# validators), so the message says "characters", counted after NFC normalisation.
Password = Annotated[
    str,
    StringConstraints(min_length=MIN_LENGTH, max_length=MAX_LENGTH),
    BeforeValidator(_clean),
    AfterValidator(_not_common),
]
Email = Annotated[
    str,
    BeforeValidator(_clean_line),
    StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
DelegationCode = Annotated[
    str, StringConstraints(min_length=2, max_length=8, pattern=r"^[A-Z][A-Z0-9-]*$")
]


def _utc(value: datetime) -> datetime:
    from datetime import UTC

    return value.astimezone(UTC)


# RFC 3339: a date, a time and a zone (`Z` or an offset).
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$"
)


def _instant_text(value: object) -> object:
    """Only text in RFC 3339 form is an instant: a number (seconds since 1970) or a
    datetime without its zone is a 422, not a guess."""
    if isinstance(value, datetime):  # from Python callers, not from JSON
        return value
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError(
            "an instant is a string with a date, a time and a zone, "
            "e.g. 2026-03-01T09:00:00Z or 2026-03-01T17:00:00+08:00"
        )
    return value


# An instant in input must carry its zone: a naive datetime or a number is a 422.
Instant = Annotated[AwareDatetime, BeforeValidator(_instant_text), AfterValidator(_utc)]

# Bounded integers, so nothing out of range ever reaches the database.
SmallInt = Annotated[int, Field(ge=1, le=10_000)]

_BCP47 = re.compile(
    r"^(?P<lang>[a-zA-Z]{2,3}|[a-zA-Z]{5,8})"
    r"(?:-(?P<script>[a-zA-Z]{4}))?"
    r"(?:-(?P<region>[a-zA-Z]{2}|[0-9]{3}))?"
    r"(?P<rest>(?:-(?:[a-zA-Z0-9]{5,8}|[0-9][a-zA-Z0-9]{3}))*)$"
)


def _language_tag(value: object) -> object:
    """A well-formed BCP 47 tag (language, script, region, variants), in canonical case."""
    if not isinstance(value, str):
        return value
    match = _BCP47.match(value.strip())
    if match is None or len(value) > 35:
        raise ValueError("not a BCP 47 language tag (e.g. en, zh-Hans, zh-Hant-TW)")
    tag = match["lang"].lower()
    if match["script"]:
        tag += "-" + match["script"].title()
    if match["region"]:
        tag += "-" + match["region"].upper()
    return tag + match["rest"].lower()


LanguageTag = Annotated[str, BeforeValidator(_language_tag)]
ThemeName = Annotated[
    str, BeforeValidator(_clean_line), StringConstraints(min_length=1, max_length=100)
]
