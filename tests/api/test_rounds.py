"""Dialogues, delegations, rounds and themes: creation, the derived phase at every
boundary instant, deadline changes under If-Match (audited), and conditional GETs."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from api.db import open_session
from api.pagination import encode_cursor
from api.services.rounds import phase_of
from models.audit import AuditEntry
from models.round import Phase, Round
from models.theme import Theme
from models.user import Role
from tests.client import assert_problem
from tests.factories import window

DIALOGUES = "/api/v1/dialogues"
THEMES = "/api/v1/themes"
AUDIT = "/api/v1/audit"
INSTANTS = (
    "submissions_open_at",
    "submissions_close_at",
    "starts_at",
    "ends_at",
    "responses_due_at",
)
US_CHINA_2012 = {
    "submissions_open_at": "2012-06-01T00:00:00Z",
    "submissions_close_at": "2012-07-01T00:00:00Z",
    "starts_at": "2012-07-24T13:00:00Z",
    "ends_at": "2012-07-25T22:00:00Z",
    "responses_due_at": "2012-09-25T00:00:00Z",
}


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def instants_for(phase: Phase) -> dict[str, str]:
    return {name: iso(value) for name, value in window(phase).items()}


@pytest.fixture
def admin(make):
    return make.user(Role.admin)


@pytest.fixture
def admin_headers(make, admin):
    return make.headers(admin)


@pytest.fixture
def dialogue(client, admin_headers) -> str:
    """A dialogue with US and CN delegations, made through the API; returns its slug."""
    slug = f"us-china-{uuid.uuid4().hex[:6]}"
    r = client.post(
        DIALOGUES,
        headers=admin_headers,
        json={"slug": slug, "title": "US–China Human Rights Dialogue"},
    )
    assert r.status_code == 201, r.text
    for code, name in (("US", "United States"), ("CN", "China")):
        r = client.post(
            f"{DIALOGUES}/{slug}/delegations",
            headers=admin_headers,
            json={"code": code, "name": name},
        )
        assert r.status_code == 201, r.text
    return slug


def create_round(client, headers, slug, *, number=1, **instants):
    body = {"number": number, "title": f"Round {number}", "location": "Washington, DC"}
    body.update(instants or instants_for(Phase.accepting_submissions))
    return client.post(f"{DIALOGUES}/{slug}/rounds", headers=headers, json=body)


@pytest.fixture
def round_id(client, admin_headers, dialogue) -> str:
    r = create_round(client, admin_headers, dialogue, **instants_for(Phase.accepting_submissions))
    assert r.status_code == 201, r.text
    return r.json()["id"]


# --- dialogues, delegations, rounds through the API ------------------------------


def test_admin_builds_a_dialogue_with_delegations_and_rounds(client, admin_headers, dialogue):
    r = create_round(client, admin_headers, dialogue, number=17, **US_CHINA_2012)
    assert r.status_code == 201, r.text
    created = r.json()
    uuid.UUID(created["id"])
    assert created["phase"] == "concluded"
    assert created["dialogue_slug"] == dialogue
    assert created["location"] == "Washington, DC"
    assert {name: created[name] for name in INSTANTS} == US_CHINA_2012

    r = create_round(client, admin_headers, dialogue, number=18)
    assert r.status_code == 201 and r.json()["phase"] == "accepting_submissions"

    detail = client.get(f"{DIALOGUES}/{dialogue}")
    assert detail.status_code == 200
    body = detail.json()
    assert sorted(d["code"] for d in body["delegations"]) == ["CN", "US"]
    assert [(r["number"], r["phase"]) for r in body["rounds"]] == [
        (17, "concluded"),
        (18, "accepting_submissions"),
    ]
    assert body["rounds"][0]["id"] == created["id"]


def test_instants_in_another_zone_come_back_in_utc(client, admin_headers, dialogue):
    beijing = {
        name: value.replace("Z", "+08:00").replace("T00:", "T08:")
        for name, value in US_CHINA_2012.items()
        if "T00:" in value
    }
    r = create_round(client, admin_headers, dialogue, **{**US_CHINA_2012, **beijing})
    assert r.status_code == 201, r.text
    assert {name: r.json()[name] for name in INSTANTS} == US_CHINA_2012
    fetched = client.get(f"/api/v1/rounds/{r.json()['id']}").json()
    assert {name: fetched[name] for name in INSTANTS} == US_CHINA_2012


@pytest.mark.parametrize(
    ("moved", "to"),
    [
        # open < close: equal is already out of order
        ("submissions_open_at", "submissions_close_at"),
        # close <= starts
        ("submissions_close_at", "starts_at"),
        # starts <= ends
        ("starts_at", "ends_at"),
        # ends <= responses_due
        ("ends_at", "responses_due_at"),
    ],
)
def test_instants_out_of_order_are_refused(client, admin_headers, dialogue, moved, to):
    instants = dict(US_CHINA_2012)
    target = datetime.fromisoformat(instants[to])
    if moved == "submissions_open_at":
        instants[moved] = instants[to]  # equal: open must be strictly before close
    else:
        instants[moved] = iso(target + timedelta(microseconds=1))
    body = assert_problem(create_round(client, admin_headers, dialogue, **instants), 422)
    assert body["errors"]
    assert client.get(f"{DIALOGUES}/{dialogue}").json()["rounds"] == []


def test_equal_instants_are_allowed_where_the_order_is_not_strict(client, admin_headers, dialogue):
    same = "2012-07-24T13:00:00Z"
    instants = {
        "submissions_open_at": "2012-06-01T00:00:00Z",
        "submissions_close_at": same,
        "starts_at": same,
        "ends_at": same,
        "responses_due_at": same,
    }
    r = create_round(client, admin_headers, dialogue, **instants)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("naive", ["2012-07-24T13:00:00", "2012-07-24 13:00:00"])
def test_a_datetime_without_a_zone_is_refused(client, admin_headers, dialogue, naive):
    instants = {**US_CHINA_2012, "starts_at": naive}
    body = assert_problem(create_round(client, admin_headers, dialogue, **instants), 422)
    assert ["body", "starts_at"] in [issue["loc"] for issue in body["errors"]]


def test_a_duplicate_round_number_is_a_conflict(client, admin_headers, dialogue):
    assert create_round(client, admin_headers, dialogue, number=3).status_code == 201
    assert_problem(create_round(client, admin_headers, dialogue, number=3), 409)


def test_the_same_number_in_another_dialogue_is_fine(client, admin_headers, dialogue, make):
    other = make.dialogue()
    assert create_round(client, admin_headers, dialogue, number=1).status_code == 201
    assert create_round(client, admin_headers, other.slug, number=1).status_code == 201


@pytest.mark.parametrize("role", [None, Role.activist, Role.official, Role.moderator])
def test_only_admins_create_dialogues_and_rounds(client, make, dialogue, role):
    headers = make.headers(make.user(role)) if role else {}
    expected = 403 if role else 401
    assert_problem(
        client.post(DIALOGUES, headers=headers, json={"slug": "x-y", "title": "X y z"}), expected
    )
    assert_problem(
        client.post(
            f"{DIALOGUES}/{dialogue}/delegations",
            headers=headers,
            json={"code": "EU", "name": "EU"},
        ),
        expected,
    )
    assert_problem(create_round(client, headers, dialogue), expected)


def test_a_round_of_an_unknown_dialogue_is_404(client, admin_headers):
    assert_problem(create_round(client, admin_headers, "no-such-dialogue"), 404)


# --- the phase: read, and at every boundary ---------------------------------------


@pytest.mark.parametrize("phase", list(Phase))
def test_get_round_shows_the_computed_phase(client, admin_headers, dialogue, phase):
    r = create_round(client, admin_headers, dialogue, **instants_for(phase))
    assert r.status_code == 201, r.text
    assert r.json()["phase"] == phase.value
    fetched = client.get(f"/api/v1/rounds/{r.json()['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["phase"] == phase.value
    assert fetched.json()["id"] == r.json()["id"]


def test_an_unknown_round_is_404(client):
    assert_problem(client.get(f"/api/v1/rounds/{uuid.uuid4()}"), 404)


BOUNDARY = Round(
    dialogue_id=uuid.uuid4(),
    number=1,
    title="Boundaries",
    submissions_open_at=datetime(2012, 6, 1, tzinfo=UTC),
    submissions_close_at=datetime(2012, 7, 1, tzinfo=UTC),
    starts_at=datetime(2012, 7, 24, 13, tzinfo=UTC),
    ends_at=datetime(2012, 7, 25, 22, tzinfo=UTC),
    responses_due_at=datetime(2012, 9, 25, tzinfo=UTC),
)
MICROSECOND = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("instant", "before", "at"),
    [
        ("submissions_open_at", Phase.upcoming, Phase.accepting_submissions),
        ("submissions_close_at", Phase.accepting_submissions, Phase.awaiting_session),
        ("starts_at", Phase.awaiting_session, Phase.in_session),
        ("ends_at", Phase.in_session, Phase.accepting_responses),
        ("responses_due_at", Phase.accepting_responses, Phase.concluded),
    ],
)
def test_phase_at_each_boundary(instant, before, at):
    moment = getattr(BOUNDARY, instant)
    assert phase_of(BOUNDARY, moment - MICROSECOND) == before
    assert phase_of(BOUNDARY, moment) == at
    assert phase_of(BOUNDARY, moment + MICROSECOND) == at


def test_phase_covers_all_six_phases_from_start_to_end():
    seen = [
        phase_of(BOUNDARY, moment)
        for moment in (
            datetime(2000, 1, 1, tzinfo=UTC),
            *(getattr(BOUNDARY, name) for name in INSTANTS),
            datetime(2100, 1, 1, tzinfo=UTC),
        )
    ]
    assert seen == [
        Phase.upcoming,
        Phase.accepting_submissions,
        Phase.awaiting_session,
        Phase.in_session,
        Phase.accepting_responses,
        Phase.concluded,
        Phase.concluded,
    ]


def test_phase_skips_an_empty_interval():
    # close == starts == ends: the round goes straight from accepting to accepting responses
    at = datetime(2012, 7, 24, 13, tzinfo=UTC)
    rnd = BOUNDARY.model_copy(update={"submissions_close_at": at, "starts_at": at, "ends_at": at})
    assert phase_of(rnd, at - MICROSECOND) == Phase.accepting_submissions
    assert phase_of(rnd, at) == Phase.accepting_responses


def test_phase_compares_instants_not_wall_clocks():
    # submissions open at midnight UTC, which is 08:00 in Beijing
    opening_in_beijing = datetime(2012, 6, 1, 8, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert phase_of(BOUNDARY, opening_in_beijing - MICROSECOND) == Phase.upcoming
    assert phase_of(BOUNDARY, opening_in_beijing) == Phase.accepting_submissions


# --- PATCH: If-Match, order, audit --------------------------------------------------


def test_patch_without_if_match_is_428(client, admin_headers, round_id):
    later = iso(datetime.now(UTC) + timedelta(minutes=90))
    body = assert_problem(
        client.patch(
            f"/api/v1/rounds/{round_id}",
            headers=admin_headers,
            json={"submissions_close_at": later},
        ),
        428,
    )
    assert "If-Match" in body["detail"]


def test_patch_with_a_stale_etag_is_412(client, admin_headers, round_id):
    url = f"/api/v1/rounds/{round_id}"
    old = client.get(url).headers["ETag"]
    first = client.patch(
        url, headers={**admin_headers, "If-Match": old}, json={"title": "Round one, renamed"}
    )
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] != old
    # a second editor still holding the old tag cannot overwrite the first
    assert_problem(
        client.patch(
            url, headers={**admin_headers, "If-Match": old}, json={"title": "Something else"}
        ),
        412,
    )
    assert client.get(url).json()["title"] == "Round one, renamed"
    assert_problem(
        client.patch(
            url, headers={**admin_headers, "If-Match": '"round-0-upcoming"'}, json={"title": "Abc"}
        ),
        412,
    )


def test_patch_extends_the_deadline_and_changes_the_phase(client, admin_headers, round_id):
    url = f"/api/v1/rounds/{round_id}"
    read = client.get(url)
    assert read.json()["phase"] == "accepting_submissions"
    tag = read.headers["ETag"]
    # Close submissions now: the round moves on to awaiting_session.
    closed = iso(datetime.now(UTC) - timedelta(minutes=1))
    r = client.patch(
        url, headers={**admin_headers, "If-Match": tag}, json={"submissions_close_at": closed}
    )
    assert r.status_code == 200, r.text
    assert r.json()["phase"] == "awaiting_session"
    assert r.json()["submissions_close_at"] == closed
    new_tag = r.headers["ETag"]
    assert new_tag and new_tag != tag
    # the new tag is the one GET now gives, and it works for the next change
    reread = client.get(url)
    assert reread.headers["ETag"] == new_tag
    assert reread.json()["phase"] == "awaiting_session"
    extended = iso(datetime.now(UTC) + timedelta(minutes=30))
    r = client.patch(
        url, headers={**admin_headers, "If-Match": new_tag}, json={"submissions_close_at": extended}
    )
    assert r.status_code == 200, r.text
    assert r.json()["phase"] == "accepting_submissions"


def test_patch_out_of_order_is_422_and_changes_nothing(client, admin_headers, round_id, engine):
    url = f"/api/v1/rounds/{round_id}"
    before = client.get(url)
    tag = before.headers["ETag"]
    too_late = iso(datetime.fromisoformat(before.json()["starts_at"]) + timedelta(seconds=1))
    assert_problem(
        client.patch(
            url,
            headers={**admin_headers, "If-Match": tag},
            json={"submissions_close_at": too_late, "title": "Should not stick"},
        ),
        422,
    )
    after = client.get(url)
    assert after.json() == before.json()
    assert after.headers["ETag"] == tag
    with open_session(engine) as session:
        actions = list(session.exec(select(AuditEntry.action)))
    assert "round.update" not in actions


@pytest.mark.parametrize("role", [None, Role.activist, Role.official, Role.moderator])
def test_only_admins_patch_rounds(client, make, round_id, role):
    url = f"/api/v1/rounds/{round_id}"
    tag = client.get(url).headers["ETag"]
    headers = {**(make.headers(make.user(role)) if role else {}), "If-Match": tag}
    assert_problem(
        client.patch(url, headers=headers, json={"title": "Hijacked"}), 403 if role else 401
    )


def test_patch_refuses_a_naive_datetime_and_unknown_fields(client, admin_headers, round_id):
    url = f"/api/v1/rounds/{round_id}"
    headers = {**admin_headers, "If-Match": client.get(url).headers["ETag"]}
    assert_problem(client.patch(url, headers=headers, json={"ends_at": "2030-01-01T00:00:00"}), 422)
    assert_problem(client.patch(url, headers=headers, json={"version": 99}), 422)
    assert_problem(client.patch(url, headers=headers, json={"dialogue_id": str(uuid.uuid4())}), 422)


def test_a_change_is_in_the_audit_log_with_before_and_after(client, make, admin, round_id):
    headers = make.headers(admin)
    url = f"/api/v1/rounds/{round_id}"
    read = client.get(url).json()
    extended = iso(datetime.fromisoformat(read["submissions_close_at"]) + timedelta(minutes=30))
    r = client.patch(
        url,
        headers={**headers, "If-Match": client.get(url).headers["ETag"]},
        json={"submissions_close_at": extended},
    )
    assert r.status_code == 200, r.text

    log = client.get(AUDIT, headers=headers, params={"target_id": round_id})
    assert log.status_code == 200, log.text
    entries = log.json()["items"]
    assert [e["action"] for e in entries] == ["round.update", "round.create"]
    update = entries[0]
    assert update["actor_id"] == str(admin.id)
    assert update["target_type"] == "round" and update["target_id"] == round_id
    before = update["detail"]["before"]
    after = update["detail"]["after"]
    assert set(before) == set(after) == {"submissions_close_at"}
    assert datetime.fromisoformat(before["submissions_close_at"]) == datetime.fromisoformat(
        read["submissions_close_at"]
    )
    assert datetime.fromisoformat(after["submissions_close_at"]) == datetime.fromisoformat(extended)


@pytest.mark.parametrize("role", [Role.moderator, Role.official, Role.activist])
def test_only_admins_read_the_audit_log(client, make, round_id, role):
    assert_problem(client.get(AUDIT, headers=make.headers(make.user(role))), 403)
    assert_problem(client.get(AUDIT), 401)


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor!",
        encode_cursor(["yesterday", "0b6f3a52-8d0c-4c56-9a8e-2f1b7c3d4e5f"]),
        encode_cursor(["2026-01-01T00:00:00", "0b6f3a52-8d0c-4c56-9a8e-2f1b7c3d4e5f"]),
        encode_cursor(["2026-01-01T00:00:00+00:00", "not-a-uuid"]),
    ],
    ids=["not-base64", "not-an-instant", "instant-without-zone", "not-a-uuid"],
)
def test_a_bad_audit_cursor_is_a_400_problem(client, admin_headers, round_id, cursor):
    body = assert_problem(client.get(AUDIT, headers=admin_headers, params={"cursor": cursor}), 400)
    assert "cursor" in body["detail"]


def test_the_audit_log_pages_newest_first(client, admin_headers, dialogue):
    for number in (1, 2, 3):
        assert create_round(client, admin_headers, dialogue, number=number).status_code == 201
    seen = []
    params = {"limit": 2}
    while True:
        r = client.get(AUDIT, headers=admin_headers, params=params)
        assert r.status_code == 200, r.text
        seen += [e["detail"]["submissions_open_at"] for e in r.json()["items"]]
        if r.json()["next_cursor"] is None:
            break
        params = {"limit": 2, "cursor": r.json()["next_cursor"]}
    assert len(seen) == 3


# --- conditional GET ----------------------------------------------------------------


def test_get_round_answers_304_to_a_matching_if_none_match(client, round_id):
    url = f"/api/v1/rounds/{round_id}"
    first = client.get(url)
    tag = first.headers["ETag"]
    assert "Cache-Control" in first.headers
    again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == tag
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_the_round_etag_changes_with_the_round(client, admin_headers, round_id):
    url = f"/api/v1/rounds/{round_id}"
    tag = client.get(url).headers["ETag"]
    r = client.patch(url, headers={**admin_headers, "If-Match": tag}, json={"title": "New title"})
    assert r.status_code == 200
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 200


def test_get_themes_answers_304_to_a_matching_if_none_match(client):
    first = client.get(THEMES)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert client.get(THEMES, headers={"If-None-Match": tag}).status_code == 304
    assert client.get(THEMES, headers={"If-None-Match": '"other"'}).status_code == 200


# --- themes ---------------------------------------------------------------------------


@pytest.fixture
def cleanup_themes(engine) -> Iterator[None]:
    """Themes are reference data that outlive a test: remove the ones a test added."""
    with open_session(engine) as session:
        seeded = set(session.exec(select(Theme.slug)))
    yield
    with open_session(engine, write=True) as session:
        session.execute(sa.delete(Theme).where(col(Theme.slug).not_in(seeded)))
        session.commit()


def test_themes_list_the_seeded_vocabulary_in_english_and_chinese(client):
    r = client.get(THEMES)
    assert r.status_code == 200
    themes = {t["slug"]: t["names"] for t in r.json()["items"]}
    assert themes["labour-rights"] == {"en": "Labour rights", "zh-Hans": "劳工权利"}
    assert themes["rule-of-law"] == {"en": "Rule of law", "zh-Hans": "法治"}
    assert themes["freedom-of-religion"]["zh-Hans"] == "宗教自由"
    assert themes["freedom-of-expression"]["zh-Hans"] == "言论自由"
    assert themes["tibet"] == {"en": "Tibet", "zh-Hans": "西藏"}
    slugs = [t["slug"] for t in r.json()["items"]]
    assert slugs == sorted(slugs)


def test_an_admin_adds_a_theme_with_canonical_language_tags(client, admin_headers, cleanup_themes):
    r = client.post(
        THEMES,
        headers=admin_headers,
        json={
            "slug": "police-accountability",
            "names": {
                "en": "Police accountability",
                "zh-hans": "警察问责",
                "ZH-hant-tw": "警察問責",
            },
        },
    )
    assert r.status_code == 201, r.text
    assert r.json() == {
        "slug": "police-accountability",
        "name": "Police accountability",
        "names": {"en": "Police accountability", "zh-Hans": "警察问责", "zh-Hant-TW": "警察問責"},
    }
    listed = {t["slug"]: t["names"] for t in client.get(THEMES).json()["items"]}
    assert listed["police-accountability"]["zh-Hans"] == "警察问责"


@pytest.mark.parametrize(
    "names",
    [
        {"english!": "Police"},
        {"en_US": "Police"},
        {"": "Police"},
        {"e": "Police"},
        {},
        {"en": ""},
        {"en": "Bad\x00name"},
    ],
)
def test_a_theme_with_a_bad_name_or_tag_is_refused(client, admin_headers, cleanup_themes, names):
    r = client.post(THEMES, headers=admin_headers, json={"slug": "bad-names", "names": names})
    assert_problem(r, 422)
    assert "bad-names" not in [t["slug"] for t in client.get(THEMES).json()["items"]]


@pytest.mark.parametrize("slug", ["Labour Rights", "labour_rights", "-x", "a", "x" * 65])
def test_a_theme_with_a_bad_slug_is_refused(client, admin_headers, cleanup_themes, slug):
    r = client.post(THEMES, headers=admin_headers, json={"slug": slug, "names": {"en": "X"}})
    assert_problem(r, 422)


def test_a_duplicate_theme_slug_is_a_conflict(client, admin_headers, cleanup_themes):
    r = client.post(
        THEMES, headers=admin_headers, json={"slug": "labour-rights", "names": {"en": "Again"}}
    )
    assert_problem(r, 409)
    labour = {t["slug"]: t["names"] for t in client.get(THEMES).json()["items"]}["labour-rights"]
    assert labour["en"] == "Labour rights"


@pytest.mark.parametrize("role", [Role.activist, Role.official, Role.moderator])
def test_only_admins_add_themes(client, make, cleanup_themes, role):
    r = client.post(
        THEMES,
        headers=make.headers(make.user(role)),
        json={"slug": "sneaky-theme", "names": {"en": "Sneaky"}},
    )
    assert_problem(r, 403)
    assert_problem(
        client.post(THEMES, json={"slug": "sneaky-theme", "names": {"en": "Sneaky"}}), 401
    )
    assert "sneaky-theme" not in [t["slug"] for t in client.get(THEMES).json()["items"]]


def test_adding_a_theme_is_audited(client, make, admin, cleanup_themes):
    headers = make.headers(admin)
    r = client.post(
        THEMES, headers=headers, json={"slug": "audited-theme", "names": {"en": "Audited"}}
    )
    assert r.status_code == 201
    actions = [e["action"] for e in client.get(AUDIT, headers=headers).json()["items"]]
    assert "theme.create" in actions
