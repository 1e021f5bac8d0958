"""The migrations are the schema: they go up, down and up again on an empty database of
their own, agree with the models, form one line of history, and the engine is set up
the way api/db.py promises."""

import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import models
from api.cli import alembic_config, migrations_dir
from api.db import SQLITE_CACHE_KIB, make_engine, open_session
from tests.conftest import _drop_postgres, _fresh_postgres

MIGRATION_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2}-\d{4})_[a-z0-9]+(?:[_-][a-z0-9]+)*\.py$")


@pytest.fixture
def fresh_url() -> Iterator[str]:
    """An empty database nobody else uses: a new SQLite file, or a new PostgreSQL database."""
    server = os.environ.get("CIVIC_TEST_DATABASE_URL")
    if server:
        url, name = _fresh_postgres(server)
        try:
            yield url
        finally:
            _drop_postgres(url, name)
    else:
        with tempfile.TemporaryDirectory(prefix="civic-migrate-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'fresh.db'}"


def not_full_text(name: str | None, *_: object) -> bool:
    """The full-text indexes of the search (SQLite: an FTS5 table and its shadow tables;
    PostgreSQL: GIN indexes on expressions) are made by the migration and declared by no
    model: each database has its own (models/search.py)."""
    return not (name or "").startswith("search_fts")


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(filter(not_full_text, sa.inspect(conn).get_table_names()))
    finally:
        engine.dispose()


def other_objects(url: str) -> set[str]:
    """Views, sequences and enum types: a downgrade to base must drop these too."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            found = {f"view {name}" for name in inspector.get_view_names()}
            if conn.dialect.name == "postgresql":
                found |= {f"sequence {name}" for name in inspector.get_sequence_names()}
                found |= {f"type {enum['name']}" for enum in inspector.get_enums()}
            return found
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, heads
    return heads[0]


def test_upgrade_downgrade_upgrade_on_an_empty_database(fresh_url):
    config = alembic_config(fresh_url)
    model_tables = set(models.metadata.tables)

    command.upgrade(config, "head")
    assert table_names(fresh_url) == model_tables | {"alembic_version"}
    assert current_revision(fresh_url) == head_revision()

    command.downgrade(config, "base")
    assert table_names(fresh_url) == {"alembic_version"}
    assert other_objects(fresh_url) == set()
    assert current_revision(fresh_url) is None

    command.upgrade(config, "head")
    assert table_names(fresh_url) == model_tables | {"alembic_version"}
    assert current_revision(fresh_url) == head_revision()


def test_models_and_migrations_agree(fresh_url):
    command.upgrade(alembic_config(fresh_url), "head")
    engine = make_engine(fresh_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "render_as_batch": conn.dialect.name == "sqlite",
                    "include_name": not_full_text,
                },
            )
            differences = compare_metadata(context, models.metadata)
    finally:
        engine.dispose()
    assert differences == [], "\n".join(map(str, differences))


def test_there_is_exactly_one_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, script.get_heads()
    assert len(script.get_bases()) == 1, script.get_bases()


def test_migration_files_are_named_by_date_and_slug():
    files = sorted(p.name for p in (migrations_dir() / "versions").glob("*.py"))
    assert files, "no migrations found"
    for name in files:
        match = MIGRATION_NAME.match(name)
        assert match, f"{name} is not named YYYY-MM-DD-HHMM_<slug>.py"
        datetime.strptime(match.group(1), "%Y-%m-%d-%H%M")  # a real date and time


def test_every_migration_file_is_a_revision_in_the_history():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    in_history = {Path(rev.path).name for rev in script.walk_revisions()}
    on_disk = {p.name for p in (migrations_dir() / "versions").glob("*.py")}
    assert in_history == on_disk


# --- the engine ---------------------------------------------------------------------


def test_connections_are_configured(engine):
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar().lower() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
            # a page cache that holds a record page's working set (api/db.py)
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
        else:
            assert engine.dialect.name == "postgresql"
            assert engine.dialect.driver == "psycopg"
            assert conn.exec_driver_sql("SHOW server_encoding").scalar() == "UTF8"
            assert conn.exec_driver_sql("SHOW client_encoding").scalar() == "UTF8"


def _sqlite_begin_immediate_fails(path: str) -> bool:
    """Whether another connection is refused the write lock right now."""
    other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert "database is locked" in str(exc)
        return True
    else:
        other.execute("ROLLBACK")
        return False
    finally:
        other.close()


@pytest.mark.parametrize("write", [True, False], ids=["write-session", "read-session"])
def test_write_sessions_take_the_write_lock_at_begin(engine, write):
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        with open_session(engine, write=write) as session:
            session.execute(sa.text("SELECT 1"))  # begins the transaction, writes nothing
            # A write session holds the write lock from BEGIN; a read session does not.
            assert _sqlite_begin_immediate_fails(path) is write
            session.rollback()
        assert _sqlite_begin_immediate_fails(path) is False
    else:
        # PostgreSQL has no database-wide write lock: two write sessions run side by side.
        assert engine.dialect.name == "postgresql"
        with (
            open_session(engine, write=write) as first,
            open_session(engine, write=write) as second,
        ):
            pid_1 = first.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            pid_2 = second.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            assert pid_1 != pid_2
            assert first.in_transaction() and second.in_transaction()
            assert first.execute(sa.text("SHOW server_encoding")).scalar() == "UTF8"
