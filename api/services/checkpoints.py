"""Signed checkpoints of the record log, and the public keys that verify them.

Checkpoints are compact JWS (ES256, with a `kid`) made with python-jose; this module
and api/security.py are the only ones that touch jose.
"""

import base64
import hashlib
import json
from datetime import UTC
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jws
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api import clock
from api.db import open_session
from api.services.ledger import GENESIS, iso
from models.ledger import Checkpoint, RecordHead, SigningKey

ALGORITHM = "ES256"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
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


def new_key(session: Session) -> SigningKey:
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = _public_jwk(private)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key = SigningKey(kid=jwk["kid"], algorithm=ALGORITHM, public_jwk=jwk, private_pem=pem)
    session.add(key)
    session.flush()
    return key


def active_key(session: Session) -> SigningKey | None:
    return session.exec(
        select(SigningKey)
        .where(col(SigningKey.retired_at).is_(None), col(SigningKey.private_pem).is_not(None))
        .order_by(col(SigningKey.created_at).desc())
    ).first()


def ensure_key(engine: Engine) -> None:
    """At start-up: make sure a signing key exists (so reads never have to write)."""
    with open_session(engine, write=True) as session:
        if active_key(session) is None:
            new_key(session)
            session.commit()


def rotate(session: Session) -> SigningKey:
    """Retire the active key (its public half stays published) and make a new one."""
    now = clock.now()
    for key in session.exec(select(SigningKey).where(col(SigningKey.retired_at).is_(None))):
        key.retired_at = now
        key.private_pem = None
        session.add(key)
    return new_key(session)


def checkpoint(session: Session) -> Checkpoint:
    head = session.get(RecordHead, 1)
    seq, digest = (head.seq, head.hash) if head else (0, GENESIS)
    key = active_key(session) or new_key(session)  # made at start-up; this is a fallback
    at = clock.now().astimezone(UTC)
    payload = {"seq": seq, "hash": digest, "at": iso(at), "iss": "civic-input"}
    token = jws.sign(payload, key.private_pem, headers={"kid": key.kid}, algorithm=ALGORITHM)
    return Checkpoint(seq=seq, hash=digest, at=at, kid=key.kid, jws=token)


def jwks(session: Session) -> dict[str, Any]:
    keys = session.exec(select(SigningKey).order_by(col(SigningKey.created_at)))
    return {"keys": [dict(k.public_jwk) for k in keys]}
