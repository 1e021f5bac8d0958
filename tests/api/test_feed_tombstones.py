"""Withdrawal and removal leave tombstones in every format: the hashes stay, the text
goes from every public output."""

import json
import uuid

import pytest

from tests.api.feed import (
    ATOM,
    CSV,
    NDJSON,
    World,
    assert_chain,
    csv_rows,
    feed_all,
    ndjson_items,
    pending,
    stored,
    stored_head,
    unsalted,
    world,
)

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
def test_withdrawal_and_removal_leave_tombstones_in_every_format(client, make, driver, engine, how):
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
    driver.publish(w.moderator, keep.id)
    driver.publish(w.moderator, gone.id)
    kept_answer = driver.respond(w.cn, keep.id, f"Kept answer {tag}-KA")
    response_id = driver.respond(w.cn, gone.id, markers["answer"])
    driver.revise(w.cn, response_id, markers["revision"], reason=markers["reason"])
    driver.assess(w.author, response_id, "satisfactory")
    before = feed_all(client)
    assert len(before) == 6
    outputs = public_outputs(client, w, gone.id, response_id)
    for name in ("feed", "ndjson", "csv", "record", "submission"):
        assert f"{tag}-T" in outputs[name], name  # present while published
    assert f"{tag}-T" in outputs["atom"] and f"{tag}-R" in outputs["revisions"]

    if how == "withdrawn":
        driver.withdraw(w.author, gone.id)
    else:
        driver.remove(w.moderator, gone.id, markers["removal"])

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
