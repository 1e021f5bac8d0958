"""Where the private key that signs checkpoints lives: never in the database in the clear.

A copy of the database alone must not be able to sign a checkpoint (it would let whoever
holds it vouch for a forged record). So the private key is either

- a PEM file (`CIVIC_SIGNING_KEY_FILE`, made with mode 0600 on first start), the
  database holding only its public half and `kid`; or
- sealed in the database with AES-GCM under a key derived from an environment secret
  (`CIVIC_SIGNING_KEY_SECRET`), the `kid` bound in as associated data.

Outside production, with neither set, a SQLite file's key sits in a file beside it and
any other database's key is sealed with a key derived from `CIVIC_SECRET_KEY` (an
ephemeral secret means a new signing key at each start; old public keys stay published).

Every public key stays in `signing_key`, so old checkpoints stay verifiable after a
rotation. Databases from before this module kept a plain PEM in `private_pem`: `adopt`
moves it into the store (at start, or by `civic-input migrate-key`) and clears it.
"""

import base64
import hashlib
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api import clock
from api.config import InsecureSettings, Settings
from api.db import open_session
from models.ledger import SigningKey

log = logging.getLogger("civic_input")

ALGORITHM = "ES256"
SEALED_PREFIX = "aesgcm1:"


class KeyUnavailable(RuntimeError):
    """The signing key cannot be read: a wrong secret, or an unreadable key file."""


@dataclass(frozen=True)
class Signer:
    """The active private key, in memory only."""

    kid: str
    pem: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64(numbers.x.to_bytes(32, "big")),
        "y": _b64(numbers.y.to_bytes(32, "big")),
    }
    # RFC 7638 thumbprint as the key id
    thumbprint = hashlib.sha256(
        json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()
    ).digest()
    return jwk | {"kid": _b64(thumbprint)[:22], "alg": ALGORITHM, "use": "sig"}


def _generate() -> tuple[ec.EllipticCurvePrivateKey, str]:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return private, pem


def _load_pem(pem: str) -> ec.EllipticCurvePrivateKey:
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
        raise KeyUnavailable("the signing key is not a P-256 (ES256) private key")
    return private


def _retire_others(session: Session, *, keep: str) -> None:
    now = clock.now()
    for key in session.exec(
        select(SigningKey).where(col(SigningKey.retired_at).is_(None), SigningKey.kid != keep)
    ):
        key.retired_at = now
        key.private_pem = None
        key.private_sealed = None
        session.add(key)


def _publish(
    session: Session, private: ec.EllipticCurvePrivateKey, *, sealed: str | None = None
) -> SigningKey:
    """The row of this key (made if missing), active; every other key retired."""
    jwk = public_jwk(private)
    row = session.get(SigningKey, jwk["kid"])
    if row is None:
        row = SigningKey(kid=jwk["kid"], algorithm=ALGORITHM, public_jwk=jwk)
    row.retired_at = None
    row.private_pem = None
    row.private_sealed = sealed
    session.add(row)
    _retire_others(session, keep=row.kid)
    session.flush()
    return row


class KeyStore(Protocol):
    description: str

    def load(self, session: Session) -> Signer | None:
        """The active key, or None when there is none yet (its public half published)."""

    def peek(self, session: Session, *, kid: str) -> Signer | None:
        """The key `kid` if this store holds it, without writing anything."""

    def create(self, session: Session) -> Signer:
        """A new active key; every other key retired."""

    def adopt(self, session: Session, pem: str) -> Signer:
        """Make this (legacy) private key the active one, kept in this store."""


class KeyFile:
    """The private key in a PEM file (mode 0600); the database keeps its public half."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"the key file {path}"

    def _read(self) -> str | None:
        try:
            pem = self.path.read_text()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KeyUnavailable(f"cannot read the signing key file {self.path}: {exc}") from exc
        if self.path.stat().st_mode & 0o077:
            log.warning("the signing key file %s is readable by others: chmod 600 it", self.path)
        return pem

    def _write(self, pem: str) -> None:
        """Write the file whole, 0600 from its first byte, then move it into place."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(pem)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def load(self, session: Session) -> Signer | None:
        pem = self._read()
        if pem is None:
            return None
        row = _publish(session, _load_pem(pem))
        return Signer(kid=row.kid, pem=pem)

    def peek(self, session: Session, *, kid: str) -> Signer | None:
        pem = self._read()
        if pem is None or public_jwk(_load_pem(pem))["kid"] != kid:
            return None
        return Signer(kid=kid, pem=pem)

    def create(self, session: Session) -> Signer:
        private, pem = _generate()
        row = _publish(session, private)
        self._write(pem)
        return Signer(kid=row.kid, pem=pem)

    def adopt(self, session: Session, pem: str) -> Signer:
        row = _publish(session, _load_pem(pem))
        self._write(pem)
        return Signer(kid=row.kid, pem=pem)


