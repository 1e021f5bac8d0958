"""Plain factories for test data, and real tokens for their users."""

import uuid
from functools import cache

from sqlmodel import Session

from api.security import Security
from api.services.accounts import handle_key
from models.dialogue import Delegation, Dialogue
from models.user import Role, User

PASSWORD = "correct horse battery staple"


@cache
def _password_hash(security: Security) -> str:
    # Hash once per run: Argon2 is slow on purpose.
    return security.hash_password(PASSWORD)


class Factory:
    def __init__(self, session: Session, security: Security) -> None:
        self.session = session
        self.security = security

    def user(
        self,
        role: Role = Role.activist,
        *,
        handle: str | None = None,
        delegation: Delegation | None = None,
        email: str | None = None,
    ) -> User:
        handle = handle or f"{role.value}-{uuid.uuid4().hex[:8]}"
        user = User(
            handle=handle,
            handle_key=handle_key(handle),
            email=email,
            password_hash=_password_hash(self.security),
            role=role.value,
            delegation_id=delegation.id if delegation else None,
        )
        self.session.add(user)
        self.session.commit()
        return user

    def dialogue(self, slug: str | None = None) -> Dialogue:
        dialogue = Dialogue(slug=slug or f"d-{uuid.uuid4().hex[:8]}", title="A dialogue")
        self.session.add(dialogue)
        self.session.commit()
        return dialogue

    def delegation(self, dialogue: Dialogue | None = None, code: str = "CN") -> Delegation:
        dialogue = dialogue or self.dialogue()
        delegation = Delegation(dialogue_id=dialogue.id, code=code, name=f"Delegation {code}")
        self.session.add(delegation)
        self.session.commit()
        return delegation

    def headers(self, user: User) -> dict[str, str]:
        """A real access token for `user`, minted as the server mints them."""
        token = self.security.mint_access_token(user.id, user.session_version)
        return {"Authorization": f"Bearer {token}"}
