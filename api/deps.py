"""Dependency aliases: the session, the caller, and the roles routes declare."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from api import db
from api.config import Settings
from api.db import get_session
from api.errors import Forbidden, Unauthorized
from api.permissions import Permission, can
from api.security import InvalidToken, Security
from models.user import User

SessionDep = Annotated[Session, Depends(get_session, scope="function")]

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


def caller(
    session: Session, security: Security, token: str | None, *, read_only: bool = False
) -> User | None:
    """The user a bearer token names, reloaded (so a role change applies at once), or None
    without a token; 401 for a token that is not valid or no longer valid. `read_only`
    gives a copy that cannot be changed (`db.snapshot`), for hot paths."""
    if token is None:
        return None
    try:
        claims = security.decode_access_token(token)
    except InvalidToken:
        raise Unauthorized("The access token is not valid.") from None
    if read_only:
        user = db.snapshot(session, User, claims.user_id)
    else:
        user = session.get(User, claims.user_id)
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


def authorize(
    session: Session, security: Security, token: str | None, permission: Permission
) -> User:
    """`require(permission)` for work done in `db.run`: the caller, who must hold it, as
    a read-only copy."""
    return allowed(signed_in(caller(session, security, token, read_only=True)), permission)


def optional_user(session: SessionDep, security: SecurityDep, token: BearerToken) -> User | None:
    """The caller, or None."""
    return caller(session, security, token)


async def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    return signed_in(user)


MaybeUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]


def require(permission: Permission) -> object:
    """A dependency that lets through only callers whose role holds `permission`."""

    async def check(user: CurrentUser) -> User:
        return allowed(user, permission)

    return Depends(check)


Activist = Annotated[User, require(Permission.submit)]
Official = Annotated[User, require(Permission.respond)]
Moderator = Annotated[User, require(Permission.moderate)]
Admin = Annotated[User, require(Permission.manage)]
