"""Submissions: submitting in the right phase only, clean input, Idempotency-Key, the
author's edits and withdrawal, endorsements, moderation (audited), and cursor pages."""

import uuid

import pytest
import sqlalchemy as sa
from sqlmodel import select

from api.db import open_session
from api.errors import TYPE_PREFIX
from api.pagination import encode_cursor
from models.round import Phase
from models.submission import Endorsement, Status, Submission
from models.user import Role
from tests.client import assert_problem
from tests.client import submission_body as payload

ME = "/api/v1/me/submissions"
QUEUE = "/api/v1/moderation/queue"
AUDIT = "/api/v1/audit"


def submit(client, rnd, headers, **override):
    return client.post(
        f"/api/v1/rounds/{rnd.id}/submissions", headers=headers, json=payload(**override)
    )


def url(submission) -> str:
    sid = submission if isinstance(submission, str) else submission.id
    return f"/api/v1/submissions/{sid}"


def record_ids(client, rnd) -> list[str]:
    r = client.get(f"/api/v1/rounds/{rnd.id}/record")
    assert r.status_code == 200, r.text
    return [item["id"] for item in r.json()["items"]]


def count_submissions(engine, **where) -> int:
    with open_session(engine) as session:
        query = select(sa.func.count()).select_from(Submission)
        for name, value in where.items():
            query = query.where(getattr(Submission, name) == value)
        return int(session.exec(query).one())


@pytest.fixture
def rnd(make):
    return make.round(phase=Phase.accepting_submissions)


@pytest.fixture
def activist(make):
    return make.user(Role.activist)


@pytest.fixture
def headers(make, activist):
    return make.headers(activist)


@pytest.fixture
def moderator_headers(make):
    return make.headers(make.user(Role.moderator))


@pytest.fixture
def admin_headers(make):
    return make.headers(make.user(Role.admin))


def moderate(client, headers, submission, decision, reason=None):
    body = {"decision": decision}
    if reason is not None:
        body["reason"] = reason
    return client.post(f"{url(submission)}/moderation", headers=headers, json=body)


# --- submitting ----------------------------------------------------------------------


def test_an_activist_submits_while_the_round_accepts_submissions(client, rnd, headers, engine):
    r = submit(client, rnd, headers, addressed_to=["cn", "US"])
    assert r.status_code == 201, r.text
    body = r.json()
    uuid.UUID(body["id"])
    assert body["status"] == "pending"
    assert body["round_id"] == str(rnd.id)
    assert body["published_at"] is None
    assert body["themes"] == ["labour-rights", "rule-of-law"]
    assert body["addressed_to"] == ["CN", "US"]
    assert body["author"] is None and body["endorsement_count"] == 0
    assert count_submissions(engine, status="pending") == 1
    # pending: not public yet
    assert_problem(client.get(url(body["id"])), 404)
    assert record_ids(client, rnd) == []


@pytest.mark.parametrize(
    "attribution",
    [
        {"attribution": "anonymous"},
        {"attribution": "handle"},
        {"attribution": "organisation", "organisation": "Rights Watchers"},
    ],
    ids=lambda a: a["attribution"],
)
def test_the_answer_to_a_submission_is_what_its_author_reads_back(
    client, rnd, headers, activist, attribution
):
    # the 201 body is built without reading the submission back: it must match a read
    r = submit(
        client,
        rnd,
        headers,
        themes=["rule-of-law", "labour-rights", "rule-of-law"],
        addressed_to=["us", "CN"],
        **attribution,
    )
    assert r.status_code == 201, r.text
    read = client.get(url(r.json()["id"]), headers=headers)
    assert read.status_code == 200, read.text
    assert r.json() == read.json()
    assert r.json()["themes"] == ["labour-rights", "rule-of-law"]
    assert r.json()["addressed_to"] == ["CN", "US"]
    expected = {"anonymous": None, "handle": activist.handle}.get(
        attribution["attribution"], "Rights Watchers"
    )
    assert r.json()["author"] == expected


@pytest.mark.parametrize(
    "phase", [p for p in Phase if p != Phase.accepting_submissions], ids=lambda p: p.value
)
def test_submitting_in_any_other_phase_is_a_conflict_naming_the_phase(
    client, make, headers, engine, phase
):
    rnd = make.round(phase=phase)
    body = assert_problem(submit(client, rnd, headers), 409)
    assert phase.value in body["type"]
    assert body["type"].startswith(TYPE_PREFIX)
    assert body["phase"] == phase.value
    assert count_submissions(engine) == 0


