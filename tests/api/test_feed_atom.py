"""The Atom feed of the record log: RFC 4287 to the letter (feedparser reads it without a
complaint, and each MUST is checked by hand), ids unique to the deployment, tombstones
that readers notice, the newest fifty entries, ETag and 304."""

import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import feedparser
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from api.services import signing_keys
from models.ledger import SigningKey
from models.user import Role
from tests.api.feed import (
    ATOM,
    ATOM_NS,
    CHECKPOINT,
    feed_all,
    instant,
    pending,
    world,
)
from tests.api.test_cases import REAL_NAME, add_entry, published_case

A = ATOM_NS
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
PUBLIC = "https://civic.example.org/record"


def _absolute_iri(text: str) -> bool:
    return re.fullmatch(r"[a-zA-Z][a-zA-Z0-9+.-]*:\S+", text) is not None


def assert_rfc4287(body: bytes) -> ET.Element:
    """Every MUST of RFC 4287 the feed could break, one by one; the parsed feed."""
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    root = ET.fromstring(body)
    assert root.tag == f"{A}feed"
    # 4.1.1: exactly one id, title, updated; author unless every entry has one
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{A}{name}")) == 1, name
    assert _absolute_iri(root.findtext(f"{A}id", ""))  # 4.2.6: an IRI, not a relative reference
    assert RFC3339.fullmatch(root.findtext(f"{A}updated", ""))  # 3.3
    entries = root.findall(f"{A}entry")
    feed_authors = root.findall(f"{A}author")
    assert feed_authors or all(e.findall(f"{A}author") for e in entries)
    for author in feed_authors:
        assert len(author.findall(f"{A}name")) == 1  # 3.2: a person has exactly one name
    # 4.1.1: SHOULD one rel=self; at most one alternate per type and hreflang
    assert len(root.findall(f"{A}link[@rel='self']")) == 1
    ids = []
    for link in root.iter(f"{A}link"):
        assert link.get("href"), "4.2.7.1: every link has an href"
    for parent in (root, *entries):
        alternates = [
            (link.get("type"), link.get("hreflang"))
            for link in parent.findall(f"{A}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        assert len(alternates) == len(set(alternates))
    for entry in entries:
        # 4.1.2: exactly one id, title, updated; at most one content, published, summary
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{name}")) == 1, name
        for name in ("content", "published", "summary"):
            assert len(entry.findall(f"{A}{name}")) <= 1, name
        ids.append(entry.findtext(f"{A}id", ""))
        assert _absolute_iri(ids[-1])
        assert RFC3339.fullmatch(entry.findtext(f"{A}updated", ""))
        content = entry.find(f"{A}content")
        alternate = [
            link
            for link in entry.findall(f"{A}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        # 4.1.2: content, or else a link rel=alternate
        assert content is not None or alternate
        if content is not None:
            # 4.1.3: text content has no child elements; with src it is empty, and a
            # summary is then required
            assert content.get("type", "text") in ("text", "html", "xhtml")
            assert list(content) == [] and content.get("src") is None
        for category in entry.findall(f"{A}category"):
            assert category.get("term")  # 4.2.2.1
    assert len(ids) == len(set(ids))  # 4.2.6: an id is unique
    return root


def _entries(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{A}entry")


def test_the_atom_feed_is_valid_atom(client, make, driver):
    w = world(make)
    empty = client.get(ATOM)
    assert empty.status_code == 200
    assert _entries(assert_rfc4287(empty.content)) == []

    odd = "Tags <b>bold</b> & \"quotes\" 'apostrophes' 律师"
    first = pending(make, w, title=odd, body="Body with <script>alert(1)</script> & more")
    second = pending(make, w, title="To be withdrawn")
    driver.publish(w.moderator, first.id)
    driver.publish(w.moderator, second.id)
    response_id = driver.respond(w.cn, first.id, "An answer with <angle> brackets & an ampersand")
    driver.revise(w.cn, response_id, "A corrected answer")
    driver.assess(w.author, response_id, "evasive")
    driver.withdraw(w.author, second.id)

    r = client.get(ATOM)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/atom+xml")
    root = assert_rfc4287(r.content)
    assert root.find(f"{A}author/{A}name") is not None

    entries = _entries(root)
    feed = feed_all(client)
    assert len(entries) == len(feed) == 6
    for entry, item in zip(entries, reversed(feed), strict=True):  # newest first
        # the instant is the string that was hashed, to the microsecond
        assert entry.findtext(f"{A}published") == item["at"]
        category = entry.find(f"{A}category")
        assert category is not None and category.get("term") == item["type"]
        assert entry.findtext(f"{A}content")
    titles = [e.findtext(f"{A}title") for e in entries]
    assert odd in titles  # escaped on the way out, intact on the way back in
    assert "To be withdrawn" not in r.text
    contents = [e.findtext(f"{A}content") for e in entries]
    assert "A corrected answer" in contents
    assert "An answer with <angle> brackets & an ampersand" in contents
    assert "Body with <script>alert(1)</script> & more" in contents
    assert any("rating: evasive" in (c or "") for c in contents)
    links = [e.find(f"{A}link[@rel='alternate']") for e in entries]
    hrefs = {link.get("href") for link in links if link is not None}
    assert f"/api/v1/submissions/{first.id}" in hrefs
    assert root.findtext(f"{A}updated") == feed[-1]["at"]
    # what feedparser makes of it: every entry with its id, title, dates and text
    parsed = feedparser.parse(r.content)
    assert len(parsed.entries) == 6
    assert all(e.id and e.title and e.updated_parsed and e.content for e in parsed.entries)


def test_ids_and_self_links_come_from_the_public_url_never_from_the_host(
    client, make, driver, app, engine, monkeypatch
):
    w = world(make)
    driver.publish(w.moderator, pending(make, w).id)
    forged = {"Host": "attacker.example"}

    # unset: urn:uuid ids of this deployment, links relative to where the feed was read
    root = assert_rfc4287(client.get(ATOM, headers=forged).content)
    assert "attacker" not in ET.tostring(root, encoding="unicode")
    feed_id = root.findtext(f"{A}id", "")
    entry_id = _entries(root)[0].findtext(f"{A}id", "")
    for urn in (feed_id, entry_id):
        assert urn.startswith("urn:uuid:")
        uuid.UUID(urn.removeprefix("urn:uuid:"))
    assert root.find(f"{A}link[@rel='self']").get("href") == ATOM
    # the same ids on every read, and after a key rotation
    with Session(engine) as session:
        signing_keys.rotate(session, app.state.signing_keys.store)
        session.commit()
    again = ET.fromstring(client.get(ATOM).content)
    assert again.findtext(f"{A}id") == feed_id
    assert _entries(again)[0].findtext(f"{A}id") == entry_id
    # a round's feed is another feed, with another id
    by_round = ET.fromstring(client.get(ATOM, params={"round_id": str(w.rnd.id)}).content)
    assert by_round.findtext(f"{A}id") not in (feed_id, None)
    assert _entries(by_round)[0].findtext(f"{A}id") == entry_id

    # set: ids and links under it, whatever the Host header says
    monkeypatch.setattr(app.state.settings, "public_url", PUBLIC)
    r = client.get(ATOM, headers=forged)
    root = assert_rfc4287(r.content)
    assert "attacker" not in r.text and "testserver" not in r.text
    assert root.findtext(f"{A}id") == f"{PUBLIC}/api/v1/feed.atom"
    assert root.find(f"{A}link[@rel='self']").get("href") == f"{PUBLIC}/api/v1/feed.atom"
    entry = _entries(root)[0]
    seq = feed_all(client)[-1]["seq"]
    assert entry.findtext(f"{A}id") == f"{PUBLIC}/api/v1/feed?after={seq - 1}&limit=1"
    for link in root.iter(f"{A}link"):
        assert link.get("href", "").startswith(PUBLIC + "/")
    # the entry id answers exactly that entry
    path = entry.findtext(f"{A}id", "").removeprefix(PUBLIC)
    assert [e["seq"] for e in client.get(path).json()["items"]] == [seq]
    by_round = ET.fromstring(client.get(ATOM, params={"round_id": str(w.rnd.id)}).content)
    assert by_round.findtext(f"{A}id") == f"{PUBLIC}/api/v1/feed.atom?round_id={w.rnd.id}"


def test_ids_differ_between_deployments(client, make, driver, engine):
    # another deployment is another first signing key
    w = world(make)
    driver.publish(w.moderator, pending(make, w).id)
    before = ET.fromstring(client.get(ATOM).content)
    # a database whose first key is another: another deployment
    table = SigningKey.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(table).values(
                kid="another-deployment",
                algorithm="ES256",
                public_jwk={},
                created_at=datetime(2000, 1, 1, tzinfo=UTC),
            )
        )
    try:
        after = ET.fromstring(client.get(ATOM).content)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.kid == "another-deployment"))
    assert after.findtext(f"{A}id") != before.findtext(f"{A}id")
    assert _entries(after)[0].findtext(f"{A}id") != _entries(before)[0].findtext(f"{A}id")
    # and back: the ids are this deployment's again
    assert ET.fromstring(client.get(ATOM).content).findtext(f"{A}id") == before.findtext(f"{A}id")


def test_a_tombstone_bumps_updated_and_replaces_the_content(client, make, driver):
    w = world(make)
    kept = pending(make, w, title="Kept")
    gone = pending(make, w, title="Secret title", body="Secret body")
    driver.publish(w.moderator, kept.id)
    driver.publish(w.moderator, gone.id)
    response_id = driver.respond(w.cn, gone.id, "Secret answer")
    before_body = client.get(ATOM).content
    before = {e.findtext(f"{A}published"): e for e in _entries(assert_rfc4287(before_body))}
    driver.withdraw(w.author, gone.id)

    r = client.get(ATOM)
    root = assert_rfc4287(r.content)
    feed = feed_all(client)
    withdrawn_at = feed[-1]["at"]
    assert feed[-1]["type"] == "submission.withdrawn"
    assert "Secret" not in r.text
    by_seq = dict(zip(reversed([e["seq"] for e in feed]), _entries(root), strict=True))
    for seq in (2, 3):  # the submission and its response: taken down at the withdrawal
        entry = by_seq[seq]
        published = entry.findtext(f"{A}published")
        assert published == feed[seq - 1]["at"]
        assert entry.findtext(f"{A}updated") == withdrawn_at != published
        assert before[published].findtext(f"{A}updated") == published
        assert "withdrawn" in entry.findtext(f"{A}title", "")
        assert f"taken out of the public record at {withdrawn_at}" in entry.findtext(
            f"{A}content", ""
        )
        assert entry.find(f"{A}link") is None
    kept_entry = by_seq[1]
    assert kept_entry.findtext(f"{A}updated") == feed[0]["at"]
    assert kept_entry.findtext(f"{A}title") == "Kept"
    # a reader keyed on id and updated sees that the entry changed
    after = {e.id: e.updated for e in feedparser.parse(r.content).entries}
    earlier = {e.id: e.updated for e in feedparser.parse(before_body).entries}
    changed = {i for i in earlier if after[i] != earlier[i]}
    assert changed == {by_seq[2].findtext(f"{A}id"), by_seq[3].findtext(f"{A}id")}
    assert response_id


def test_case_take_downs_bump_the_entries_they_take_down(client, make):
    activist, moderator = make.user(), make.user(Role.moderator)
    case_id = published_case(client, make, activist, moderator, name_consent=False)
    consent = client.put(
        f"/api/v1/cases/{case_id}/consent",
        json={"name_consent": True},
        headers=make.headers(activist),
    )
    assert consent.status_code == 200, consent.text
    add_entry(client, make, moderator, case_id, "imprisoned", "2013-02-01")
    removed = client.post(
        f"/api/v1/cases/{case_id}/moderation",
        json={"decision": "removed", "reason": "Endangers a relative"},
        headers=make.headers(moderator),
    )
    assert removed.status_code == 200, removed.text
    feed = feed_all(client)
    assert [e["type"] for e in feed] == [
        "case.published",
        "case.consent_given",
        "case.timeline",
        "case.removed",
    ]
    at = [e["at"] for e in feed]
    root = assert_rfc4287(client.get(ATOM).content)
    updated = [e.findtext(f"{A}updated") for e in reversed(_entries(root))]
    # published: taken down by the consent change; the rest by the removal
    assert updated == [at[1], at[3], at[3], at[3]]
    assert REAL_NAME not in client.get(ATOM).text


def test_the_atom_feed_holds_the_newest_fifty(client, make, driver):
    w = world(make)
    for n in range(52):
        driver.publish(w.moderator, pending(make, w, title=f"Concern {n:02d}").id)
    root = assert_rfc4287(client.get(ATOM).content)
    entries = _entries(root)
    assert len(entries) == 50
    feed = feed_all(client)
    assert entries[0].findtext(f"{A}published") == feed[51]["at"]
    assert entries[-1].findtext(f"{A}published") == feed[2]["at"]
    assert entries[0].findtext(f"{A}title") == "Concern 51"


def test_the_atom_feed_has_an_etag_and_answers_304(client, make, driver):
    w = world(make)
    first = pending(make, w)
    driver.publish(w.moderator, first.id)
    r = client.get(ATOM)
    tag = r.headers["etag"]
    assert r.headers["cache-control"] == "public, max-age=0, must-revalidate"
    again = client.get(ATOM, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    assert client.get(ATOM, headers={"If-None-Match": '"other"'}).status_code == 200
    # a take-down changes the feed, so the tag
    driver.withdraw(w.author, first.id)
    changed = client.get(ATOM, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert instant(ET.fromstring(changed.content).findtext(f"{A}updated", ""))
    assert client.get(CHECKPOINT).status_code == 200


@pytest.mark.parametrize("public_url", [None, PUBLIC])
def test_feedparser_resolves_every_link(client, make, driver, app, monkeypatch, public_url):
    monkeypatch.setattr(app.state.settings, "public_url", public_url)
    w = world(make)
    driver.publish(w.moderator, pending(make, w).id)
    r = client.get(ATOM)
    headers = {"content-location": str(r.url), "content-type": r.headers["content-type"]}
    parsed = feedparser.parse(r.content, response_headers=headers)
    assert not parsed.bozo
    base = public_url or "http://testserver"
    assert [link.href for link in parsed.feed.links] == [f"{base}/api/v1/feed.atom"]
    (alternate,) = parsed.entries[0].links
    assert alternate.rel == "alternate" and alternate.type == "application/json"
    assert alternate.href.startswith(f"{base}/api/v1/submissions/")
