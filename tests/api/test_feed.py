"""The record log for third-party apps: one hash-chained entry per public event, written in
the same transaction as its change; incremental sync that sees every change exactly once;
tombstones in every format; Atom, NDJSON and CSV; CORS; signed checkpoints a third party
can verify with nothing but a JOSE library, before and after a key rotation.

Scenarios run through the HTTP API: the services write the entries (factories do not)."""

import base64
import csv
import io
import json
import subprocess
import sys
import threading
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jose import jws
from jose.exceptions import JOSEError

from api.services import ledger
from api.services.ledger import GENESIS, content_hash, entry_hash
from models.dialogue import Dialogue
from models.ledger import FeedPage, RecordEntry, RecordHead
from models.round import Phase, Round
from models.submission import Status, Submission
from models.user import Role, User
from tests.live import REPO, server_env

FEED = "/api/v1/feed"
ATOM = "/api/v1/feed.atom"
NDJSON = "/api/v1/export.ndjson"
CSV = "/api/v1/export.csv"
CHECKPOINT = "/api/v1/record/checkpoint"
JWKS = "/.well-known/jwks.json"
ATOM_NS = "{http://www.w3.org/2005/Atom}"
PROBLEM = "application/problem+json"


# --- the world a scenario runs in, and the HTTP calls that write events --------------------------


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


def ok(r, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


def moderate(client, make, w: World, submission_id, decision: str, reason: str | None = None):
    body = {"decision": decision} | ({"reason": reason} if reason else {})
    return client.post(
        f"/api/v1/submissions/{submission_id}/moderation",
        json=body,
        headers=make.headers(w.moderator),
    )


def publish(client, make, w: World, submission_id) -> None:
    ok(moderate(client, make, w, submission_id, "publish"))


def remove(client, make, w: World, submission_id, reason: str = "Names a witness.") -> None:
    ok(moderate(client, make, w, submission_id, "remove", reason))


def withdraw(client, make, w: World, submission_id) -> None:
    ok(client.post(f"/api/v1/submissions/{submission_id}/withdraw", headers=make.headers(w.author)))


def respond(client, make, w: World, submission_id, body: str, official: User | None = None) -> str:
    r = client.post(
        f"/api/v1/submissions/{submission_id}/responses",
        json={"kind": "answer", "body": body, "language": "en"},
        headers=make.headers(official or w.cn),
    )
    response_id: str = ok(r, 201)["id"]
    return response_id


def revise(client, make, w: World, response_id, body: str, reason: str = "Corrected.") -> None:
    r = client.post(
        f"/api/v1/responses/{response_id}/revisions",
        json={"body": body, "reason": reason},
        headers=make.headers(w.cn),
    )
    ok(r, 201)


def assess(client, make, w: World, response_id, rating: str, comment: str | None = None) -> None:
    body = {"rating": rating} | ({"comment": comment} if comment else {})
    r = client.post(
        f"/api/v1/responses/{response_id}/assessments", json=body, headers=make.headers(w.author)
    )
    ok(r, 201)


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
    assert isinstance(salt, str) and len(salt) >= 32 and int(salt, 16) >= 0
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
            assert len(entry[name]) == 64 and int(entry[name], 16) >= 0
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
    assert r.text == "" or r.text.endswith("\n")
    return [json.loads(line) for line in r.text.splitlines()]


def csv_rows(client, **params: Any) -> list[dict[str, str]]:
    r = client.get(CSV, params=params)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text, newline="")))


# --- one entry per public event, chained ---------------------------------------------------------


