"""`civic-input verify URL` against a real server process: it passes an honest record and
names the first entry that was edited or deleted behind the server's back."""

import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.config import Settings
from api.security import Security
from models.ledger import RecordEntry, RecordHead
from models.round import Phase
from models.submission import Status
from models.user import Role, User
from tests.factories import Factory
from tests.live import REPO, LiveServer, free_port, run_server, server_env

ENTRIES = RecordEntry.__table__  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def live_server(database_url: str, settings: Settings) -> Iterator[LiveServer]:
    with run_server(database_url) as server:
        yield server


@pytest.fixture(scope="module")
def live_security(live_server: LiveServer, database_url: str) -> Security:
    """Mints tokens the live server accepts (it has a secret of its own), without a login:
    the login throttle would count every test's sign-ins."""
    return Security(
        Settings(
            env="test",
            database_url=database_url,
            secret_key=live_server.secret,  # type: ignore[arg-type]
            _env_file=None,  # type: ignore[call-arg]
        )
    )


def run_verify(url: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "verify", url],
        cwd=REPO,
        env=server_env(database_url, "verify-test-secret-" + "v" * 40),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def scenario(server: LiveServer, security: Security, make: Factory) -> dict[str, Any]:
    """Publish, answer, revise, rate and withdraw through the live server's API."""
    rnd = make.round(phase=Phase.accepting_responses)
    author, moderator = make.user(Role.activist), make.user(Role.moderator)
    official = make.official(rnd, "CN")
    subs = [
        make.submission(
            rnd, author=author, status=Status.pending, title=f"Concern {n}", body=f"Body {n} 律师"
        )
        for n in range(3)
    ]

    def auth(user: User) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {security.mint_access_token(user.id, user.session_version)}"
        }

    with httpx.Client(base_url=server.base_url + "/api/v1", timeout=30) as http:

        def post(
            path: str, user: User, body: dict[str, Any] | None = None, status: int = 201
        ) -> dict[str, Any]:
            r = http.post(path, json=body, headers=auth(user))
            assert r.status_code == status, f"{path}: {r.status_code} {r.text}"
            result: dict[str, Any] = r.json()
            return result

        for s in subs:
            post(f"/submissions/{s.id}/moderation", moderator, {"decision": "publish"}, 200)
        answer = {"kind": "answer", "body": "He is held in Beijing.", "language": "en"}
        response = post(f"/submissions/{subs[0].id}/responses", official, answer)
        post(
            f"/responses/{response['id']}/revisions",
            official,
            {"body": "He was moved to Tianjin.", "reason": "He was moved."},
        )
        post(f"/responses/{response['id']}/assessments", author, {"rating": "partial"})
        post(f"/submissions/{subs[1].id}/withdraw", author, status=200)
        feed = http.get("/feed", params={"limit": 1000}).json()
    # 3 published, answered, revised, rated, 1 withdrawn: 7 entries, 1 tombstoned
    assert [e["seq"] for e in feed["items"]] == list(range(1, 8))
    return feed


def entry_seq(feed: dict[str, Any], event_type: str, *, tombstoned: bool = False) -> int:
    for entry in feed["items"]:
        if entry["type"] == event_type and (entry["content"] is None) == tombstoned:
            seq: int = entry["seq"]
            return seq
    raise AssertionError(f"no {event_type} entry")


def test_verify_passes_an_honest_record(live_server, live_security, make, database_url, engine):
    empty = run_verify(live_server.base_url, database_url)
    assert empty.returncode == 0, empty.stdout + empty.stderr
    assert empty.stdout.startswith("OK: 0 entries")

    scenario(live_server, live_security, make)
    with engine.connect() as conn:
        head = conn.execute(sa.select(RecordHead.seq, RecordHead.hash)).one()
    done = run_verify(live_server.base_url, database_url)
    print(done.stdout, done.stderr)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK: 7 entries (1 tombstoned) chain to seq 7")
    assert head.hash in done.stdout and "signature is valid" in done.stdout
    assert "verified 7/7 entries" in done.stderr


