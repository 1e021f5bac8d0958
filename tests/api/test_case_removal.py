"""A moderator takes a published case down fast: gone from every public output, its
record-log entries (timeline included) tombstoned, the decision audited."""

from models.user import Role
from tests.api.test_cases import (
    API,
    REAL_NAME,
    add_entry,
    published_case,
)

NOTE = "Moved to Linyi detention centre, per a relative (note-vvkq)"


def remove(client, make, moderator, case_id, reason="Endangers a relative"):
    return client.post(
        f"{API}/cases/{case_id}/moderation",
        json={"decision": "removed", **({"reason": reason} if reason else {})},
        headers=make.headers(moderator),
    )


def public_texts(client, case_id):
    return {
        "detail": client.get(f"{API}/cases/{case_id}").text,
        "list": client.get(f"{API}/cases").text,
        "feed": client.get(f"{API}/feed?after=0&limit=1000").text,
        "ndjson": client.get(f"{API}/export.ndjson").text,
        "csv": client.get(f"{API}/export.csv").text,
        "atom": client.get(f"{API}/feed.atom").text,
    }


def test_a_removed_case_leaves_every_public_output(client, make):
    activist, moderator, admin = make.user(), make.user(Role.moderator), make.user(Role.admin)
    case_id = published_case(client, make, activist, moderator)
    add_entry(client, make, moderator, case_id, "imprisoned", "2013-02-01", note=NOTE)
    before = public_texts(client, case_id)
    assert REAL_NAME in before["detail"] and NOTE in before["feed"]

    r = remove(client, make, moderator, case_id)
    assert r.status_code == 200, r.text
    assert r.json()["review"] == "removed"

    after = public_texts(client, case_id)
    assert client.get(f"{API}/cases/{case_id}").status_code == 404
    for label, text in after.items():
        assert REAL_NAME not in text, label
        assert NOTE not in text, label
    feed = client.get(f"{API}/feed?after=0&limit=1000").json()["items"]
    assert feed[-1]["type"] == "case.removed"
    assert all(e["content"] is None for e in feed[:-1] if e["object_id"] == case_id)
    # the moderators and the recorder still see it, with the reason
    mine = client.get(f"{API}/cases/{case_id}", headers=make.headers(activist))
    assert mine.status_code == 200 and mine.json()["review_reason"] == "Endangers a relative"
    audit = client.get(f"{API}/audit?target_id={case_id}", headers=make.headers(admin)).json()
    assert audit["items"][0]["action"] == "case.removed"


def test_removal_needs_a_reason_and_a_published_case(client, make):
    activist, moderator = make.user(), make.user(Role.moderator)
    case_id = published_case(client, make, activist, moderator)
    assert remove(client, make, moderator, case_id, reason=None).status_code == 422
    assert remove(client, make, moderator, case_id).status_code == 200
    assert remove(client, make, moderator, case_id).status_code == 409


def test_only_moderators_remove_cases(client, make):
    activist, moderator = make.user(), make.user(Role.moderator)
    case_id = published_case(client, make, activist, moderator)
    assert remove(client, make, activist, case_id).status_code == 403
    assert client.get(f"{API}/cases/{case_id}").status_code == 200
