"""A submission as the public sees it, and as its author and moderators see it.

Everything about it is declared here once: `PUBLIC` lists the fields of
`SubmissionPublic` in order with the SQL each is read by (ids and instants as the text
their JSON carries, `json_text`), `PRIVATE` adds what only the author and moderators
see, and `AUTHOR_SHOWN` is the attribution rule. The record page runs `PUBLIC` as
compiled statements and hands the fields on as they are; `views` runs the same
projection for submissions already loaded and validates them into the models;
`created_view` applies the same rule to a submission just created, without a query.
"""

import functools
from collections.abc import Sequence
from enum import Enum
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlmodel import Session

from api.sql.json_text import UUID_TEXT, comma_joined, enum_text, instant_text, uuid_text
from api.sql.prepared import Prepared, one_of, one_of_values
from api.views import responses, translations
from api.views.tables import RowsToDicts, rows_to_dicts, table
from models.dialogue import Delegation
from models.submission import (
    Attribution,
    Endorsement,
    Submission,
    SubmissionAddressee,
    SubmissionCreate,
    SubmissionPrivate,
    SubmissionPublic,
    SubmissionTheme,
)
from models.theme import Theme
from models.translation import Translation
from models.user import User


class View(Enum):
    """How much of a submission a caller sees."""

    public = "public"  # the published record
    private = "private"  # the author and moderators: status, reasons, times


_SUBMISSION = table(Submission)
_SUBMISSION_THEME = table(SubmissionTheme)
_SUBMISSION_ADDRESSEE = table(SubmissionAddressee)
_THEME = table(Theme)
_DELEGATION = table(Delegation)
_ENDORSEMENT = table(Endorsement)
_USER = table(User)

# The attribution rule: the author the public sees under each attribution is the
# author's handle or the organisation named; under any other (anonymous), nobody.
AUTHOR_SHOWN: dict[str, str] = {
    Attribution.handle.value: "handle",
    Attribution.organisation.value: "organisation",
}


def _author() -> sa.Case[Any]:
    """`AUTHOR_SHOWN` in SQL. The author's id is read here only, to find the handle."""
    sources = {
        "handle": sa.select(_USER.c.handle)
        .where(_USER.c.id == _SUBMISSION.c.author_id)
        .scalar_subquery(),
        "organisation": _SUBMISSION.c.organisation,
    }
    return sa.case(
        *(
            (_SUBMISSION.c.attribution == shown_as, sources[source])
            for shown_as, source in AUTHOR_SHOWN.items()
        )
    )


def author_shown(attribution: str, *, handle: str | None, organisation: str | None) -> str | None:
    """`AUTHOR_SHOWN` for values at hand."""
    source = AUTHOR_SHOWN.get(attribution)
    return {"handle": handle, "organisation": organisation}[source] if source else None


def _joined_names(link: sa.Table, named: sa.Table, key: str, name: str) -> sa.ScalarSelect[Any]:
    """The names (theme slugs, delegation codes) linked to the submission, joined by
    commas, in no particular order (`_split` sorts them)."""
    return (
        sa.select(comma_joined(named.c[name]))
        .select_from(link.join(named, named.c.id == link.c[key]))
        .where(link.c.submission_id == _SUBMISSION.c.id)
        .scalar_subquery()
    )


def _split(names: str | None) -> list[str]:
    return sorted(names.split(",")) if names else []


_ENDORSEMENT_COUNT = (
    sa.select(sa.func.count())
    .select_from(_ENDORSEMENT)
    .where(_ENDORSEMENT.c.submission_id == _SUBMISSION.c.id)
    .scalar_subquery()
)