def test_every_public_event_appends_exactly_one_chained_entry(client, make, engine):
    w = world(make)
    # benchmarks are set before a round: the next round of the same dialogue
    before = make.round(
        make.session.get(Dialogue, w.rnd.dialogue_id), phase=Phase.accepting_submissions
    )
    outsider = make.user(Role.activist)
    seen: list[dict[str, Any]] = []

    def step(event_type: str | None, object_id=None, round_id=None) -> Any:
        """Assert the last action appended exactly one entry (or none) and return it."""
        now = stored(engine)
        new = now[len(seen) :]
        # earlier entries never change, bar content that a tombstone took away
        for old, again in zip(seen, now, strict=False):
            assert {k: v for k, v in again.items() if k != "content"} == {
                k: v for k, v in old.items() if k != "content"
            }
            assert again["content"] in (None, old["content"])
        if event_type is None:
            assert new == [], f"a non-public action wrote {[e['event_type'] for e in new]}"
            return None
        assert len(new) == 1, [e["event_type"] for e in new]
        entry = new[0]
        assert entry["seq"] == len(seen) + 1
        assert entry["event_type"] == event_type
        if object_id is not None:
            assert str(entry["object_id"]) == str(object_id)
        assert (str(entry["round_id"]) if entry["round_id"] else None) == (
            str(round_id) if round_id else None
        )
        seen[:] = now
        return entry

    def call(method: str, path: str, user: User, body: Any = None, status: int = 200) -> Any:
        r = client.request(method, "/api/v1" + path, json=body, headers=make.headers(user))
        return ok(r, status)

    # Writing, editing, rejecting and endorsing are not public events.
    draft = {"kind": "concern", "title": "Labour rights", "body": "Strikers are detained."}
    draft |= {"language": "en", "addressed_to": ["CN"]}
    created = call("POST", f"/rounds/{before.id}/submissions", w.author, draft, 201)
    step(None)
    call("PATCH", f"/submissions/{created['id']}", w.author, {"body": "Strikers are held."})
    step(None)
    rejected = pending(make, w, title="Off topic")
    ok(moderate(client, make, w, rejected.id, "reject", "Not about this dialogue."))
    step(None)

    first = pending(make, w, title="Where is the lawyer held?", body="He vanished in 2015.")
    publish(client, make, w, first.id)
    entry = step("submission.published", first.id, w.rnd.id)
    public = ok(client.get(f"/api/v1/submissions/{first.id}"))
    expected = {k: v for k, v in public.items() if k not in {"responses", "endorsement_count"}}
    assert unsalted(entry["content"]) == expected
    assert entry["object_type"] == "submission"
    for private in ("status", "status_reason", "created_at", "updated_at", "author_id"):
        assert private not in entry["content"]
    call("POST", f"/submissions/{first.id}/endorsements", outsider, status=201)
    step(None)

    response_id = respond(client, make, w, first.id, "He is held in Tianjin.")
    entry = step("response.published", response_id, w.rnd.id)
    assert entry["content"]["body"] == "He is held in Tianjin."
    assert entry["object_type"] == "response" and entry["content"]["revision"] == 1
    revise(client, make, w, response_id, "He is held in Tianjin and has a lawyer.")
    entry = step("response.revised", response_id, w.rnd.id)
    assert entry["content"]["revision"] == 2
    assert entry["content"]["body"] == "He is held in Tianjin and has a lawyer."
    assess(client, make, w, response_id, "evasive", comment="rater-comment-stays-private")
    entry = step("response.assessed", response_id, w.rnd.id)
    assert unsalted(entry["content"]) == {"response_id": response_id, "rating": "evasive"}

    # Cases: recording is private; publishing, consent and timeline entries are public.
    person = {"name": "Wang Quanzhang", "name_native": "王全璋", "status": "detained"}
    person |= {"status_date": "2015-08-03", "summary": "A lawyer held since 2015."}
    person |= {"restricted_details": "family-contact-never-public"}
    case = call("POST", "/cases", w.author, person, 201)
    step(None)
    call("POST", f"/cases/{case['id']}/moderation", w.moderator, {"decision": "published"})
    entry = step("case.published", case["id"], None)
    assert "Wang Quanzhang" not in json.dumps(entry["content"])
    call("PUT", f"/cases/{case['id']}/consent", w.author, {"name_consent": True})
    entry = step("case.consent_given", case["id"], None)
    assert entry["content"]["name"] == "Wang Quanzhang"
    timeline = {"status": "released", "event_date": "2020-04-05", "note": "Released."}
    call("POST", f"/cases/{case['id']}/timeline", w.moderator, timeline, 201)
    step("case.timeline", case["id"], None)
    call("PUT", f"/cases/{case['id']}/consent", w.author, {"name_consent": False})
    entry = step("case.consent_withdrawn", case["id"], None)
    assert "Wang Quanzhang" not in json.dumps(entry["content"])
    # the entries that carried the name lost their content; the timeline entry did not
    case_entries = {e["event_type"]: e["content"] for e in seen if e["object_type"] == "case"}
    assert case_entries["case.published"] is None and case_entries["case.consent_given"] is None
    assert case_entries["case.timeline"] is not None

    goal = {"delegation": "CN", "title": "Release the lawyer", "description": "Before May."}
    benchmark = call("POST", f"/rounds/{before.id}/benchmarks", w.moderator, goal, 201)
    step("benchmark.adopted", benchmark["id"], before.id)
    promise = {"text": "We will publish the detention statistics."}
    commitment = call("POST", f"/rounds/{w.rnd.id}/commitments", w.cn, promise, 201)
    step("commitment.recorded", commitment["id"], w.rnd.id)
    judged = {"status": "not_met", "note": "Nothing published."}
    call("POST", f"/commitments/{commitment['id']}/assessments", w.moderator, judged, 201)
    step("commitment.assessed", commitment["id"], w.rnd.id)
    judged = {"status": "in_progress", "note": "Under review."}
    call("POST", f"/benchmarks/{benchmark['id']}/assessments", w.cn, judged, 201)
    step("benchmark.assessed", benchmark["id"], before.id)

    withdraw(client, make, w, first.id)
    entry = step("submission.withdrawn", first.id, w.rnd.id)
    assert unsalted(entry["content"]) == {"id": str(first.id), "status": "withdrawn"}
    withdraw(client, make, w, first.id)  # again: nothing more to record
    step(None)
    removed = pending(make, w, title="Names a witness")
    publish(client, make, w, removed.id)
    step("submission.published", removed.id, w.rnd.id)
    remove(client, make, w, removed.id)
    step("submission.removed", removed.id, w.rnd.id)

    # The chain, recomputed from the public feed, ends at the stored head.
    items = feed_all(client)
    assert [e["seq"] for e in items] == [e["seq"] for e in seen] == list(range(1, len(seen) + 1))
    assert assert_chain(items) == stored_head(engine)[1]
    assert stored_head(engine)[0] == len(items) == 15
    assert [e["type"] for e in items] == [e["event_type"] for e in seen]
    salts = [e["content"]["salt"] for e in items if e["content"] is not None]
    assert len(set(salts)) == len(salts) > 0
    # The public entries name no one: no handle, no restricted detail, no rater's comment.
    text = json.dumps(items, ensure_ascii=False)
    for secret in (
        w.author.handle,
        w.moderator.handle,
        w.cn.handle,
        str(w.author.id),
        "family-contact-never-public",
        "rater-comment-stays-private",
        "Not about this dialogue.",
        "Wang Quanzhang",
        "王全璋",
    ):
        assert secret not in text, secret


