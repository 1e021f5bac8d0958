"""The only module that knows python-jose and the password hasher.

Every decode is fully configured: one pinned algorithm, audience, issuer, and
required claims, so ``alg: none``, a foreign key, a swapped token type or a
missing ``exp`` are all refused the same way.
"""

import hashlib
import math
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from jose import JWTError, jwt
from starlette.requests import Request

from api.addresses import bucket, client_address
from api.config import Settings
from api.shared import Shared

ALGORITHM = "HS256"
ACCESS = "access"
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub", "typ", "sv")
# How far ahead of ours another clock may be when it mints a token.
CLOCK_SKEW_SECONDS = 30


T = TypeVar("T")


class InvalidToken(Exception):
    """A token that must not be trusted; the caller answers 401."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_version: int


class Security:
    """Token minting and checking, password hashing, throttling: built once per app."""

    def __init__(self, settings: Settings, shared: Shared | None = None) -> None:
        self.settings = settings
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        self._hash_slots = threading.BoundedSemaphore(settings.hash_concurrency)
        # Verified against when the account does not exist, so both paths cost the same.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        self.throttle = LoginThrottle(settings, shared=shared)
        self.trusted_proxies = settings.trusted_proxy_networks
        self._lane: anyio.CapacityLimiter | None = None

    def open_lane(self) -> None:
        """Make the hashing lane, in the event loop that serves the app (its lifespan):
        anyio's limiters belong to the loop that made them."""
        self._lane = anyio.CapacityLimiter(self.settings.hash_concurrency)

    def client_address(self, request: Request) -> str | None:
        """The address sign-ins are throttled by (api/addresses.py): never stored or logged."""
        return client_address(request, self.trusted_proxies, self.settings.proxy_header)

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
        if self._lane is None:
            raise RuntimeError("The app's lifespan has not run: no hashing lane (api/main.py).")
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._lane)

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
        # python-jose checks only that `iat` is a number: a token issued in the future,
        # or for longer than this server ever issues one, was not made here.
        issued_at, expires_at = claims["iat"], claims["exp"]
        if not all(type(v) in (int, float) for v in (issued_at, expires_at)):
            raise InvalidToken("malformed times")
        if issued_at > time.time() + CLOCK_SKEW_SECONDS:
            raise InvalidToken("issued in the future")
        if expires_at - issued_at > self.access_token_seconds:
            raise InvalidToken("lifetime too long")
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


# --- sign-in throttling -------------------------------------------------------

# What a failure is counted against: (kind, account or "", address key or "").
_Key = tuple[str, str, str]


