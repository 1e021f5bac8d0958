"""`civic-input reindex` rebuilds the search index from the public record, with a
progress line, on a database of its own (the demo dialogue)."""

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from api.db import make_engine
from tests.conftest import _drop_postgres, _fresh_postgres


@pytest.fixture
def fresh_url() -> Iterator[str]:
    server = os.environ.get("CIVIC_TEST_DATABASE_URL")
    if server:
        url, name = _fresh_postgres(server)
        try:
            yield url
        finally:
            _drop_postgres(url, name)
    else:
        with tempfile.TemporaryDirectory(prefix="civic-reindex-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'reindex.db'}"


def civic_input(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CIVIC_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def entries(url: str) -> list[tuple[str, str, str, str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [
                tuple(row)
                for row in conn.execute(
                    sa.text(
                        "SELECT doc_type, doc_id, title_tokens, body_tokens FROM search_entry "
                        "ORDER BY doc_type, doc_id"
                    )
                )
            ]
    finally:
        engine.dispose()


def test_reindex_rebuilds_what_the_services_wrote(fresh_url):
    seeded = civic_input(fresh_url, "seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    written = entries(fresh_url)
    assert {doc_type for doc_type, *_ in written} == {
        "submission",
        "response",
        "case",
        "benchmark",
        "commitment",
    }
    # a row the services never wrote goes, and every other comes back the same
    engine = make_engine(fresh_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE search_entry SET body_tokens = 'stale'"))
    finally:
        engine.dispose()
    done = civic_input(fresh_url, "reindex")
    assert done.returncode == 0, done.stderr
    assert f"indexed {len(written)}/{len(written)} texts" in done.stderr
    assert f"search index rebuilt: {len(written)} texts" in done.stdout
    assert entries(fresh_url) == written
