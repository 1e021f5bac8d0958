"""A response as the public sees it: its current revision, the delegation, whether it
came late, and the counts of each rating (never the raters).

One projection, `COLUMNS`, read with ids and instants as the text their JSON carries
(`json_text`): the record page hands the fields on as they are, the other callers
validate them into `ResponsePublic` (pydantic parses the text).

It reads a response once for each submission it answers (`ResponseSubmission`): a grouped
answer shows under each of its submissions, with the others in `grouped_with` (read only
for a grouped answer, so an ordinary response costs no more than a join by key).

A response held for a joint release (`models.response.is_public`) is in none of these
reads but `views(..., held=True)`, which only its delegation's officials and moderators
reach (api/services/responses.py); the public sees of it only `SCHEDULED`: the
delegation and the instant."""

import functools
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlmodel import Session

from api.sql.json_text import UUID_TEXT, comma_joined, enum_text, instant_text, uuid_text
from api.sql.prepared import Prepared, one_of, one_of_values
from api.views import translations
from api.views.tables import rows_to_dicts, table
from models.dialogue import Delegation
from models.release import ScheduledResponse
from models.response import (
    AnswerAssessment,
    Rating,
    Response,
    ResponsePublic,
    ResponseRevision,
    ResponseSubmission,
    is_public,
)
from models.round import Round
from models.submission import Status, Submission

_LINK = table(ResponseSubmission)
_RESPONSE = table(Response)
_REVISION = table(ResponseRevision)
_ASSESSMENT = table(AnswerAssessment)
_DELEGATION = table(Delegation)
_SUBMISSION = table(Submission)
_ROUND = table(Round)

_RATINGS = tuple(rating.value for rating in Rating)


# Every rating of the response, joined by commas (`_counts` counts them): one lookup per
# response, where a count per rating took four.
_RATINGS_GIVEN = (
    sa.select(comma_joined(enum_text(_ASSESSMENT.c.rating)))
    .where(_ASSESSMENT.c.response_id == _RESPONSE.c.id)
    .scalar_subquery()
)


def _counts(joined: str | None) -> dict[str, int]:
    counts = dict.fromkeys(_RATINGS, 0)
    if joined:
        for rating in joined.split(","):
            counts[rating] += 1
    return counts


_OTHER = _LINK.alias("other_link")
_OTHER_SUBMISSION = _SUBMISSION.alias("other_submission")

# The other published submissions a grouped answer answers, joined by commas (`_ids`
# sorts them); NULL for an ordinary response, whose subquery is never run.
_GROUPED_WITH = sa.case(
    (
        _RESPONSE.c.grouped,
        sa.select(comma_joined(uuid_text(_OTHER.c.submission_id)))
        .select_from(
            _OTHER.join(_OTHER_SUBMISSION, _OTHER_SUBMISSION.c.id == _OTHER.c.submission_id)
        )
        .where(
            _OTHER.c.response_id == _RESPONSE.c.id,
            _OTHER.c.submission_id != _LINK.c.submission_id,
            _OTHER_SUBMISSION.c.status == Status.published.value,
        )
        .scalar_subquery(),
    ),
    else_=sa.null(),
)


def _hyphenated(text: str) -> str:
    # SQLite joins the stored 32 hex digits, PostgreSQL the canonical text
    if len(text) == 32:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


def _ids(joined: str | None) -> list[str]:
    return sorted(_hyphenated(text) for text in joined.split(",")) if joined else []


# `ResponsePublic`'s fields in its order, each with the SQL it is read by; `ratings`,
# last, is read as every rating given (`_RATINGS_GIVEN`).
COLUMNS: tuple[tuple[str, Any], ...] = (
    ("id", uuid_text(_RESPONSE.c.id)),
    ("submission_id", uuid_text(_LINK.c.submission_id)),
    ("grouped_with", _GROUPED_WITH),
    ("delegation", _DELEGATION.c.code),
    ("kind", enum_text(_REVISION.c.kind)),
    ("body", _REVISION.c.body),
    ("language", _REVISION.c.language),
    ("reason_code", enum_text(_REVISION.c.reason_code)),
    ("responded_at", instant_text(_RESPONSE.c.responded_at)),
    ("updated_at", instant_text(_REVISION.c.created_at)),
    ("revision_count", _RESPONSE.c.revision_count),
    ("late", _RESPONSE.c.responded_at > _ROUND.c.responses_due_at),
)
_NAMES = tuple(name for name, _ in COLUMNS)
# `authoritative_language` and `translations` are filled in by `api.views.translations`
_TRANSLATED = ("authoritative_language", "translations")
assert (*_NAMES, "ratings", *_TRANSLATED) == tuple(ResponsePublic.model_fields), (
    "COLUMNS out of step"
)

