"""The record log: one hash-chained entry per public event (none for a private action),
written in the same transaction as its change: both or neither."""

import json
from typing import Any

import pytest

from api.services import ledger
from api.services.ledger import GENESIS
from models.dialogue import Dialogue
from models.round import Phase
from models.user import Role, User
from tests.api.feed import (
    FEED,
    assert_chain,
    count,
    feed_all,
    pending,
    status_of,
    stored,
    stored_head,
    unsalted,
    world,
)
from tests.client import assert_problem, ok

# --- one entry per public event, chained ---------------------------------------------------------


# Events that take down the content of the earlier entries about their object.
TAKE_DOWN = {
    "submission.withdrawn",
    "submission.removed",
    "case.published",
    "case.consent_given",
    "case.consent_withdrawn",
}


def test_every_public_event_appends_exactly_one_chained_entry(client, make, driver, engine):
    w = world(make)
    # benchmarks are set before a round: the next round of the same dialogue
    before = make.round(
        make.session.get(Dialogue, w.rnd.dialogue_id), phase=Phase.accepting_submissions
    )
    outsider = make.user(Role.activist)
    seen: list[dict[str, Any]] = []
    # subject -> the seq of the entry that took down the content of every earlier entry
    # about it: a withdrawal or removal takes a submission's (and its answers'), a change
    # to a case takes that case's
    taken_down: dict[str, int] = {}

    def step(event_type: str | None, object_id=None, round_id=None) -> Any:
        """Assert the last action appended exactly one entry (or none) and return it."""
        now = stored(engine)
        new = now[len(seen) :]
        for entry in new:
            if entry["event_type"] in TAKE_DOWN:
                taken_down[str(entry["object_id"])] = entry["seq"]
        # earlier entries never change, bar content that a tombstone took away
        for old, again in zip(seen, now, strict=False):
            assert {k: v for k, v in again.items() if k != "content"} == {
                k: v for k, v in old.items() if k != "content"
            }
            gone = taken_down.get(str(again["subject_id"]), 0) > again["seq"]
            assert again["content"] == (None if gone else old["content"]), again["event_type"]
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
    ok(driver.moderate(w.moderator, rejected.id, "reject", "Not about this dialogue."))
    step(None)

    first = pending(make, w, title="Where is the lawyer held?", body="He vanished in 2015.")
    driver.publish(w.moderator, first.id)
    entry = step("submission.published", first.id, w.rnd.id)
    public = ok(client.get(f"/api/v1/submissions/{first.id}"))
    # what changes with events of its own (endorsements, responses, translations) is not in it
    volatile = {
        "responses",
        "scheduled",
        "endorsement_count",
        "authoritative_language",
        "translations",
    }
    expected = {k: v for k, v in public.items() if k not in volatile}
    assert unsalted(entry["content"]) == expected
    assert entry["object_type"] == "submission"
    for private in ("status", "status_reason", "created_at", "updated_at", "author_id"):
        assert private not in entry["content"]
    call("POST", f"/submissions/{first.id}/endorsements", outsider, status=201)
    step(None)

    response_id = driver.respond(w.cn, first.id, "He is held in Tianjin.")
    entry = step("response.published", response_id, w.rnd.id)
    assert entry["content"]["body"] == "He is held in Tianjin."
    assert entry["object_type"] == "response" and entry["content"]["revision"] == 1
    driver.revise(w.cn, response_id, "He is held in Tianjin and has a lawyer.")
    entry = step("response.revised", response_id, w.rnd.id)
    assert entry["content"]["revision"] == 2
    assert entry["content"]["body"] == "He is held in Tianjin and has a lawyer."
    driver.assess(w.author, response_id, "evasive", comment="rater-comment-stays-private")
    entry = step("response.assessed", response_id, w.rnd.id)
    assert unsalted(entry["content"]) == {"response_id": response_id, "rating": "evasive"}

    # Translations: added, replaced, and the delegation's choice of its authoritative text.
    zh = {"language": "zh-Hans", "title": "律师被关在哪里？", "body": "他于2015年失踪。"}
    call("POST", f"/submissions/{first.id}/translations", w.author, zh, 201)
    entry = step("translation.added", first.id, w.rnd.id)
    assert entry["object_type"] == "submission"
    assert unsalted(entry["content"]) == {
        "submission_id": str(first.id),
        **{k: v for k, v in zh.items()},
        "translated_by": "author",
        "authoritative": False,
        "translated_at": entry["content"]["translated_at"],
    }
    call(
        "POST",
        f"/submissions/{first.id}/translations",
        w.moderator,
        zh | {"body": "他失踪了。"},
        201,
    )
    entry = step("translation.replaced", first.id, w.rnd.id)
    assert entry["content"]["translated_by"] == "moderator"
    answer = {"language": "zh-Hans", "body": "他被关押在天津，并有律师。"}
    call("POST", f"/responses/{response_id}/translations", w.cn, answer, 201)
    entry = step("translation.added", response_id, w.rnd.id)
    assert entry["object_type"] == "response" and entry["content"]["revision"] == 2
    call("PUT", f"/responses/{response_id}/authoritative", w.cn, {"language": "zh-Hans"}, 200)
    entry = step("translation.authoritative", response_id, w.rnd.id)
    assert entry["content"]["authoritative_language"] == "zh-Hans"
    call("PUT", f"/responses/{response_id}/authoritative", w.cn, {"language": "zh-Hans"}, 200)
    step(None)  # no change, nothing to record

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

    driver.withdraw(w.author, first.id)
    entry = step("submission.withdrawn", first.id, w.rnd.id)
    assert unsalted(entry["content"]) == {"id": str(first.id), "status": "withdrawn"}
    driver.withdraw(w.author, first.id)  # again: nothing more to record
    step(None)
    removed = pending(make, w, title="Names a witness")
    driver.publish(w.moderator, removed.id)
    step("submission.published", removed.id, w.rnd.id)
    driver.remove(w.moderator, removed.id)
    step("submission.removed", removed.id, w.rnd.id)

    # The chain, recomputed from the public feed, ends at the stored head.
    items = feed_all(client)
    assert [e["seq"] for e in items] == [e["seq"] for e in seen] == list(range(1, len(seen) + 1))
    assert assert_chain(items) == stored_head(engine)[1]
    assert stored_head(engine)[0] == len(items) == 19
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