class LoginThrottle:
    """Failed sign-ins in sliding windows: per (account, client address), per client
    address, and per account across every address. Successes never count.

    A pair or an address that failed too often waits for its window to end (429); an
    account past its ceiling is not locked but slowed down, a delay doubling with each
    further failure up to `login_backoff_max_seconds`, so guesses from elsewhere never
    keep the owner out for long. Addresses are kept only as keyed hashes.

    In memory, each failure is forgotten the moment its window ends (`sweep`, on every
    call and once a second from the app's lifespan), and the hash key dies with the
    process. With Redis (`shared`), failures are counted there for every process: one
    sorted set of failure instants per key, expiring with its window, and the hash key
    derived from CIVIC_SECRET_KEY, which every process shares. (The `limits` library's
    windows count hits but cannot give the time of the last failure, which the
    account's growing delay is measured from.) Each process also counts its own
    failures in memory, and checks those while Redis is down: throttled per process
    then, never not at all.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], float] = time.monotonic,
        *,
        shared: Shared | None = None,
    ) -> None:
        self.window = settings.login_window_seconds
        self.per_pair = settings.login_failures_per_pair
        self.per_address = settings.login_failures_per_address
        self.per_account = settings.login_failures_per_account
        self.backoff_max = settings.login_backoff_max_seconds
        self.clock = clock
        self._salt = secrets.token_bytes(16)
        self._failures: dict[_Key, deque[float]] = {}
        # every failure counted, oldest first, to forget it when its window ends
        self._expiry: deque[tuple[float, _Key]] = deque()
        self._lock = threading.Lock()
        self.shared = shared
        if shared is not None:
            self._salt = hashlib.blake2b(
                settings.secret.encode(), person=b"civic-throttle", digest_size=16
            ).digest()

    def _address_key(self, address: str) -> str:
        return hashlib.blake2b(bucket(address).encode(), key=self._salt, digest_size=16).hexdigest()

    def _keys(self, account: str, address: str | None) -> tuple[_Key, ...]:
        if address is None:
            return (("account", account, ""),)
        where = self._address_key(address)
        return (("pair", account, where), ("address", "", where), ("account", account, ""))

    def _sweep(self, now: float) -> None:
        horizon = now - self.window
        while self._expiry and self._expiry[0][0] <= horizon:
            _, key = self._expiry.popleft()
            events = self._failures.get(key)
            # (a success may have dropped the pair's failures already)
            if events and events[0] <= horizon:
                events.popleft()
            if events is not None and not events:
                del self._failures[key]

    def sweep(self) -> None:
        """Forget every failure whose window has ended."""
        with self._lock:
            self._sweep(self.clock())

    def _limits(self, address: str | None) -> tuple[int, ...]:
        if address is None:
            return (self.per_account,)
        return (self.per_pair, self.per_address, self.per_account)

    def _until(self, key: _Key, limit: int, count: int, kth: float, last: float) -> float:
        """When `key` may try again, given its failures in the window: `count` of them,
        the `limit`-th newest at `kth`, the newest at `last`."""
        if key[0] == "account":
            # 1 s at the ceiling, doubling with each failure past it
            return last + min(2 ** min(count - limit, 30), self.backoff_max)
        # until enough of its failures have left the window
        return kth + self.window

    def check(self, account: str, address: str | None) -> int:
        """Seconds to wait before an attempt is allowed (0: go ahead). Counts nothing."""
        if self.shared is not None:
            wait = self.shared.call(
                lambda client: self._check_shared(client, account, address), None
            )
            if wait is not None:
                return wait
        with self._lock:
            now = self.clock()
            self._sweep(now)
            until = now
            for key, limit in zip(self._keys(account, address), self._limits(address), strict=True):
                events = self._failures.get(key)
                if events and len(events) >= limit:
                    until = max(
                        until, self._until(key, limit, len(events), events[-limit], events[-1])
                    )
            return math.ceil(until - now) if until > now else 0

    def _redis_key(self, key: _Key) -> str:
        assert self.shared is not None
        return self.shared.key("signin", *key)

    def _check_shared(self, client: Any, account: str, address: str | None) -> int:
        now = time.time()
        keys = self._keys(account, address)
        limits = self._limits(address)
        pipe = client.pipeline(transaction=False)
        for key, limit in zip(keys, limits, strict=True):
            name = self._redis_key(key)
            pipe.zremrangebyscore(name, "-inf", now - self.window)
            pipe.zcard(name)
            pipe.zrange(name, -limit, -1, withscores=True)
        answers = pipe.execute()
        until = now
        for index, (key, limit) in enumerate(zip(keys, limits, strict=True)):
            count, newest = answers[3 * index + 1], answers[3 * index + 2]
            if count >= limit:
                until = max(until, self._until(key, limit, count, newest[0][1], newest[-1][1]))
        return math.ceil(until - now) if until > now else 0

    def failed(self, account: str, address: str | None) -> None:
        with self._lock:
            now = self.clock()
            self._sweep(now)
            for key in self._keys(account, address):
                self._failures.setdefault(key, deque()).append(now)
                self._expiry.append((now, key))
        if self.shared is not None:
            self.shared.call(lambda client: self._fail_shared(client, account, address), None)

    def _fail_shared(self, client: Any, account: str, address: str | None) -> None:
        now = time.time()
        event = f"{now:.6f}:{secrets.token_hex(4)}"
        pipe = client.pipeline(transaction=False)
        for key in self._keys(account, address):
            name = self._redis_key(key)
            pipe.zadd(name, {event: now})
            # the key goes when the window of its newest failure ends
            pipe.pexpire(name, self.window * 1000)
        pipe.execute()

    def succeeded(self, account: str, address: str | None) -> None:
        """The owner got in: their own mistakes from this address are forgiven (those
        counted against the account and the address stand)."""
        if address is None:
            return
        pair = self._keys(account, address)[0]
        with self._lock:
            self._failures.pop(pair, None)
        if self.shared is not None:
            self.shared.call(lambda client: client.delete(self._redis_key(pair)), None)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()
            self._expiry.clear()

    async def sweep_forever(self, every: float = 1.0) -> None:
        while True:
            await anyio.sleep(every)
            self.sweep()
