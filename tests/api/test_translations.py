"""Translations with one authoritative text: who may translate what and when, one per
language (posting again replaces), the delegation's choice of its authoritative text
(audited), every public view carrying them in the language asked for first, the record
log and search holding them, and withdrawal taking them away from all of it."""

import json
from typing import Any

import pytest
import sqlalchemy as sa

from api import verify
from models.audit import AuditEntry
from models.translation import Translation
from models.user import Role
from tests import record_verifier as outside
from tests.api.feed import feed_all, ndjson_items, pending, unsalted, world
from tests.client import assert_problem, ok

API = "/api/v1"
ZH_TITLE, ZH_BODY = "被拘留的劳工律师", "这些劳工律师被关押在哪里？"
ZH_ANSWER = "他们被关押在天津，家属可以探视。"


def _post(client, make, user, path: str, body: dict[str, Any], status: int = 201) -> Any:
    headers = make.headers(user) if user is not None else {}
    return ok(client.post(API + path, json=body, headers=headers), status)


def _put(client, make, user, path: str, body: dict[str, Any], status: int = 200) -> Any:
    headers = make.headers(user) if user is not None else {}
    return ok(client.put(API + path, json=body, headers=headers), status)


@pytest.fixture
def answered(client, make, driver):
    """A published English submission addressed to CN, answered by CN in English."""
    w = world(make)
    submission = make.submission(
        w.rnd, author=w.author, title="Detained labour lawyers", addressed_to=("CN", "US")
    )
    response_id = driver.respond(w.cn, submission.id, "They are held in Tianjin.")
    return w, submission, response_id


def _translate_both(client, make, w, submission, response_id) -> None:
    zh = {"language": "zh-Hans", "title": ZH_TITLE, "body": ZH_BODY}
    _post(client, make, w.author, f"/submissions/{submission.id}/translations", zh)
    answer = {"language": "zh-Hans", "body": ZH_ANSWER}
    _post(client, make, w.cn, f"/responses/{response_id}/translations", answer)


# --- adding and replacing ------------------------------------------------------------


def test_an_author_translates_a_submission_and_the_public_sees_it(client, make, answered):
    w, submission, _ = answered
    body = {"language": "zh-hans", "title": ZH_TITLE, "body": ZH_BODY}
    made = _post(client, make, w.author, f"/submissions/{submission.id}/translations", body)
    assert made["language"] == "zh-Hans"  # canonical case
    assert made["translated_by"] == "author" and made["authoritative"] is False

    view = ok(client.get(f"{API}/submissions/{submission.id}"))
    # the original stays where it was
    assert (view["title"], view["language"]) == ("Detained labour lawyers", "en")
    assert view["authoritative_language"] == "en"
    (shown,) = view["translations"]
    assert {k: shown[k] for k in ("language", "title", "body", "translated_by")} == {
        "language": "zh-Hans",
        "title": ZH_TITLE,
        "body": ZH_BODY,
        "translated_by": "author",
    }
    assert "translator_id" not in shown and w.author.handle not in json.dumps(view)


def test_posting_again_in_a_language_replaces_that_translation(client, make, answered, engine):
    w, submission, _ = answered
    path = f"/submissions/{submission.id}/translations"
    _post(client, make, w.author, path, {"language": "zh-Hans", "body": "第一稿"})
    _post(client, make, w.moderator, path, {"language": "zh-Hans", "body": "第二稿"})
    view = ok(client.get(f"{API}/submissions/{submission.id}"))
    (shown,) = view["translations"]
    assert (shown["body"], shown["translated_by"], shown["title"]) == ("第二稿", "moderator", None)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Translation)).scalar() == 1
    types = [e["type"] for e in feed_all(client) if e["type"].startswith("translation.")]
    assert types == ["translation.added", "translation.replaced"]


@pytest.mark.parametrize("language", ["en", "EN"])
def test_a_translation_in_the_originals_language_is_refused(client, make, answered, language):
    w, submission, response_id = answered
    r = client.post(
        f"{API}/submissions/{submission.id}/translations",
        json={"language": language, "body": "Same language."},
        headers=make.headers(w.author),
    )
    assert assert_problem(r, 422)["field"] == "language"
    r = client.post(
        f"{API}/responses/{response_id}/translations",
        json={"language": language, "body": "Same language."},
        headers=make.headers(w.cn),
    )
    assert_problem(r, 422)


@pytest.mark.parametrize(
    "body",
    [
        {"language": "zh-Hans"},
        {"language": "not a tag!", "body": "x"},
        {"language": "zh-Hans", "body": ""},
        {"language": "zh-Hans", "body": "x", "translated_by": "delegation"},
        {"language": "zh-Hans", "body": "x" * 20_001},
    ],
)
def test_bad_translations_are_problems_not_errors(client, make, answered, body):
    w, submission, _ = answered
    r = client.post(
        f"{API}/submissions/{submission.id}/translations",
        json=body,
        headers=make.headers(w.author),
    )
    assert_problem(r, 422)


