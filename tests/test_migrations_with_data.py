"""Migrations keep stored rows: down and up again over a database that holds a round."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from api.cli import alembic_config
from api.config import Settings
from api.db import make_engine, open_session
from api.security import Security
from models.round import Phase
from tests.conftest import _drop_postgres, _fresh_postgres
from tests.factories import Factory


@contextmanager
def scratch_database() -> Iterator[str]:
    """The URL of an empty database of its own: a SQLite file, or a fresh database on the
    PostgreSQL server CIVIC_TEST_DATABASE_URL names (dropped afterwards)."""
    server = os.environ.get("CIVIC_TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        if not server:
            yield f"sqlite:///{Path(tmp) / 'data.db'}"
            return
        url, name = _fresh_postgres(server)
        try:
            yield url
        finally:
            _drop_postgres(url, name)


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("submission", "response", "response_revision", "submission_theme")
            }
    finally:
        engine.dispose()


def test_down_and_up_over_stored_rows_loses_nothing():
    with scratch_database() as url:
        config = alembic_config(url)
        command.upgrade(config, "head")
        engine = make_engine(url)
        settings = Settings(env="test", database_url=url)
        with open_session(engine, write=True) as session:
            make = Factory(session, Security(settings))
            rnd = make.round(phase=Phase.accepting_responses)
            for _ in range(3):
                make.response(make.submission(rnd))
        engine.dispose()
        before = _counts(url)
        assert before["response"] == 3

        # 0003 adds a column to `submission`, which SQLite does by copying the table
        # that `response` points at: with foreign keys enforced, that must still work.
        command.downgrade(config, "0002")
        assert _counts(url) == before
        command.upgrade(config, "head")
        assert _counts(url) == before


def test_0007_dates_the_removals_made_before_it():
    """A submission removed before 0007 counts as removed when it was last updated, so
    the purge erases its text once the retention period has passed since then."""
    from models.submission import Status

    with scratch_database() as url:
        config = alembic_config(url)
        command.upgrade(config, "head")
        engine = make_engine(url)
        with open_session(engine, write=True) as session:
            make = Factory(session, Security(Settings(env="test", database_url=url)))
            rnd = make.round(phase=Phase.accepting_responses)
            make.submission(rnd, status=Status.removed)
            make.submission(rnd, status=Status.published)
        command.downgrade(config, "0007-1")  # the revision before 0007
        command.upgrade(config, "head")
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT status, removed_at, updated_at, erased_at FROM submission")
            ).all()
        engine.dispose()
        dated = {status: (removed, updated) for status, removed, updated, _ in rows}
        assert dated["removed"][0] is not None and dated["published"][0] is None
        assert str(dated["removed"][0]) == str(dated["removed"][1])
        assert all(erased is None for *_, erased in rows)