# --- paging --------------------------------------------------------------------------------------


def test_the_feed_pages_in_order_and_is_empty_after_the_head(client, make):
    w = world(make)
    for n in range(7):
        publish(client, make, w, pending(make, w, title=f"Concern number {n}").id)

    pages, after = [], 0
    while True:
        r = client.get(FEED, params={"after": after, "limit": 3})
        page = poll(client, after, limit=3)
        assert page == r.json() and page["head_seq"] == 7
        pages.append([e["seq"] for e in page["items"]])
        if page["next_after"] is None:
            assert "Link" not in r.headers
            break
        assert page["next_after"] == page["items"][-1]["seq"]
        assert f"after={page['next_after']}" in r.headers["Link"]
        assert r.headers["Link"].endswith('rel="next"')
        after = page["next_after"]
    assert pages == [[1, 2, 3], [4, 5, 6], [7]]

    # A page that ends exactly at the head still offers a next page, which is empty.
    page = ok(client.get(FEED, params={"after": 4, "limit": 3}))
    assert [e["seq"] for e in page["items"]] == [5, 6, 7] and page["next_after"] == 7
    for after in (7, 8, 10**9):
        page = ok(client.get(FEED, params={"after": after}))
        assert page == {"items": [], "next_after": None, "head_seq": 7}
    assert [e["seq"] for e in ok(client.get(FEED))["items"]] == list(range(1, 8))

    for bad in ({"after": -1}, {"limit": 0}, {"limit": 1001}, {"after": "x"}):
        r = client.get(FEED, params=bad)
        assert r.status_code == 422, bad
        assert r.headers["content-type"].startswith(PROBLEM)


def test_the_feed_is_written_exactly_as_its_model_writes_it(client, make):
    # the page is serialised from plain rows, not models: byte for byte the same
    w = world(make)
    for n in range(4):
        publish(client, make, w, pending(make, w, title=f"Concern number {n}").id)
    for params in ({"after": 0, "limit": 3}, {"after": 3}):
        r = client.get(FEED, params=params)
        assert r.status_code == 200, r.text
        page = FeedPage.model_validate_json(r.content)
        assert page.items and page.items[0].content is not None
        assert r.content == page.model_dump_json().encode()


