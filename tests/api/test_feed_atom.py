"""The Atom feed of the record log: valid Atom, the newest fifty entries."""

import xml.etree.ElementTree as ET

from tests.api.feed import (
    ATOM,
    ATOM_NS,
    feed_all,
    instant,
    pending,
    world,
)

# --- Atom ----------------------------------------------------------------------------------------


def test_the_atom_feed_is_valid_atom(client, make, driver):
    w = world(make)
    empty = client.get(ATOM)
    assert empty.status_code == 200
    assert ET.fromstring(empty.content).findall(f"{ATOM_NS}entry") == []

    odd = "Tags <b>bold</b> & \"quotes\" 'apostrophes' 律师"
    first = pending(make, w, title=odd, body="Body with <script>alert(1)</script> & more")
    second = pending(make, w, title="To be withdrawn")
    driver.publish(w.moderator, first.id)
    driver.publish(w.moderator, second.id)
    response_id = driver.respond(w.cn, first.id, "An answer with <angle> brackets & an ampersand")
    driver.revise(w.cn, response_id, "A corrected answer")
    driver.withdraw(w.author, second.id)

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


def test_the_atom_feed_holds_the_newest_fifty(client, make, driver):
    w = world(make)
    for n in range(52):
        driver.publish(w.moderator, pending(make, w, title=f"Concern {n:02d}").id)
    root = ET.fromstring(client.get(ATOM).content)
    entries = root.findall(f"{ATOM_NS}entry")
    assert len(entries) == 50
    assert entries[0].findtext(f"{ATOM_NS}id") == "urn:civic-input:record:52"
    assert entries[-1].findtext(f"{ATOM_NS}id") == "urn:civic-input:record:3"
