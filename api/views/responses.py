"""A response as the public sees it: its current revision, the delegation, whether it
came late, and the counts of each rating (never the raters).

One projection, `COLUMNS`, read with ids and instants as the text their JSON carries
(`json_text`): the record page hands the fields on as they are, the other callers
validate them into `ResponsePublic` (pydantic parses the text)."""

import functools
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlmodel import Session

from api.sql.json_text import UUID_TEXT, enum_text, instant_text, uuid_text
from api.sql.prepared import Prepared, one_of, one_of_values
from api.views import translations
from api.views.tables import rows_to_dicts, table
from models.dialogue import Delegation
from models.response import AnswerAssessment, Rating, Response, ResponsePublic, ResponseRevision
from models.round import Round
from models.submission import Submission

_RESPONSE = table(Response)
_REVISION = table(ResponseRevision)
_ASSESSMENT = table(AnswerAssessment)
_DELEGATION = table(Delegation)
_SUBMISSION = table(Submission)
_ROUND = table(Round)

_RATINGS = tuple(rating.value for rating in Rating)


def _rating_count(rating: Rating) -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.count())
        .select_from(_ASSESSMENT)
        .where(
            _ASSESSMENT.c.response_id == _RESPONSE.c.id,
            _ASSESSMENT.c.rating == rating.value,
        )
        .scalar_subquery()
    )


# `ResponsePublic`'s fields in its order, each with the SQL it is read by; `ratings`,
# last, is one column per rating.
COLUMNS: tuple[tuple[str, Any], ...] = (
    ("id", uuid_text(_RESPONSE.c.id)),
    ("submission_id", uuid_text(_RESPONSE.c.submission_id)),
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
        *(_rating_count(rating).label(rating.value) for rating in Rating),
    )
    .select_from(_RESPONSE)
    .join(
        _REVISION,
        (_REVISION.c.response_id == _RESPONSE.c.id)
        & (_REVISION.c.number == _RESPONSE.c.revision_count),
    )
    .join(_DELEGATION, _DELEGATION.c.id == _RESPONSE.c.delegation_id)
    .join(_SUBMISSION, _SUBMISSION.c.id == _RESPONSE.c.submission_id)
    .join(_ROUND, _ROUND.c.id == _SUBMISSION.c.round_id)
    .order_by(_DELEGATION.c.code)
)

_VIEWS = TypeAdapter(list[ResponsePublic])


@functools.cache
def _by(key: str, count: int) -> Prepared:
    """Current responses to `count` submissions (`key` "submission_id") or of `count`
    responses (`key` "id"), given by their ids as text."""
    return Prepared(PROJECTION.where(one_of(_RESPONSE.c[key], count, UUID_TEXT)))


# A row of `PROJECTION` as `ResponsePublic`'s fields, the ratings as one dict.
_RATINGS_DICT = "{" + ", ".join(f"{rating!r}: {rating}" for rating in _RATINGS) + "}"
_SHAPE = rows_to_dicts(
    (*_NAMES, *_RATINGS),
    [
        *((name, name) for name in _NAMES),
        ("ratings", _RATINGS_DICT),
        # the original's, until a translation says otherwise
        ("authoritative_language", "language"),
        ("translations", "[]"),
    ],
    {},
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
    translated: bool = False,
    preferred: str | None = None,
) -> dict[uuid.UUID, list[ResponsePublic]]:
    """Current responses (their latest revision), with their ratings, by submission id:
    one query; with `translated`, their translations too (one more, the language
    `preferred` first)."""
    if not response_ids:
        return {}
    ids = [str(i) for i in response_ids]
    rows = _by("id", len(ids)).rows(session, one_of_values(ids))
    shaped = by_submission(rows)
    if translated:
        translations.for_responses(session, shaped, preferred=preferred)
    return {uuid.UUID(sid): _VIEWS.validate_python(responses) for sid, responses in shaped.items()}