@pytest.mark.parametrize("role", [Role.official, Role.moderator, Role.admin])
def test_only_activists_submit(client, make, rnd, role):
    assert_problem(submit(client, rnd, make.headers(make.user(role))), 403)
    assert_problem(submit(client, rnd, {}), 401)


def test_submitting_to_an_unknown_round_is_404(client, headers):
    r = client.post(f"/api/v1/rounds/{uuid.uuid4()}/submissions", headers=headers, json=payload())
    assert_problem(r, 404)


def test_an_unknown_theme_is_refused(client, rnd, headers, engine):
    body = assert_problem(submit(client, rnd, headers, themes=["labour-rights", "no-such"]), 422)
    assert "no-such" in body["detail"]
    assert count_submissions(engine) == 0


def test_a_delegation_of_another_dialogue_is_refused(client, make, rnd, headers, engine):
    make.delegation(make.dialogue(), "EU")
    assert_problem(submit(client, rnd, headers, addressed_to=["CN", "EU"]), 422)
    assert_problem(submit(client, rnd, headers, addressed_to=["XX"]), 422)
    assert_problem(submit(client, rnd, headers, addressed_to=[]), 422)
    assert count_submissions(engine) == 0


@pytest.mark.parametrize(
    ("given", "stored"),
    [("zh-hans", "zh-Hans"), ("ZH-HANT-tw", "zh-Hant-TW"), ("EN", "en"), ("bo", "bo")],
)
def test_language_tags_are_canonicalised(client, rnd, headers, given, stored):
    r = submit(client, rnd, headers, language=given)
    assert r.status_code == 201, r.text
    assert r.json()["language"] == stored


@pytest.mark.parametrize("tag", ["english!", "zh_Hans", "", "x", "zh-Hans-", "a" * 40])
def test_a_bad_language_tag_is_refused(client, rnd, headers, tag):
    body = assert_problem(submit(client, rnd, headers, language=tag), 422)
    assert ["body", "language"] in [issue["loc"] for issue in body["errors"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "x" * 201),
        ("title", "ab"),
        ("title", "two\nlines"),
        ("body", "x" * 20_001),
        ("body", ""),
        ("body", "   "),
    ],
)
def test_title_and_body_limits(client, rnd, headers, engine, field, value):
    body = assert_problem(submit(client, rnd, headers, **{field: value}), 422)
    assert ["body", field] in [issue["loc"] for issue in body["errors"]]
    assert count_submissions(engine) == 0


def test_the_longest_title_and_body_are_accepted(client, rnd, headers):
    r = submit(client, rnd, headers, title="t" * 200, body="b" * 20_000)
    assert r.status_code == 201, r.text


def test_text_is_nfc_normalised(client, rnd, headers, engine):
    r = submit(
        client,
        rnd,
        headers,
        title="Caf\u0065\u0301 owners detained",
        body="The owner of the cafe\u0301 was taken away.",
    )
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "Caf\u00e9 owners detained"
    assert r.json()["body"] == "The owner of the caf\u00e9 was taken away."
    with open_session(engine) as session:
        stored = session.exec(select(Submission)).one()
    assert stored.title == "Caf\u00e9 owners detained"
    assert "\u0301" not in stored.body


@pytest.mark.parametrize("field", ["title", "body"])
def test_a_nul_byte_is_refused(client, rnd, headers, engine, field):
    assert_problem(submit(client, rnd, headers, **{field: "Some\x00 text here"}), 422)
    assert count_submissions(engine) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "published"),
        ("author_id", str(uuid.uuid4())),
        ("id", str(uuid.uuid4())),
        ("published_at", "2012-07-25T00:00:00Z"),
        ("round_id", str(uuid.uuid4())),
    ],
)
def test_unknown_fields_are_refused(client, rnd, headers, engine, field, value):
    body = assert_problem(submit(client, rnd, headers, **{field: value}), 422)
    assert ["body", field] in [issue["loc"] for issue in body["errors"]]
    assert count_submissions(engine) == 0


