"""Accounts: registration, sign-in, refresh-token families, invitations."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.errors import Conflict, Gone, NotFound, TooManyRequests, Unauthorized, Unprocessable
from api.permissions import INVITABLE_ROLES
from api.security import Security, digest, new_opaque_token
from models.dialogue import Delegation, Dialogue
from models.user import (
    DelegationRef,
    Invitation,
    InvitationCreate,
    InvitationCreated,
    RefreshToken,
    Role,
    TokenPair,
    User,
    UserPublic,
)

BAD_CREDENTIALS = "Unknown handle or wrong password."
REFRESH_REUSED = "This refresh token was already used; every token of its session is revoked."


def handle_key(handle: str) -> str:
    return handle.casefold()


def get_by_handle(session: Session, *, handle: str) -> User | None:
    return session.exec(select(User).where(User.handle_key == handle_key(handle))).first()


def public(session: Session, *, user: User) -> UserPublic:
    delegation = None
    if user.delegation_id is not None:
        row = session.exec(
            select(Delegation, Dialogue.slug)
            .join(Dialogue, col(Dialogue.id) == col(Delegation.dialogue_id))
            .where(Delegation.id == user.delegation_id)
        ).first()
        if row is not None:
            d, slug = row
            delegation = DelegationRef(id=d.id, code=d.code, name=d.name, dialogue_slug=slug)
    return UserPublic(id=user.id, handle=user.handle, role=Role(user.role), delegation=delegation)


def create_user(
    session: Session,
    *,
    handle: str,
    password_hash: str,
    role: Role,
    email: str | None = None,
    delegation_id: uuid.UUID | None = None,
) -> User:
    if get_by_handle(session, handle=handle) is not None:
        raise Conflict("This handle is taken.")
    user = User(
        handle=handle,
        handle_key=handle_key(handle),
        email=email,
        password_hash=password_hash,
        role=role,
        delegation_id=delegation_id,
    )
    session.add(user)
    session.flush()
    return user


def register(session: Session, *, handle: str, password_hash: str, email: str | None) -> User:
    """Self-registration always makes an activist. The password is hashed before the
    transaction begins (`Security.hashed`)."""
    return create_user(
        session, handle=handle, password_hash=password_hash, email=email, role=Role.activist
    )


@dataclass(frozen=True)
class Credentials:
    user_id: uuid.UUID
    password_hash: str
    is_active: bool


def credentials(session: Session, *, handle: str) -> Credentials | None:
    """What a sign-in checks, read without holding the database while the hash runs."""
    user = get_by_handle(session, handle=handle)
    if user is None:
        return None
    return Credentials(user.id, user.password_hash, user.is_active)


async def authenticate(
    security: Security,
    *,
    handle: str,
    password: str,
    address: str | None,
    read: Callable[[str], Awaitable[Credentials | None]],
) -> tuple[Credentials, str | None]:
    """Check a handle and password; the same answer and cost for an unknown handle.
    `read` looks the credentials up (`credentials` in a transaction of its own); the
    Argon2 work runs outside it. Returns them with a new hash when the parameters
    changed since the password was set."""
    account = handle_key(handle)
    wait = security.throttle.check(account, address)
    if wait:
        raise TooManyRequests("Too many sign-in attempts; wait and try again.", retry_after=wait)
    found = await read(handle)
    ok = await security.verified(found.password_hash if found else None, password)
    if found is None or not ok or not found.is_active:
        security.throttle.failed(account, address)
        raise Unauthorized(BAD_CREDENTIALS)
    security.throttle.succeeded(account, address)
    rehashed = (
        await security.hashed(password) if security.needs_rehash(found.password_hash) else None
    )
    return found, rehashed


def sign_in(
    session: Session,
    security: Security,
    *,
    checked: Credentials,
    rehashed: str | None,
) -> TokenPair:
    """Tokens for credentials `authenticate` accepted, if they still hold: an account
    deactivated or a password changed in between is refused."""
    user = session.get(User, checked.user_id)
    if user is None or not user.is_active or user.password_hash != checked.password_hash:
        raise Unauthorized(BAD_CREDENTIALS)
    if rehashed is not None:
        user.password_hash = rehashed
        session.add(user)
    return issue_tokens(session, security, user=user)


def issue_tokens(
    session: Session, security: Security, *, user: User, family_id: uuid.UUID | None = None
) -> TokenPair:
    refresh = new_opaque_token()
    now = datetime.now(UTC)
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id or uuid.uuid4(),
            token_hash=digest(refresh),
            created_at=now,
            expires_at=now + timedelta(days=security.settings.refresh_token_days),
        )
    )
    session.flush()
    return TokenPair(
        access_token=security.mint_access_token(user.id, user.session_version),
        expires_in=security.access_token_seconds,
        refresh_token=refresh,
    )


class RefreshReused(Exception):
    """A spent refresh token came back: the family was revoked (and must stay revoked)."""


def refresh(session: Session, security: Security, *, token: str) -> TokenPair:
    """Spend a refresh token for a new pair; a spent one revokes its whole family (RFC 9700).

    Raises RefreshReused when the family must be revoked: the caller commits that
    revocation and answers 401.
    """
    now = datetime.now(UTC)
    stored = session.exec(
        select(RefreshToken).where(RefreshToken.token_hash == digest(token))
    ).first()
    if stored is None:
        raise Unauthorized("The refresh token is not valid.")
    if stored.used_at is not None or stored.revoked_at is not None:
        revoke_family(session, user_id=stored.user_id, family_id=stored.family_id, now=now)
        raise RefreshReused()
    if stored.expires_at <= now:
        raise Unauthorized("The refresh token has expired; sign in again.")
    # Spend it atomically: of two racing requests with the same token, one wins.
    spent = session.execute(
        sa.update(RefreshToken)
        .where(col(RefreshToken.id) == stored.id, col(RefreshToken.used_at).is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        revoke_family(session, user_id=stored.user_id, family_id=stored.family_id, now=now)
        raise RefreshReused()
    user = session.get(User, stored.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("The refresh token is not valid.")
    return issue_tokens(session, security, user=user, family_id=stored.family_id)


def spend_refresh(session: Session, security: Security, *, token: str) -> TokenPair:
    """`refresh` for a route: a spent token's revocation is committed before the 401,
    so that it stands although the request fails. Both refresh endpoints (the JSON one
    and the OAuth2 token endpoint's `refresh_token` grant) spend tokens through here."""
    try:
        return refresh(session, security, token=token)
    except RefreshReused:
        session.commit()
        raise Unauthorized(REFRESH_REUSED) from None


def revoke_family(
    session: Session, *, user_id: uuid.UUID, family_id: uuid.UUID, now: datetime
) -> None:
    """Revoke a family's refresh tokens and end its access tokens at once.

    Access tokens carry no family, only the user's session version: bumping it ends
    every access token the user holds (their other sessions get new ones by
    refreshing, which they may still do). Nothing is bumped for a family revoked
    already, whose access tokens ended with it (logout bumps too).
    """
    revoked = session.execute(
        sa.update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    if revoked.rowcount:  # type: ignore[attr-defined]
        session.execute(
            sa.update(User)
            .where(col(User.id) == user_id)
            .values(session_version=col(User.session_version) + 1)
        )


def logout(session: Session, *, user: User) -> None:
    """Revoke every refresh token of the caller and end their access tokens."""
    session.execute(
        sa.update(RefreshToken)
        .where(col(RefreshToken.user_id) == user.id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    user.session_version += 1
    session.add(user)
    session.flush()


# --- invitations --------------------------------------------------------------


def invite(session: Session, *, data: InvitationCreate, admin: User) -> InvitationCreated:
    role = Role(data.role.value)
    if role not in INVITABLE_ROLES:
        raise Unprocessable("Only officials and moderators are invited.")
    if role == Role.official:
        if data.delegation_id is None:
            raise Unprocessable("An official's invitation names the delegation they answer for.")
        if session.get(Delegation, data.delegation_id) is None:
            raise NotFound("No such delegation.")
    elif data.delegation_id is not None:
        raise Unprocessable("Only officials belong to a delegation.")
    token = new_opaque_token()
    invitation = Invitation(
        token_hash=digest(token),
        role=role,
        delegation_id=data.delegation_id,
        created_by_id=admin.id,
        expires_at=datetime.now(UTC) + timedelta(hours=data.expires_in_hours),
    )
    session.add(invitation)
    session.flush()
    return InvitationCreated(
        id=invitation.id,
        role=role,
        delegation_id=invitation.delegation_id,
        expires_at=invitation.expires_at,
        token=token,
    )


def accept_invitation(session: Session, *, token: str, handle: str, password_hash: str) -> User:
    invitation = session.exec(
        select(Invitation).where(Invitation.token_hash == digest(token))
    ).first()
    if invitation is None:
        raise NotFound("No such invitation.")
    now = datetime.now(UTC)
    if invitation.accepted_at is not None:
        raise Gone("This invitation was already used.")
    if invitation.expires_at <= now:
        raise Gone("This invitation has expired; ask for a new one.")
    # Claim it atomically so two racing accepts cannot both succeed.
    claimed = session.execute(
        sa.update(Invitation)
        .where(col(Invitation.id) == invitation.id, col(Invitation.accepted_at).is_(None))
        .values(accepted_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Gone("This invitation was already used.")
    user = create_user(
        session,
        handle=handle,
        password_hash=password_hash,
        role=Role(invitation.role),
        delegation_id=invitation.delegation_id,
    )
    session.execute(
        sa.update(Invitation)
        .where(col(Invitation.id) == invitation.id)
        .values(accepted_user_id=user.id)
    )
    return user