# `SubmissionPublic`'s fields in its order, each with the SQL it is read by (`responses`,
# last, comes from `api.views.responses`). The rows are unpacked by these positions.
PUBLIC: tuple[tuple[str, Any], ...] = (
    ("id", uuid_text(_SUBMISSION.c.id)),
    ("round_id", uuid_text(_SUBMISSION.c.round_id)),
    ("kind", enum_text(_SUBMISSION.c.kind)),
    ("title", _SUBMISSION.c.title),
    ("body", _SUBMISSION.c.body),
    ("language", _SUBMISSION.c.language),
    ("themes", _joined_names(_SUBMISSION_THEME, _THEME, "theme_id", "slug")),
    ("addressed_to", _joined_names(_SUBMISSION_ADDRESSEE, _DELEGATION, "delegation_id", "code")),
    ("attribution", enum_text(_SUBMISSION.c.attribution)),
    ("author", _author()),
    ("case_id", uuid_text(_SUBMISSION.c.case_id)),
    ("published_at", instant_text(_SUBMISSION.c.published_at)),
    ("endorsement_count", _ENDORSEMENT_COUNT),
)
# What the author and moderators see besides, `SubmissionPrivate`'s own fields in order.
PRIVATE: tuple[tuple[str, Any], ...] = (
    ("status", enum_text(_SUBMISSION.c.status)),
    ("status_reason", _SUBMISSION.c.status_reason),
    ("created_at", instant_text(_SUBMISSION.c.created_at)),
    ("updated_at", instant_text(_SUBMISSION.c.updated_at)),
)
# Whether any translation concerns the submission (of it, or of one of its responses),
# read last in every row: a page reads the translations of the rows that have some, and
# runs no query for them at all when none has (`api.views.translations`).
_TRANSLATION = table(Translation)
FLAGS: tuple[tuple[str, Any], ...] = (
    (
        "translated",
        sa.select(sa.literal(1))
        .select_from(_TRANSLATION)
        .where(_TRANSLATION.c.submission_id == _SUBMISSION.c.id)
        .exists(),
    ),
)
# Names joined by commas in SQL, split (and sorted) when shaped.
_LISTS = ("themes", "addressed_to")

_PUBLIC_NAMES = tuple(name for name, _ in PUBLIC)
_PRIVATE_ONLY = tuple(name for name, _ in PRIVATE)
# `responses` and `scheduled` come from `api.views.responses`; `authoritative_language`
# and `translations` are filled in by `api.views.translations` (the original's language,
# none, until then)
_FROM_RESPONSES = ("responses", "scheduled")
_TRANSLATED = ("authoritative_language", "translations")
_FLAG_NAMES = tuple(name for name, _ in FLAGS)
assert (*_PUBLIC_NAMES, *_FROM_RESPONSES, *_TRANSLATED) == tuple(SubmissionPublic.model_fields), (
    "PUBLIC out of step"
)
assert (*_PUBLIC_NAMES, *_FROM_RESPONSES, *_TRANSLATED, *_PRIVATE_ONLY) == tuple(
    SubmissionPrivate.model_fields
), "PRIVATE out of step"
_ID = _PUBLIC_NAMES.index("id")


def _select(columns: Sequence[tuple[str, Any]]) -> sa.Select[Any]:
    return sa.select(*(expression.label(name) for name, expression in columns))


# A select of submissions with what a record page shows of each: add the conditions.
PUBLIC_PROJECTION = _select(PUBLIC + FLAGS)
PRIVATE_PROJECTION = _select(PUBLIC + PRIVATE + FLAGS)


def view_query() -> sa.Select[Any]:
    """`PUBLIC_PROJECTION`, to which the record page adds its filters and order:
    `record_fields` makes its rows the page's items."""
    return PUBLIC_PROJECTION


def _shaper(private: bool) -> RowsToDicts:
    """Rows of the projection (with `PRIVATE` if `private`) as dicts in the model's field
    order, `extra` being the responses and the scheduled ones, each by submission id (text)."""
    names = _PUBLIC_NAMES + (_PRIVATE_ONLY if private else ()) + _FLAG_NAMES
    fields = [(name, f"_split({name})" if name in _LISTS else name) for name in _PUBLIC_NAMES]
    fields.append(("responses", "extra[0].get(id, [])"))
    fields.append(("scheduled", "extra[1].get(id, [])"))
    fields += [("authoritative_language", "language"), ("translations", "[]")]
    fields += [(name, name) for name in _PRIVATE_ONLY if private]
    return rows_to_dicts(names, fields, {"_split": _split})


_SHAPE = {False: _shaper(False), True: _shaper(True)}


