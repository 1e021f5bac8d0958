"""What is taken back is gone: a withdrawn submission's title and body leave the database
(its row, its search text, the record log, its idempotency record), and on SQLite the
database's files; a removed one's stay for moderators for `CIVIC_REMOVED_RETENTION_DAYS`,
then `civic-input purge` (or `serve`'s own pass) erases them. Read from the tables and
the files directly, never through the API."""

import gc
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import models
from api import background, clock
from api.config import Settings
from api.db import make_engine, truncate_wal
from api.main import create_app
from api.services import erasure
from api.verify import check_entry
from models.round import Phase
from models.submission import Status
from models.user import Role
from tests.live import REPO, server_env

ROUNDS = "/api/v1/rounds"


def marked(kind: str) -> tuple[str, str, str]:
    """A title and body carrying a marker found nowhere else, and the marker."""
    marker = f"ERASE{kind}{uuid.uuid4().hex}"
    # long enough to spill onto overflow pages, which a deletion frees whole
    filler = "the detention of a witness; " * 300
    return f"Title {marker}", f"Body of {marker}: {filler}{marker}", marker


def found_in_tables(engine: sa.Engine, needle: str) -> list[str]:
    """Every table whose rows mention `needle`, in any column (JSON included)."""
    found = []
    with engine.connect() as conn:
        for table in models.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                if any(needle.casefold() in str(value).casefold() for value in row):
                    found.append(table.name)
                    break
    return found


def found_in_files(database_url: str, needle: str) -> list[str]:
    """The SQLite files (database, write-ahead log, its index) holding `needle`'s bytes,
    once the log is emptied (as after a withdrawal, or by every purge pass)."""
    # A session some earlier test dropped unclosed may hold a read snapshot until it is
    # collected, and SQLite cannot empty its write-ahead log under a reader.
    gc.collect()
    engine = make_engine(database_url)
    try:
        assert truncate_wal(engine)
    finally:
        engine.dispose()
    database = Path(sa.engine.make_url(database_url).database or "")
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    return [f.name for f in files if f.exists() and needle.encode() in f.read_bytes()]


def chain_verifies(client: TestClient) -> int:
    """Check every feed entry's hashes (api/verify.py); how many are tombstones."""
    items = client.get("/api/v1/feed", params={"after": 0, "limit": 1000}).json()["items"]
    prev = "0" * 64
    for entry in items:
        assert check_entry(entry, prev) is None
        prev = entry["hash"]
    return sum(entry["content"] is None for entry in items)


def submit(client, rnd, headers, title: str, body: str, key: str | None = None) -> dict:
    extra = {"Idempotency-Key": key} if key else {}
    r = client.post(
        f"{ROUNDS}/{rnd.id}/submissions",
        headers=headers | extra,
        json={
            "kind": "concern",
            "title": title,
            "body": body,
            "language": "en",
            "themes": ["rule-of-law"],
            "addressed_to": ["CN"],
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def decide(client, headers, sid: str, decision: str) -> None:
    body = {"decision": decision}
    if decision != "publish":
        body["reason"] = "Names a witness."
    r = client.post(f"/api/v1/submissions/{sid}/moderation", headers=headers, json=body)
    assert r.status_code == 200, r.text


def stored(engine: sa.Engine, sid: str) -> dict:
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT title, body, search_text, status, erased_at, removed_at "
                "FROM submission WHERE id = :id"
            ),
            {"id": uuid.UUID(sid).hex if conn.dialect.name == "sqlite" else sid},
        ).one()
    return dict(row._mapping)


@pytest.fixture
def people(make):
    rnd = make.round(phase=Phase.accepting_submissions)
    author = make.user(Role.activist)
    return rnd, author, make.headers(author), make.headers(make.user(Role.moderator))


@pytest.mark.parametrize("published", [False, True], ids=["pending", "published"])
def test_withdrawal_erases_the_text_from_every_table_and_file(
    client, engine, database_url, people, published
):
    rnd, _author, headers, moderator = people
    title, body, marker = marked("W")
    retry_key = str(uuid.uuid4())
    sid = submit(client, rnd, headers, title, body, key=retry_key)["id"]
    if published:
        decide(client, moderator, sid, "publish")
        assert marker in str(client.get("/api/v1/feed", params={"after": 0}).json())
    assert found_in_tables(engine, marker)  # the text is there before

    r = client.post(f"/api/v1/submissions/{sid}/withdraw", headers=headers)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["title"], r.json()["body"]) == ("withdrawn", "", "")

    row = stored(engine, sid)
    assert (row["title"], row["body"], row["search_text"]) == ("", "", "")
    assert row["status"] == "withdrawn" and row["erased_at"] is not None
    assert found_in_tables(engine, marker) == []
    assert found_in_tables(engine, "detention of a witness") == []
    with engine.connect() as conn:
        (request_hash, response), *_ = conn.execute(
            sa.text("SELECT request_hash, response FROM idempotency_record")
        ).all()
    assert request_hash == "erased"  # the body's hash could confirm a guess of the text
    assert "Title" not in str(response) and sid in str(response)
    if engine.dialect.name == "sqlite":
        assert found_in_files(database_url, marker) == []
    # the record log still verifies, its entries about the submission now tombstones
    assert chain_verifies(client) == (1 if published else 0)
    # a retry with the key makes nothing new, and says why
    retry = client.post(
        f"{ROUNDS}/{rnd.id}/submissions",
        headers=headers | {"Idempotency-Key": retry_key},
        json={"kind": "concern", "title": title, "body": body, "language": "en",
              "themes": ["rule-of-law"], "addressed_to": ["CN"]},
    )  # fmt: skip
    assert retry.status_code == 409, retry.text
    assert found_in_tables(engine, marker) == []


