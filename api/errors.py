"""The error family and its one rendering: RFC 9457 problem details.

Every error a client can see is one of these classes, or is turned into one
by the handlers below; no stack trace, SQL or class name ever leaves.
"""

import json
import logging
import sqlite3
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import Send

from api import i18n

log = logging.getLogger("civic_input.errors")

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:civic-input:problem:"


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Problem):
    """A 422: `errors` names each field that failed validation; a rule that spans the
    request (the order of a round's instants) has `detail` alone."""

    errors: list[ValidationIssue] = Field(default_factory=list)


class ApiError(Exception):
    """Base of the family: a status, a stable type slug and a human title."""

    status: int = 500
    slug: str = "internal"
    title: str = "Internal error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extra = extra

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.slug

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(ApiError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(ApiError):
    status, slug, title = 401, "unauthorized", "Not authenticated"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(ApiError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(ApiError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ApiError):
    status, slug, title = 409, "conflict", "Conflict"


class Gone(ApiError):
    status, slug, title = 410, "gone", "No longer valid"


class PreconditionFailed(ApiError):
    status, slug, title = 412, "precondition-failed", "The resource changed since you read it"


class PayloadTooLarge(ApiError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class Unprocessable(ApiError):
    status, slug, title = 422, "unprocessable", "The request cannot be processed"


class PreconditionRequired(ApiError):
    status, slug, title = 428, "precondition-required", "If-Match is required"


class TooManyRequests(ApiError):
    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Busy(ApiError):
    status, slug, title = 503, "busy", "The service is busy; try again shortly"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class Unavailable(ApiError):
    """The database does not answer (down, or hung): a fault on our side, soon over."""

    status, slug, title = 503, "unavailable", "The database is not answering; try again shortly"
    retry_after = 5

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database server is out of reach (refused, timed out, the
    connection lost), as opposed to SQLite's write lock or a bad statement."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError) and not isinstance(exc.orig, sqlite3.Error)


def _problem(error: ApiError) -> JSONResponse:
    return problem_response(
        error.status, type_=error.type, title=error.title, headers=error.headers()
    )


def problem_response(
    status: int,
    *,
    type_: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    body: dict[str, Any] = {
        "type": type_ or (TYPE_PREFIX + phrase.lower().replace(" ", "-")),
        "title": title or phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    # in the reader's language (api/i18n): title, detail, our validation messages
    body, said = i18n.localized_problem(body)
    headers = {**(headers or {}), **said}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


async def send_problem(
    send: Send,
    status: int,
    *,
    slug: str,
    title: str,
    detail: str | None = None,
    close: bool = False,
) -> None:
    """A problem sent by raw ASGI middleware, outside the app and its handlers (a body
    too large to read, the last-line 500): the body written out by hand, with its own
    `Content-Length`, and `Connection: close` when the request's body is left unread."""
    fields: dict[str, Any] = {"type": TYPE_PREFIX + slug, "title": title, "status": status}
    if detail is not None:
        fields["detail"] = detail
    fields, said = i18n.localized_problem(fields)  # in the reader's language (api/i18n)
    body = json.dumps(fields, ensure_ascii=False).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in said.items()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the problems it can answer with, for the OpenAPI document."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        model = ValidationProblem if status == 422 else Problem
        out[status] = {"model": model, "content": {PROBLEM_JSON: {}}}
    return out


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers at the request's path."""
    methods: set[str] = set()
    path = request.url.path
    for context in iter_route_contexts(request.app.router.routes):
        route_methods = getattr(context.original_route, "methods", None)
        template = context.path_format
        if route_methods and template and compile_path(template)[0].match(path):
            methods |= route_methods
    rank = {name: i for i, name in enumerate(_METHOD_ORDER)}
    return sorted(methods, key=lambda name: (rank.get(name, len(rank)), name))


def validation_problem(issues: list[dict[str, Any]]) -> JSONResponse:
    """The 422 for a request that failed validation, one issue per field."""
    return problem_response(
        422,
        type_=TYPE_PREFIX + "validation",
        title="The request is not valid",
        detail="See `errors` for each field that failed.",
        errors=issues,
    )


def _validation_issues(errors: Any) -> list[dict[str, Any]]:
    # Never echo the input back: it may be a password.
    issues = []
    for err in errors:
        loc = [part if isinstance(part, int) else str(part) for part in err.get("loc", ())]
        issues.append(
            {"loc": loc, "msg": str(err.get("msg", "invalid")), "type": err.get("type", "")}
        )
    return issues


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return problem_response(
            exc.status,
            type_=exc.type,
            title=exc.title,
            detail=exc.detail,
            headers=exc.headers(),
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_problem(_validation_issues(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI answers malformed JSON with a 422 `json_invalid`, but a body that is
            # not even UTF-8 with a bare 400: the same mistake, so the same answer.
            return validation_problem(
                [{"loc": ["body"], "msg": "The body is not UTF-8 JSON.", "type": "json_invalid"}]
            )
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = getattr(exc, "headers", None)
        if exc.status_code == 404:
            detail = "There is nothing at this address."
        if exc.status_code == 405:
            # Starlette names the methods of the one route it tried; a path served by
            # several routes (GET and POST in two functions) allows them all.
            allowed = allowed_methods(request)
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
            detail = f"This address answers {', '.join(allowed)}."
        # A chunked body cut off by the size limit arrives here: give it the same
        # type and title as the 413 sent at once for a too-large Content-Length.
        family = PayloadTooLarge if exc.status_code == PayloadTooLarge.status else None
        return problem_response(
            exc.status_code,
            type_=family().type if family else None,
            title=family.title if family else None,
            detail=detail,
            headers=headers,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity conflict: %s", type(exc.orig).__name__)
        return problem_response(
            409,
            type_=Conflict().type,
            title=Conflict.title,
            detail="This conflicts with something already stored.",
        )

    @app.exception_handler(OperationalError)
    async def _operational(_request: Request, exc: OperationalError) -> JSONResponse:
        if database_unavailable(exc):
            log.warning("database unavailable: %s", type(exc.orig).__name__)
            return _problem(Unavailable())
        log.warning("database busy: %s", type(exc.orig).__name__)
        return _problem(Busy())

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(_request: Request, _exc: PoolTimeout) -> JSONResponse:
        # Every pooled connection stayed busy for the pool's whole timeout: an overload
        # to retry, like a locked database, not a 500.
        log.warning("database busy: no pooled connection came free")
        return _problem(Busy())

    @app.exception_handler(DataError)
    async def _data(_request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold (a NUL byte in text on PostgreSQL, a number out
        # of range) that slipped past validation: the client's input, so a 422, not a 500.
        log.warning("database refused a value: %s", type(exc.orig).__name__)
        return problem_response(
            422,
            type_=Unprocessable().type,
            title=Unprocessable.title,
            detail="A value in the request cannot be stored or searched for.",
        )

    @app.exception_handler(DBAPIError)
    async def _dbapi(_request: Request, exc: DBAPIError) -> JSONResponse:
        if database_unavailable(exc):
            # e.g. "the connection is closed" (an InterfaceError) on a connection lost
            log.warning("database unavailable: %s", type(exc.orig).__name__)
            return _problem(Unavailable())
        log.error("database error: %s", type(exc.orig).__name__)
        return problem_response(500, title="Internal error")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected %s", type(exc).__name__, exc_info=exc)
        return problem_response(500, title="Internal error")
