"""A response as the public sees it: its current revision, the delegation, whether it
came late, and the counts of each rating (never the raters).

One projection, `COLUMNS`, read with ids and instants as the text their JSON carries
(`json_text`): the record page hands the fields on as they are, the other callers
validate them into `ResponsePublic` (pydantic parses the text).

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

from api.sql.json_text import UUID_TEXT, enum_text, instant_text, uuid_text
from api.sql.prepared import Prepared, one_of, one_of_values
from api.views.tables import rows_to_dicts, table
from models.dialogue import Delegation
from models.release import ScheduledResponse
from models.response import (
    AnswerAssessment,
    Rating,
    Response,
    ResponsePublic,
    ResponseRevision,
    is_public,
)
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
assert (*_NAMES, "ratings") == tuple(ResponsePublic.model_fields), "COLUMNS out of step"

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
PUBLIC = is_public(_RESPONSE.c.embargo_until, _RESPONSE.c.released_at)


@functools.cache
def _by(key: str, count: int, held: bool = False) -> Prepared:
    """Current responses to `count` submissions (`key` "submission_id") or of `count`
    responses (`key` "id"), given by their ids as text; public ones only unless `held`."""
    query = PROJECTION.where(one_of(_RESPONSE.c[key], count, UUID_TEXT))
    return Prepared(query if held else query.where(PUBLIC))


# What the public sees of a held response (`ScheduledResponse`): its submission, its
# delegation, the instant it is to be released.
SCHEDULED = (
    sa.select(
        uuid_text(_RESPONSE.c.submission_id).label("submission_id"),
        _DELEGATION.c.code.label("delegation"),
        instant_text(_RESPONSE.c.embargo_until).label("release_at"),
    )
    .select_from(_RESPONSE)
    .join(_DELEGATION, _DELEGATION.c.id == _RESPONSE.c.delegation_id)
    .where(_RESPONSE.c.embargo_until.is_not(None), _RESPONSE.c.released_at.is_(None))
    .order_by(_DELEGATION.c.code)
)
assert tuple(ScheduledResponse.model_fields) == ("delegation", "release_at"), "SCHEDULED"


@functools.cache
def _scheduled_by(count: int) -> Prepared:
    return Prepared(SCHEDULED.where(one_of(_RESPONSE.c.submission_id, count, UUID_TEXT)))


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


# A row of `PROJECTION` as `ResponsePublic`'s fields, the ratings as one dict.
_RATINGS_DICT = "{" + ", ".join(f"{rating!r}: {rating}" for rating in _RATINGS) + "}"
_SHAPE = rows_to_dicts(
    (*_NAMES, *_RATINGS), [*((name, name) for name in _NAMES), ("ratings", _RATINGS_DICT)], {}
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
    session: Session, *, response_ids: Sequence[uuid.UUID], held: bool = False
) -> dict[uuid.UUID, list[ResponsePublic]]:
    """Current responses (their latest revision), with their ratings, by submission id:
    one query. Held responses too only with `held` (their delegation's view)."""
    if not response_ids:
        return {}
    ids = [str(i) for i in response_ids]
    rows = _by("id", len(ids), held).rows(session, one_of_values(ids))
    return {
        uuid.UUID(sid): _VIEWS.validate_python(responses)
        for sid, responses in by_submission(rows).items()
    }
