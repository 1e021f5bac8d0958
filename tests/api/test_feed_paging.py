"""Reading the record log: pages in order, the round filter, incremental sync that sees
every change exactly once (also under concurrent writers), conditional GET and CORS."""

import threading
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from models.ledger import FeedPage
from models.round import Phase
from tests.api.feed import (
    ATOM,
    ATOM_NS,
    CHECKPOINT,
    CSV,
    FEED,
    JWKS,
    NDJSON,
    World,
    assert_chain,
    feed_all,
    ndjson_items,
    pending,
    poll,
    stored_head,
    world,
)
from tests.client import assert_problem, ok

# --- paging --------------------------------------------------------------------------------------


def test_the_feed_pages_in_order_and_is_empty_after_the_head(client, make, driver):
    w = world(make)
    for n in range(7):
        driver.publish(w.moderator, pending(make, w, title=f"Concern number {n}").id)

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
        assert_problem(client.get(FEED, params=bad), 422)


def test_the_feed_is_written_exactly_as_its_model_writes_it(client, make, driver):
    # the page is serialised from plain rows, not models: byte for byte the same
    w = world(make)
    for n in range(4):
        driver.publish(w.moderator, pending(make, w, title=f"Concern number {n}").id)
    for params in ({"after": 0, "limit": 3}, {"after": 3}):
        r = client.get(FEED, params=params)
        assert r.status_code == 200, r.text
        page = FeedPage.model_validate_json(r.content)
        assert page.items and page.items[0].content is not None
        assert r.content == page.model_dump_json().encode()


def test_the_round_filter(client, make, driver):
    w = world(make)
    other = make.round(phase=Phase.accepting_responses)
    other_moderated = World(other, w.author, w.moderator, make.official(other, "CN"), w.us)
    mine, theirs = [], []
    for n in range(4):
        s = pending(make, w, title=f"Ours {n}")
        driver.publish(w.moderator, s.id)
        mine.append(str(s.id))
        t = pending(make, other_moderated, rnd=other, title=f"Theirs {n}")
        driver.publish(other_moderated.moderator, t.id)
        theirs.append(str(t.id))
    driver.respond(w.cn, mine[0], "An answer for our round.")

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


def test_a_client_syncing_with_small_pages_sees_every_change_exactly_once(
    client, make, driver, engine
):
    w = world(make)
    subs = [pending(make, w, title=f"Concern {n}") for n in range(5)]
    state: dict[str, str] = {}

    def answer() -> None:
        state["response"] = driver.respond(w.cn, subs[0].id, "First answer.")

    writes = [
        lambda: driver.publish(w.moderator, subs[0].id),
        lambda: driver.publish(w.moderator, subs[1].id),
        answer,
        lambda: driver.revise(w.cn, state["response"], "Second answer."),
        lambda: driver.publish(w.moderator, subs[2].id),
        lambda: driver.withdraw(w.author, subs[1].id),
        lambda: driver.assess(w.author, state["response"], "partial"),
        lambda: driver.publish(w.moderator, subs[3].id),
        lambda: driver.respond(w.us, subs[3].id, "US answer."),
        lambda: driver.publish(w.moderator, subs[4].id),
        lambda: driver.remove(w.moderator, subs[4].id),
        lambda: driver.withdraw(w.author, subs[0].id),
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


# --- conditional GET and CORS --------------------------------------------------------------------


def test_the_feed_answers_if_none_match_with_304(client, make, driver):
    w = world(make)
    driver.publish(w.moderator, pending(make, w).id)
    first = client.get(FEED)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"]
    again = client.get(FEED, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b"" and again.headers["ETag"] == tag
    assert client.get(FEED, headers={"If-None-Match": '"something-else"'}).status_code == 200

    driver.publish(w.moderator, pending(make, w, title="A newer concern").id)
    changed = client.get(FEED, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != tag
    assert len(changed.json()["items"]) == 2


@pytest.mark.parametrize(
    "path", [FEED, ATOM, NDJSON, CSV, CHECKPOINT, JWKS, "/api/v1/feed?after=1&limit=5"]
)
def test_public_reads_are_open_to_any_origin_without_credentials(client, make, driver, path):
    w = world(make)
    driver.publish(w.moderator, pending(make, w).id)
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