def _edit(engine: sa.Engine, seq: int, **values: Any) -> None:
    with engine.begin() as conn:
        changed = conn.execute(sa.update(ENTRIES).where(ENTRIES.c.seq == seq).values(**values))
        assert changed.rowcount == 1


CONTENT = "content does not match its content_hash"
FIELDS = "hash does not match its fields"
TAMPERING = {
    # what is changed: (in which entry, a tombstone or not, what verify must say)
    "content": ("submission.published", False, CONTENT),
    "content_hash": ("response.published", False, CONTENT),
    "tombstone_content_hash": ("submission.published", True, FIELDS),
    "hash": ("response.revised", False, FIELDS),
    "prev_hash": ("response.assessed", False, "prev_hash does not match"),
    "at": ("submission.published", False, FIELDS),
    "event_type": ("response.revised", False, FIELDS),
    "object_id": ("response.published", False, FIELDS),
    # moved out of its round (a round's sync would silently lose it), or retyped
    "round_id": ("submission.published", False, FIELDS),
    "object_type": ("response.published", False, FIELDS),
    "resurrected": ("submission.published", True, CONTENT),
}


@pytest.mark.parametrize("field", list(TAMPERING))
def test_verify_names_the_entry_edited_in_the_database(
    live_server, live_security, make, database_url, engine, field
):
    feed = scenario(live_server, live_security, make)
    event_type, tombstoned, problem = TAMPERING[field]
    seq = entry_seq(feed, event_type, tombstoned=tombstoned)
    entry = feed["items"][seq - 1]
    if field in ("content", "resurrected"):
        # an edited title, or content put back into a tombstone (and not the original)
        content = dict(entry["content"] or feed["items"][0]["content"])
        content["title"] = "What the record never said"
        _edit(engine, seq, content=content)
    elif field == "at":
        with engine.connect() as conn:
            at = conn.execute(sa.select(ENTRIES.c.at).where(ENTRIES.c.seq == seq)).scalar_one()
        _edit(engine, seq, at=at.replace(microsecond=(at.microsecond + 1) % 1_000_000))
    elif field == "event_type":
        _edit(engine, seq, event_type="response.published")
    elif field in ("object_id", "round_id"):
        _edit(engine, seq, **{field: uuid.uuid4()})
    elif field == "object_type":
        _edit(engine, seq, object_type="case")
    else:
        _edit(engine, seq, **{field.removeprefix("tombstone_"): "f" * 64})

    result = run_verify(live_server.base_url, database_url)
    print(result.stdout)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith(f"FAILED: entry {seq}: "), result.stdout
    assert problem in result.stdout


def test_verify_reports_a_deleted_entry_as_missing(
    live_server, live_security, make, database_url, engine
):
    feed = scenario(live_server, live_security, make)
    seq = entry_seq(feed, "response.published")
    with engine.begin() as conn:
        conn.execute(sa.delete(ENTRIES).where(ENTRIES.c.seq == seq))
    result = run_verify(live_server.base_url, database_url)
    print(result.stdout)
    assert result.returncode == 1
    assert result.stdout.strip() == f"FAILED: entry {seq}: missing (next is {seq + 1})"


def test_verify_reports_a_truncated_log(live_server, live_security, make, database_url, engine):
    """The newest entry deleted: the chain that is left is sound, but shorter than the
    signed head says."""
    scenario(live_server, live_security, make)
    with engine.begin() as conn:
        conn.execute(sa.delete(ENTRIES).where(ENTRIES.c.seq == 7))
    result = run_verify(live_server.base_url, database_url)
    print(result.stdout)
    assert result.returncode == 1
    assert result.stdout.strip() == "FAILED: the feed ends at 6, the checkpoint names 7"


def test_verify_cannot_reach_a_server(database_url):
    result = run_verify(f"http://127.0.0.1:{free_port()}", database_url)
    assert result.returncode == 2
    assert "cannot read" in result.stderr
