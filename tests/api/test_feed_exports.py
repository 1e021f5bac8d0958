"""The NDJSON and CSV exports of the record log round-trip to the feed."""

import csv
import io
import json
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from api.services import ledger
from api.services.ledger import content_hash
from models.ledger import iso
from tests.api.feed import (
    CSV,
    NDJSON,
    World,
    assert_chain,
    feed_all,
    ndjson_items,
    pending,
    world,
)

# the one order of an entry's fields: the feed, NDJSON, CSV (docs/record.md)
FIELDS = (
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

# --- NDJSON and CSV round trips ------------------------------------------------------------------


def _round_trip_scenario(client, make, driver) -> World:
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
        driver.publish(w.moderator, s.id)
    response_id = driver.respond(w.cn, subs[1].id, "回答：在北京。")
    driver.revise(w.cn, response_id, "更正：在天津。")
    driver.withdraw(w.author, subs[3].id)
    return w


def test_ndjson_export_round_trips_to_the_feed(client, make, driver):
    _round_trip_scenario(client, make, driver)
    feed = feed_all(client)
    lines = ndjson_items(client)
    assert len(lines) == len(feed) == 7
    for line, item in zip(lines, feed, strict=True):
        # the same fields in the same order, `at` the same string (the one hashed)
        assert list(line) == list(item) == list(FIELDS)
        assert line == item
    assert_chain(feed)
    assert any(e["content"] is None for e in lines)


def test_csv_export_round_trips_to_the_feed(client, make, driver):
    _round_trip_scenario(client, make, driver)
    feed = feed_all(client)
    r = client.get(CSV)
    assert "attachment" in r.headers["content-disposition"]
    reader = csv.DictReader(io.StringIO(r.text, newline=""))
    rows = list(reader)
    assert tuple(reader.fieldnames or ()) == FIELDS
    assert len(rows) == len(feed) == 7
    for row, item in zip(rows, feed, strict=True):
        assert int(row["seq"]) == item["seq"]
        assert row["at"] == item["at"]
        for name in ("type", "object_type", "object_id", "content_hash", "prev_hash", "hash"):
            assert row[name] == item[name], name
        assert (row["round_id"] or None) == item["round_id"]
        content = json.loads(row["content"]) if row["content"] else None
        assert content == item["content"]
        if content is not None:
            # the cell is the canonical JSON: its hash is the content hash
            assert row["content"] == ledger.canonical(content).decode()
            assert content_hash(content) == row["content_hash"]
    assert sum(1 for row in rows if not row["content"]) == 1


# --- ETag and 304 --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [NDJSON, CSV])
def test_the_exports_have_an_etag_and_answer_304(client, make, driver, path):
    w = world(make)
    first = pending(make, w)
    driver.publish(w.moderator, first.id)
    r = client.get(path)
    tag = r.headers["etag"]
    assert r.headers["cache-control"] == "public, max-age=0, must-revalidate"
    unchanged = client.get(path, headers={"If-None-Match": tag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == tag
    assert client.get(path, headers={"If-None-Match": f'"x", {tag}'}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    # another round's export is another document
    other = client.get(path, params={"round_id": str(w.rnd.id)})
    assert other.headers["etag"] != tag
    # a new entry changes the export; so does a take-down, which adds an entry too but
    # also empties earlier ones: both change the tag
    second = pending(make, w)
    driver.publish(w.moderator, second.id)
    after_new = client.get(path, headers={"If-None-Match": tag})
    assert after_new.status_code == 200 and after_new.headers["etag"] != tag
    tag = after_new.headers["etag"]
    driver.withdraw(w.author, first.id)
    after_takedown = client.get(path, headers={"If-None-Match": tag})
    assert after_takedown.status_code == 200 and after_takedown.headers["etag"] != tag
    assert after_takedown.content != after_new.content


def test_an_export_tag_changes_when_content_is_taken_down_without_a_new_entry(
    client, make, driver, engine
):
    # an erasure empties entries without appending one: the tag still changes
    w = world(make)
    submission = pending(make, w)
    driver.publish(w.moderator, submission.id)
    tag = client.get(NDJSON).headers["etag"]
    with Session(engine) as session:
        ledger.tombstone(session, subject_id=submission.id)
        session.commit()
    r = client.get(NDJSON, headers={"If-None-Match": tag})
    assert r.status_code == 200 and r.headers["etag"] != tag
    assert json.loads(r.text.splitlines()[0])["content"] is None


def test_instants_are_spelled_as_strftime_spells_them():
    # the fast spelling (models/ledger.py) is the one the hashes have always used
    zones = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
    rng = random.Random(15)
    samples = [
        datetime(2015, 7, 4, 0, 0, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ]
    for _ in range(2000):
        at = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(10**9), microseconds=rng.choice([0, rng.randrange(10**6)])
        )
        samples.append(at.astimezone(rng.choice(zones)))
    for at in samples:
        assert iso(at) == at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_an_instant_stored_in_another_spelling_is_written_as_iso_spells_it(
    client, make, driver, engine
):
    # the database spells `at` for speed (api/views/feed.py); text it did not write
    # itself (a row written by hand, without microseconds) is still written as `iso` does
    w = world(make)
    driver.publish(w.moderator, pending(make, w).id)
    stored = "2015-07-04 00:00:01" + ("+00" if engine.dialect.name == "postgresql" else "")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE record_entry SET at = :at WHERE seq = 1"), {"at": stored})
    written = "2015-07-04T00:00:01.000000Z"
    assert feed_all(client)[0]["at"] == written
    assert ndjson_items(client)[0]["at"] == written
    assert next(csv.DictReader(io.StringIO(client.get(CSV).text, newline="")))["at"] == written
