"""Signed checkpoints of the record log, and the public keys that verify them.

Checkpoints are compact JWS (ES256, with a `kid`) made with python-jose; this module
and api/security.py are the only ones that touch jose. The private key is held in
memory (`Signer`), loaded at start-up from where api/services/signing_keys.py keeps it.
"""

from typing import Any

from jose import jws
from sqlmodel import Session, col, select

from api import clock
from api.services.ledger import GENESIS
from api.services.signing_keys import ALGORITHM, Signer
from models.ledger import RecordHead, SigningKey, iso

# The checkpoint's `iss`: what kind of record it signs, the same on every deployment
# (the key that verifies it says whose it is).
ISSUER = "civic-input"


def checkpoint(session: Session, *, signer: Signer) -> dict[str, Any]:
    """The head of the log, signed now: `seq` and `hash` of the newest entry, `at` the
    moment of signing (spelled as the log spells instants, the same string in the payload
    and beside it), `iss` always "civic-input"."""
    head = session.get(RecordHead, 1)
    seq, digest = (head.seq, head.hash) if head else (0, GENESIS)
    at = iso(clock.now())
    payload = {"seq": seq, "hash": digest, "at": at, "iss": ISSUER}
    token = jws.sign(payload, signer.pem, headers={"kid": signer.kid}, algorithm=ALGORITHM)
    return {"seq": seq, "hash": digest, "at": at, "kid": signer.kid, "jws": token}


def jwks(session: Session) -> dict[str, Any]:
    keys = session.exec(select(SigningKey).order_by(col(SigningKey.created_at)))
    return {"keys": [dict(k.public_jwk) for k in keys]}