def test_a_response_has_no_title_to_translate(client, make, answered):
    w, _, response_id = answered
    r = client.post(
        f"{API}/responses/{response_id}/translations",
        json={"language": "zh-Hans", "title": "标题", "body": ZH_ANSWER},
        headers=make.headers(w.cn),
    )
    assert_problem(r, 422)


def test_a_removed_submission_is_no_longer_translated(client, make, driver, answered):
    w, submission, _ = answered
    driver.remove(w.moderator, submission.id)
    r = client.post(
        f"{API}/submissions/{submission.id}/translations",
        json={"language": "zh-Hans", "body": ZH_BODY},
        headers=make.headers(w.moderator),
    )
    assert_problem(r, 409)


# --- the authoritative text ----------------------------------------------------------


def test_the_delegation_makes_its_translation_authoritative_audited(client, make, answered, engine):
    w, submission, response_id = answered
    _translate_both(client, make, w, submission, response_id)
    shown = _put(
        client, make, w.cn, f"/responses/{response_id}/authoritative", {"language": "zh-Hans"}
    )
    assert shown["language"] == "en" and shown["authoritative_language"] == "zh-Hans"
    assert [t["authoritative"] for t in shown["translations"]] == [True]

    # every public view says so: the response, the submission, the record page
    assert ok(client.get(f"{API}/responses/{response_id}"))["authoritative_language"] == "zh-Hans"
    view = ok(client.get(f"{API}/submissions/{submission.id}"))
    assert view["authoritative_language"] == "en"  # the submission's original
    (response,) = view["responses"]
    assert response["authoritative_language"] == "zh-Hans"
    (item,) = ok(client.get(f"{API}/rounds/{w.rnd.id}/record"))["items"]
    assert item["responses"][0]["authoritative_language"] == "zh-Hans"
    assert item["responses"][0]["translations"][0]["translated_by"] == "delegation"

    with engine.connect() as conn:
        (audit,) = conn.execute(
            sa.select(AuditEntry.__table__).where(  # type: ignore[attr-defined]
                AuditEntry.__table__.c.action == "response.authoritative"  # type: ignore[attr-defined]
            )
        ).all()
    assert audit.actor_id == w.cn.id and str(audit.target_id) == response_id
    assert audit.detail == {"language": "zh-Hans", "previous": "en"}

    # and back to the original, by its own language
    shown = _put(client, make, w.cn, f"/responses/{response_id}/authoritative", {"language": "en"})
    assert shown["authoritative_language"] == "en"
    assert [t["authoritative"] for t in shown["translations"]] == [False]
    events = [
        unsalted(e["content"]) for e in feed_all(client) if e["type"] == "translation.authoritative"
    ]
    assert [e["authoritative_language"] for e in events] == ["zh-Hans", "en"]


def test_only_the_delegations_own_translation_of_the_current_text_can_be_authoritative(
    client, make, driver, answered
):
    w, _, response_id = answered
    path = f"/responses/{response_id}/authoritative"
    # no translation in that language
    r = client.put(API + path, json={"language": "fr"}, headers=make.headers(w.cn))
    assert_problem(r, 422)
    # a moderator's translation is not the delegation's text
    moderated = {"language": "fr", "body": "Ils sont détenus à Tianjin."}
    _post(client, make, w.moderator, f"/responses/{response_id}/translations", moderated)
    r = client.put(API + path, json={"language": "fr"}, headers=make.headers(w.cn))
    assert_problem(r, 409)
    # a translation of an earlier revision is not either
    answer = {"language": "zh-Hans", "body": ZH_ANSWER}
    _post(client, make, w.cn, f"/responses/{response_id}/translations", answer)
    driver.revise(w.cn, response_id, "They are held in Tianjin; families may visit.")
    r = client.put(API + path, json={"language": "zh-Hans"}, headers=make.headers(w.cn))
    assert_problem(r, 409)
    # translated again, it can be
    _post(client, make, w.cn, f"/responses/{response_id}/translations", answer)
    assert _put(client, make, w.cn, path, {"language": "zh-Hans"})["translations"][1][
        "authoritative"
    ]