def test_the_round_filter(client, make):
    w = world(make)
    other = make.round(phase=Phase.accepting_responses)
    other_moderated = World(other, w.author, w.moderator, make.official(other, "CN"), w.us)
    mine, theirs = [], []
    for n in range(4):
        s = pending(make, w, title=f"Ours {n}")
        publish(client, make, w, s.id)
        mine.append(str(s.id))
        t = pending(make, other_moderated, rnd=other, title=f"Theirs {n}")
        publish(client, make, other_moderated, t.id)
        theirs.append(str(t.id))
    respond(client, make, w, mine[0], "An answer for our round.")

    everything = feed_all(client)
    assert len(everything) == 9
    ours = feed_all(client, round_id=w.rnd.id)
    assert [e["object_id"] for e in ours if e["type"] == "submission.published"] == mine
    assert {e["round_id"] for e in ours} == {str(w.rnd.id)}
    assert [e["seq"] for e in ours] == sorted(e["seq"] for e in ours)
    assert ours == [e for e in everything if e["round_id"] == str(w.rnd.id)]

    # paging within the filter
    got, after = [], 0
    while True:
        page = poll(client, after, round_id=w.rnd.id, limit=2)
        got += page["items"]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert got == ours

    assert [e["seq"] for e in ndjson_items(client, round_id=other.id)] == [
        e["seq"] for e in everything if e["round_id"] == str(other.id)
    ]
    assert ok(client.get(FEED, params={"round_id": uuid.uuid4()}))["items"] == []
    assert client.get(FEED, params={"round_id": "not-a-uuid"}).status_code == 422
    atom = ET.fromstring(client.get(ATOM, params={"round_id": other.id}).content)
    titles = [e.findtext(f"{ATOM_NS}title") for e in atom.findall(f"{ATOM_NS}entry")]
    assert sorted(titles) == [f"Theirs {n}" for n in range(4)]


# --- exactly once --------------------------------------------------------------------------------


def test_a_client_syncing_with_small_pages_sees_every_change_exactly_once(client, make, engine):
    w = world(make)
    subs = [pending(make, w, title=f"Concern {n}") for n in range(5)]
    state: dict[str, str] = {}

    def answer() -> None:
        state["response"] = respond(client, make, w, subs[0].id, "First answer.")

    writes = [
        lambda: publish(client, make, w, subs[0].id),
        lambda: publish(client, make, w, subs[1].id),
        answer,
        lambda: revise(client, make, w, state["response"], "Second answer."),
        lambda: publish(client, make, w, subs[2].id),
        lambda: withdraw(client, make, w, subs[1].id),
        lambda: assess(client, make, w, state["response"], "partial"),
        lambda: publish(client, make, w, subs[3].id),
        lambda: respond(client, make, w, subs[3].id, "US answer.", official=w.us),
        lambda: publish(client, make, w, subs[4].id),
        lambda: remove(client, make, w, subs[4].id),
        lambda: withdraw(client, make, w, subs[0].id),
    ]
    mirror: dict[int, dict[str, Any]] = {}
    received: list[int] = []
    after, polls, remaining = 0, 0, list(writes)
    while True:
        polls += 1
        page = poll(client, after, limit=2)
        for entry in page["items"]:
            received.append(entry["seq"])
            mirror[entry["seq"]] = entry
        if page["items"]:
            after = page["items"][-1]["seq"]
        if remaining:
            remaining.pop(0)()  # a write lands between two polls
        elif not page["items"]:
            break

    head_seq, head_hash = stored_head(engine)
    assert head_seq == len(writes) == 12
    assert received == list(range(1, head_seq + 1)), "a change was missed or seen twice"
    assert polls > len(writes)
    # The mirror holds the same chain as the server (content aside: the client saw some of
    # it before a tombstone, and the later withdrawal entries tell it what to drop).
    current = feed_all(client)
    for entry in current:
        assert {k: v for k, v in mirror[entry["seq"]].items() if k != "content"} == {
            k: v for k, v in entry.items() if k != "content"
        }
    assert assert_chain(current) == head_hash
    gone = {
        e["object_id"]
        for e in current
        if e["type"] in ("submission.withdrawn", "submission.removed")
    }
    assert gone == {str(subs[0].id), str(subs[1].id), str(subs[4].id)}


