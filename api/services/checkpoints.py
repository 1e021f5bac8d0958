"""Signed checkpoints of the record log, and the public keys that verify them.

Checkpoints are compact JWS (ES256, with a `kid`) made with python-jose; this module
and api/security.py are the only ones that touch jose. The private key is held in
memory (`Signer`), loaded at start-up from where api/services/signing_keys.py keeps it.
"""

from datetime import UTC
from typing import Any

from jose import jws
from sqlmodel import Session, col, select

from api import clock
from api.services.ledger import GENESIS
from api.services.signing_keys import ALGORITHM, Signer
from models.ledger import Checkpoint, RecordHead, SigningKey, iso


def checkpoint(session: Session, *, signer: Signer) -> Checkpoint:
    head = session.get(RecordHead, 1)
    seq, digest = (head.seq, head.hash) if head else (0, GENESIS)
    at = clock.now().astimezone(UTC)
    payload = {"seq": seq, "hash": digest, "at": iso(at), "iss": "civic-input"}
    token = jws.sign(payload, signer.pem, headers={"kid": signer.kid}, algorithm=ALGORITHM)
    return Checkpoint(seq=seq, hash=digest, at=at, kid=signer.kid, jws=token)


def jwks(session: Session) -> dict[str, Any]:
    keys = session.exec(select(SigningKey).order_by(col(SigningKey.created_at)))
    return {"keys": [dict(k.public_jwk) for k in keys]}
