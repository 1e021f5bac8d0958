"""What the record-log tests share: the world a scenario runs in, and how to read the
log back (stored rows, the public feed, the exports) and check its chain. Writes go
through `tests.client.Driver`, so the services write the entries (factories do not)."""

import csv
import io
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from api.services.ledger import GENESIS, content_hash, entry_hash
from models.ledger import RecordEntry, RecordHead
from models.round import Phase, Round
from models.submission import Status, Submission
from models.user import Role, User
from tests.client import ok

FEED = "/api/v1/feed"
ATOM = "/api/v1/feed.atom"
NDJSON = "/api/v1/export.ndjson"
CSV = "/api/v1/export.csv"
CHECKPOINT = "/api/v1/record/checkpoint"
JWKS = "/.well-known/jwks.json"
SHA256 = re.compile(r"[0-9a-f]{64}")  # a SHA-256 digest as the log writes it
SALT = re.compile(r"[0-9a-f]{32}")  # 16 random bytes, in hex
ATOM_NS = "{http://www.w3.org/2005/Atom}"

# --- the world a scenario runs in --------------------------


@dataclass
class World:
    rnd: Round
    author: User
    moderator: User
    cn: User
    us: User


def world(make, phase: Phase = Phase.accepting_responses) -> World:
    rnd = make.round(phase=phase)
    return World(
        rnd=rnd,
        author=make.user(Role.activist),
        moderator=make.user(Role.moderator),
        cn=make.official(rnd, "CN"),
        us=make.official(rnd, "US"),
    )


def pending(make, w: World, rnd: Round | None = None, **kw: Any):
    kw.setdefault("addressed_to", ("CN", "US"))
    return make.submission(rnd or w.rnd, author=w.author, status=Status.pending, **kw)


# --- reading the log -----------------------------------------------------------------------------


def stored(engine) -> list[dict[str, Any]]:
    """The stored entries, oldest first (read and let go: no lock held on SQLite)."""
    table = RecordEntry.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table).order_by(table.c.seq)).mappings()]


def stored_head(engine) -> tuple[int, str]:
    with engine.connect() as conn:
        row = conn.execute(sa.select(RecordHead.seq, RecordHead.hash)).one()
    return row.seq, row.hash


def status_of(engine, submission_id) -> str:
    with engine.connect() as conn:
        value: str = conn.execute(
            sa.select(Submission.status).where(
                Submission.id == uuid.UUID(str(submission_id))  # type: ignore[arg-type]
            )
        ).scalar_one()
    return value


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def poll(client, after: int, **params: Any) -> dict[str, Any]:
    """One page of the feed; its entries come after `after`, in ascending order."""
    page = ok(client.get(FEED, params={"after": after, **params}))
    seqs = [e["seq"] for e in page["items"]]
    assert seqs == sorted(set(seqs)) and all(seq > after for seq in seqs), (after, seqs)
    return page


def feed_all(client, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        page = poll(client, after, limit=1000, **params)
        items += page["items"]
        if page["next_after"] is None:
            return items
        after = page["next_after"]


def unsalted(content: dict[str, Any] | None) -> dict[str, Any] | None:
    """The content without its salt (random per entry, hashed with the content, and gone
    with it: a hash that outlives its content cannot confirm a guess)."""
    if content is None:
        return None
    salt = content["salt"]
    assert isinstance(salt, str) and SALT.fullmatch(salt), salt
    return {k: v for k, v in content.items() if k != "salt"}


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_chain(items: list[dict[str, Any]]) -> str:
    """Recompute every hash and link with the ledger's own functions; return the head hash."""
    prev = GENESIS
    for number, entry in enumerate(items, start=1):
        assert entry["seq"] == number
        assert entry["prev_hash"] == prev, f"entry {number} does not link to {number - 1}"
        for name in ("content_hash", "prev_hash", "hash"):
            assert SHA256.fullmatch(entry[name]), (number, name, entry[name])
        if entry["content"] is not None:
            assert content_hash(entry["content"]) == entry["content_hash"], number
        assert entry["hash"] == entry_hash(
            seq=entry["seq"],
            event_type=entry["type"],
            at=instant(entry["at"]),
            object_type=entry["object_type"],
            object_id=uuid.UUID(entry["object_id"]),
            round_id=entry["round_id"],
            content_digest=entry["content_hash"],
            prev_hash=entry["prev_hash"],
        ), f"entry {number}: hash does not match its fields"
        prev = entry["hash"]
    return prev


def ndjson_items(client, **params: Any) -> list[dict[str, Any]]:
    r = client.get(NDJSON, params=params)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    # one JSON document per line, every line ended by a newline (none when empty)
    assert all(line.endswith("\n") for line in r.text.splitlines(keepends=True))
    return [json.loads(line) for line in r.text.splitlines()]


def csv_rows(client, **params: Any) -> list[dict[str, str]]:
    r = client.get(CSV, params=params)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text, newline="")))