def test_organisation_attribution_needs_the_organisation(client, rnd, headers, engine):
    assert_problem(submit(client, rnd, headers, attribution="organisation"), 422)
    assert_problem(submit(client, rnd, headers, attribution="organisation", organisation=""), 422)
    assert count_submissions(engine) == 0
    r = submit(client, rnd, headers, attribution="organisation", organisation="China Labour Watch")
    assert r.status_code == 201, r.text
    assert r.json()["author"] == "China Labour Watch"


# --- Idempotency-Key ---------------------------------------------------------------


def test_the_same_key_and_body_return_the_first_answer_and_one_row(
    client, rnd, headers, activist, engine
):
    keyed = {**headers, "Idempotency-Key": "retry-1"}
    first = submit(client, rnd, keyed)
    assert first.status_code == 201, first.text
    second = submit(client, rnd, keyed)
    assert second.status_code == 201, second.text
    assert second.json() == first.json()
    assert count_submissions(engine, author_id=activist.id) == 1


def test_the_same_key_with_another_body_is_refused(client, rnd, headers, activist, engine):
    keyed = {**headers, "Idempotency-Key": "retry-2"}
    assert submit(client, rnd, keyed).status_code == 201
    body = assert_problem(submit(client, rnd, keyed, title="Another title entirely"), 422)
    assert "Idempotency-Key" in body["detail"]
    assert count_submissions(engine, author_id=activist.id) == 1


