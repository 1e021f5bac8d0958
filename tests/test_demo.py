"""`civic-input seed-demo`: the 2012 Washington round, loaded once, read back through the API."""

from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from api import demo
from api.db import open_session
from models import metadata
from models.dialogue import Dialogue
from models.submission import Submission
from models.user import Role, User

API = "/api/v1"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _row_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


def test_the_demo_round_is_a_living_public_record(settings, client, engine, make):
    assert demo.seed(settings) is True

    dialogue = client.get(f"{API}/dialogues/{demo.SLUG}").json()
    assert sorted(d["code"] for d in dialogue["delegations"]) == ["CN", "US"]
    (rnd,) = dialogue["rounds"]
    assert rnd["phase"] == "concluded"
    assert rnd["location"].startswith("Washington")
    assert rnd["starts_at"].startswith("2012-07-23") and rnd["ends_at"].startswith("2012-07-24")
    assert _at(rnd["submissions_open_at"]) < _at(rnd["starts_at"])
    assert _at(rnd["responses_due_at"]) > _at(rnd["ends_at"])

    record = client.get(f"{API}/rounds/{rnd['id']}/record", params={"limit": 100})
    assert record.status_code == 200
    items = record.json()["items"]
    assert len(items) == len(demo.SUBMISSIONS) >= 8
    assert all(_at(i["published_at"]) < _at(rnd["starts_at"]) for i in items)
    assert {i["attribution"] for i in items} == {"anonymous", "handle", "organisation"}
    assert sum(i["language"] == "zh-Hans" for i in items) >= 2
    assert any(i["endorsement_count"] > 0 for i in items)

    lawyers = client.get(f"{API}/rounds/{rnd['id']}/record", params={"q": "律师"}).json()["items"]
    assert lawyers and all(i["language"] == "zh-Hans" for i in lawyers)
    assert all("律师" in i["title"] + i["body"] for i in lawyers)

    cases = client.get(f"{API}/rounds/{rnd['id']}/record", params={"kind": "case"}).json()["items"]
    assert any("Chen Guangcheng" in c["title"] for c in cases)

    responses = [r for i in items for r in i["responses"]]
    assert {r["kind"] for r in responses} == {"answer", "holding", "declined"}
    assert "internal_affairs" in {r["reason_code"] for r in responses}
    assert any(r["late"] for r in responses)
    assert any(sum(r["ratings"].values()) for r in responses)
    assert any(not i["responses"] for i in items)  # silence

    revised = [r for r in responses if r["revision_count"] >= 2]
    assert revised
    history = client.get(f"{API}/responses/{revised[0]['id']}/revisions").json()["items"]
    assert len(history) >= 2
    assert history[0]["reason"] is None and history[-1]["reason"]
    assert history[-1]["body"] == revised[0]["body"]

    scorecard = client.get(f"{API}/rounds/{rnd['id']}/scorecard").json()
    assert scorecard["due_date_passed"] is True
    totals = {
        name: sum(d[name] for d in scorecard["delegations"])
        for name in ("answered", "declined", "holding", "no_response", "late")
    }
    assert all(totals.values()), totals

    # The case: named with consent, its timeline, the round that raised it.
    (case,) = client.get(f"{API}/cases").json()["items"]
    assert case["name"] == "Chen Guangcheng" and case["status"] == "exiled"
    case_detail = client.get(f"{API}/cases/{case['id']}")
    assert [t["status"] for t in case_detail.json()["timeline"]] == [
        "imprisoned",
        "under_surveillance",
        "exiled",
    ]
    assert [r["round_number"] for r in case_detail.json()["raised_in"]] == [rnd["number"]]
    assert [c["case_id"] for c in cases] == [case["id"]]

    # A benchmark set before the round, assessed by both sides, who disagree.
    (benchmark,) = client.get(f"{API}/rounds/{rnd['id']}/benchmarks").json()["items"]
    assert benchmark["cases"] == [case["id"]] and benchmark["progress"]["contested"] is True

    # The record log holds every public event, in the order they happened in 2012.
    feed = client.get(f"{API}/feed", params={"limit": 1000})
    types = [e["type"] for e in feed.json()["items"]]
    assert types.count("submission.published") == len(items)
    assert types.count("response.published") == len(responses)
    assert types.count("response.revised") == sum(r["revision_count"] - 1 for r in responses)
    assert types.count("response.assessed") == sum(sum(r["ratings"].values()) for r in responses)
    assert types[0] == "case.published" and types[-1] == "benchmark.assessed"
    last_submission = max(n for n, t in enumerate(types) if t == "submission.published")
    assert types.index("response.published") > last_submission
    export = client.get(f"{API}/export.ndjson")
    assert len(export.text.splitlines()) == len(types)

    # Privacy: authors only as the attribution allows; restricted details never public.
    for item in items:
        if item["attribution"] == "anonymous":
            assert item["author"] is None
        elif item["attribution"] == "organisation":
            assert item["author"] == demo.ORGANISATION
    with open_session(engine) as session:
        hidden = set(
            session.exec(
                select(User.handle)
                .join(Submission, col(Submission.author_id) == col(User.id))
                .where(col(Submission.attribution) != "handle")
            ).all()
        )
    shown = {i["author"] for i in items if i["attribution"] == "handle"}
    hidden |= set(demo.ACCOUNTS) - shown  # moderator, officials, endorsers, raters
    secrets = hidden | {demo.CASE["restricted_details"]}
    for public in (record, feed, export, case_detail):
        assert not [s for s in secrets if s in public.text]
    with open_session(engine) as session:
        moderator = session.exec(select(User).where(User.handle == demo.MODERATOR)).one()
    private = client.get(f"{API}/cases/{case['id']}", headers=make.headers(moderator))
    assert private.json()["restricted_details"] == demo.CASE["restricted_details"]

    # The moderator's publish decisions are in the audit log.
    admin = make.user(Role.admin)
    audit = client.get(f"{API}/audit", params={"limit": 100}, headers=make.headers(admin)).json()
    published = [e for e in audit["items"] if e["action"] == "submission.publish"]
    assert {e["target_id"] for e in published} == {i["id"] for i in items}

    # Loading again changes nothing.
    before = _row_counts(engine)
    assert demo.seed(settings) is False
    assert demo.seed_if_empty(settings) is False
    assert _row_counts(engine) == before


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
