"""Signed checkpoints of the record log a third party can verify with nothing but a
JOSE library, before and after a key rotation."""

import base64
import json
import subprocess
import sys
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jose import jws
from jose.exceptions import JOSEError

from api.services.ledger import GENESIS
from tests.api.feed import (
    CHECKPOINT,
    JWKS,
    feed_all,
    instant,
    pending,
    stored_head,
    world,
)
from tests.client import ok
from tests.live import REPO, server_env

# --- checkpoints a third party can verify --------------------------------------------------------


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_with_cryptography(token: str, jwk: dict[str, Any]) -> dict[str, Any]:
    """Verify a compact ES256 JWS from the JWK's x and y alone: no Civic Input code, no jose."""
    header_part, payload_part, signature_part = token.split(".")
    header = json.loads(_b64decode(header_part))
    assert header["alg"] == "ES256" and header["kid"] == jwk["kid"]
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256"
    public_key = ec.EllipticCurvePublicNumbers(
        int.from_bytes(_b64decode(jwk["x"]), "big"),
        int.from_bytes(_b64decode(jwk["y"]), "big"),
        ec.SECP256R1(),
    ).public_key()
    raw = _b64decode(signature_part)
    assert len(raw) == 64  # JWS ES256: r and s, 32 bytes each (RFC 7518 §3.4)
    signature = encode_dss_signature(
        int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    )
    public_key.verify(
        signature, f"{header_part}.{payload_part}".encode(), ec.ECDSA(hashes.SHA256())
    )
    payload: dict[str, Any] = json.loads(_b64decode(payload_part))
    return payload


def keys_by_kid(client) -> dict[str, dict[str, Any]]:
    keys = ok(client.get(JWKS))["keys"]
    for key in keys:
        assert "d" not in key, "a private key part is published"
    return {key["kid"]: key for key in keys}


def test_a_checkpoint_verifies_with_a_plain_jose_library(client, make, driver, engine):
    empty = ok(client.get(CHECKPOINT))
    assert (empty["seq"], empty["hash"]) == (0, GENESIS)

    w = world(make)
    s = pending(make, w)
    driver.publish(w.moderator, s.id)
    driver.respond(w.cn, s.id, "An answer.")
    r = client.get(CHECKPOINT)
    checkpoint = ok(r)
    assert r.headers["Cache-Control"] == "no-cache"
    head_seq, head_hash = stored_head(engine)
    feed = feed_all(client)
    assert (
        (checkpoint["seq"], checkpoint["hash"])
        == (head_seq, head_hash)
        == (
            2,
            feed[-1]["hash"],
        )
    )

    keys = keys_by_kid(client)
    key = keys[checkpoint["kid"]]
    assert key["alg"] == "ES256" and key["use"] == "sig"
    payload = json.loads(jws.verify(checkpoint["jws"], key, algorithms=["ES256"]))
    assert payload["seq"] == 2 and payload["hash"] == feed[-1]["hash"]
    assert instant(payload["at"]) == instant(checkpoint["at"])
    assert jws.get_unverified_header(checkpoint["jws"])["kid"] == checkpoint["kid"]
    assert verify_with_cryptography(checkpoint["jws"], key) == payload

    # A forged payload under the real signature fails with both verifiers.
    header_part, _, signature_part = checkpoint["jws"].split(".")
    forged_payload = (
        base64.urlsafe_b64encode(json.dumps(payload | {"seq": 3}).encode()).rstrip(b"=").decode()
    )
    forged = f"{header_part}.{forged_payload}.{signature_part}"
    with pytest.raises(JOSEError):
        jws.verify(forged, key, algorithms=["ES256"])
    with pytest.raises(InvalidSignature):
        verify_with_cryptography(forged, key)
    with pytest.raises(JOSEError):  # and `alg` is pinned: HS256 with the public key is refused
        jws.verify(checkpoint["jws"], key, algorithms=["HS256"])


def test_old_checkpoints_verify_after_a_key_rotation(
    client, make, driver, engine, database_url, app
):
    w = world(make)
    driver.publish(w.moderator, pending(make, w).id)
    old = ok(client.get(CHECKPOINT))
    old_kid = old["kid"]

    rotated = subprocess.run(
        [sys.executable, "-m", "api.cli", "rotate-key"],
        cwd=REPO,
        # the server's secret: outside SQLite the key is sealed with a key derived from it
        env=server_env(database_url, app.state.settings.secret),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rotated.returncode == 0, rotated.stderr
    assert "signed with key" in rotated.stdout

    driver.publish(w.moderator, pending(make, w, title="After the rotation").id)
    new = ok(client.get(CHECKPOINT))
    assert new["kid"] != old_kid and new["kid"] in rotated.stdout
    assert new["seq"] == 2

    keys = keys_by_kid(client)
    assert {old_kid, new["kid"]} <= set(keys)  # older keys of earlier rotations may be there
    old_payload = json.loads(jws.verify(old["jws"], keys[old_kid], algorithms=["ES256"]))
    assert (old_payload["seq"], old_payload["hash"]) == (1, old["hash"])
    assert verify_with_cryptography(old["jws"], keys[old_kid]) == old_payload
    new_payload = json.loads(jws.verify(new["jws"], keys[new["kid"]], algorithms=["ES256"]))
    assert new_payload["seq"] == 2
    with pytest.raises(JOSEError):
        jws.verify(old["jws"], keys[new["kid"]], algorithms=["ES256"])
    # the old checkpoint's hash is still the hash of entry 1 in the chain
    feed = feed_all(client)
    assert feed[0]["hash"] == old["hash"] and feed[1]["prev_hash"] == old["hash"]
    with engine.connect() as conn:
        private = dict(conn.execute(sa.text("SELECT kid, private_pem FROM signing_key")).all())
    assert private[old_kid] is None and private[new["kid"]] is None  # never in the clear


def test_civic_input_verify_hashes_the_instant_as_written(client, make):
    # `civic-input verify` takes `at` as the feed writes it: a spelling other than the
    # hashed one is an error, not something to reformat
    from datetime import UTC, datetime

    from api.verify import check_entry

    make.submission(make.round(), published_at=datetime(2015, 7, 4, 0, 0, 1, tzinfo=UTC))
    (entry,) = feed_all(client)
    assert entry["at"] == "2015-07-04T00:00:01.000000Z"
    assert check_entry(entry, GENESIS) is None
    short = {**entry, "at": "2015-07-04T00:00:01Z"}
    assert "`at` is not written" in (check_entry(short, GENESIS) or "")
    upper = {**entry, "hash": entry["hash"].upper()}
    assert "lowercase" in (check_entry(upper, GENESIS) or "")
    moved = {**entry, "at": "2015-07-04T00:00:01.000001Z"}
    assert "hash does not match" in (check_entry(moved, GENESIS) or "")