def test_sync_sees_concurrent_writers_exactly_once(client, make, engine):
    """Writers in threads while a reader polls: entries become visible in sequence order, so
    a reader that continues from the last seq it saw never skips one."""
    w = world(make)
    writers, per_writer = 4, 5
    batches = [
        [pending(make, w, title=f"Writer {i} concern {n}").id for n in range(per_writer)]
        for i in range(writers)
    ]
    headers = make.headers(w.moderator)
    failures: list[str] = []

    def write(ids: list[uuid.UUID]) -> None:
        for submission_id in ids:
            r = client.post(
                f"/api/v1/submissions/{submission_id}/moderation",
                json={"decision": "publish"},
                headers=headers,
            )
            if r.status_code != 200:
                failures.append(r.text)

    threads = [threading.Thread(target=write, args=(ids,), daemon=True) for ids in batches]
    for thread in threads:
        thread.start()
    received: list[int] = []
    after = 0
    try:
        while True:
            done = not any(t.is_alive() for t in threads)
            page = poll(client, after, limit=3)
            received += [e["seq"] for e in page["items"]]
            if page["items"]:
                after = page["items"][-1]["seq"]
            elif done:
                break
    finally:
        for thread in threads:  # never leave a writer behind on a closed client
            thread.join(timeout=60)
    assert not failures, failures[:3]
    total = writers * per_writer
    assert received == list(range(1, total + 1))
    assert_chain(feed_all(client))
    assert stored_head(engine)[0] == total


# --- tombstones ----------------------------------------------------------------------------------


def public_outputs(client, w: World, submission_id, response_id) -> dict[str, str]:
    """Every public place the text of a submission or its responses could show."""
    outputs = {
        "feed": json.dumps(feed_all(client), ensure_ascii=False),
        "feed (round)": json.dumps(feed_all(client, round_id=w.rnd.id), ensure_ascii=False),
        "ndjson": client.get(NDJSON).text,
        "csv": client.get(CSV).text,
        "atom": client.get(ATOM).text,
        "record": client.get(f"/api/v1/rounds/{w.rnd.id}/record").text,
        "submission": client.get(f"/api/v1/submissions/{submission_id}").text,
        "response": client.get(f"/api/v1/responses/{response_id}").text,
        "revisions": client.get(f"/api/v1/responses/{response_id}/revisions").text,
    }
    return outputs


@pytest.mark.parametrize("how", ["withdrawn", "removed"])
def test_withdrawal_and_removal_leave_tombstones_in_every_format(client, make, engine, how):
    w = world(make)
    tag = uuid.uuid4().hex[:8]
    markers = {
        "title": f"Gone title {tag}-T 律师",
        "body": f'Gone body {tag}-B, with a comma and "quotes"\nand a second line.',
        "answer": f"Gone answer {tag}-A",
        "revision": f"Gone revision {tag}-R",
        "reason": f"Gone reason {tag}-W",
        "removal": f"Gone removal note {tag}-M",
    }
    keep = pending(make, w, title=f"Kept title {tag}-K", body=f"Kept body {tag}-KB")
    gone = pending(make, w, title=markers["title"], body=markers["body"])
    publish(client, make, w, keep.id)
    publish(client, make, w, gone.id)
    kept_answer = respond(client, make, w, keep.id, f"Kept answer {tag}-KA")
    response_id = respond(client, make, w, gone.id, markers["answer"])
    revise(client, make, w, response_id, markers["revision"], reason=markers["reason"])
    assess(client, make, w, response_id, "satisfactory")
    before = feed_all(client)
    assert len(before) == 6
    outputs = public_outputs(client, w, gone.id, response_id)
    for name in ("feed", "ndjson", "csv", "record", "submission"):
        assert f"{tag}-T" in outputs[name], name  # present while published
    assert f"{tag}-T" in outputs["atom"] and f"{tag}-R" in outputs["revisions"]

    if how == "withdrawn":
        withdraw(client, make, w, gone.id)
    else:
        remove(client, make, w, gone.id, markers["removal"])

    after = feed_all(client)
    assert len(after) == 7
    tombstone = after[-1]
    assert tombstone["type"] == f"submission.{how}"
    assert unsalted(tombstone["content"]) == {"id": str(gone.id), "status": how}
    about_gone = {str(gone.id), response_id}
    gone_salts = [e["content"]["salt"] for e in before if e["object_id"] in about_gone]
    assert len(gone_salts) == 4
    for old, new in zip(before, after, strict=False):
        # seq, type, time, object, hashes: unchanged
        assert {k: v for k, v in old.items() if k != "content"} == {
            k: v for k, v in new.items() if k != "content"
        }
        if new["object_id"] in about_gone:
            assert new["content"] is None, new["type"]
        else:
            assert new["content"] == old["content"] and new["content"] is not None
    assert [e["type"] for e in after if e["content"] is None] == [
        "submission.published",
        "response.published",
        "response.revised",
        "response.assessed",
    ]
    # The stored rows lost their content too, not just the views of them.
    assert [r["seq"] for r in stored(engine) if r["content"] is None] == [
        e["seq"] for e in after if e["content"] is None
    ]
    assert assert_chain(after) == stored_head(engine)[1]

    # Exports carry the same tombstones.
    assert [(e["seq"], e["content"]) for e in ndjson_items(client)] == [
        (e["seq"], e["content"]) for e in after
    ]
    rows = csv_rows(client)
    assert [(int(r["seq"]), r["content"] or None) for r in rows if not r["content"]] == [
        (e["seq"], None) for e in after if e["content"] is None
    ]

    outputs = public_outputs(client, w, gone.id, response_id)
    for name, text in outputs.items():
        for code in ("T", "B", "A", "R", "W", "M"):
            assert f"{tag}-{code}" not in text, f"{tag}-{code} still in {name}"
        assert "律师" not in text, name
        for salt in gone_salts:  # the salt leaves with the content
            assert salt not in text, name
    for name in ("feed", "ndjson", "csv", "atom", "record"):
        assert f"{tag}-K" in outputs[name], name  # the rest of the record is untouched
    assert f"{tag}-KA" in outputs["feed"] and kept_answer in outputs["feed"]
    for name in ("submission", "response", "revisions"):
        assert json.loads(outputs[name])["status"] == 404, name