def test_a_removed_text_stays_for_moderators_then_purge_erases_it(
    client, engine, database_url, people, app
):
    rnd, _author, headers, moderator = people
    title, body, marker = marked("R")
    sid = submit(client, rnd, headers, title, body, key=str(uuid.uuid4()))["id"]
    decide(client, moderator, sid, "publish")
    decide(client, moderator, sid, "remove")

    # kept for moderators (and gone from the public record at once)
    row = stored(engine, sid)
    assert row["title"] == title and row["removed_at"] is not None and row["erased_at"] is None
    assert client.get(f"/api/v1/submissions/{sid}", headers=moderator).json()["title"] == title
    assert client.get(f"/api/v1/submissions/{sid}").status_code == 404
    assert marker not in str(client.get("/api/v1/feed", params={"after": 0}).json())
    assert erasure.purge(engine, retention_days=30).total == 0
    assert stored(engine, sid)["title"] == title

    # 31 days later
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE submission SET removed_at = :at WHERE status = 'removed'"),
            {"at": clock.now() - timedelta(days=31)},
        )
    env = server_env(database_url, app.state.settings.secret) | {
        "CIVIC_REMOVED_RETENTION_DAYS": "30"
    }
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "purge"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "erased the text of 1 submissions: 0 withdrawn, 1 removed" in result.stdout
    row = stored(engine, sid)
    assert (row["title"], row["body"], row["search_text"]) == ("", "", "")
    assert row["status"] == "removed" and row["erased_at"] is not None
    assert found_in_tables(engine, marker) == []
    if engine.dialect.name == "sqlite":
        assert found_in_files(database_url, marker) == []
    assert chain_verifies(client) == 1
    # a second pass has nothing left to do
    assert erasure.purge(engine, retention_days=30).total == 0


def test_the_purge_erases_text_withdrawn_before_erasure_existed(engine, make, people):
    rnd, author, _headers, _moderator = people
    title, body, marker = marked("L")
    submission = make.submission(rnd, author=author, status=Status.pending, title=title, body=body)
    # withdrawn as code before erasure left it: the status changed, the text stayed
    submission.status = Status.withdrawn.value
    submission.withdrawn_at = submission.updated_at = clock.now()
    make.session.add(submission)
    make.session.commit()
    assert found_in_tables(engine, marker) == ["submission"]
    purged = erasure.purge(engine, retention_days=30)
    assert (purged.withdrawn, purged.removed) == (1, 0)
    assert found_in_tables(engine, marker) == []


def test_serve_purges_by_itself(engine, make, people, database_url, app, monkeypatch):
    rnd, author, _headers, _moderator = people
    title, body, marker = marked("S")
    submission = make.submission(rnd, author=author, status=Status.removed, title=title, body=body)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE submission SET removed_at = :at"),
            {"at": clock.now() - timedelta(days=8)},
        )
    monkeypatch.setattr(background, "PURGE_FIRST_AFTER_SECONDS", 0)
    settings = Settings(  # type: ignore[call-arg]
        env="test",
        database_url=database_url,
        secret_key=app.state.settings.secret,
        removed_retention_days=7,
        _env_file=None,
    )
    serving = create_app(settings)
    with TestClient(serving):
        deadline = time.monotonic() + 10
        while found_in_tables(engine, marker) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert found_in_tables(engine, marker) == []
    assert stored(engine, str(submission.id))["erased_at"] is not None


def test_no_pass_erases_a_removed_text_within_its_retention(engine, make, people):
    rnd, author, _headers, _moderator = people
    title, body, marker = marked("K")
    make.submission(rnd, author=author, status=Status.removed, title=title, body=body)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE submission SET removed_at = :at"),
            {"at": clock.now() - timedelta(days=29)},
        )
    assert erasure.purge(engine, retention_days=30).total == 0
    assert found_in_tables(engine, marker) == ["submission"]