def test_keys_are_scoped_to_the_account(client, make, rnd, headers, activist, engine):
    other = make.user(Role.activist)
    first = submit(client, rnd, {**headers, "Idempotency-Key": "shared-key"})
    second = submit(client, rnd, {**make.headers(other), "Idempotency-Key": "shared-key"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert count_submissions(engine, author_id=activist.id) == 1
    assert count_submissions(engine, author_id=other.id) == 1


@pytest.mark.parametrize("key", ["has space", "x" * 256, "tab\tkey"])
def test_a_malformed_idempotency_key_is_refused(client, rnd, headers, engine, key):
    assert_problem(submit(client, rnd, {**headers, "Idempotency-Key": key}), 422)
    assert count_submissions(engine) == 0


def test_without_a_key_each_post_is_a_new_submission(client, rnd, headers, engine):
    assert submit(client, rnd, headers).status_code == 201
    assert submit(client, rnd, headers).status_code == 201
    assert count_submissions(engine) == 2


# --- the author: edit, withdraw, read their own ---------------------------------------


def test_the_author_edits_while_pending(client, rnd, headers):
    sid = submit(client, rnd, headers).json()["id"]
    r = client.patch(
        url(sid),
        headers=headers,
        json={"title": "Detained labour lawyers (updated)", "language": "zh-hans"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Detained labour lawyers (updated)"
    assert r.json()["language"] == "zh-Hans"
    assert r.json()["status"] == "pending"
    assert client.get(url(sid), headers=headers).json()["title"].endswith("(updated)")


@pytest.mark.parametrize(
    "change",
    [
        {"language": "english!"},
        {"title": "x" * 201},
        {"body": "A\x00B"},
        {"themes": ["no-such-theme"]},
        {"addressed_to": ["EU"]},
        {"addressed_to": []},
        {"attribution": "organisation"},
        {"author_id": "0b6f3a52-8d0c-4c56-9a8e-2f1b7c3d4e5f"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_an_edit_is_validated_like_a_submission(client, make, rnd, headers, change):
    make.delegation(make.dialogue(), "EU")
    created = submit(client, rnd, headers).json()
    assert_problem(client.patch(url(created["id"]), headers=headers, json=change), 422)
    after = client.get(url(created["id"]), headers=headers).json()
    assert {k: after[k] for k in ("title", "body", "language", "themes", "addressed_to")} == {
        k: created[k] for k in ("title", "body", "language", "themes", "addressed_to")
    }


def test_an_edit_is_nfc_normalised_and_relinks_themes(client, rnd, headers):
    sid = submit(client, rnd, headers).json()["id"]
    r = client.patch(
        url(sid),
        headers=headers,
        json={"body": "Le cafe\u0301 ferme\u0301.", "themes": ["tibet"], "addressed_to": ["us"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["body"] == "Le caf\u00e9 ferm\u00e9."
    assert r.json()["themes"] == ["tibet"] and r.json()["addressed_to"] == ["US"]


def test_an_edit_cannot_set_the_status(client, rnd, headers):
    sid = submit(client, rnd, headers).json()["id"]
    assert_problem(client.patch(url(sid), headers=headers, json={"status": "published"}), 422)
    assert client.get(url(sid), headers=headers).json()["status"] == "pending"


def test_no_edit_after_publication(client, make, rnd, activist, headers):
    published = make.submission(rnd, author=activist, status=Status.published)
    assert_problem(client.patch(url(published), headers=headers, json={"title": "Changed!"}), 409)
    assert client.get(url(published)).json()["title"] == "Detained labour lawyers"


def test_no_edit_once_the_round_stops_accepting(client, make, activist, headers):
    closed = make.round(phase=Phase.awaiting_session)
    pending = make.submission(closed, author=activist, status=Status.pending)
    body = assert_problem(
        client.patch(url(pending), headers=headers, json={"title": "Too late now"}), 409
    )
    assert body["phase"] == "awaiting_session"


def test_another_activist_cannot_edit_and_learns_nothing(client, make, rnd, headers):
    sid = submit(client, rnd, headers).json()["id"]
    stranger = make.headers(make.user(Role.activist))
    assert_problem(client.patch(url(sid), headers=stranger, json={"title": "Hijacked"}), 404)
    assert_problem(client.post(f"{url(sid)}/withdraw", headers=stranger), 404)
    assert_problem(client.get(url(sid), headers=stranger), 404)
    assert client.get(url(sid), headers=headers).json()["title"] == "Detained labour lawyers"


@pytest.mark.parametrize("status", [Status.pending, Status.published])
def test_the_author_withdraws_at_any_time(client, make, rnd, activist, headers, status):
    submission = make.submission(rnd, author=activist, status=status)
    if status == Status.published:
        assert record_ids(client, rnd) == [str(submission.id)]
        assert client.get(url(submission)).status_code == 200
    r = client.post(f"{url(submission)}/withdraw", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "withdrawn"
    assert_problem(client.get(url(submission)), 404)
    assert_problem(client.get(url(submission), headers=make.headers(make.user())), 404)
    assert record_ids(client, rnd) == []
    # the author still sees it, as withdrawn
    mine = client.get(ME, headers=headers).json()["items"]
    assert [(m["id"], m["status"]) for m in mine] == [(str(submission.id), "withdrawn")]


def test_withdrawing_twice_is_harmless(client, make, rnd, activist, headers):
    submission = make.submission(rnd, author=activist, status=Status.published)
    first = client.post(f"{url(submission)}/withdraw", headers=headers)
    second = client.post(f"{url(submission)}/withdraw", headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.json()["status"] == "withdrawn"


def test_withdrawing_works_after_the_round_has_moved_on(client, make, activist, headers):
    concluded = make.round(phase=Phase.concluded)
    submission = make.submission(concluded, author=activist, status=Status.published)
    r = client.post(f"{url(submission)}/withdraw", headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert record_ids(client, concluded) == []


def test_my_submissions_show_every_status_with_the_reasons(
    client, make, rnd, activist, headers, moderator_headers
):
    ids = {}
    for name in ("pending", "published", "rejected", "withdrawn", "removed"):
        r = submit(client, rnd, headers, title=f"Submission {name}")
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    for name in ("published", "removed"):
        assert moderate(client, moderator_headers, ids[name], "publish").status_code == 200
    assert (
        moderate(
            client, moderator_headers, ids["rejected"], "reject", "Names a witness"
        ).status_code
        == 200
    )
    assert (
        moderate(
            client, moderator_headers, ids["removed"], "remove", "Endangers a source"
        ).status_code
        == 200
    )
    assert client.post(f"{url(ids['withdrawn'])}/withdraw", headers=headers).status_code == 200
    make.submission(rnd, status=Status.published)  # someone else's: not listed

    r = client.get(ME, headers=headers)
    assert r.status_code == 200, r.text
    mine = {item["id"]: item for item in r.json()["items"]}
    assert set(mine) == set(ids.values())
    for name, sid in ids.items():
        assert mine[sid]["status"] == name
    assert mine[ids["rejected"]]["status_reason"] == "Names a witness"
    assert mine[ids["removed"]]["status_reason"] == "Endangers a source"
    assert mine[ids["pending"]]["status_reason"] is None
    assert mine[ids["published"]]["status_reason"] is None


def test_my_submissions_need_a_sign_in(client):
    assert_problem(client.get(ME), 401)


# --- endorsements ---------------------------------------------------------------------


def test_endorsements_are_counted_once_per_activist(client, make, rnd, engine):
    submission = make.submission(rnd, status=Status.published)
    supporter = make.user(Role.activist)
    endorse = f"{url(submission)}/endorsements"
    r = client.post(endorse, headers=make.headers(supporter))
    assert r.status_code == 201, r.text
    assert r.json()["endorsement_count"] == 1
    assert client.get(url(submission)).json()["endorsement_count"] == 1
    assert_problem(client.post(endorse, headers=make.headers(supporter)), 409)
    assert client.get(url(submission)).json()["endorsement_count"] == 1

    r = client.delete(endorse, headers=make.headers(supporter))
    assert r.status_code == 204 and r.content == b""
    assert client.get(url(submission)).json()["endorsement_count"] == 0
    assert_problem(client.delete(endorse, headers=make.headers(supporter)), 404)
    with open_session(engine) as session:
        assert session.exec(select(Endorsement)).all() == []


def test_the_public_sees_a_count_never_the_endorsers(client, make, rnd):
    submission = make.submission(rnd, status=Status.published)
    supporters = [make.user(Role.activist) for _ in range(3)]
    for supporter in supporters:
        r = client.post(f"{url(submission)}/endorsements", headers=make.headers(supporter))
        assert r.status_code == 201
    public = client.get(url(submission))
    assert public.json()["endorsement_count"] == 3
    for supporter in supporters:
        assert str(supporter.id) not in public.text and supporter.handle not in public.text
    assert [
        i["endorsement_count"]
        for i in client.get(f"/api/v1/rounds/{rnd.id}/record").json()["items"]
    ] == [3]


def test_the_author_cannot_endorse_their_own(client, make, rnd, activist, headers):
    submission = make.submission(rnd, author=activist, status=Status.published)
    assert_problem(client.post(f"{url(submission)}/endorsements", headers=headers), 409)
    assert client.get(url(submission)).json()["endorsement_count"] == 0


@pytest.mark.parametrize("status", [Status.pending, Status.rejected, Status.withdrawn])
def test_an_unpublished_submission_cannot_be_endorsed(client, make, rnd, status):
    submission = make.submission(rnd, status=status)
    supporter = make.headers(make.user(Role.activist))
    assert_problem(client.post(f"{url(submission)}/endorsements", headers=supporter), 404)


def test_only_activists_endorse(client, make, rnd, moderator_headers):
    submission = make.submission(rnd, status=Status.published)
    assert_problem(client.post(f"{url(submission)}/endorsements", headers=moderator_headers), 403)
    assert_problem(client.post(f"{url(submission)}/endorsements"), 401)


# --- moderation ------------------------------------------------------------------------


def test_the_queue_lists_pending_only_oldest_first(client, make, rnd, moderator_headers):
    other_round = make.round(phase=Phase.accepting_submissions)
    first = make.submission(rnd, status=Status.pending, title="First in the queue")
    second = make.submission(rnd, status=Status.pending, title="Second in the queue")
    elsewhere = make.submission(other_round, status=Status.pending)
    for status in (Status.published, Status.rejected, Status.withdrawn, Status.removed):
        make.submission(rnd, status=status)

    r = client.get(QUEUE, headers=moderator_headers)
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["items"]] == [
        str(first.id),
        str(second.id),
        str(elsewhere.id),
    ]
    assert all(i["status"] == "pending" for i in r.json()["items"])

    r = client.get(QUEUE, headers=moderator_headers, params={"round_id": str(rnd.id)})
    assert [i["id"] for i in r.json()["items"]] == [str(first.id), str(second.id)]
    r = client.get(QUEUE, headers=moderator_headers, params={"round_id": str(other_round.id)})
    assert [i["id"] for i in r.json()["items"]] == [str(elsewhere.id)]


@pytest.mark.parametrize("role", [Role.activist, Role.official])
def test_only_moderators_read_the_queue_and_decide(client, make, rnd, role):
    headers = make.headers(make.user(role))
    submission = make.submission(rnd, status=Status.pending)
    assert_problem(client.get(QUEUE, headers=headers), 403)
    assert_problem(client.get(QUEUE), 401)
    assert_problem(moderate(client, headers, submission, "publish"), 403)
    assert_problem(client.get(url(submission)), 404)


def test_publishing_makes_it_public(client, make, rnd, activist, headers, moderator_headers):
    sid = submit(client, rnd, headers).json()["id"]
    r = moderate(client, moderator_headers, sid, "publish")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "published"
    assert r.json()["published_at"] is not None
    assert r.json()["published_at"].endswith("Z")

    public = client.get(url(sid))
    assert public.status_code == 200
    body = public.json()
    assert body["published_at"] == r.json()["published_at"]
    for private in ("status", "status_reason", "created_at", "updated_at"):
        assert private not in body
    assert str(activist.id) not in public.text and activist.handle not in public.text
    assert record_ids(client, rnd) == [sid]
    assert client.get(QUEUE, headers=moderator_headers).json()["items"] == []


def test_publishing_an_already_published_one_is_a_conflict(client, make, rnd, moderator_headers):
    submission = make.submission(rnd, status=Status.published)
    assert_problem(moderate(client, moderator_headers, submission, "publish"), 409)
    assert_problem(moderate(client, moderator_headers, submission, "reject", "Too late"), 409)


@pytest.mark.parametrize("status", [Status.withdrawn, Status.rejected, Status.removed])
def test_no_decision_on_a_closed_submission(client, make, rnd, moderator_headers, status):
    submission = make.submission(rnd, status=status)
    assert_problem(moderate(client, moderator_headers, submission, "publish"), 409)


@pytest.mark.parametrize("decision", ["reject", "remove"])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reject_and_remove_need_a_reason(client, make, rnd, moderator_headers, decision, reason):
    submission = make.submission(rnd, status=Status.pending)
    assert_problem(moderate(client, moderator_headers, submission, decision, reason), 422)
    assert client.get(QUEUE, headers=moderator_headers).json()["items"][0]["status"] == "pending"


def test_a_decision_cannot_be_invented(client, make, rnd, moderator_headers):
    submission = make.submission(rnd, status=Status.pending)
    assert_problem(moderate(client, moderator_headers, submission, "approve"), 422)


def test_a_rejection_reason_reaches_the_author_only(
    client, make, rnd, activist, headers, moderator_headers
):
    sid = submit(client, rnd, headers).json()["id"]
    reason = "It names a family member who could be put at risk."
    r = moderate(client, moderator_headers, sid, "reject", reason)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected"

    own = client.get(url(sid), headers=headers)
    assert own.status_code == 200
    assert own.json()["status"] == "rejected" and own.json()["status_reason"] == reason
    mine = client.get(ME, headers=headers).json()["items"]
    assert [(m["status"], m["status_reason"]) for m in mine] == [("rejected", reason)]

    assert_problem(client.get(url(sid)), 404)
    assert_problem(client.get(url(sid), headers=make.headers(make.user())), 404)
    assert record_ids(client, rnd) == []


def test_removing_a_published_one_takes_it_off_the_record(
    client, make, rnd, activist, headers, moderator_headers
):
    submission = make.submission(rnd, author=activist, status=Status.published)
    kept = make.submission(rnd, status=Status.published)
    assert set(record_ids(client, rnd)) == {str(submission.id), str(kept.id)}
    assert_problem(moderate(client, moderator_headers, submission, "remove"), 422)
    r = moderate(client, moderator_headers, submission, "remove", "Reveals a source")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "removed"
    assert record_ids(client, rnd) == [str(kept.id)]
    assert_problem(client.get(url(submission)), 404)
    own = client.get(url(submission), headers=headers).json()
    assert own["status"] == "removed" and own["status_reason"] == "Reveals a source"


def test_every_decision_is_audited_with_its_reason(
    client, make, rnd, moderator_headers, admin_headers
):
    published = make.submission(rnd, status=Status.pending)
    rejected = make.submission(rnd, status=Status.pending)
    removed = make.submission(rnd, status=Status.published)
    assert moderate(client, moderator_headers, published, "publish").status_code == 200
    assert moderate(client, moderator_headers, rejected, "reject", "Off topic").status_code == 200
    assert moderate(client, moderator_headers, removed, "remove", "Doxxing").status_code == 200

    def entries_for(submission):
        r = client.get(AUDIT, headers=admin_headers, params={"target_id": str(submission.id)})
        assert r.status_code == 200, r.text
        return [(e["action"], e["target_type"], e["detail"]) for e in r.json()["items"]]

    assert entries_for(published) == [("submission.publish", "submission", {})]
    assert entries_for(rejected) == [("submission.reject", "submission", {"reason": "Off topic"})]
    assert entries_for(removed) == [  # newest first: removed, after it was published
        ("submission.remove", "submission", {"reason": "Doxxing"}),
        ("submission.publish", "submission", {}),
    ]
    assert_problem(client.get(AUDIT, headers=moderator_headers), 403)


def test_a_moderator_sees_any_submission_in_full(client, make, rnd, moderator_headers):
    submission = make.submission(rnd, status=Status.pending)
    r = client.get(url(submission), headers=moderator_headers)
    assert r.status_code == 200
    assert r.json()["status"] == "pending"


# --- cursor pagination ---------------------------------------------------------------


def test_my_submissions_page_by_cursor(client, make, rnd, activist, headers):
    statuses = [Status.pending, Status.published, Status.rejected, Status.withdrawn, Status.removed]
    created = [
        str(make.submission(rnd, author=activist, status=s, title=f"Submission {n}").id)
        for n, s in enumerate(statuses)
    ]
    seen: list[str] = []
    pages = 0
    link = f"{ME}?limit=2"
    while link:
        r = client.get(link, headers=headers)
        assert r.status_code == 200, r.text
        pages += 1
        items = r.json()["items"]
        assert len(items) <= 2
        seen += [item["id"] for item in items]
        next_cursor = r.json()["next_cursor"]
        if next_cursor is None:
            assert "Link" not in r.headers
            link = ""
        else:
            assert 'rel="next"' in r.headers["Link"]
            target = r.headers["Link"].split(";")[0].strip("<>")
            assert f"cursor={next_cursor}" in target and "limit=2" in target
            link = target
        assert pages <= 5
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5
    assert seen == list(reversed(created))  # newest first


SOME_ID = "0b6f3a52-8d0c-4c56-9a8e-2f1b7c3d4e5f"
BAD_CURSORS = {
    "not-base64": "not-a-cursor!",
    "truncated": "eyJ",
    "one-value": encode_cursor(["x"]),
    "not-an-instant": encode_cursor(["yesterday", SOME_ID]),
    "not-a-uuid": encode_cursor(["2026-01-01T00:00:00+00:00", "not-a-uuid"]),
    "instant-without-zone": encode_cursor(["2026-01-01T00:00:00", SOME_ID]),
    "nested": encode_cursor([[1], {"a": 1}]),
}


@pytest.mark.parametrize("cursor", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
def test_a_bad_cursor_is_a_400_problem(
    client, make, rnd, activist, headers, moderator_headers, cursor
):
    make.submission(rnd, author=activist)
    for path, caller in (
        (ME, headers),
        (QUEUE, moderator_headers),
        (f"/api/v1/rounds/{rnd.id}/record", {}),
    ):
        r = client.get(path, headers=caller, params={"cursor": cursor})
        body = assert_problem(r, 400)
        assert "cursor" in body["detail"], path


def test_the_queue_pages_by_cursor_oldest_first(client, make, rnd, moderator_headers):
    created = [str(make.submission(rnd, status=Status.pending).id) for _ in range(3)]
    first = client.get(QUEUE, headers=moderator_headers, params={"limit": 2})
    assert [i["id"] for i in first.json()["items"]] == created[:2]
    assert 'rel="next"' in first.headers["Link"]
    rest = client.get(
        QUEUE, headers=moderator_headers, params={"limit": 2, "cursor": first.json()["next_cursor"]}
    )
    assert [i["id"] for i in rest.json()["items"]] == created[2:]
    assert rest.json()["next_cursor"] is None and "Link" not in rest.headers


@pytest.mark.parametrize("limit", [0, -1, 101, "many"])
def test_a_bad_limit_is_a_422_problem(client, headers, limit):
    assert_problem(client.get(ME, headers=headers, params={"limit": limit}), 422)