# --- the change and its entry: both or neither ---------------------------------------------------


def _raise_instead(*_args: Any, **_kwargs: Any) -> None:
    raise RuntimeError("the disk is full")


def _raise_after(original):
    def append_then_fail(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        raise RuntimeError("the disk is full")

    return append_then_fail


def assert_internal_error(r) -> None:
    assert r.status_code == 500
    assert r.headers["content-type"].startswith(PROBLEM)
    assert "disk is full" not in r.text and "RuntimeError" not in r.text
    assert "Traceback" not in r.text


@pytest.mark.parametrize("where", ["before-append", "after-append", "after-service"])
def test_a_failed_publication_leaves_neither_change_nor_entry(
    client, make, engine, monkeypatch, where
):
    w = world(make)
    submission = pending(make, w)
    if where == "before-append":
        # the status change is flushed, then appending the entry fails
        monkeypatch.setattr(ledger, "append", _raise_instead)
    elif where == "after-append":
        # the entry is appended, then the rest of the change fails
        monkeypatch.setattr(ledger, "append", _raise_after(ledger.append))
    else:
        # the service finished; the route fails while rendering its answer
        import api.routes.submissions as route

        monkeypatch.setattr(route, "_private", _raise_instead)

    assert_internal_error(moderate(client, make, w, submission.id, "publish"))

    assert status_of(engine, submission.id) == "pending"
    assert stored(engine) == []
    assert stored_head(engine) == (0, GENESIS)
    assert count(engine, "audit_entry") == 0
    assert ok(client.get(FEED))["items"] == []
    assert client.get(f"/api/v1/submissions/{submission.id}").status_code == 404

    monkeypatch.undo()
    publish(client, make, w, submission.id)
    entries = feed_all(client)
    assert [(e["seq"], e["type"], e["prev_hash"]) for e in entries] == [
        (1, "submission.published", GENESIS)
    ]
    assert assert_chain(entries) == stored_head(engine)[1]


def test_a_failed_withdrawal_keeps_the_submission_and_its_content(
    client, make, engine, monkeypatch
):
    w = world(make)
    submission = pending(make, w, title="Still here afterwards")
    publish(client, make, w, submission.id)
    before = stored(engine)

    monkeypatch.setattr(ledger, "append", _raise_after(ledger.append))
    r = client.post(f"/api/v1/submissions/{submission.id}/withdraw", headers=make.headers(w.author))
    assert_internal_error(r)
    monkeypatch.undo()

    assert status_of(engine, submission.id) == "published"
    assert stored(engine) == before  # no withdrawal entry, and no tombstone either
    assert before[0]["content"]["title"] == "Still here afterwards"
    assert stored_head(engine) == (1, before[0]["hash"])
    assert ok(client.get(f"/api/v1/submissions/{submission.id}"))["title"] == (
        "Still here afterwards"
    )


def test_a_failed_response_leaves_no_response_and_no_entry(client, make, engine, monkeypatch):
    w = world(make)
    submission = pending(make, w)
    publish(client, make, w, submission.id)
    monkeypatch.setattr(ledger, "append", _raise_instead)
    r = client.post(
        f"/api/v1/submissions/{submission.id}/responses",
        json={"kind": "answer", "body": "Never stored.", "language": "en"},
        headers=make.headers(w.cn),
    )
    assert_internal_error(r)
    monkeypatch.undo()
    assert count(engine, "response") == 0 and count(engine, "response_revision") == 0
    assert [e["event_type"] for e in stored(engine)] == ["submission.published"]
    respond(client, make, w, submission.id, "Stored this time.")
    assert [e["seq"] for e in feed_all(client)] == [1, 2]


# --- Atom ----------------------------------------------------------------------------------------


def test_the_atom_feed_is_valid_atom(client, make):
    w = world(make)
    empty = client.get(ATOM)
    assert empty.status_code == 200
    assert ET.fromstring(empty.content).findall(f"{ATOM_NS}entry") == []

    odd = "Tags <b>bold</b> & \"quotes\" 'apostrophes' 律师"
    first = pending(make, w, title=odd, body="Body with <script>alert(1)</script> & more")
    second = pending(make, w, title="To be withdrawn")
    publish(client, make, w, first.id)
    publish(client, make, w, second.id)
    response_id = respond(
        client, make, w, first.id, "An answer with <angle> brackets & an ampersand"
    )
    revise(client, make, w, response_id, "A corrected answer")
    withdraw(client, make, w, second.id)

    r = client.get(ATOM)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(r.content)  # well-formed XML, or this raises
    assert root.tag == f"{ATOM_NS}feed"
    assert root.findtext(f"{ATOM_NS}id", "").startswith("urn:")
    assert root.findtext(f"{ATOM_NS}title")
    updated = instant(root.findtext(f"{ATOM_NS}updated", ""))
    assert updated.tzinfo is not None
    assert root.find(f"{ATOM_NS}author/{ATOM_NS}name") is not None
    self_link = root.find(f"{ATOM_NS}link[@rel='self']")
    assert self_link is not None and self_link.get("href", "").endswith(ATOM)

    entries = root.findall(f"{ATOM_NS}entry")
    feed = feed_all(client)
    assert len(entries) == len(feed) == 5
    ids = [e.findtext(f"{ATOM_NS}id") for e in entries]
    assert len(set(ids)) == len(ids)
    assert ids == [f"urn:civic-input:record:{e['seq']}" for e in reversed(feed)]  # newest first
    for entry, item in zip(entries, reversed(feed), strict=True):
        assert entry.findtext(f"{ATOM_NS}title")
        assert instant(entry.findtext(f"{ATOM_NS}updated", "")) == instant(item["at"])
        category = entry.find(f"{ATOM_NS}category")
        assert category is not None and category.get("term") == item["type"]
    assert updated == instant(feed[-1]["at"])
    titles = [e.findtext(f"{ATOM_NS}title") for e in entries]
    assert odd in titles  # escaped on the way out, intact on the way back in
    assert "To be withdrawn" not in r.text
    summaries = [e.findtext(f"{ATOM_NS}summary") for e in entries]
    assert "A corrected answer" in summaries
    assert "An answer with <angle> brackets & an ampersand" in summaries
    links = [e.find(f"{ATOM_NS}link") for e in entries]
    hrefs = {link.get("href") for link in links if link is not None}
    assert any(h and h.endswith(f"/api/v1/submissions/{first.id}") for h in hrefs)


def test_the_atom_feed_holds_the_newest_fifty(client, make):
    w = world(make)
    for n in range(52):
        publish(client, make, w, pending(make, w, title=f"Concern {n:02d}").id)
    root = ET.fromstring(client.get(ATOM).content)
    entries = root.findall(f"{ATOM_NS}entry")
    assert len(entries) == 50
    assert entries[0].findtext(f"{ATOM_NS}id") == "urn:civic-input:record:52"
    assert entries[-1].findtext(f"{ATOM_NS}id") == "urn:civic-input:record:3"


# --- conditional GET and CORS --------------------------------------------------------------------


def test_the_feed_answers_if_none_match_with_304(client, make):
    w = world(make)
    publish(client, make, w, pending(make, w).id)
    first = client.get(FEED)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"]
    again = client.get(FEED, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b"" and again.headers["ETag"] == tag
    assert client.get(FEED, headers={"If-None-Match": '"something-else"'}).status_code == 200

    publish(client, make, w, pending(make, w, title="A newer concern").id)
    changed = client.get(FEED, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != tag
    assert len(changed.json()["items"]) == 2


@pytest.mark.parametrize(
    "path", [FEED, ATOM, NDJSON, CSV, CHECKPOINT, JWKS, "/api/v1/feed?after=1&limit=5"]
)
def test_public_reads_are_open_to_any_origin_without_credentials(client, make, path):
    w = world(make)
    publish(client, make, w, pending(make, w).id)
    origin = {"Origin": "https://example.org"}
    r = client.get(path, headers=origin)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers
    # a web app can read the paging and caching headers
    exposed = {h.strip().lower() for h in r.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "link"} <= exposed
    # a signed-in caller's browser gets no credentialed access either
    r = client.get(path, headers=origin | make.headers(w.author))
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers
    preflight = client.options(
        path.split("?")[0],
        headers=origin
        | {
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in preflight.headers


# --- NDJSON and CSV round trips ------------------------------------------------------------------


def _round_trip_scenario(client, make) -> World:
    w = world(make)
    subs = [
        pending(make, w, title="Plain English concern"),
        pending(
            make,
            w,
            title="律师 在哪里？",
            body='他们被关押在哪里？\n第二行, "引号"',
            language="zh-Hans",
        ),
        pending(make, w, title='Commas, "quotes" and\ttabs', body="Line one\r\nLine two, three"),
        pending(make, w, title="Withdrawn later"),
    ]
    for s in subs:
        publish(client, make, w, s.id)
    response_id = respond(client, make, w, subs[1].id, "回答：在北京。")
    revise(client, make, w, response_id, "更正：在天津。")
    withdraw(client, make, w, subs[3].id)
    return w


def test_ndjson_export_round_trips_to_the_feed(client, make):
    _round_trip_scenario(client, make)
    feed = feed_all(client)
    lines = ndjson_items(client)
    assert len(lines) == len(feed) == 7
    for line, item in zip(lines, feed, strict=True):
        assert set(line) == set(item)
        assert instant(line["at"]) == instant(item["at"])
        assert {k: v for k, v in line.items() if k != "at"} == {
            k: v for k, v in item.items() if k != "at"
        }
    assert_chain(feed)
    assert any(e["content"] is None for e in lines)


def test_csv_export_round_trips_to_the_feed(client, make):
    _round_trip_scenario(client, make)
    feed = feed_all(client)
    r = client.get(CSV)
    assert "attachment" in r.headers["content-disposition"]
    reader = csv.DictReader(io.StringIO(r.text, newline=""))
    rows = list(reader)
    assert tuple(reader.fieldnames or ()) == (
        "seq",
        "type",
        "at",
        "object_type",
        "object_id",
        "round_id",
        "content_hash",
        "prev_hash",
        "hash",
        "content",
    )
    assert len(rows) == len(feed) == 7
    for row, item in zip(rows, feed, strict=True):
        assert int(row["seq"]) == item["seq"]
        assert instant(row["at"]) == instant(item["at"])
        for name in ("type", "object_type", "object_id", "content_hash", "prev_hash", "hash"):
            assert row[name] == item[name], name
        assert (row["round_id"] or None) == item["round_id"]
        content = json.loads(row["content"]) if row["content"] else None
        assert content == item["content"]
        if content is not None:
            assert content_hash(content) == row["content_hash"]
    assert sum(1 for row in rows if not row["content"]) == 1


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


def test_a_checkpoint_verifies_with_a_plain_jose_library(client, make, engine):
    empty = ok(client.get(CHECKPOINT))
    assert (empty["seq"], empty["hash"]) == (0, GENESIS)

    w = world(make)
    s = pending(make, w)
    publish(client, make, w, s.id)
    respond(client, make, w, s.id, "An answer.")
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


def test_old_checkpoints_verify_after_a_key_rotation(client, make, engine, database_url, app):
    w = world(make)
    publish(client, make, w, pending(make, w).id)
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

    publish(client, make, w, pending(make, w, title="After the rotation").id)
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