class SealedInDatabase:
    """The private key sealed with AES-GCM in `signing_key.private_sealed`, under a key
    derived (HKDF-SHA256) from a secret the database never holds."""

    def __init__(self, secret: str, *, description: str) -> None:
        self._aead = AESGCM(
            HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=None,
                info=b"civic-input checkpoint signing key",
            ).derive(secret.encode())
        )
        self.description = description

    def seal(self, kid: str, pem: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, pem.encode(), kid.encode())
        return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, kid: str, sealed: str) -> str:
        if not sealed.startswith(SEALED_PREFIX):
            raise KeyUnavailable(f"the stored signing key {kid} is not sealed")
        raw = base64.b64decode(sealed[len(SEALED_PREFIX) :])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], kid.encode()).decode()
        except InvalidTag:
            raise KeyUnavailable(
                f"the secret does not open the stored signing key {kid} "
                "(was CIVIC_SIGNING_KEY_SECRET changed?)"
            ) from None

    def load(self, session: Session) -> Signer | None:
        row = session.exec(
            select(SigningKey)
            .where(
                col(SigningKey.retired_at).is_(None), col(SigningKey.private_sealed).is_not(None)
            )
            .order_by(col(SigningKey.created_at).desc())
        ).first()
        if row is None or row.private_sealed is None:
            return None
        return Signer(kid=row.kid, pem=self.open(row.kid, row.private_sealed))

    def peek(self, session: Session, *, kid: str) -> Signer | None:
        row = session.get(SigningKey, kid)
        if row is None or row.private_sealed is None:
            return None
        return Signer(kid=kid, pem=self.open(kid, row.private_sealed))

    def create(self, session: Session) -> Signer:
        private, pem = _generate()
        kid = public_jwk(private)["kid"]
        _publish(session, private, sealed=self.seal(kid, pem))
        return Signer(kid=kid, pem=pem)

    def adopt(self, session: Session, pem: str) -> Signer:
        private = _load_pem(pem)
        kid = public_jwk(private)["kid"]
        _publish(session, private, sealed=self.seal(kid, pem))
        return Signer(kid=kid, pem=pem)


def _sqlite_file(database_url: str) -> Path | None:
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)  # type: ignore[arg-type]


def default_key_file(database_url: str) -> Path | None:
    """Outside production: `civic-input.db` keeps its key in `civic-input.signing-key.pem`."""
    database = _sqlite_file(database_url)
    return None if database is None else database.with_name(f"{database.stem}.signing-key.pem")


def store_for(settings: Settings) -> KeyStore:
    """The store the settings name; the config guard makes production name one."""
    if settings.signing_key_file is not None:
        return KeyFile(settings.signing_key_file)
    if settings.signing_key_secret is not None:
        return SealedInDatabase(
            settings.signing_key_secret.get_secret_value(),
            description="the database, sealed with CIVIC_SIGNING_KEY_SECRET",
        )
    if settings.env == "production":  # the settings guard refuses this already
        raise InsecureSettings("set CIVIC_SIGNING_KEY_FILE or CIVIC_SIGNING_KEY_SECRET")
    key_file = default_key_file(settings.database_url)
    if key_file is not None:
        return KeyFile(key_file)
    return SealedInDatabase(
        settings.secret, description="the database, sealed with a key from CIVIC_SECRET_KEY"
    )


def legacy_rows(session: Session) -> list[SigningKey]:
    """Keys stored the old way: a plain PEM in the database."""
    return list(
        session.exec(
            select(SigningKey)
            .where(col(SigningKey.private_pem).is_not(None))
            .order_by(col(SigningKey.created_at).desc())
        )
    )


def adopt_legacy(session: Session, store: KeyStore) -> Signer | None:
    """Move a plain PEM left in the database by an older version into `store` (the
    newest unretired one becomes the active key, unless the store has one already) and
    clear every plain PEM. Returns the adopted key, if one was."""
    rows = legacy_rows(session)
    if not rows:
        return None
    adopted: Signer | None = None
    newest = next((row for row in rows if row.retired_at is None), None)
    if newest is not None and newest.private_pem is not None and store.load(session) is None:
        adopted = store.adopt(session, newest.private_pem)
    for row in legacy_rows(session):
        row.private_pem = None
        session.add(row)
    session.flush()
    return adopted


def ensure(engine: Engine, store: KeyStore, *, production: bool) -> Signer:
    """At start-up: the active key, made if there is none (so reads never write), a
    legacy plain key moved into the store first. Outside production a key the store
    cannot open (a changed or ephemeral secret) is replaced; in production it stops the
    start (`KeyUnavailable`), as silently signing with a new key would hide the fault."""
    with open_session(engine, write=True) as session:
        adopted = adopt_legacy(session, store)
        if adopted is not None:
            log.warning(
                "moved signing key %s out of the database into %s", adopted.kid, store.description
            )
        try:
            signer = store.load(session)
        except KeyUnavailable:
            if production:
                raise
            log.warning(
                "cannot open the signing key; signing with a new one (old keys stay published)"
            )
            signer = None
        if signer is None:
            signer = store.create(session)
            log.info("new checkpoint signing key %s in %s", signer.kid, store.description)
        session.commit()
    return signer


class Keys:
    """The signer a running server uses: loaded at start, and reloaded when another
    process (`civic-input rotate-key`, another worker) made a newer key active."""

    def __init__(self, store: KeyStore, signer: Signer) -> None:
        self.store = store
        self._signer = signer

    def signer(self, session: Session) -> Signer:
        active = session.exec(
            select(SigningKey.kid)
            .where(col(SigningKey.retired_at).is_(None))
            .order_by(col(SigningKey.created_at).desc())
        ).first()
        if active is None or active == self._signer.kid:
            return self._signer
        try:
            fresh = self.store.peek(session, kid=active)
        except KeyUnavailable as exc:
            log.warning("cannot load the new signing key %s: %s", active, exc)
            fresh = None
        if fresh is not None:
            self._signer = fresh
        # else: still the old key, retired but published, so its checkpoints verify
        return self._signer


def rotate(session: Session, store: KeyStore) -> Signer:
    """Retire the active key (its public half stays published) and make a new one."""
    adopt_legacy(session, store)
    return store.create(session)
