"""What routes declare: the session or the transaction, the caller, the round, the roles,
idempotency. A route takes these and calls one service; it needs nothing from api/db.py.

Two ways to reach the database, one shape of route:

- `SessionDep` with `CurrentUser`, `Activist`, `RoundDep`...: the request's session,
  each dependency resolved by FastAPI (a `def` dependency in a worker thread of its own).
- `Tx` with `Caller(...)`, `RoundRef`...: for the hot paths, the whole transaction in one
  hop to a worker thread (`Transaction`). Those dependencies check what they can in the
  event loop (the token) and arrive as `Deferred` values, read inside that hop, in the
  order they are passed: `await tx(work, rnd=rnd, author=author, data=data)` calls
  `work(session, rnd=<Round>, author=<User>, data=data)` and commits.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.config import Settings
from api.db import Deferred, Retry, Transaction, get_session, transaction
from api.errors import Forbidden, Unauthorized
from api.permissions import Permission, can
from api.security import AccessClaims, InvalidToken, Security
from api.services import idempotency, rounds
from api.sql.snapshot import snapshot
from models.round import Round
from models.user import User

SessionDep = Annotated[Session, Depends(get_session, scope="function")]
Tx = Annotated[Transaction, Depends(transaction)]

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Dependencies that neither block nor touch the database are `async def`: FastAPI runs a
# plain `def` dependency in a worker thread, and each hop to a thread and back costs more
# than the work under load.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_security(request: Request) -> Security:
    security: Security = request.app.state.security
    return security


SettingsDep = Annotated[Settings, Depends(get_settings)]
SecurityDep = Annotated[Security, Depends(get_security)]


BearerToken = Annotated[str | None, Depends(oauth2)]


def _claims(security: Security, token: str | None) -> AccessClaims | None:
    """What a bearer token says, or None without one; 401 for a token that is not valid."""
    if token is None:
        return None
    try:
        return security.decode_access_token(token)
    except InvalidToken:
        raise Unauthorized("The access token is not valid.") from None


def _current(user: User | None, claims: AccessClaims) -> User:
    """The user row the claims name, if the token is still valid for it (a role change or
    a sign-out applies at once); else 401."""
    if user is None or not user.is_active or user.session_version != claims.session_version:
        raise Unauthorized("The access token is no longer valid.")
    return user


def signed_in(user: User | None) -> User:
    if user is None:
        raise Unauthorized("Sign in first: send `Authorization: Bearer <access token>`.")
    return user


def allowed(user: User, permission: Permission) -> User:
    """Every route is listed in the OpenAPI document, so refusing an action hides
    nothing: 403. A *resource* the caller may not see answers 404 instead."""
    if not can(user.role, permission):
        raise Forbidden(f"Your role may not do this ({permission.value}).")
    return user


# --- in the request's session ------------------------------------------------------


def optional_user(session: SessionDep, security: SecurityDep, token: BearerToken) -> User | None:
    """The caller, reloaded, or None without a token."""
    claims = _claims(security, token)
    if claims is None:
        return None
    return _current(session.get(User, claims.user_id), claims)


async def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    return signed_in(user)


MaybeUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]


def require(permission: Permission) -> Any:
    """A dependency that lets through only callers whose role holds `permission`."""

    async def check(user: CurrentUser) -> User:
        return allowed(user, permission)

    return Depends(check)


Activist = Annotated[User, require(Permission.submit)]
Official = Annotated[User, require(Permission.respond)]
Moderator = Annotated[User, require(Permission.moderate)]
Admin = Annotated[User, require(Permission.manage)]


# --- in the request's Transaction (`Tx`) -------------------------------------------


def Caller(permission: Permission | None = None, *, optional: bool = False) -> Any:
    """The caller as a `Deferred` value for a `Tx` route: signed in and holding
    `permission` (if given), or None without a token when `optional`. The token is
    checked in the event loop (no database); the user row is read in the transaction, as
    a read-only copy. Errors are raised when it is read, in argument order."""

    # the request, not `SecurityDep`: one dependency fewer to solve on a hot path
    async def deferred_caller(request: Request, token: BearerToken) -> Deferred[User | None]:
        refusal: Unauthorized | None = None
        claims: AccessClaims | None = None
        try:
            claims = _claims(request.app.state.security, token)
        except Unauthorized as exc:
            refusal = exc

        def load(session: Session) -> User | None:
            if refusal is not None:
                raise refusal
            user = None
            if claims is not None:
                user = _current(snapshot(session, User, claims.user_id), claims)
            if optional:
                return user
            user = signed_in(user)
            return user if permission is None else allowed(user, permission)

        return Deferred(load)

    return Depends(deferred_caller)


async def round_ref(round_id: uuid.UUID) -> Deferred[Round]:
    """The round of the path, read in the transaction (404 if there is none)."""
    return Deferred(lambda session: rounds.snapshot_or_404(session, round_id=round_id))


Submitter = Annotated[Deferred[User], Caller(Permission.submit)]
MaybeCaller = Annotated[Deferred[User | None], Caller(optional=True)]
RoundRef = Annotated[Deferred[Round], Depends(round_ref)]


# --- Idempotency-Key ---------------------------------------------------------------

IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Retry safely: the same key and body return the first answer again.",
    ),
]


@dataclass(frozen=True)
class Idempotency:
    """The request's `Idempotency-Key` (if any) and path: `once(work, ...)` makes a POST's
    work answer a retry with the first answer instead of doing it again."""

    key: str | None
    path: str

    def __call__(
        self, work: Callable[..., Response], *, user: User | Deferred[User], body: BaseModel
    ) -> Callable[..., Response]:
        """`work(session, **arguments)` answered once per `user` and key: a retry with the
        same body gets the stored answer (with `Idempotent-Replayed: true`), another body
        422. `work` returns a JSON response; its body is stored in the same transaction.
        Give the result to `Tx` (or call it with the request's session)."""
        key = self.key
        if key is None:
            return work
        request_hash = idempotency.fingerprint(self.path, body.model_dump(mode="json"))

        def once(session: Session, **arguments: Any) -> Response:
            caller = user.get(session) if isinstance(user, Deferred) else user
            stored = idempotency.replay(session, user=caller, key=key, request_hash=request_hash)
            if stored is not None:
                return JSONResponse(
                    stored.response,
                    status_code=stored.status_code,
                    headers={"Idempotent-Replayed": "true"},
                )
            response = work(session, **arguments)
            try:
                idempotency.remember(
                    session,
                    user=caller,
                    key=key,
                    request_hash=request_hash,
                    status_code=response.status_code,
                    body=json.loads(bytes(response.body)),
                )
            except IntegrityError:
                # The same key, sent at the same moment, was stored by a transaction that
                # committed first (PostgreSQL; SQLite's writes take turns): this one's
                # work is rolled back, and done again it replays the stored answer.
                raise Retry() from None
            return response

        return once


async def idempotency_key(request: Request, idempotency_key: IdempotencyKey = None) -> Idempotency:
    return Idempotency(idempotency_key, request.url.path)


Idempotent = Annotated[Idempotency, Depends(idempotency_key)]
