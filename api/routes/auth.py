"""Accounts and tokens: register, token, refresh, logout, invitations."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlmodel import Session

from api.deps import Admin, CurrentUser, SecurityDep, SessionDep, Tx
from api.errors import Unauthorized, error_responses
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


@router.post("/auth/token", response_model=TokenPair, responses=error_responses(401, 422, 429))
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    security: SecurityDep,
    tx: Tx,
) -> Response:
    """Sign in with the OAuth2 password form: a 15-minute access token and a refresh token."""
    if len(form.username) > 64 or len(form.password) > 256 or "\x00" in form.username:
        raise Unauthorized(accounts.BAD_CREDENTIALS)
    # The address is used for throttling in memory only; it is never stored or logged.
    address = security.client_address(request)

    async def read(handle: str) -> accounts.Credentials | None:
        return await tx.read(accounts.credentials, handle=handle)

    # Three steps, so that no database turn (on SQLite, the write lock) is held while
    # Argon2 runs: read the credentials, check the password, then issue the tokens.
    checked, rehashed = await accounts.authenticate(
        security, handle=form.username, password=form.password, address=address, read=read
    )
    pair = await tx(accounts.sign_in, security=security, checked=checked, rehashed=rehashed)
    return json_response(pair)


@router.post("/auth/refresh", response_model=TokenPair, responses=error_responses(401, 422))
def refresh(data: RefreshRequest, session: SessionDep, security: SecurityDep) -> TokenPair:
    """Spend a refresh token for a new pair. A spent token revokes its whole family."""
    try:
        return accounts.refresh(session, security, token=data.refresh_token)
    except accounts.RefreshReused:
        # The revocation must stand although the request fails.
        session.commit()
        raise Unauthorized(
            "This refresh token was already used; every token of its session is revoked."
        ) from None


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
