"""Settings from the environment (prefix ``CIVIC_``) and the guard on the signing secret."""

import logging
import secrets
import urllib.parse
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.addresses import IPNetwork, parse_networks

log = logging.getLogger("civic_input")

MIN_SECRET_BYTES = 32


class InsecureSettings(RuntimeError):
    """The settings are not safe to run with in production."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIVIC_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./civic-input.db"
    secret_key: SecretStr | None = None
    # Redis shared by every process of a deployment (api/shared.py): sign-in throttling,
    # cache invalidation, the leader of background duties. Without it only one process
    # may run against a database (api/single.py). Keys are named under `redis_prefix`.
    redis_url: str | None = None
    redis_prefix: str = "civic:"

    jwt_issuer: str = "civic-input"
    jwt_audience: str = "civic-input-api"
    access_token_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)

    # Argon2id: 19 MiB, 2 passes, 1 lane (the OWASP baseline); at most
    # `hash_concurrency` hashes run at once so a login flood cannot starve writers.
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19456, ge=8192)
    argon2_parallelism: int = Field(default=1, ge=1)
    hash_concurrency: int = Field(default=2, ge=1)

    # Requests using the database at once (None: 1 on SQLite, 6 on PostgreSQL); the
    # others wait their turn in the event loop (api/db.py).
    db_concurrency: int | None = Field(default=None, ge=1, le=64)
    # PostgreSQL: how long to wait for a new (or a pooled) connection, and for any one
    # statement (enforced by the server and, for a hung server, by the client);
    # 0 means no statement timeout. A sick server gets a 503 within these (api/deadline.py).
    db_connect_timeout_seconds: int = Field(default=2, ge=2, le=300)
    db_statement_timeout_seconds: float = Field(default=3.0, ge=0, le=3600)

    # Sign-in throttling, in Redis when there is one, else in memory (api/security.py):
    # failed sign-ins are counted per (account, client address), per client address,
    # and per account across every address; successful ones never count.
    login_failures_per_pair: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=30, ge=1)
    # far above the per-pair limit: past it an account slows down (a growing delay,
    # at most `login_backoff_max_seconds`) rather than locking its owner out
    login_failures_per_account: int = Field(default=50, ge=1)
    login_backoff_max_seconds: int = Field(default=60, ge=1, le=3600)
    login_window_seconds: int = Field(default=300, ge=1)
    # Reverse proxies whose forwarding header is believed (comma list of addresses or
    # CIDRs; none by default), and which header they write.
    trusted_proxies: str = ""
    proxy_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Where the public reaches this deployment (`https://civic.example.org`, a path
    # allowed): the Atom feed's ids and `self` links are made from it, never from the
    # request's Host header. Unset: ids from the deployment's first signing key, and
    # links relative (docs/record.md).
    public_url: str | None = None
    seed_demo_on_empty: bool = False
    # anonymous JSON reads served from memory for up to this many seconds (0: off)
    response_cache: bool = True
    response_cache_seconds: float = Field(default=2.0, ge=0, le=60)
    # Live-feed (GET /api/v1/feed/stream) subscribers one process serves at once; one
    # more gets 503 with Retry-After.
    stream_max_subscribers: int = Field(default=1000, ge=1)
    ephemeral_secret: bool = Field(default=False, exclude=True)

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        networks = parse_networks(value)  # a ValueError names the entry that is wrong
        return ",".join(str(network) for network in networks)

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urllib.parse.urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("CIVIC_PUBLIC_URL must be an http:// or https:// URL")
        if parts.query or parts.fragment or "@" in parts.netloc:
            raise ValueError("CIVIC_PUBLIC_URL takes no user, query or fragment")
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")).rstrip("/")

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies)

    # Where the private key that signs checkpoints lives, never in the database in the
    # clear: a PEM file (made 0600 on first start), or the database sealed (AES-GCM)
    # with a key from the environment. Production needs one of the two; elsewhere a
    # SQLite file's key file sits beside it, and any other database is sealed with a
    # key derived from CIVIC_SECRET_KEY (api/services/signing_keys.py).
    signing_key_file: Path | None = None
    signing_key_secret: SecretStr | None = None
    # Days a removed submission's text stays for moderators before `purge` erases it.
    removed_retention_days: int = Field(default=30, ge=0, le=3650)
    # How often `serve` runs the purge in the background (0: never; run `civic-input purge`).
    purge_interval_hours: float = Field(default=24, ge=0)
    # How often, at most, `serve` looks for held responses whose release instant has come
    # (it also wakes at the next instant it knows of; 0: never, run `civic-input release-due`).
    release_poll_seconds: float = Field(default=5.0, ge=0, le=3600)

    @model_validator(mode="after")
    def _guard_secret(self) -> "Settings":
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if self.env == "production":
            if len(key.encode()) < MIN_SECRET_BYTES:
                raise InsecureSettings(
                    f"CIVIC_SECRET_KEY must be set to at least {MIN_SECRET_BYTES} random bytes "
                    "when CIVIC_ENV=production (try: python -c "
                    "'import secrets; print(secrets.token_urlsafe(48))')"
                )
        elif len(key.encode()) < MIN_SECRET_BYTES:
            # Development and tests: an ephemeral key (create_app says so).
            self.secret_key = SecretStr(secrets.token_urlsafe(48))
            self.ephemeral_secret = True
        sealing = self.signing_key_secret.get_secret_value() if self.signing_key_secret else ""
        if self.env == "production":
            if self.signing_key_file is None and not sealing:
                raise InsecureSettings(
                    "set CIVIC_SIGNING_KEY_FILE (a path for the checkpoint signing key, "
                    "outside the database's directory and backups) or CIVIC_SIGNING_KEY_SECRET "
                    "(at least 32 random bytes that seal the key in the database) when "
                    "CIVIC_ENV=production"
                )
            if sealing and len(sealing.encode()) < MIN_SECRET_BYTES:
                raise InsecureSettings(
                    f"CIVIC_SIGNING_KEY_SECRET must be at least {MIN_SECRET_BYTES} random bytes"
                )
        return self

    @property
    def secret(self) -> str:
        assert self.secret_key is not None
        return self.secret_key.get_secret_value()

    @property
    def sqlalchemy_url(self) -> str:
        return normalise_database_url(self.database_url)


def normalise_database_url(url: str) -> str:
    """Take a plain ``postgresql://`` URL to mean psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
