"""Accounts and tokens: register, token, refresh, logout, invitations."""

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlmodel import Session

from api.deps import Admin, CurrentUser, SecurityDep, SessionDep, Tx
from api.errors import ApiError, BadRequest, TooManyRequests, Unauthorized, error_responses
from api.pagination import json_response
from api.services import accounts
from models.user import (
    InvitationAccept,
    InvitationCreate,
    InvitationCreated,
    RefreshRequest,
    TokenPair,
    UserPublic,
    UserRegister,
)

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses=error_responses(409, 413, 422),
)
async def register(data: UserRegister, security: SecurityDep, tx: Tx) -> Response:
    """Create an activist account (the only role anyone can register for)."""
    password_hash = await security.hashed(data.password)
    return await tx(_registered, data=data, password_hash=password_hash)


def _registered(session: Session, *, data: UserRegister, password_hash: str) -> Response:
    user = accounts.register(
        session, handle=data.handle, password_hash=password_hash, email=data.email
    )
    return json_response(accounts.public(session, user=user), status_code=201)


class TokenRequest(BaseModel):
    """The OAuth2 token request, form-encoded: the password grant (RFC 6749 §4.3) or the
    refresh grant (§6). Other fields a client sends (`client_id`...) are ignored."""

    grant_type: str = Field(
        "password",
        description="`password` (the default) or `refresh_token`.",
        examples=["password", "refresh_token"],
    )
    username: str | None = Field(None, description="The handle (password grant).")
    password: str | None = Field(None, description="The password (password grant).")
    refresh_token: str | None = Field(
        None, min_length=16, max_length=256, description="The refresh token (refresh grant)."
    )
    scope: str = Field(
        "", description="Civic Input grants no scopes; a refresh asking for any is refused."
    )
    client_id: str | None = None
    client_secret: str | None = None


def _oauth_error(error: ApiError, code: str) -> ApiError:
    """The problem with RFC 6749 §5.2's members beside its own: OAuth2 client libraries
    read `error` (a problem without it would be taken for a token)."""
    error.extra.setdefault("error", code)
    error.extra.setdefault("error_description", error.detail or error.title)
    return error


def _missing(*fields: str) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("body", name), "msg": "Field required", "type": "missing"} for name in fields]
    )


@router.post("/auth/token", response_model=TokenPair, responses=error_responses(400, 401, 422, 429))
async def token(
    form: Annotated[TokenRequest, Form()],
    request: Request,
    security: SecurityDep,
    tx: Tx,
) -> Response:
    """The OAuth2 token endpoint. `grant_type=password` (the default): sign in with a
    handle and password for a 15-minute access token and a refresh token.
    `grant_type=refresh_token`: spend a refresh token for a new pair, exactly as
    `POST /auth/refresh` does (a spent token revokes its whole family). Errors are
    problems that also carry RFC 6749's `error` and `error_description`."""
    if form.grant_type == "refresh_token":
        return await _refresh_grant(form, security, tx)
    if form.grant_type != "password":
        raise _oauth_error(
            BadRequest("grant_type must be password or refresh_token."),
            "unsupported_grant_type",
        )
    if form.username is None or form.password is None:
        raise _missing(*(name for name in ("username", "password") if getattr(form, name) is None))
    try:
        return await _password_grant(
            request, security, tx, username=form.username, password=form.password
        )
    except Unauthorized as exc:
        raise _oauth_error(exc, "invalid_grant") from None
    except TooManyRequests as exc:
        raise _oauth_error(exc, "temporarily_unavailable") from None


async def _password_grant(
    request: Request, security: SecurityDep, tx: Tx, *, username: str, password: str
) -> Response:
    if len(username) > 64 or len(password) > 256 or "\x00" in username:
        raise Unauthorized(accounts.BAD_CREDENTIALS)
    # The address is used for throttling in memory only; it is never stored or logged.
    address = security.client_address(request)

    async def read(handle: str) -> accounts.Credentials | None:
        return await tx.read(accounts.credentials, handle=handle)

    # Three steps, so that no database turn (on SQLite, the write lock) is held while
    # Argon2 runs: read the credentials, check the password, then issue the tokens.
    checked, rehashed = await accounts.authenticate(
        security, handle=username, password=password, address=address, read=read
    )
    pair = await tx(accounts.sign_in, security=security, checked=checked, rehashed=rehashed)
    return json_response(pair)


async def _refresh_grant(form: TokenRequest, security: SecurityDep, tx: Tx) -> Response:
    if form.refresh_token is None:
        raise _missing("refresh_token")
    if form.scope.strip():
        raise _oauth_error(
            BadRequest("No scopes are granted, so a refresh may ask for none."), "invalid_scope"
        )
    try:
        pair = await tx(accounts.spend_refresh, security=security, token=form.refresh_token)
    except Unauthorized as exc:
        raise _oauth_error(exc, "invalid_grant") from None
    return json_response(pair)


@router.post("/auth/refresh", response_model=TokenPair, responses=error_responses(401, 422))
def refresh(data: RefreshRequest, session: SessionDep, security: SecurityDep) -> TokenPair:
    """Spend a refresh token for a new pair. A spent token revokes its whole family.
    (OAuth2 clients use `POST /auth/token` with `grant_type=refresh_token`.)"""
    return accounts.spend_refresh(session, security, token=data.refresh_token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401))
def logout(user: CurrentUser, session: SessionDep) -> Response:
    """Revoke the caller's refresh tokens and end their current access tokens."""
    accounts.logout(session, user=user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationCreated,
    tags=["admin"],
    responses=error_responses(401, 403, 404, 422),
)
def create_invitation(
    data: InvitationCreate, admin: Admin, session: SessionDep
) -> InvitationCreated:
    """Invite an official (bound to a delegation) or a moderator; the token is shown once."""
    return accounts.invite(session, data=data, admin=admin)


@router.post(
    "/auth/accept-invitation",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses=error_responses(404, 409, 410, 422),
)
async def accept_invitation(data: InvitationAccept, security: SecurityDep, tx: Tx) -> Response:
    """Redeem a one-time invitation: choose a handle and password, get the invited role."""
    password_hash = await security.hashed(data.password)
    return await tx(_invitation_accepted, data=data, password_hash=password_hash)


def _invitation_accepted(
    session: Session, *, data: InvitationAccept, password_hash: str
) -> Response:
    user = accounts.accept_invitation(
        session, token=data.token, handle=data.handle, password_hash=password_hash
    )
    return json_response(accounts.public(session, user=user), status_code=201)
