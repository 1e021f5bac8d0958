"""`civic-input seed-demo`: the 2012 Washington and 2013 Kunming rounds, loaded once, read
back through the public API."""

from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from api import clock, demo
from api.db import open_session
from models import metadata
from models.dialogue import Dialogue
from models.submission import Submission
from models.user import Role, User

API = "/api/v1"
DATA = demo.load()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _row_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


def _rounds(client: Any) -> dict[int, dict[str, Any]]:
    dialogue = client.get(f"{API}/dialogues/{DATA.slug}").json()
    return {r["number"]: r for r in dialogue["rounds"]}


def _event_day(event: dict[str, Any]) -> date | None:
    """The day an event happened, where its content says."""
    content = event["content"] or {}
    for name in ("published_at", "updated_at", "assessed_on"):
        if content.get(name):
            return date.fromisoformat(content[name][:10])
    return None


def test_the_demo_rounds_are_a_living_public_record(settings, client, engine, make):
    assert demo.seed(settings) is True

    dialogue = client.get(f"{API}/dialogues/{DATA.slug}").json()
    assert sorted(d["code"] for d in dialogue["delegations"]) == ["CN", "US"]
    rounds = _rounds(client)
    assert sorted(rounds) == [17, 18]
    washington, kunming = rounds[17], rounds[18]
    assert washington["location"].startswith("Washington")
    assert washington["starts_at"].startswith("2012-07-23")
    assert washington["ends_at"].startswith("2012-07-24")
    assert kunming["location"].startswith("Kunming")
    assert kunming["starts_at"].startswith("2013-07-30")
    assert kunming["ends_at"].startswith("2013-07-31")

    everything, responses_by_round = [], {}
    for number, rnd in rounds.items():
        assert rnd["phase"] == "concluded"
        assert _at(rnd["submissions_open_at"]) < _at(rnd["starts_at"])
        assert _at(rnd["responses_due_at"]) > _at(rnd["ends_at"])
        record = client.get(f"{API}/rounds/{rnd['id']}/record", params={"limit": 100})
        assert record.status_code == 200
        items = record.json()["items"]
        assert len(items) == sum(s.round == number for s in DATA.submissions) >= 8
        assert all(_at(i["published_at"]) < _at(rnd["starts_at"]) for i in items)
        assert {i["attribution"] for i in items} == {"anonymous", "handle", "organisation"}
        assert sum(i["language"] == "zh-Hans" for i in items) >= 2
        assert {i["kind"] for i in items} == {"case", "concern"}
        assert any(i["endorsement_count"] > 0 for i in items)

        responses = [r for i in items for r in i["responses"]]
        assert {r["kind"] for r in responses} == {"answer", "holding", "declined"}
        assert any(r["late"] for r in responses)
        assert any(sum(r["ratings"].values()) for r in responses)
        assert any(not i["responses"] for i in items)  # silence
        revised = [r for r in responses if r["revision_count"] >= 2]
        assert revised
        history = client.get(f"{API}/responses/{revised[0]['id']}/revisions").json()["items"]
        assert len(history) >= 2
        assert history[0]["reason"] is None and history[-1]["reason"]
        assert history[-1]["body"] == revised[0]["body"]
        # Chinese and English translations, one the delegation's authoritative text
        assert any(
            t["translated_by"] in {"author", "moderator"} for i in items for t in i["translations"]
        )
        assert any(r["translations"] for r in responses)

        scorecard = client.get(f"{API}/rounds/{rnd['id']}/scorecard").json()
        assert scorecard["due_date_passed"] is True
        totals = {
            name: sum(d[name] for d in scorecard["delegations"])
            for name in ("answered", "declined", "holding", "no_response", "late")
        }
        assert all(totals.values()), totals
        everything += items
        responses_by_round[number] = responses

    lawyers = client.get(f"{API}/rounds/{washington['id']}/record", params={"q": "律师"})
    assert lawyers.json()["items"]
    # found in the original, or in a translation (Gao Zhisheng's, written in English)
    texts = [
        i["title"] + i["body"] + "".join(f"{t['title']}{t['body']}" for t in i["translations"])
        for i in lawyers.json()["items"]
    ]
    assert all("律师" in text for text in texts)
    assert any(i["language"] == "en" for i in lawyers.json()["items"])
    assert "internal_affairs" in {r["reason_code"] for r in responses_by_round[17]}

    # A response first held, then answered: the public sees both texts and why it changed.
    (changed,) = [
        r
        for r in responses_by_round[18]
        if r["kind"] == "answer"
        and "holding"
        in {h["kind"] for h in client.get(f"{API}/responses/{r['id']}/revisions").json()["items"]}
    ]
    assert changed["revision_count"] == 2

    # A grouped answer: one response, shown under each submission it answers.
    grouped = [r for r in responses_by_round[17] if r["grouped_with"]]
    assert len(grouped) == 2 and len({r["id"] for r in grouped}) == 1
    assert {grouped[0]["submission_id"], *grouped[0]["grouped_with"]} == {
        r["submission_id"] for r in grouped
    }

    # The record log holds every public event, in the order they happened; a grouped
    # answer once.
    responses = list({r["id"]: r for rs in responses_by_round.values() for r in rs}.values())
    feed = client.get(f"{API}/feed", params={"limit": 1000})
    events = feed.json()["items"]
    types = [e["type"] for e in events]
    assert types.count("submission.published") == len(everything)
    assert types.count("response.published") == len(responses)
    assert types.count("response.revised") == sum(r["revision_count"] - 1 for r in responses)
    assert types.count("response.assessed") == sum(sum(r["ratings"].values()) for r in responses)
    assert types.count("case.published") == len(DATA.cases)
    assert types.count("case.timeline") == sum(len(c.later) for c in DATA.cases.values())
    assert types.count("benchmark.adopted") == len(DATA.benchmarks)
    assert types.count("commitment.recorded") == len(DATA.commitments)
    assert types[0] == "case.published"
    days = [day for day in map(_event_day, events) if day is not None]
    assert len(days) > len(everything) and days == sorted(days)
    for rnd in rounds.values():
        of_round = [e["type"] for e in events if e["round_id"] == rnd["id"]]
        last_submission = max(n for n, t in enumerate(of_round) if t == "submission.published")
        assert of_round.index("response.published") > last_submission
    first_2013 = next(
        n
        for n, e in enumerate(events)
        if e["type"] == "submission.published" and e["round_id"] == kunming["id"]
    )
    last_2012_response = max(
        n
        for n, e in enumerate(events)
        if e["type"] == "response.published" and e["round_id"] == washington["id"]
    )
    assert last_2012_response < types.index("case.timeline") < first_2013
    export = client.get(f"{API}/export.ndjson")
    assert len(export.text.splitlines()) == len(types)

    chosen = [r for rs in responses_by_round.values() for r in rs if r["language"] == "en"]
    (authoritative,) = [r for r in chosen if r["authoritative_language"] != r["language"]]
    assert authoritative["authoritative_language"] == "zh-Hans"
    assert [t["translated_by"] for t in authoritative["translations"]] == ["delegation"]
    assert "translation.authoritative" in types

    # Privacy: authors only as the attribution allows; restricted details and withheld
    # names never public.
    for item in everything:
        if item["attribution"] == "anonymous":
            assert item["author"] is None
        elif item["attribution"] == "organisation":
            assert item["author"] == DATA.organisation
    with open_session(engine) as session:
        hidden = set(
            session.exec(
                select(User.handle)
                .join(Submission, col(Submission.author_id) == col(User.id))
                .where(col(Submission.attribution) != "handle")
            ).all()
        )
    shown = {i["author"] for i in everything if i["attribution"] == "handle"}
    assert not hidden & shown  # nobody is both named and unnamed: that would unmask them
    hidden |= set(DATA.accounts) - shown  # moderator, officials, endorsers, raters
    secrets = hidden | ({c.data.restricted_details for c in DATA.cases.values()} - {None})
    unnamed = [c.data for c in DATA.cases.values() if not c.data.name_consent]
    assert unnamed
    secrets |= {c.name for c in unnamed} | ({c.name_native for c in unnamed} - {None})
    cases = client.get(f"{API}/cases", params={"limit": 100})
    public = [feed, export, cases]
    public += [
        client.get(f"{API}/rounds/{r['id']}/record", params={"limit": 100}) for r in rounds.values()
    ]
    public += [client.get(f"{API}/cases/{c['id']}") for c in cases.json()["items"]]
    for response in public:
        assert not [s for s in secrets if s in response.text]
    with open_session(engine) as session:
        moderator = session.exec(select(User).where(User.handle == DATA.one(Role.moderator))).one()
    withheld = next(c for c in cases.json()["items"] if c["name"] == "name withheld")
    private = client.get(f"{API}/cases/{withheld['id']}", headers=make.headers(moderator))
    assert private.json()["real_name"] == unnamed[0].name
    assert private.json()["restricted_details"] == unnamed[0].restricted_details
    assert not client.get(f"{API}/cases", params={"q": unnamed[0].name}).json()["items"]

    # The moderator's publish decisions are in the audit log.
    admin = make.user(Role.admin)
    audit = client.get(f"{API}/audit", params={"limit": 100}, headers=make.headers(admin)).json()
    published = [e for e in audit["items"] if e["action"] == "submission.publish"]
    assert {e["target_id"] for e in published} == {i["id"] for i in everything}

    # Loading again changes nothing.
    before = _row_counts(engine)
    assert demo.seed(settings) is False
    assert demo.seed_if_empty(settings) is False
    assert _row_counts(engine) == before


