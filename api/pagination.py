"""Opaque cursors and the Page[T] shape shared by every list."""

import base64
import json
import urllib.parse
import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import pydantic_core
from fastapi import Query, Request, Response
from pydantic import BaseModel, Field

from api.errors import BadRequest

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last page."
    )


LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}).")
]
CursorQuery = Annotated[
    str | None, Query(max_length=512, description="Opaque cursor from `next_cursor`.")
]


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The cursor is not valid; start again without one.") from None
    if not isinstance(values, list) or len(values) != arity:
        raise BadRequest("The cursor is not valid; start again without one.")
    for value in values:
        if (
            not isinstance(value, str | int | None)
            or isinstance(value, bool)
            or (isinstance(value, int) and not -(2**63) <= value < 2**63)
            or (isinstance(value, str) and ("\x00" in value or len(value) > 200))
        ):
            raise BadRequest("The cursor is not valid; start again without one.")
    return values


def decode_keyset_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """An (instant, id) cursor. Anything else is a 400, an instant without its zone too:
    it would reach a UTC column and fail there as a 500."""
    after = decode_cursor(cursor, 2)
    if after is None:
        return None
    try:
        at, row_id = datetime.fromisoformat(str(after[0])), uuid.UUID(str(after[1]))
    except ValueError:
        raise BadRequest("The cursor is not valid; start again without one.") from None
    if at.tzinfo is None:
        raise BadRequest("The cursor is not valid; start again without one.")
    return at, row_id


def json_response(
    model: BaseModel, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A model as JSON bytes, serialised here (for `Tx`, in its worker thread) rather
    than checked and serialised again by FastAPI: the declared `response_model` still
    documents it, and `model` is already of that type."""
    return Response(
        model.model_dump_json(by_alias=True),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def page_response(request: Request, page: dict[str, Any]) -> Response:
    """A page (`items` and `next_cursor`) as JSON with its ``Link: rel="next"`` header.

    The items are plain dicts in their model's field order, of values pydantic
    serialises (UUIDs, instants, ...): written as the model would write them, without
    building and checking a model per item first (tests/api/test_record.py compares)."""
    response = Response(pydantic_core.to_json(page), media_type="application/json")
    link_next(request, response, page["next_cursor"])
    return response


def link_next(request: Request, response: Response, next_cursor: str | None) -> None:
    """Set the RFC 8288 ``Link: rel="next"`` header for a page that has a successor."""
    if next_cursor:
        response.headers["Link"] = next_link(request, "cursor", next_cursor)


def next_link(request: Request, name: str, value: str) -> str:
    """A ``Link`` to the next page: this request's path and query, with the parameter
    `name` set to `value`. Read from the ASGI scope, in a quarter of the time
    `request.url` takes to parse and build a whole URL."""
    scope = request.scope
    query = [
        (key, old)
        for key, old in urllib.parse.parse_qsl(
            scope["query_string"].decode("latin-1"), keep_blank_values=True
        )
        if key != name
    ]
    query.append((name, value))
    path = urllib.parse.quote(scope["path"])
    return f'<{path}?{urllib.parse.urlencode(query)}>; rel="next"'


def keyset_page(
    session: Any,
    query: Any,
    *,
    at_column: Any,
    id_column: Any,
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """One keyset page over (an instant, an id), oldest first or newest first: stable
    while rows are added, with no offset."""
    after = decode_keyset_cursor(cursor)
    if after is not None:
        at, row_id = after
        if descending:
            query = query.where((at_column < at) | ((at_column == at) & (id_column < row_id)))
        else:
            query = query.where((at_column > at) | ((at_column == at) & (id_column > row_id)))
    order = (at_column.desc(), id_column.desc()) if descending else (at_column, id_column)
    rows = list(session.exec(query.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    if not more:
        return rows, None
    last = rows[-1]
    return rows, encode_cursor([getattr(last, at_column.key).isoformat(), str(last.id)])
