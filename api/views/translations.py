"""Translations as the public sees them: every translation of a submission and of its
responses, with its language, the kind of translator (never the person) and whether it
is the authoritative text; the views they are part of say which language that is
(`authoritative_language`).

One query, by the submission ids a page shows (`texts`): the translations of those
submissions and of their responses alike (each row names the submission concerned).
`attach` puts them into the shaped views (plain dicts, `api.views.submissions`), the one
in the language asked for first. A view without translations pays for nothing but the
query: its `translations` is already `[]` and its `authoritative_language` its own.
"""

import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from api.sql.json_text import UUID_TEXT, enum_text, instant_text, uuid_text
from api.sql.prepared import Prepared, one_of, one_of_values
from api.views.tables import table
from models.translation import (
    ResponseTranslationPublic,
    SubmissionTranslationPublic,
    TranslatedObject,
    Translation,
)

_TRANSLATION = table(Translation)

# (name, SQL): the columns read, the public fields first (`object_type` and `object_id`
# only place them); never `translator_id`.
COLUMNS: tuple[tuple[str, Any], ...] = (
    ("object_type", enum_text(_TRANSLATION.c.object_type)),
    ("object_id", uuid_text(_TRANSLATION.c.object_id)),
    ("language", _TRANSLATION.c.language),
    ("title", _TRANSLATION.c.title),
    ("body", _TRANSLATION.c.body),
    ("translated_by", enum_text(_TRANSLATION.c.translated_by)),
    ("authoritative", _TRANSLATION.c.authoritative),
    ("revision", _TRANSLATION.c.revision),
    ("translated_at", instant_text(_TRANSLATION.c.updated_at)),
)
_SUBMISSION_FIELDS = tuple(SubmissionTranslationPublic.model_fields)
_RESPONSE_FIELDS = tuple(ResponseTranslationPublic.model_fields)
assert set(_SUBMISSION_FIELDS) | set(_RESPONSE_FIELDS) <= {n for n, _ in COLUMNS}

PROJECTION = sa.select(*(expression.label(name) for name, expression in COLUMNS)).order_by(
    _TRANSLATION.c.language
)


@functools.cache
def _by(submissions: int, responses: int) -> Prepared:
    """The translations of `submissions` submissions and their responses, and of
    `responses` responses by their own ids (a grouped answer's, whose translations name
    only one of the submissions it answers)."""
    where = []
    if submissions:
        where.append(one_of(_TRANSLATION.c.submission_id, submissions, UUID_TEXT))
    if responses:
        ids = [sa.bindparam(f"response{i}", type_=UUID_TEXT) for i in range(responses)]
        where.append(
            (_TRANSLATION.c.object_type == TranslatedObject.response)
            & _TRANSLATION.c.object_id.in_(ids)
        )
    return Prepared(PROJECTION.where(sa.or_(*where)))


def texts(
    session: Session, *, submission_ids: Sequence[str], response_ids: Sequence[str] = ()
) -> Sequence[Sequence[Any]]:
    """The translations of these submissions (ids as text) and of their responses, and of
    the responses given by their ids (grouped answers): rows of `PROJECTION`, for
    `attach`. One query, by the very ids the page shows."""
    if not submission_ids and not response_ids:
        return []
    params = one_of_values(submission_ids)
    params.update((f"response{i}", value) for i, value in enumerate(response_ids))
    return _by(len(submission_ids), len(response_ids)).rows(session, params)


def grouped_response_ids(items: Sequence[dict[str, Any]]) -> list[str]:
    """The ids of the grouped answers among the shaped views' responses: their
    translations are read by their own ids (`texts`)."""
    return sorted({r["id"] for item in items for r in item["responses"] if r["grouped_with"]})


def public(translation: Translation) -> SubmissionTranslationPublic | ResponseTranslationPublic:
    """One translation as the views show it."""
    fields = {
        "language": translation.language,
        "title": translation.title,
        "body": translation.body,
        "translated_by": translation.translated_by,
        "authoritative": translation.authoritative,
        "revision": translation.revision,
        "translated_at": translation.updated_at,
    }
    if translation.object_type == TranslatedObject.submission:
        return SubmissionTranslationPublic.model_validate(fields)
    return ResponseTranslationPublic.model_validate(fields)


def record_content(translation: Translation) -> dict[str, Any]:
    """What a `translation.added` or `translation.replaced` entry holds: the translation
    as the views show it (never the translator), and the object it translates."""
    content: dict[str, Any] = public(translation).model_dump(mode="json")
    return {f"{translation.object_type.value}_id": str(translation.object_id), **content}


def _rank(language: str, preferred: str | None) -> int:
    """0 for the language asked for, 1 for another of its primary language (`zh-Hant` for
    `zh-Hans`), 2 otherwise."""
    if preferred is None:
        return 2
    tag, wanted = language.lower(), preferred.lower()
    if tag == wanted:
        return 0
    return 1 if tag.split("-", 1)[0] == wanted.split("-", 1)[0] else 2


def _ordered(found: list[dict[str, Any]], preferred: str | None) -> list[dict[str, Any]]:
    if len(found) > 1 and preferred is not None:
        found.sort(key=lambda t: _rank(t["language"], preferred))  # stable: by language else
    return found


def attach(
    items: Sequence[dict[str, Any]], rows: Sequence[Sequence[Any]], *, preferred: str | None
) -> None:
    """Put the translations (rows of `PROJECTION`) into the shaped views of submissions
    and their responses, in place: `translations`, the language asked for first, and
    `authoritative_language` where a translation is authoritative. Only into views that
    are there: a response the caller does not see never gets its translations shown."""
    if not rows:
        return
    by_object: dict[str, list[dict[str, Any]]] = defaultdict(list)
    authoritative: dict[str, str] = {}
    for object_type, object_id, language, title, body, by, is_authoritative, revision, at in rows:
        if object_type == TranslatedObject.submission.value:
            shown: dict[str, Any] = {"language": language, "title": title, "body": body}
            shown |= {"translated_by": by, "authoritative": False, "translated_at": at}
        else:
            shown = {"language": language, "body": body, "translated_by": by}
            shown |= {"authoritative": bool(is_authoritative), "revision": revision}
            shown["translated_at"] = at
            if is_authoritative:
                authoritative[object_id] = language
        by_object[object_id].append(shown)
    for item in items:
        found = by_object.get(item["id"])
        if found:
            item["translations"] = _ordered(found, preferred)
        for response in item["responses"]:
            found = by_object.get(response["id"])
            if found:
                response["translations"] = _ordered(found, preferred)
                response["authoritative_language"] = authoritative.get(
                    response["id"], response["language"]
                )


def for_responses(
    session: Session, by_submission: dict[str, list[dict[str, Any]]], *, preferred: str | None
) -> None:
    """`texts` and `attach` for shaped views of responses, by submission id (text)."""
    ids = sorted({response["id"] for shown in by_submission.values() for response in shown})
    rows = texts(session, submission_ids=[], response_ids=ids)
    attach(
        [{"id": sid, "responses": shown} for sid, shown in by_submission.items()],
        rows,
        preferred=preferred,
    )
