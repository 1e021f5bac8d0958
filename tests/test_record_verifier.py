"""The record verifies from its documentation alone: `tests/record_verifier.py` (written
from docs/record.md, importing nothing from the project) checks the chain from the JSON
feed, the NDJSON export and the CSV export, and the checkpoint with joserfc, on a log
whose instants fall on whole seconds as well as between them."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from models.ledger import RecordEntry
from models.user import Role
from tests import record_verifier as outside
from tests.api.feed import pending, world

WHOLE = datetime(2015, 7, 4, 0, 0, 1, tzinfo=UTC)


@pytest.fixture
def record(client, make, driver):
    """Entries at whole seconds (the first at 2015-07-04T00:00:01Z) and between them, a
    response and its revision, and a withdrawal that leaves tombstones."""
    w = world(make)
    author = make.user(Role.activist)
    subs = [
        make.submission(
            w.rnd,
            author=author,
            title=f"Concern {n} 律师",
            addressed_to=("CN", "US"),
            published_at=WHOLE + timedelta(seconds=n),
        )
        for n in range(3)
    ]
    make.submission(
        w.rnd,
        author=author,
        title="Between seconds",
        published_at=WHOLE + timedelta(seconds=9, microseconds=120_000),
    )
    response_id = driver.respond(w.cn, subs[0].id, 'An answer, with "quotes" and 引号')
    driver.revise(w.cn, response_id, "A corrected answer.")
    driver.withdraw(author, subs[1].id)
    return w, subs


def test_the_whole_seconds_are_written_as_they_were_hashed(client, record):
    feed = outside.feed_entries(client)
    at = [e["at"] for e in feed]
    assert at[:3] == [
        "2015-07-04T00:00:01.000000Z",
        "2015-07-04T00:00:02.000000Z",
        "2015-07-04T00:00:03.000000Z",
    ]
    assert at[3] == "2015-07-04T00:00:10.120000Z"
    assert [e["at"] for e in outside.ndjson_entries(client)] == at
    assert [e["at"] for e in outside.csv_entries(client)] == at


@pytest.mark.parametrize("source", ["feed", "feed, small pages", "ndjson", "csv"])
def test_the_chain_verifies_from_each_format(client, record, source):
    fetch = {
        "feed": outside.feed_entries,
        "feed, small pages": lambda c: outside.feed_entries(c, limit=2),
        "ndjson": outside.ndjson_entries,
        "csv": outside.csv_entries,
    }[source]
    entries = fetch(client)
    assert any(e["content"] is None for e in entries)  # tombstones verify too
    signed = outside.verify(client, entries)
    assert signed["seq"] == len(entries)
    # the three formats are one record: the same entries, field for field
    assert entries == outside.feed_entries(client)


def test_the_verifier_finds_an_instant_that_is_not_the_hashed_one(client, record, engine):
    # a stored instant moved by one microsecond: the server writes it as stored, and the
    # hash no longer matches in any format
    table = RecordEntry.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            sa.update(table).where(table.c.seq == 2).values(at=WHOLE + timedelta(microseconds=1))
        )
    for fetch in (outside.feed_entries, outside.ndjson_entries, outside.csv_entries):
        with pytest.raises(outside.Broken, match="entry 2: hash does not match"):
            outside.verify(client, fetch(client))


def test_the_verifier_finds_a_changed_content(client, record, engine):
    table = RecordEntry.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        content = conn.execute(sa.select(table.c.content).where(table.c.seq == 1)).scalar_one()
        content["title"] = "Something else"
        conn.execute(sa.update(table).where(table.c.seq == 1).values(content=content))
    for fetch in (outside.feed_entries, outside.ndjson_entries):
        with pytest.raises(outside.Broken, match="entry 1: content does not match"):
            outside.verify(client, fetch(client))
    with pytest.raises(outside.Broken, match="csv entry 1: the content cell"):
        outside.csv_entries(client)


def test_a_round_filtered_feed_is_not_chain_verifiable(client, record, make, driver):
    # as docs/record.md says: entries of other rounds are left out, so the links break
    w, subs = record
    other = world(make)
    driver.publish(other.moderator, pending(make, other).id)
    driver.respond(w.us, subs[2].id, "Another answer.")
    round_id = str(w.rnd.id)
    items = client.get("/api/v1/feed", params={"round_id": round_id}).json()["items"]
    assert items and len(items) < len(outside.feed_entries(client))
    with pytest.raises(outside.Broken):
        outside.check_chain(items)
