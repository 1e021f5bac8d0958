"""The signing key lives apart from the data: a copy of the database alone cannot sign a
checkpoint. Keys come from `CIVIC_SIGNING_KEY_FILE` (made 0600) or are sealed with
`CIVIC_SIGNING_KEY_SECRET`; production needs one of the two; a key an older version
kept in the clear is moved out by `civic-input migrate-key`. Each test has a database
of its own (SQLite, or PostgreSQL when CIVIC_TEST_DATABASE_URL names a server)."""

import json
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from jose import jws

import models
from api.cli import migrate
from api.config import InsecureSettings, Settings
from api.db import make_engine
from api.main import create_app
from api.services import signing_keys
from tests.conftest import _drop_postgres, _fresh_postgres
from tests.live import REPO

SECRET = "s" * 48
SEALING = "sealing secret " + "q" * 40


@pytest.fixture
def fresh_url() -> Iterator[str]:
    server = os.environ.get("CIVIC_TEST_DATABASE_URL")
    if server:
        url, name = _fresh_postgres(server)
        try:
            migrate(url)
            yield url
        finally:
            _drop_postgres(url, name)
    else:
        with tempfile.TemporaryDirectory(prefix="civic-keys-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'keys.db'}"
            migrate(url)
            yield url


@pytest.fixture
def own_engine(fresh_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(fresh_url)
    yield engine
    engine.dispose()


def settings(url: str, **values) -> Settings:
    return Settings(env="test", database_url=url, secret_key=SECRET, _env_file=None, **values)  # type: ignore[call-arg]


def signed_checkpoint(config: Settings) -> tuple[dict, dict]:
    """Start a server with `config`; its checkpoint and the key that verifies it."""
    with TestClient(create_app(config)) as client:
        checkpoint = client.get("/api/v1/record/checkpoint").json()
        keys = {k["kid"]: k for k in client.get("/.well-known/jwks.json").json()["keys"]}
    payload = json.loads(
        jws.verify(checkpoint["jws"], keys[checkpoint["kid"]], algorithms=["ES256"])
    )
    assert payload["seq"] == checkpoint["seq"]
    return checkpoint, keys


def key_rows(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT kid, private_pem, private_sealed, retired_at FROM signing_key")
        ).all()
    return [dict(row._mapping) for row in rows]


def private_material_in_tables(engine: sa.Engine) -> list[str]:
    found = []
    with engine.connect() as conn:
        for table in models.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                if any("PRIVATE KEY" in str(value) for value in row):
                    found.append(table.name)
                    break
    return found


def private_material_in_files(url: str) -> list[str]:
    if not url.startswith("sqlite"):
        return []
    database = Path(sa.engine.make_url(url).database or "")
    files = [database, Path(f"{database}-wal")]
    return [f.name for f in files if f.exists() and b"PRIVATE KEY" in f.read_bytes()]


def civic(*args: str, url: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CIVIC_")}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=clean | {"CIVIC_DATABASE_URL": url, "CIVIC_SECRET_KEY": SECRET, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_key_file_is_made_0600_on_first_start_and_the_database_holds_the_public_half(
    fresh_url, own_engine, tmp_path
):
    key_file = tmp_path / "keys" / "signing.pem"
    checkpoint, _ = signed_checkpoint(settings(fresh_url, signing_key_file=key_file))
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "PRIVATE KEY" in key_file.read_text()
    assert [(r["kid"], r["private_pem"], r["private_sealed"]) for r in key_rows(own_engine)] == [
        (checkpoint["kid"], None, None)
    ]
    assert private_material_in_tables(own_engine) == []
    assert private_material_in_files(fresh_url) == []
    # the next start signs with the same key
    again, _ = signed_checkpoint(settings(fresh_url, signing_key_file=key_file))
    assert again["kid"] == checkpoint["kid"]


def test_a_sealed_key_cannot_be_opened_without_the_secret(fresh_url, own_engine):
    checkpoint, _ = signed_checkpoint(settings(fresh_url, signing_key_secret=SEALING))
    (row,) = key_rows(own_engine)
    assert row["kid"] == checkpoint["kid"] and row["private_pem"] is None
    assert row["private_sealed"].startswith(signing_keys.SEALED_PREFIX)
    assert private_material_in_tables(own_engine) == []
    assert private_material_in_files(fresh_url) == []
    # the same secret opens it at the next start; another one cannot
    assert (
        signed_checkpoint(settings(fresh_url, signing_key_secret=SEALING))[0]["kid"] == row["kid"]
    )
    thief = signing_keys.SealedInDatabase("a guess " + "g" * 40, description="a copy")
    with pytest.raises(signing_keys.KeyUnavailable):
        thief.open(row["kid"], row["private_sealed"])
    with pytest.raises(signing_keys.KeyUnavailable):  # production stops rather than re-key
        signing_keys.ensure(own_engine, thief, production=True)


def test_a_copy_of_the_database_alone_cannot_sign(fresh_url, tmp_path):
    """Whoever holds only the database gets no key to sign with under the real kid: a
    server started on it without the key file or the secret has to make a new key."""
    for store in ({"signing_key_file": tmp_path / "k.pem"}, {"signing_key_secret": SEALING}):
        checkpoint, _ = signed_checkpoint(settings(fresh_url, **store))
        copy, keys = signed_checkpoint(
            settings(fresh_url, signing_key_secret="the thief's own secret " + "t" * 30)
        )
        assert copy["kid"] != checkpoint["kid"]
        assert checkpoint["kid"] in keys  # the real key stays only as a public key


def test_rotate_key_writes_a_new_key_file_and_old_checkpoints_still_verify(
    fresh_url, own_engine, tmp_path
):
    key_file = tmp_path / "signing.pem"
    old, _ = signed_checkpoint(settings(fresh_url, signing_key_file=key_file))
    result = civic("rotate-key", url=fresh_url, CIVIC_SIGNING_KEY_FILE=str(key_file))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    new, keys = signed_checkpoint(settings(fresh_url, signing_key_file=key_file))
    assert new["kid"] != old["kid"] and new["kid"] in result.stdout
    jws.verify(old["jws"], keys[old["kid"]], algorithms=["ES256"])
    assert private_material_in_tables(own_engine) == []
    assert list(tmp_path.iterdir()) == [key_file]  # no temporary file left behind


def legacy_key(engine: sa.Engine) -> tuple[str, str]:
    """A key as versions before 0007 stored it: a plain PEM in `private_pem`."""
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk = signing_keys.public_jwk(private)
    table = models.metadata.tables["signing_key"]
    with engine.begin() as conn:
        conn.execute(
            table.insert().values(
                kid=jwk["kid"], algorithm="ES256", public_jwk=jwk, private_pem=pem
            )
        )
    return jwk["kid"], pem


def test_migrate_key_moves_a_plain_key_into_a_file_and_clears_the_column(
    fresh_url, own_engine, tmp_path
):
    kid, pem = legacy_key(own_engine)
    assert private_material_in_tables(own_engine) == ["signing_key"]
    key_file = tmp_path / "signing.pem"
    result = civic("migrate-key", "--to-file", str(key_file), url=fresh_url)
    assert result.returncode == 0, result.stderr
    assert f"moved signing key {kid}" in result.stdout
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text() == pem
    assert [(r["kid"], r["private_pem"], r["private_sealed"]) for r in key_rows(own_engine)] == [
        (kid, None, None)
    ]
    assert private_material_in_tables(own_engine) == []
    assert private_material_in_files(fresh_url) == []
    # checkpoints are still signed with the same key, now read from the file
    checkpoint, _ = signed_checkpoint(settings(fresh_url, signing_key_file=key_file))
    assert checkpoint["kid"] == kid
    # and a second run has nothing to do
    again = civic("migrate-key", "--to-file", str(key_file), url=fresh_url)
    assert again.returncode == 0 and "nothing to move" in again.stdout


def test_a_plain_key_is_sealed_at_start_when_a_secret_is_set(fresh_url, own_engine):
    kid, _pem = legacy_key(own_engine)
    checkpoint, _ = signed_checkpoint(settings(fresh_url, signing_key_secret=SEALING))
    assert checkpoint["kid"] == kid
    (row,) = key_rows(own_engine)
    assert row["private_pem"] is None and row["private_sealed"]
    assert private_material_in_tables(own_engine) == []


def test_production_refuses_to_start_without_a_key_file_or_secret(monkeypatch):
    for name in list(os.environ):
        if name.startswith("CIVIC_"):
            monkeypatch.delenv(name)
    with pytest.raises(InsecureSettings, match="CIVIC_SIGNING_KEY_FILE"):
        Settings(env="production", secret_key=SECRET, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(InsecureSettings, match="CIVIC_SIGNING_KEY_SECRET"):
        Settings(  # type: ignore[call-arg]
            env="production", secret_key=SECRET, signing_key_secret="short", _env_file=None
        )
    assert Settings(  # type: ignore[call-arg]
        env="production", secret_key=SECRET, signing_key_file="/k.pem", _env_file=None
    ).signing_key_file == Path("/k.pem")


def test_serve_in_production_without_a_key_store_says_what_to_set(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--port", "1"],
        env={k: v for k, v in os.environ.items() if not k.startswith("CIVIC_")}
        | {
            "CIVIC_ENV": "production",
            "CIVIC_SECRET_KEY": SECRET,
            "CIVIC_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
        },
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 3
    assert "CIVIC_SIGNING_KEY_FILE" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "p.db").exists()