def test_a_journalist_answers_three_questions_from_public_endpoints(settings, client):
    assert demo.seed(settings) is True
    rounds = _rounds(client)
    washington, kunming = rounds[17], rounds[18]

    # 1. Which cases were raised in more than one round, and what happened to each person?
    listed = client.get(f"{API}/cases", params={"limit": 100}).json()["items"]
    repeat = {c["name"]: c for c in listed if c["rounds_raised"] >= 2}
    assert set(repeat) == {"Chen Guangcheng", "Gao Zhisheng", "name withheld"}
    assert [c["name"] for c in listed if c["rounds_raised"] == 1] == ["Xu Zhiyong"]
    details = {
        name: client.get(f"{API}/cases/{case['id']}").json() for name, case in repeat.items()
    }
    for detail in details.values():
        assert [r["round_number"] for r in detail["raised_in"]] == [17, 18]
        assert all(r["submission_ids"] for r in detail["raised_in"])
        assert {s["round_id"] for s in detail["submissions"]} == {
            washington["id"],
            kunming["id"],
        }
    chen, gao, withheld = (
        details["Chen Guangcheng"],
        details["Gao Zhisheng"],
        details["name withheld"],
    )
    # Chen Guangcheng: in exile since before the first round.
    assert [t["status"] for t in chen["timeline"]] == ["imprisoned", "under_surveillance", "exiled"]
    assert chen["status"] == "exiled"
    # Gao Zhisheng: in prison when raised in 2012 and still in 2013, no change in between.
    assert gao["status"] == "imprisoned"
    assert date.fromisoformat(gao["status_since"]) < _at(washington["starts_at"]).date()
    assert [t["status"] for t in gao["timeline"]][-1] == "imprisoned"
    assert not {"released", "exiled"} & {t["status"] for t in gao["timeline"]}
    # The unnamed strike organiser: detained when raised in 2012, released before 2013.
    assert withheld["name_native"] is None
    assert [t["status"] for t in withheld["timeline"]] == ["detained", "released"]
    released = date.fromisoformat(withheld["status_since"])
    assert _at(washington["ends_at"]).date() < released < _at(kunming["starts_at"]).date()
    assert (
        client.get(f"{API}/cases", params={"q": "高智晟"}).json()["items"][0]["id"]
        == (repeat["Gao Zhisheng"]["id"])
    )

    # 2. Which benchmarks were met? Both sides' dated views, side by side.
    marks = client.get(f"{API}/rounds/{kunming['id']}/benchmarks").json()["items"]
    assert len(marks) == 3
    (met,) = [b for b in marks if b["progress"]["state"] == "met"]
    assert met["title"] == "Re-education through labour is abolished by law"
    assert met["progress"]["civil_society"]["status"] == "met"
    assert met["progress"]["delegation_view"]["status"] == "met"
    assert met["progress"]["contested"] is False
    assert [a["status"] for a in met["progress"]["history"]] == ["in_progress", "met", "met"]
    unmet = [b for b in marks if b["progress"]["state"] == "not_met"]
    assert sorted(b["progress"]["contested"] for b in unmet) == [False, True]
    (freed,) = [b for b in unmet if not b["progress"]["contested"]]
    assert freed["cases"] == [repeat["Gao Zhisheng"]["id"]]
    (earlier,) = client.get(f"{API}/rounds/{washington['id']}/benchmarks").json()["items"]
    assert earlier["progress"]["state"] == "not_met" and earlier["progress"]["contested"]
    # Commitments made in Washington, assessed in 2013: one kept, one overdue.
    promises = client.get(f"{API}/rounds/{washington['id']}/commitments").json()["items"]
    state = {c["delegation"]: c for c in promises}
    assert state["US"]["progress"]["state"] == "met" and not state["US"]["overdue"]
    assert state["CN"]["progress"]["state"] == "not_met" and state["CN"]["overdue"]
    assert state["CN"]["progress"]["contested"] is True
    assert all(c["progress"]["history"][0]["assessed_on"].startswith("2013") for c in promises)

    # 3. Which delegation answered least? Per round, and the trend round over round.
    card = client.get(f"{API}/rounds/{kunming['id']}/scorecard").json()
    by_code = {d["delegation"]: d for d in card["delegations"]}
    assert {
        code: (d["addressed"], d["answered"], d["no_response"]) for code, d in by_code.items()
    } == {
        "CN": (8, 2, 3),
        "US": (3, 3, 0),
    }
    least = min(card["delegations"], key=lambda d: d["answered"] / d["addressed"])
    assert least["delegation"] == "CN"
    assert card["cases"] == {"raised": 4, "new": 1, "repeat": 3, "repeat_unimproved": 1}
    assert card["benchmarks"] == {
        "not_started": 0,
        "in_progress": 0,
        "met": 1,
        "not_met": 2,
        "contested": 1,
    }
    first = client.get(f"{API}/rounds/{washington['id']}/scorecard").json()
    assert first["commitments"]["met"] == 1 and first["commitments"]["overdue"] == 1

    trend = client.get(f"{API}/dialogues/{DATA.slug}/scorecard").json()
    figures = [
        {k: point[k] for k in ("number", "addressed", "answer_rate", "no_response_rate")}
        | {k: point[k] for k in ("repeat_cases_unresolved", "benchmarks_met", "benchmarks")}
        | {"ratings": point["ratings"]}
        for point in trend["rounds"]
    ]
    assert figures == [
        {
            "number": 17,
            "addressed": 13,
            "answer_rate": 0.5385,
            "no_response_rate": 0.1538,
            "repeat_cases_unresolved": 0,
            "benchmarks_met": 0,
            "benchmarks": 1,
            "ratings": {"satisfactory": 1, "partial": 3, "evasive": 4, "non_responsive": 3},
        },
        {
            "number": 18,
            "addressed": 11,
            "answer_rate": 0.4545,
            "no_response_rate": 0.2727,
            "repeat_cases_unresolved": 1,
            "benchmarks_met": 1,
            "benchmarks": 3,
            "ratings": {"satisfactory": 3, "partial": 4, "evasive": 1, "non_responsive": 4},
        },
    ]