# --- the change and its entry: both or neither ---------------------------------------------------


def _raise_instead(*_args: Any, **_kwargs: Any) -> None:
    raise RuntimeError("the disk is full")


def _raise_after(original):
    def append_then_fail(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        raise RuntimeError("the disk is full")

    return append_then_fail


def assert_internal_error(r) -> None:
    assert_problem(r, 500)
    assert "disk is full" not in r.text and "RuntimeError" not in r.text


@pytest.mark.parametrize("where", ["before-append", "after-append", "after-service"])
def test_a_failed_publication_leaves_neither_change_nor_entry(
    client, make, driver, engine, monkeypatch, where
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

    assert_internal_error(driver.moderate(w.moderator, submission.id, "publish"))

    assert status_of(engine, submission.id) == "pending"
    assert stored(engine) == []
    assert stored_head(engine) == (0, GENESIS)
    assert count(engine, "audit_entry") == 0
    assert ok(client.get(FEED))["items"] == []
    assert client.get(f"/api/v1/submissions/{submission.id}").status_code == 404

    monkeypatch.undo()
    driver.publish(w.moderator, submission.id)
    entries = feed_all(client)
    assert [(e["seq"], e["type"], e["prev_hash"]) for e in entries] == [
        (1, "submission.published", GENESIS)
    ]
    assert assert_chain(entries) == stored_head(engine)[1]


def test_a_failed_withdrawal_keeps_the_submission_and_its_content(
    client, make, driver, engine, monkeypatch
):
    w = world(make)
    submission = pending(make, w, title="Still here afterwards")
    driver.publish(w.moderator, submission.id)
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


def test_a_failed_response_leaves_no_response_and_no_entry(
    client, make, driver, engine, monkeypatch
):
    w = world(make)
    submission = pending(make, w)
    driver.publish(w.moderator, submission.id)
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
    driver.respond(w.cn, submission.id, "Stored this time.")
    assert [e["seq"] for e in feed_all(client)] == [1, 2]