def _shape(
    rows: Sequence[Sequence[Any]],
    answers: dict[str, list[dict[str, Any]]],
    scheduled: dict[str, list[dict[str, Any]]],
    *,
    private: bool,
) -> list[dict[str, Any]]:
    return _SHAPE[private](rows, (answers, scheduled))


def record_fields(
    session: Session, rows: Sequence[Sequence[Any]], *, preferred: str | None = None
) -> list[dict[str, Any]]:
    """The fields of the public views of rows of `view_query()`, as plain dicts in
    `SubmissionPublic`'s field order, ids and instants as text, with their current
    responses (a query, by the very ids of the rows), the held ones' `scheduled` (one
    more) and the translations of both (a query by the ids of the rows that have some,
    none when none has; the translation in the language `preferred` first)."""
    ids = [row[_ID] for row in rows]
    answers = responses.texts(session, submission_ids=ids)
    scheduled = responses.scheduled(session, submission_ids=ids)
    shaped = _shape(rows, responses.by_submission(answers), scheduled, private=False)
    translated = [row[_ID] for row in rows if row[-1]]
    grouped = translations.grouped_response_ids(shaped)
    found = translations.texts(session, submission_ids=translated, response_ids=grouped)
    translations.attach(shaped, found, preferred=preferred)
    return shaped


@functools.cache
def _by_ids(count: int, private: bool) -> Prepared:
    projection = PRIVATE_PROJECTION if private else PUBLIC_PROJECTION
    return Prepared(projection.where(one_of(_SUBMISSION.c.id, count, UUID_TEXT)))


def view_fields(
    session: Session,
    submissions: Sequence[Submission],
    *,
    view: View,
    preferred: str | None = None,
) -> list[dict[str, Any]]:
    """The fields of the views of submissions, in the order given, as plain dicts: two
    queries (the projection, the responses) for a page of any size, and a third for the
    translations when any of them has some."""
    if not submissions:
        return []
    ids = [str(s.id) for s in submissions]
    private = view == View.private
    rows = _by_ids(len(ids), private).rows(session, one_of_values(ids))
    answers = responses.by_submission(responses.texts(session, submission_ids=ids))
    scheduled = responses.scheduled(session, submission_ids=ids)
    shaped = {fields["id"]: fields for fields in _shape(rows, answers, scheduled, private=private)}
    ordered = [shaped[sid] for sid in ids]
    translated = [row[_ID] for row in rows if row[-1]]
    grouped = translations.grouped_response_ids(ordered)
    found = translations.texts(session, submission_ids=translated, response_ids=grouped)
    translations.attach(ordered, found, preferred=preferred)
    return ordered


_PUBLIC_VIEWS = TypeAdapter(list[SubmissionPublic])
_PRIVATE_VIEWS = TypeAdapter(list[SubmissionPrivate])


def views(
    session: Session,
    submissions: Sequence[Submission],
    *,
    view: View,
    preferred: str | None = None,
) -> list[SubmissionPublic]:
    """The views of submissions (`view_fields`), validated in one call."""
    fields = view_fields(session, submissions, view=view, preferred=preferred)
    if view == View.private:
        return list(_PRIVATE_VIEWS.validate_python(fields))
    return _PUBLIC_VIEWS.validate_python(fields)


def created_view(
    submission: Submission, *, data: SubmissionCreate, author: User
) -> SubmissionPrivate:
    """The author's view of a submission just created, without a query (the hot path at
    a deadline): its themes and addressees are those given (sorted and unique, as
    `views` lists them), and it has no endorsements or responses yet."""
    computed = {
        "themes": data.themes,
        "addressed_to": data.addressed_to,
        "author": author_shown(
            submission.attribution, handle=author.handle, organisation=submission.organisation
        ),
        "endorsement_count": 0,
        "responses": [],
        "scheduled": [],
        "authoritative_language": submission.language,
        "translations": [],
    }
    fields = {
        name: computed[name] if name in computed else getattr(submission, name)
        for name in SubmissionPrivate.model_fields
    }
    return SubmissionPrivate.model_validate(fields)