def test_a_moderator_cannot_replace_the_delegations_authoritative_text(client, make, answered):
    w, submission, response_id = answered
    _translate_both(client, make, w, submission, response_id)
    _put(client, make, w.cn, f"/responses/{response_id}/authoritative", {"language": "zh-Hans"})
    r = client.post(
        f"{API}/responses/{response_id}/translations",
        json={"language": "zh-Hans", "body": "另一个译本。"},
        headers=make.headers(w.moderator),
    )
    assert_problem(r, 409)
    # the delegation may, and it stays authoritative
    again = {"language": "zh-Hans", "body": "他们被关押在天津。"}
    made = _post(client, make, w.cn, f"/responses/{response_id}/translations", again)
    assert made["authoritative"] is True and made["body"] == again["body"]


def test_a_revision_makes_the_original_authoritative_again(client, make, driver, answered):
    w, submission, response_id = answered
    _translate_both(client, make, w, submission, response_id)
    _put(client, make, w.cn, f"/responses/{response_id}/authoritative", {"language": "zh-Hans"})
    driver.revise(w.cn, response_id, "They are held in Tianjin; families may visit.")
    shown = ok(client.get(f"{API}/responses/{response_id}"))
    assert shown["authoritative_language"] == "en"
    (translation,) = shown["translations"]
    assert (translation["authoritative"], translation["revision"]) == (False, 1)
    last = feed_all(client)[-1]
    assert last["type"] == "translation.authoritative"
    assert unsalted(last["content"]) == {
        "authoritative_language": "en",
        "revision": 2,
        "reason": "revised",
    }


# --- the language asked for first ----------------------------------------------------


def test_lang_or_accept_language_chooses_which_translation_comes_first(client, make, answered):
    w, submission, _ = answered
    path = f"/submissions/{submission.id}/translations"
    for language, body in (("fr", "Où sont-ils ?"), ("zh-Hans", ZH_BODY), ("de", "Wo?")):
        _post(client, make, w.author, path, {"language": language, "body": body})

    def order(**kwargs: Any) -> list[str]:
        r = client.get(f"{API}/submissions/{submission.id}", **kwargs)
        assert "accept-language" in r.headers["vary"].lower()
        return [t["language"] for t in ok(r)["translations"]]

    assert order() == ["de", "fr", "zh-Hans"]  # English asked for: none, by language
    assert order(params={"lang": "fr"}) == ["fr", "de", "zh-Hans"]
    assert order(headers={"Accept-Language": "zh-CN"}) == ["zh-Hans", "de", "fr"]
    # ?lang= wins over the header
    assert order(params={"lang": "de"}, headers={"Accept-Language": "zh"}) == [
        "de",
        "fr",
        "zh-Hans",
    ]
    record = f"{API}/rounds/{w.rnd.id}/record"
    (item,) = ok(client.get(record, params={"lang": "zh-Hans"}))["items"]
    assert [t["language"] for t in item["translations"]] == ["zh-Hans", "de", "fr"]
    assert_problem(client.get(record, params={"lang": "no such tag!"}), 422)


# --- the record page: one more query, by the page's ids --------------------------------


def test_the_record_reads_every_translation_in_one_query(client, make, driver, engine):
    w = world(make)
    for n in range(6):
        submission = make.submission(w.rnd, author=w.author, title=f"Item {n}")
        response_id = driver.respond(w.cn, submission.id, f"Answer {n}.")
        if n % 2:
            _translate_both(client, make, w, submission, response_id)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        items = ok(client.get(f"{API}/rounds/{w.rnd.id}/record", params={"lang": "zh-Hans"}))
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    translated = [
        s for s in statements if "FROM translation \nWHERE translation.submission_id IN" in s
    ]
    assert len(translated) == 1, translated
    # by the ids of the rows that have some: three of the six
    assert translated[0].count("?") + translated[0].count("%(") == 3
    shown = {
        i["title"]: (i["translations"], i["responses"][0]["translations"]) for i in items["items"]
    }
    for n in range(6):
        ours, theirs = shown[f"Item {n}"]
        assert len(ours) == len(theirs) == n % 2


# --- the record log, verifiable -------------------------------------------------------


def test_translations_are_in_the_log_and_it_still_verifies(
    client, make, driver, answered, monkeypatch
):
    w, submission, response_id = answered
    _translate_both(client, make, w, submission, response_id)
    _put(client, make, w.cn, f"/responses/{response_id}/authoritative", {"language": "zh-Hans"})
    driver.withdraw(w.author, submission.id)

    entries = outside.feed_entries(client)
    outside.check_chain(entries)
    outside.verify(client, entries)

    def get(_base: str, path: str, **query: Any) -> Any:
        return ok(client.get(path, params=query))

    monkeypatch.setattr(verify, "_get", get)
    report = verify.verify("http://testserver")
    assert report.ok, report.problems
    assert report.tombstones == sum(e["content"] is None for e in entries) >= 5


# --- withdrawal takes translations with it ---------------------------------------------


