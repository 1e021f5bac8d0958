"""The caller's own account, and admin reads of others."""

import uuid

from fastapi import APIRouter

from api.deps import CurrentUser, SessionDep
from api.errors import NotFound, error_responses
from api.permissions import Permission, can
from api.services import accounts
from models.user import User, UserPublic

router = APIRouter(prefix="/api/v1/users", tags=["accounts"])


@router.get("/me", response_model=UserPublic, responses=error_responses(401))
def me(user: CurrentUser, session: SessionDep) -> UserPublic:
    """Who the access token belongs to: id, handle, role and delegation."""
    return accounts.public(session, user=user)


@router.get("/{user_id}", response_model=UserPublic, responses=error_responses(401, 404))
def read_user(user_id: uuid.UUID, caller: CurrentUser, session: SessionDep) -> UserPublic:
    """An account by id: admins read any, everyone else only their own (404 otherwise)."""
    user = session.get(User, user_id)
    if user is None or (user.id != caller.id and not can(caller.role, Permission.read_users)):
        raise NotFound("No such user.")
    return accounts.public(session, user=user)
