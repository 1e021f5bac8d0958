"""The only module that knows python-jose and the password hasher.

Every decode is fully configured: one pinned algorithm, audience, issuer, and
required claims, so ``alg: none``, a foreign key, a swapped token type or a
missing ``exp`` are all refused the same way.
"""

import hashlib
import secrets
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from jose import JWTError, jwt

from api.config import Settings
from api.loops import per_loop

ALGORITHM = "HS256"
ACCESS = "access"
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub", "typ", "sv")


T = TypeVar("T")

# One hashing lane per Security and event loop (a TestClient runs each app in its own).
_lanes: RunVar["WeakKeyDictionary[Security, anyio.CapacityLimiter]"] = RunVar("civic_hash_lanes")


class InvalidToken(Exception):
    """A token that must not be trusted; the caller answers 401."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_version: int


class Security:
    """Token minting and checking, password hashing, throttling: built once per app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        self._hash_slots = threading.BoundedSemaphore(settings.hash_concurrency)
        # Verified against when the account does not exist, so both paths cost the same.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        self.throttle = LoginThrottle(settings)

    # --- passwords ----------------------------------------------------------

    def hash_password(self, password: str) -> str:
        with self._hash_slots:
            return self._hasher.hash(password)

    def verify_password(self, password_hash: str | None, password: str) -> bool:
        """Check a password; with no hash, do the same work and answer False."""
        with self._hash_slots:
            try:
                return self._hasher.verify(password_hash or self._dummy_hash, password) and (
                    password_hash is not None
                )
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    async def hashed(self, password: str) -> str:
        """`hash_password` in a worker thread of the hashing lane (see `_in_lane`)."""
        return await self._in_lane(self.hash_password, password)

    async def verified(self, password_hash: str | None, password: str) -> bool:
        """`verify_password` in a worker thread of the hashing lane."""
        return await self._in_lane(self.verify_password, password_hash, password)

    async def _in_lane(self, fn: Callable[..., T], *args: Any) -> T:
        # Sign-ins wait for the lane in the event loop, holding no database turn and no
        # thread: a flood of them cannot hold up the requests that need the database.
        lane = per_loop(_lanes, self, lambda: anyio.CapacityLimiter(self.settings.hash_concurrency))
        return await anyio.to_thread.run_sync(fn, *args, limiter=lane)

    # --- access tokens ------------------------------------------------------

    def mint_access_token(self, user_id: uuid.UUID, session_version: int) -> str:
        now = datetime.now(UTC)
        claims = {
            "sub": str(user_id),
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=self.settings.access_token_minutes)).timestamp()),
            "jti": secrets.token_urlsafe(12),
            "typ": ACCESS,
            "sv": session_version,
        }
        return jwt.encode(claims, self.settings.secret, algorithm=ALGORITHM)

    @property
    def access_token_seconds(self) -> int:
        return self.settings.access_token_minutes * 60

    def decode_access_token(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
            if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
                raise InvalidToken("unexpected algorithm")
            claims = jwt.decode(
                token,
                self.settings.secret,
                algorithms=[ALGORITHM],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={
                    "verify_signature": True,
                    "verify_aud": True,
                    "verify_iss": True,
                    "verify_exp": True,
                    "verify_iat": True,
                    "verify_sub": True,
                    "require_exp": True,
                    "require_iat": True,
                    "require_iss": True,
                    "require_aud": True,
                    "require_sub": True,
                    "leeway": 0,
                },
            )
        except (JWTError, ValueError, TypeError, KeyError) as exc:
            raise InvalidToken(str(type(exc).__name__)) from None
        for claim in REQUIRED_CLAIMS:
            if claim not in claims:
                raise InvalidToken(f"missing {claim}")
        if claims["typ"] != ACCESS:
            raise InvalidToken("not an access token")
        try:
            return AccessClaims(uuid.UUID(str(claims["sub"])), int(claims["sv"]))
        except (ValueError, TypeError):
            raise InvalidToken("malformed subject") from None


# --- opaque secrets (refresh tokens, invitations) ----------------------------


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """Opaque tokens are stored only as this digest (they carry 256 random bits)."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- login throttling --------------------------------------------------------


class LoginThrottle:
    """Sliding windows of failed logins per account and of attempts per network address.

    Held in memory only: the addresses are never stored or logged, and the
    windows forget them after `login_window_seconds`.
    """

    def __init__(self, settings: Settings) -> None:
        self.window = settings.login_window_seconds
        self.per_account = settings.login_failures_per_account
        self.per_address = settings.login_attempts_per_address
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._attempts: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, events: deque[float], now: float) -> None:
        while events and events[0] <= now - self.window:
            events.popleft()

    def check(self, account: str, address: str | None) -> int:
        """Seconds to wait before another attempt is allowed (0: go ahead); counts the attempt."""
        now = time.monotonic()
        with self._lock:
            failures = self._failures[account]
            self._prune(failures, now)
            if len(failures) >= self.per_account:
                return int(failures[0] + self.window - now) + 1
            if address is not None:
                attempts = self._attempts[address]
                self._prune(attempts, now)
                if len(attempts) >= self.per_address:
                    return int(attempts[0] + self.window - now) + 1
                attempts.append(now)
            return 0

    def failed(self, account: str) -> None:
        with self._lock:
            self._failures[account].append(time.monotonic())

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._failures.pop(account, None)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()
            self._attempts.clear()
