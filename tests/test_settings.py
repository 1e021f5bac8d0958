"""Settings refuse to run production on a weak secret, and the civic-input command
(serve, create-admin, migrate, seed-demo) does what DESIGN.md says, run as a real process."""

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import select

import models
from api.cli import alembic_config
from api.config import MIN_SECRET_BYTES, InsecureSettings, Settings
from api.db import make_engine, open_session
from api.demo import SLUG as DEMO_SLUG
from api.security import Security
from models.dialogue import Delegation, Dialogue
from models.user import Role, User
from tests.conftest import _drop_postgres, _fresh_postgres

ROOT = Path(__file__).resolve().parents[1]
ADMIN_PASSWORD = "a sturdy admin passphrase"


@pytest.fixture
def no_civic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read only what a test gives them, never the caller's CIVIC_* variables."""
    for name in list(os.environ):
        if name.startswith("CIVIC_"):
            monkeypatch.delenv(name)


def make_settings(**values) -> Settings:
    if values.get("env") == "production" or os.environ.get("CIVIC_ENV") == "production":
        # these test the secret's guard; the signing key's is in tests/test_signing_keys.py
        values.setdefault("signing_key_file", Path("/run/civic-input/signing-key.pem"))
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# --- the secret guard ---------------------------------------------------------------


def test_production_without_a_secret_refuses(no_civic_env):
    with pytest.raises(InsecureSettings, match="CIVIC_SECRET_KEY"):
        make_settings(env="production")


def test_production_with_a_31_byte_secret_refuses(no_civic_env):
    with pytest.raises(InsecureSettings, match="CIVIC_SECRET_KEY"):
        make_settings(env="production", secret_key="k" * (MIN_SECRET_BYTES - 1))


def test_production_counts_bytes_not_characters(no_civic_env):
    # 16 characters but 32 bytes in UTF-8: long enough; 31 bytes is not.
    assert make_settings(env="production", secret_key="é" * 16).secret == "é" * 16
    with pytest.raises(InsecureSettings):
        make_settings(env="production", secret_key="é" * 15 + "k")


@pytest.mark.parametrize("length", [MIN_SECRET_BYTES, MIN_SECRET_BYTES + 1, 64])
def test_production_with_a_long_enough_secret_runs(no_civic_env, length):
    key = "k" * length
    config = make_settings(env="production", secret_key=key)
    assert config.secret == key
    assert config.ephemeral_secret is False


def test_production_reads_the_secret_from_the_environment(no_civic_env, monkeypatch):
    monkeypatch.setenv("CIVIC_ENV", "production")
    monkeypatch.setenv("CIVIC_SECRET_KEY", "s" * 40)
    config = make_settings()
    assert config.env == "production" and config.secret == "s" * 40
    monkeypatch.setenv("CIVIC_SECRET_KEY", "short")
    with pytest.raises(InsecureSettings):
        make_settings()


@pytest.mark.parametrize("env", ["development", "test"])
def test_outside_production_a_missing_secret_is_ephemeral(no_civic_env, env):
    first, second = make_settings(env=env), make_settings(env=env)
    assert first.ephemeral_secret and second.ephemeral_secret
    assert len(first.secret.encode()) >= MIN_SECRET_BYTES
    assert first.secret != second.secret  # random each time, never a fixed default


def test_outside_production_a_given_secret_is_kept(no_civic_env):
    config = make_settings(env="development", secret_key="d" * 32)
    assert config.secret == "d" * 32 and not config.ephemeral_secret


def test_the_secret_never_shows_in_a_repr(no_civic_env):
    config = make_settings(env="production", secret_key="p" * 40)
    assert "p" * 40 not in repr(config) and "p" * 40 not in str(config.model_dump())


# --- the command line, as a real process --------------------------------------------


