"""Test setup: a real database (SQLite file, or PostgreSQL when CIVIC_TEST_DATABASE_URL
names one), its schema made by the Alembic migrations, emptied after every test."""

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from api import cache
from api.cli import migrate
from api.config import Settings, normalise_database_url
from api.db import open_session
from api.main import create_app
from tests import factories
from tests.client import Driver

# Tables the migrations fill with reference data: kept between tests.
REFERENCE_TABLES = {"alembic_version", "theme", "record_head", "signing_key"}


def _fresh_postgres(url: str) -> tuple[str, str]:
    """A new, empty database on the server `url` points at; returns (its URL, its name)."""
    base = sa.engine.make_url(normalise_database_url(url))
    name = f"civic_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False), name


def _drop_postgres(url: str, name: str) -> None:
    base = sa.engine.make_url(url)
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    server = os.environ.get("CIVIC_TEST_DATABASE_URL")
    if server:
        url, name = _fresh_postgres(server)
        try:
            yield url
        finally:
            _drop_postgres(url, name)
    else:
        with tempfile.TemporaryDirectory(prefix="civic-test-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'test.db'}"


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    migrate(database_url)
    return Settings(env="test", database_url=database_url, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture(scope="session")
def engine(app: FastAPI) -> sa.Engine:
    engine: sa.Engine = app.state.engine
    return engine


def _empty_tables(engine: sa.Engine) -> None:
    from models import metadata

    tables = [t for t in reversed(metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
    with open_session(engine, write=True) as session:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            session.execute(sa.text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in tables:
                session.execute(table.delete())
        # the log starts again from its genesis
        session.execute(
            sa.text("UPDATE record_head SET seq = 0, hash = :genesis"), {"genesis": "0" * 64}
        )
        session.commit()


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "engine" in request.fixturenames or "client" in request.fixturenames:
        engine = request.getfixturevalue("engine")
        _empty_tables(engine)
        request.getfixturevalue("app").state.security.throttle.clear()
        cache.bump()


@pytest.fixture
def client(app: FastAPI, engine: sa.Engine) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def db(engine: sa.Engine) -> Iterator[Session]:
    """A session for arranging and inspecting data directly; commit what you arrange."""
    with open_session(engine, write=True) as session:
        yield session


@pytest.fixture
def make(db: Session, app: FastAPI) -> factories.Factory:
    return factories.Factory(db, app.state.security)


@pytest.fixture
def driver(client: TestClient, make: factories.Factory) -> Driver:
    return Driver(client, make)
