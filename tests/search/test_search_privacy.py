"""The search never finds what the public may not see, and never shows who wrote it:
a withdrawal, a removal or a withdrawn consent takes the text out of the index in the
same transaction; pending and rejected texts were never in it."""

from datetime import date

import pytest
import sqlalchemy as sa

from models.round import Phase
from models.submission import Status
from models.user import Role

RARE = "Zhangjiakou"


def found(client, q, **params):
    r = client.get("/api/v1/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r


def ids(client, q, **params):
    return [hit["id"] for hit in found(client, q, **params).json()["items"]]


def index_rows(engine, doc_id):
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT count(*) FROM search_entry WHERE doc_id = :id"),
            {"id": doc_id.hex if engine.dialect.name == "sqlite" else doc_id},
        ).scalar_one()


def answer(client, make, submission):
    rnd = make.session.get_one(type(make.round()), submission.round_id)
    official = make.official(rnd, "CN")
    r = client.post(
        f"/api/v1/submissions/{submission.id}/responses",
        json={"kind": "answer", "body": f"Held in {RARE} prison.", "language": "en"},
        headers=make.headers(official),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.mark.parametrize("how", ["withdrawn", "removed"])
def test_a_submission_taken_back_leaves_the_search_with_its_responses(client, make, engine, how):
    rnd = make.round(phase=Phase.accepting_responses)
    author = make.user(Role.activist)
    submission = make.submission(
        rnd, author=author, title=f"Lawyer held in {RARE}", body=f"Still in {RARE}."
    )
    response_id = answer(client, make, submission)
    assert set(ids(client, RARE)) == {str(submission.id), response_id}
    if how == "withdrawn":
        r = client.post(
            f"/api/v1/submissions/{submission.id}/withdraw", headers=make.headers(author)
        )
    else:
        r = client.post(
            f"/api/v1/submissions/{submission.id}/moderation",
            json={"decision": "remove", "reason": "Endangers a source."},
            headers=make.headers(make.user(Role.moderator)),
        )
    assert r.status_code == 200, r.text
    assert ids(client, RARE) == []
    assert index_rows(engine, submission.id) == 0
    r = client.get(f"/api/v1/rounds/{rnd.id}/record", params={"q": RARE})
    assert r.json()["items"] == []


def test_texts_never_published_are_never_indexed(client, make, engine):
    rnd = make.round(phase=Phase.accepting_responses)
    hidden = [
        make.submission(rnd, status=status, title=f"{RARE} {status.value}", body=RARE)
        for status in (Status.pending, Status.rejected)
    ]
    assert ids(client, RARE) == []
    assert [index_rows(engine, s.id) for s in hidden] == [0, 0]


def test_no_author_handle_organisation_or_email_in_results(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    by_handle = make.user(Role.activist, handle="SecretHandle-91", email="hidden91@example.org")
    by_org = make.user(Role.activist, handle="OrgAuthor-17", email="org17@example.org")
    make.submission(rnd, author=by_handle, attribution="handle", title=f"{RARE} one", body="x")
    make.submission(
        rnd,
        author=by_org,
        attribution="organisation",
        organisation="Quiet Rights Group",
        title=f"{RARE} two",
        body="y",
    )
    r = found(client, RARE)
    assert len(r.json()["items"]) == 2
    for secret in (
        "SecretHandle-91",
        "hidden91",
        "OrgAuthor-17",
        "org17",
        "Quiet Rights",
        str(by_handle.id),
        str(by_org.id),
        "author",
        "created_at",
    ):
        assert secret not in r.text
    # searching for them finds nothing either
    for secret in ("SecretHandle-91", "hidden91@example.org", "Quiet Rights Group"):
        assert ids(client, secret) == []


def _published_case(client, make, *, consent):
    activist = make.user(Role.activist)
    r = client.post(
        "/api/v1/cases",
        json={
            "name": "Li Heping",
            "name_native": "李和平",
            "name_consent": consent,
            "status": "detained",
            "status_date": str(date(2015, 7, 10)),
            "location": RARE,
            "summary": "A lawyer taken in the crackdown.",
            "restricted_details": "Wife's number 13900001111, source Shuangcheng",
        },
        headers=make.headers(activist),
    )
    assert r.status_code == 201, r.text
    moderator = make.user(Role.moderator)
    r = client.post(
        f"/api/v1/cases/{r.json()['id']}/moderation",
        json={"decision": "published"},
        headers=make.headers(moderator),
    )
    assert r.status_code == 200, r.text
    return r.json()["id"], moderator


def test_an_unconsented_name_and_restricted_details_are_never_found(client, make):
    case_id, _ = _published_case(client, make, consent=False)
    assert ids(client, RARE) == [case_id]
    r = found(client, RARE)
    assert "Li Heping" not in r.text and "李和平" not in r.text
    assert r.json()["items"][0]["title"] == "name withheld"
    for q in ("李和平", "Heping", "13900001111", "Shuangcheng"):
        assert ids(client, q) == []


def test_withdrawn_consent_and_removal_take_a_case_out_at_once(client, make, engine):
    case_id, moderator = _published_case(client, make, consent=True)
    assert ids(client, "李和平") == [case_id]
    r = client.put(
        f"/api/v1/cases/{case_id}/consent",
        json={"name_consent": False},
        headers=make.headers(moderator),
    )
    assert r.status_code == 200, r.text
    assert ids(client, "李和平") == [] and ids(client, "Li Heping") == []
    r = client.post(
        f"/api/v1/cases/{case_id}/moderation",
        json={"decision": "removed", "reason": "At the family's request."},
        headers=make.headers(moderator),
    )
    assert r.status_code == 200, r.text
    assert ids(client, RARE) == []


@pytest.mark.parametrize("how", ["withdrawn", "removed"])
def test_a_translation_leaves_the_search_with_its_original(client, make, how):
    rnd = make.round(phase=Phase.accepting_responses)
    author = make.user(Role.activist)
    submission = make.submission(rnd, author=author, title="A lawyer held", body="Still held.")
    r = client.post(
        f"/api/v1/submissions/{submission.id}/translations",
        json={"language": "zh-Hans", "title": "张家口的律师", "body": "仍被关押在张家口。"},
        headers=make.headers(author),
    )
    assert r.status_code == 201, r.text
    response_id = answer(client, make, submission)
    official = make.official(rnd, "CN")
    r = client.post(
        f"/api/v1/responses/{response_id}/translations",
        json={"language": "zh-Hans", "body": "关押在张家口监狱。"},
        headers=make.headers(official),
    )
    assert r.status_code == 201, r.text
    assert set(ids(client, "张家口")) == {str(submission.id), response_id}
    if how == "withdrawn":
        r = client.post(
            f"/api/v1/submissions/{submission.id}/withdraw", headers=make.headers(author)
        )
    else:
        r = client.post(
            f"/api/v1/submissions/{submission.id}/moderation",
            json={"decision": "remove", "reason": "Endangers a source."},
            headers=make.headers(make.user(Role.moderator)),
        )
    assert r.status_code == 200, r.text
    assert ids(client, "张家口") == []