def _everything_public(client, w, submission, response_id) -> str:
    """Every public output a translation could be in, as one text."""
    parts = [
        client.get(f"{API}/submissions/{submission.id}").text,
        client.get(f"{API}/responses/{response_id}").text,
        client.get(f"{API}/rounds/{w.rnd.id}/record").text,
        client.get(f"{API}/feed").text,
        client.get(f"{API}/feed.atom").text,
        client.get(f"{API}/export.ndjson").text,
        client.get(f"{API}/export.csv").text,
        client.get(f"{API}/search", params={"q": "劳工律师"}).text,
        client.get(f"{API}/search", params={"q": "天津"}).text,
        client.get(f"/record/submissions/{submission.id}").text,
        client.get(f"/record/rounds/{w.rnd.id}").text,
    ]
    return "\n".join(parts)


def test_a_withdrawn_submissions_translations_leave_every_output_and_the_database(
    client, make, driver, answered, engine
):
    w, submission, response_id = answered
    _translate_both(client, make, w, submission, response_id)
    before = _everything_public(client, w, submission, response_id)
    assert ZH_BODY in before and ZH_ANSWER in before
    # a Chinese query finds the English submission through its translation
    hits = ok(client.get(f"{API}/search", params={"q": "劳工律师"}))["items"]
    assert str(submission.id) in {hit["id"] for hit in hits}

    driver.withdraw(w.author, submission.id)
    after = _everything_public(client, w, submission, response_id)
    for text in (ZH_TITLE, ZH_BODY, ZH_ANSWER):
        assert text not in after, text
    # the submission's translations are gone from the database; the log keeps hashes only
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Translation.__table__)).all()  # type: ignore[attr-defined]
    assert [row.object_type for row in rows] == ["response"]
    gone = [e for e in ndjson_items(client) if e["type"].startswith("translation.")]
    assert len(gone) == 2 and all(e["content"] is None for e in gone)


def test_no_translator_is_named_in_public(client, make, answered):
    w, submission, response_id = answered
    _translate_both(client, make, w, submission, response_id)
    moderated = {"language": "fr", "body": "Ils sont détenus à Tianjin."}
    _post(client, make, w.moderator, f"/responses/{response_id}/translations", moderated)
    text = _everything_public(client, w, submission, response_id)
    for secret in (w.author.handle, w.cn.handle, w.moderator.handle, str(w.author.id)):
        assert secret not in text, secret
    for user in (w.author, w.cn, w.moderator):
        assert str(user.id) not in text


def test_a_pending_submissions_translation_cannot_exist_publicly(client, make):
    w = world(make)
    draft = pending(make, w)
    r = client.post(
        f"{API}/submissions/{draft.id}/translations",
        json={"language": "zh-Hans", "body": ZH_BODY},
        headers=make.headers(w.author),
    )
    assert_problem(r, 409)
    r = client.post(
        f"{API}/submissions/{draft.id}/translations",
        json={"language": "zh-Hans", "body": ZH_BODY},
        headers=make.headers(make.user(Role.activist)),
    )
    assert_problem(r, 404)


def test_the_submission_page_shows_the_translations_and_which_text_is_authoritative(
    client, make, answered
):
    w, submission, response_id = answered
    _translate_both(client, make, w, submission, response_id)
    _put(client, make, w.cn, f"/responses/{response_id}/authoritative", {"language": "zh-Hans"})
    english = ok_page(client, f"/record/submissions/{submission.id}")
    assert ZH_BODY in english and ZH_ANSWER in english
    assert "Translated by the author" in english and "Translated by the delegation" in english
    assert "The authoritative text is the one in zh-Hans." in english
    # the original first for an English reader, the Chinese translation first for a Chinese one
    assert english.index("Where are the detained") < english.index(ZH_BODY)
    chinese = ok_page(client, f"/record/submissions/{submission.id}", lang="zh-Hans")
    assert chinese.index(ZH_BODY) < chinese.index("Where are the detained")
    assert "由代表团翻译" in chinese and "权威文本" in chinese


def ok_page(client, path: str, **params: str) -> str:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.text


def test_a_page_without_translations_reads_none(client, make, driver, engine):
    w = world(make)
    for n in range(3):
        submission = make.submission(w.rnd, author=w.author, title=f"Item {n}")
        driver.respond(w.cn, submission.id, f"Answer {n}.")
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        items = ok(client.get(f"{API}/rounds/{w.rnd.id}/record"))["items"]
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert [i["translations"] for i in items] == [[], [], []]
    assert [i["responses"][0]["authoritative_language"] for i in items] == ["en"] * 3
    # the page asks whether there are any (inside its own query), and reads none
    assert not [s for s in statements if "WHERE translation.submission_id IN" in s]
