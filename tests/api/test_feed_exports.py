"""The NDJSON and CSV exports of the record log round-trip to the feed."""

import csv
import io
import json

from api.services.ledger import content_hash
from tests.api.feed import (
    CSV,
    World,
    assert_chain,
    feed_all,
    instant,
    ndjson_items,
    pending,
    world,
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
        assert set(line) == set(item)
        assert instant(line["at"]) == instant(item["at"])
        assert {k: v for k, v in line.items() if k != "at"} == {
            k: v for k, v in item.items() if k != "at"
        }
    assert_chain(feed)
    assert any(e["content"] is None for e in lines)


def test_csv_export_round_trips_to_the_feed(client, make, driver):
    _round_trip_scenario(client, make, driver)
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