PROJECTION = (
    sa.select(
        *(expression.label(name) for name, expression in COLUMNS),
        _RATINGS_GIVEN.label("ratings"),
    )
    .select_from(_LINK)
    .join(_RESPONSE, _RESPONSE.c.id == _LINK.c.response_id)
    .join(
        _REVISION,
        (_REVISION.c.response_id == _RESPONSE.c.id)
        & (_REVISION.c.number == _RESPONSE.c.revision_count),
    )
    .join(_DELEGATION, _DELEGATION.c.id == _RESPONSE.c.delegation_id)
    .join(_SUBMISSION, _SUBMISSION.c.id == _LINK.c.submission_id)
    .join(_ROUND, _ROUND.c.id == _SUBMISSION.c.round_id)
    .order_by(_DELEGATION.c.code)
)

_VIEWS = TypeAdapter(list[ResponsePublic])
PUBLIC = is_public(_RESPONSE.c.embargo_until, _RESPONSE.c.released_at)


@functools.cache
def _by(key: str, count: int, held: bool = False) -> Prepared:
    """Current responses to `count` submissions (`key` "submission_id": one row for each
    that a response answers) or of `count` responses (`key` "id": one row each, under
    the submission it names, `Response.submission_id`), given by their ids as text;
    public ones only unless `held`."""
    if key == "submission_id":
        query = PROJECTION.where(one_of(_LINK.c.submission_id, count, UUID_TEXT))
    else:
        query = PROJECTION.where(
            one_of(_RESPONSE.c.id, count, UUID_TEXT),
            _LINK.c.submission_id == _RESPONSE.c.submission_id,
        )
    return Prepared(query if held else query.where(PUBLIC))


# What the public sees of a held response (`ScheduledResponse`): each submission it
# answers, its delegation, the instant it is to be released.
SCHEDULED = (
    sa.select(
        uuid_text(_LINK.c.submission_id).label("submission_id"),
        _DELEGATION.c.code.label("delegation"),
        instant_text(_RESPONSE.c.embargo_until).label("release_at"),
    )
    .select_from(_LINK)
    .join(_RESPONSE, _RESPONSE.c.id == _LINK.c.response_id)
    .join(_DELEGATION, _DELEGATION.c.id == _RESPONSE.c.delegation_id)
    .where(_RESPONSE.c.embargo_until.is_not(None), _RESPONSE.c.released_at.is_(None))
    .order_by(_DELEGATION.c.code)
)
assert tuple(ScheduledResponse.model_fields) == ("delegation", "release_at"), "SCHEDULED"


@functools.cache
def _scheduled_by(count: int) -> Prepared:
    return Prepared(SCHEDULED.where(one_of(_LINK.c.submission_id, count, UUID_TEXT)))


def scheduled(session: Session, *, submission_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The held responses to the submissions given by their ids as text, as the fields of
    `ScheduledResponse` by submission id: one query."""
    if not submission_ids:
        return {}
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rows = _scheduled_by(len(submission_ids)).rows(session, one_of_values(submission_ids))
    for submission_id, delegation, release_at in rows:
        out[submission_id].append({"delegation": delegation, "release_at": release_at})
    return out


# A row of `PROJECTION` as `ResponsePublic`'s fields, the ratings counted in one dict.
_SHAPE = rows_to_dicts(
    (*_NAMES, "ratings"),
    [
        *((name, "_ids(grouped_with)" if name == "grouped_with" else name) for name in _NAMES),
        ("ratings", "_counts(ratings)"),
        # the original's, until a translation says otherwise
        ("authoritative_language", "language"),
        ("translations", "[]"),
    ],
    {"_ids": _ids, "_counts": _counts},
)


def by_submission(rows: Sequence[Sequence[Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows of `PROJECTION` as the fields of `ResponsePublic`, by submission id (text)."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for fields in _SHAPE(rows, None):
        out[fields["submission_id"]].append(fields)
    return out


def texts(session: Session, *, submission_ids: list[str]) -> Sequence[Sequence[Any]]:
    """Current responses (their latest revision), with their ratings, to the
    submissions given by their ids as text: rows of `PROJECTION`, for `by_submission`.
    One query, by the very ids a page shows (selecting them again by the page's filters
    could, on PostgreSQL, see a later snapshot than the page did, and miss some)."""
    if not submission_ids:
        return []
    return _by("submission_id", len(submission_ids)).rows(session, one_of_values(submission_ids))


def views(
    session: Session,
    *,
    response_ids: Sequence[uuid.UUID],
    held: bool = False,
    translated: bool = False,
    preferred: str | None = None,
) -> dict[uuid.UUID, list[ResponsePublic]]:
    """Current responses (their latest revision), with their ratings, by submission id:
    one query; held responses too only with `held` (their delegation's view); with
    `translated`, their translations too (one more, the language `preferred` first)."""
    if not response_ids:
        return {}
    ids = [str(i) for i in response_ids]
    rows = _by("id", len(ids), held).rows(session, one_of_values(ids))
    shaped = by_submission(rows)
    if translated:
        translations.for_responses(session, shaped, preferred=preferred)
    return {uuid.UUID(sid): _VIEWS.validate_python(responses) for sid, responses in shaped.items()}