@pytest.fixture
def cli_database_url() -> Iterator[str]:
    """An empty database for the command to work on: SQLite, or PostgreSQL when testing it."""
    server = os.environ.get("CIVIC_TEST_DATABASE_URL")
    if server:
        url, name = _fresh_postgres(server)
        try:
            yield url
        finally:
            _drop_postgres(url, name)
    else:
        with tempfile.TemporaryDirectory(prefix="civic-cli-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'cli.db'}"


def civic(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run `python -m api.cli ARGS` with only the given CIVIC_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CIVIC_")}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def head_revision() -> str:
    (head,) = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    return head


def test_serve_refuses_production_without_a_secret(tmp_path):
    port = free_port()
    result = civic(
        "serve",
        "--port",
        str(port),
        env={"CIVIC_ENV": "production", "CIVIC_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"},
    )
    assert result.returncode != 0
    assert "CIVIC_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "p.db").exists()  # refused before touching the database
    with socket.socket() as sock:  # and nothing listens on the port
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def test_serve_refuses_production_with_a_short_secret(tmp_path):
    result = civic(
        "serve",
        "--port",
        str(free_port()),
        env={
            "CIVIC_ENV": "production",
            "CIVIC_SECRET_KEY": "k" * (MIN_SECRET_BYTES - 1),
            "CIVIC_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
        },
    )
    assert result.returncode != 0
    assert "CIVIC_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_brings_an_empty_database_to_head(cli_database_url):
    result = civic("migrate", env={"CIVIC_DATABASE_URL": cli_database_url})
    assert result.returncode == 0, result.stderr
    assert "newest migration" in result.stdout
    engine = make_engine(cli_database_url)
    try:
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head_revision()
            assert set(models.metadata.tables) <= set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()
    again = civic("migrate", env={"CIVIC_DATABASE_URL": cli_database_url})
    assert again.returncode == 0, again.stderr


def test_create_admin_makes_an_admin_who_can_sign_in(cli_database_url):
    env = {"CIVIC_DATABASE_URL": cli_database_url, "CIVIC_ADMIN_PASSWORD": ADMIN_PASSWORD}
    result = civic("create-admin", "--handle", "first-admin", env=env)
    assert result.returncode == 0, result.stderr
    assert "first-admin" in result.stdout
    assert ADMIN_PASSWORD not in result.stdout + result.stderr

    engine = make_engine(cli_database_url)
    try:
        with open_session(engine) as session:
            admin = session.exec(select(User).where(User.handle == "first-admin")).one()
            assert admin.role == Role.admin.value and admin.is_active
            assert admin.password_hash.startswith("$argon2id$")
            security = Security(make_settings(env="test", database_url=cli_database_url))
            assert security.verify_password(admin.password_hash, ADMIN_PASSWORD)
    finally:
        engine.dispose()

    taken = civic("create-admin", "--handle", "FIRST-ADMIN", env=env)
    assert taken.returncode != 0
    assert "taken" in taken.stderr and "Traceback" not in taken.stderr


def test_create_admin_without_a_password_and_no_terminal_refuses(cli_database_url):
    result = civic(
        "create-admin", "--handle", "no-password", env={"CIVIC_DATABASE_URL": cli_database_url}
    )
    assert result.returncode != 0
    assert "CIVIC_ADMIN_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("zq7-tiny", "at least 15 characters"),
        ("zq7-fourteen-c", "at least 15 characters"),
        ("1Q2W3E4R5T6Y7U8I9O0P", "common passwords"),
    ],
)
def test_create_admin_refuses_a_weak_password(cli_database_url, password, says):
    env = {"CIVIC_DATABASE_URL": cli_database_url, "CIVIC_ADMIN_PASSWORD": password}
    result = civic("create-admin", "--handle", "weak-admin", env=env)
    assert result.returncode != 0
    assert "password" in result.stderr and says in result.stderr
    assert "Traceback" not in result.stderr
    assert password not in result.stdout + result.stderr  # never echo a password


def test_seed_demo_loads_once(cli_database_url):
    env = {"CIVIC_DATABASE_URL": cli_database_url}
    first = civic("seed-demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "loaded" in first.stdout and "already" not in first.stdout

    second = civic("seed-demo", env=env)
    assert second.returncode == 0, second.stderr
    assert "already present" in second.stdout

    engine = make_engine(cli_database_url)
    try:
        with open_session(engine) as session:
            (dialogue,) = session.exec(select(Dialogue).where(Dialogue.slug == DEMO_SLUG)).all()
            codes = session.exec(
                select(Delegation.code).where(Delegation.dialogue_id == dialogue.id)
            ).all()
            assert sorted(codes) == ["CN", "US"]
    finally:
        engine.dispose()