def test_seed_if_empty_loads_only_into_an_empty_database(settings, engine):
    assert demo.seed_if_empty(settings) is True
    assert demo.seed_if_empty(settings) is False
    with open_session(engine) as session:
        assert len(session.exec(select(Dialogue)).all()) == 1


def test_the_demo_never_takes_over_a_real_account(settings, engine, make, caplog):
    make.user(Role.activist, handle="MingJing")  # a real account, in another case
    with pytest.raises(demo.DemoConflict, match=r"(?i)mingjing"):
        demo.seed(settings)
    assert demo.seed_if_empty(settings) is False
    assert "demo data not loaded" in caplog.text
    with open_session(engine) as session:
        assert session.exec(select(Dialogue)).first() is None
        assert len(session.exec(select(User)).all()) == 1


def _shipped() -> str:
    return (resources.files(demo).joinpath("dialogue.toml")).read_text(encoding="utf-8")


def _edited(old: str, new: str) -> str:
    text = _shipped()
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_data_file_ships_with_the_package_and_holds_every_kind():
    assert demo.load(_shipped()).counts() == DATA.counts()
    assert DATA.counts() == {
        "accounts": 9,
        "rounds": 2,
        "cases": 4,
        "timeline entries": 5,
        "submissions": 22,
        "endorsements": 36,
        "responses": 17,
        "grouped responses": 1,
        "revisions": 3,
        "ratings": 23,
        "translations": 4,
        "authoritative translations": 1,
        "benchmarks": 4,
        "commitments": 2,
        "progress assessments": 13,
    }
    assert "fictional" in DATA.about and "illustrative" in DATA.about


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        # SubmissionCreate: a title over the API's limit
        (
            'title = "Civilian deaths in US drone strikes"',
            f'title = "{"x" * 300}"',
            r"submissions\[9\] \('x+'\): title: ",
        ),
        # ResponseCreate: a declined response without its reason code
        (
            'reason_code = "ongoing_judicial_proceedings"\n',
            "",
            r"submissions\[0\] .*\.responses\[0\]: .*reason_code",
        ),
        # CaseCreate: a status the API does not know
        ('status = "exiled"', 'status = "vanished"', r"cases\.chen-guangcheng: status: "),
        # RoundCreate: instants out of order
        (
            "ends_at = 2012-07-24T21:30:00Z",
            "ends_at = 2012-07-22T21:30:00Z",
            r"rounds\[0\]: .*starts_at must not be after ends_at",
        ),
        # BenchmarkCreate: a field the schema refuses
        (
            'title = "Re-education through labour is abolished by law"',
            'title = "Re-education through labour is abolished by law"\nweight = 2',
            r"benchmarks\[1\] .*: weight: Extra inputs are not permitted",
        ),
        # a handle registration would refuse
        ("mingjing = {", "m = {", r"accounts\.m: "),
        # a reference to nothing
        ('submissions = ["lawyers-access-2012"]', 'submissions = ["nope"]', r"commitments\[1\]"),
    ],
)
def test_a_wrong_item_in_the_data_file_is_named(old, new, named):
    with pytest.raises(demo.DemoDataError, match=named):
        demo.load(_edited(old, new))


def test_the_replay_obeys_the_rules_the_api_enforces(settings, engine):
    # Published on 30 July 2012, so written on the 29th: the Washington round had closed to
    # submissions on the 16th, and the service refuses it as it would refuse the API.
    late = demo.load(
        _edited("published_at = 2012-07-12T15:30:00Z", "published_at = 2012-07-30T15:30:00Z")
    )
    with pytest.raises(demo.DemoDataError, match=r"submissions\[9\] .*submitting is not"):
        demo.seed(settings, late)
    with open_session(engine) as session:
        assert session.exec(select(Dialogue)).first() is None
        assert session.exec(select(User)).first() is None


def test_the_clock_is_frozen_for_a_block_and_only_there():
    at = datetime(2012, 7, 23, 13, tzinfo=UTC)
    with clock.frozen(at):
        assert clock.now() == at
        assert Submission.model_fields["created_at"].default_factory() == at
    assert clock.now().year > 2012
    with pytest.raises(ValueError, match="aware"), clock.frozen(datetime(2012, 7, 23)):
        pass
