"""The pages are part of the privacy sweep: the round of tests/api/test_privacy.py is
played through the API, then every page of /record is fetched anonymously, in both
languages, with every filter and every page of the round's record. No page may show an
author the attribution hides, an email, a restricted detail, an unconsented name, when a
submission was written, a moderation note, or anything withdrawn, removed, rejected or
pending; a case whose consent is withdrawn loses its name on every page at once.
"""

import re
import uuid
from dataclasses import dataclass
from html import unescape

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session

from models.user import User
from tests.api.test_cases import case_body
from tests.api.test_privacy import Scenario, _forms, _instant_forms
from tests.factories import Factory

API = "/api/v1"
LANGS = ("en", "zh-Hans")
UNCONSENTED = "UnconsentedName-5d2a"
UNCONSENTED_NATIVE = "未同意姓名甲"
RESTRICTED = "RestrictedDetail-9c4e: his sister on +86 139 0000 1234"
CONSENTED = "ConsentedName-8b1f"
PAGE_LINK = re.compile(r'href="(/record/[^"#]*)"')
NEXT_LINK = re.compile(r'<a href="([^"]+)" rel="next">')


@dataclass
class Page:
    url: str
    response: httpx.Response

    @property
    def text(self) -> str:
        headers = "\n".join(f"{k}: {v}" for k, v in self.response.headers.items())
        return f"{headers}\n\n{unescape(self.response.text)}".casefold()


def _ok(r: httpx.Response, status: int = 200) -> dict:
    assert r.status_code == status, r.text
    return r.json()


def _headers(make: Factory, db: Session, user: User) -> dict[str, str]:
    headers = make.headers(user)
    db.commit()  # end the read of the user: on SQLite it holds the lock the app needs
    return headers


def _cases(client: TestClient, make: Factory, db: Session, sc: Scenario) -> dict[str, str]:
    """A published case named without consent, and one named with it."""
    recorder = _headers(make, db, sc.users["anonymous author"])
    moderator = _headers(make, db, sc.users["moderator"])
    ids = {}
    for label, name, native, consent in (
        ("unconsented", UNCONSENTED, UNCONSENTED_NATIVE, False),
        ("consented", CONSENTED, None, True),
    ):
        body = case_body(
            name=name, name_native=native, name_consent=consent, restricted_details=RESTRICTED
        )
        case_id = _ok(client.post(f"{API}/cases", json=body, headers=recorder), 201)["id"]
        publish = {"decision": "published"}
        _ok(client.post(f"{API}/cases/{case_id}/moderation", json=publish, headers=moderator))
        ids[label] = case_id
    return ids


def _urls(sc: Scenario, case_ids: dict[str, str]) -> list[str]:
    rid = sc.round_id
    urls = [
        "/record",
        f"/record/dialogues/{sc.slug}",
        f"/record/dialogues/{sc.slug}/scorecard",
        f"/record/rounds/{rid}",
        f"/record/rounds/{rid}/scorecard",
        "/record/cases",
    ]
    filters = {
        "q": ["律师", "Guangzhou", "WithdrawnTitle", "RemovedBody", "PendingTitle", "PendingOrg"],
        "theme": ["labour-rights", "xinjiang"],
        "delegation": ["CN", "US"],
        "kind": ["concern", "case"],
        "answered": ["true", "false"],
    }
    for name, values in filters.items():
        urls += [f"/record/rounds/{rid}?{name}={value}" for value in values]
    # the search page: searching for a secret finds nothing and does not echo it whole
    searches = [
        *filters["q"],
        "RejectedTitle",
        "AnswerToWithdrawn",
        "AnswerToRemoved",
        "UnconsentedName",
        "未同意姓名",
        "RestrictedDetail",
        "HandleAuthor",
        "AnonAuthor",
        "OrgAuthor",
        "Endorser",
        "ConsentedName",
    ]
    urls.append("/record/search")
    urls += [f"/record/search?q={q}" for q in searches]
    narrowed = {
        "type": ["submission", "response", "case", "benchmark", "commitment"],
        "round_id": [rid],
        "dialogue": [sc.slug],
        "delegation": ["CN", "US"],
        "theme": ["labour-rights"],
        "language": ["zh", "en"],
    }
    for name, values in narrowed.items():
        for value in values:
            urls += [f"/record/search?q={q}&{name}={value}" for q in ("律师", "Guangzhou")]
    urls += [f"/record/search?q={q}&type=case" for q in ("UnconsentedName", "未同意姓名")]
    urls += [f"/record/submissions/{sid}" for sid in sc.submissions.values()]
    urls += [f"/record/cases/{cid}" for cid in case_ids.values()]
    return urls


def fetch_every_page(client: TestClient, sc: Scenario, case_ids: dict[str, str]) -> list[Page]:
    """Every page, in both languages, and every next page of the round's record one item
    at a time; then every page those link to that was not fetched yet."""
    fetched: list[Page] = []
    seen: set[str] = set()

    def get(url: str) -> httpx.Response:
        r = client.get(url)
        fetched.append(Page(url, r))
        seen.add(url)
        return r

    for lang in LANGS:
        for url in _urls(sc, case_ids):
            get(str(httpx.URL(url).copy_merge_params({"lang": lang})))
        url = f"/record/rounds/{sc.round_id}?limit=1&lang={lang}"
        for _ in range(20):
            found = NEXT_LINK.search(unescape(get(url).text))
            if not found:
                break
            url = unescape(found.group(1))
    for page in list(fetched):
        for link in PAGE_LINK.findall(page.response.text):
            link = unescape(link)
            if link not in seen and "/static/" not in link:
                get(link)
    return fetched


def test_no_page_leaks_a_secret(client, make, db, scenario):
    case_ids = _cases(client, make, db, scenario)
    pages = fetch_every_page(client, scenario, case_ids)

    broken = [(p.url, p.response.status_code) for p in pages if p.response.status_code >= 500]
    assert not broken
    answered = {p.url.split("?")[0] for p in pages if p.response.status_code == 200}
    rid, slug = scenario.round_id, scenario.slug
    expected = {
        "/record",
        f"/record/dialogues/{slug}",
        f"/record/dialogues/{slug}/scorecard",
        f"/record/rounds/{rid}",
        f"/record/rounds/{rid}/scorecard",
        "/record/cases",
        "/record/search",
        *(f"/record/cases/{cid}" for cid in case_ids.values()),
        *(
            f"/record/submissions/{scenario.submissions[label]}"
            for label in ("anonymous", "handle", "organisation")
        ),
    }
    assert answered >= expected, sorted(expected - answered)
    assert all(p.response.headers["content-type"].startswith("text/html") for p in pages)

    secrets = {
        **scenario.secrets,
        "unconsented name": UNCONSENTED,
        "unconsented native name": UNCONSENTED_NATIVE,
        "restricted details": RESTRICTED,
    }
    leaks = [
        (p.url, what)
        for p in pages
        for what, secret in secrets.items()
        if any(form in p.text for form in _forms(secret))
    ]
    assert not leaks, "\n".join(f"{url} shows the {what}" for url, what in leaks)

    written = [form for at in scenario.written_at for form in _instant_forms(at)]
    timing = [p.url for p in pages if any(form in p.response.text for form in written)]
    assert not timing, f"when a submission was written shows in {timing}"
    assert not [p.url for p in pages if "created_at" in p.response.text]

    # what may be seen is seen: the walk would have found the secrets had they been there
    everything = "\n".join(p.text for p in pages)
    assert "HandleAuthor-2b7d".casefold() in everything
    assert "OrgVisible-4a1c Rights Watch".casefold() in everything
    assert CONSENTED.casefold() in everything
    assert "they are held in guangzhou no. 1 detention centre." in everything
    assert "more precise." in everything  # the revision note
    # and the search pages found what may be found
    found = {
        httpx.URL(p.url).params.get("q")
        for p in pages
        if p.url.startswith("/record/search?") and 'id="hit-' in p.text
    }
    assert found >= {"律师", "Guangzhou", "ConsentedName"}, found


def test_hidden_submissions_are_the_same_html_404_as_a_missing_one(client, scenario):
    missing = client.get(f"/record/submissions/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    for label in ("withdrawn", "pending", "rejected", "removed"):
        r = client.get(f"/record/submissions/{scenario.submissions[label]}")
        assert r.status_code == 404, label
        assert r.content == missing.content, label


def test_withdrawing_consent_takes_the_name_off_every_page_at_once(client, make, db, scenario):
    case_ids = _cases(client, make, db, scenario)
    case_page = f"/record/cases/{case_ids['consented']}"
    assert CONSENTED in client.get(case_page).text
    assert CONSENTED in client.get("/record/cases").text

    moderator = _headers(make, db, scenario.users["moderator"])
    consent = {"name_consent": False}
    _ok(client.put(f"{API}/cases/{case_ids['consented']}/consent", json=consent, headers=moderator))

    for url in (case_page, "/record/cases", f"{case_page}?lang=zh-Hans"):
        r = client.get(url)
        assert r.status_code == 200
        assert CONSENTED not in r.text, url


def test_a_withdrawn_or_removed_submission_leaves_the_pages_at_once(client, make, driver, db):
    from models.round import Phase
    from models.user import Role

    rnd = make.round(phase=Phase.accepting_submissions)
    author = make.user(Role.activist)
    moderator = make.user(Role.moderator)
    db.commit()
    kept = driver.submit(rnd, author, title="KeptTitle-3c1e").json()["id"]
    withdrawn = driver.submit(rnd, author, title="LeavingTitle-7e2d").json()["id"]
    removed = driver.submit(rnd, author, title="RemovedTitle-9a4b").json()["id"]
    for sid in (kept, withdrawn, removed):
        driver.publish(moderator, sid)
    round_page = f"/record/rounds/{rnd.id}"
    html = client.get(round_page).text
    assert "KeptTitle-3c1e" in html and "LeavingTitle-7e2d" in html and "RemovedTitle-9a4b" in html
    assert client.get(f"/record/submissions/{withdrawn}").status_code == 200

    driver.withdraw(author, withdrawn)
    driver.remove(moderator, removed)

    html = client.get(round_page).text
    assert "KeptTitle-3c1e" in html
    assert "LeavingTitle-7e2d" not in html and "RemovedTitle-9a4b" not in html
    for sid in (withdrawn, removed):
        assert client.get(f"/record/submissions/{sid}").status_code == 404


def test_a_revised_answer_shows_on_the_round_page_at_once(client, make, driver, db):
    from models.round import Phase

    rnd = make.round(phase=Phase.accepting_responses)
    submission = make.submission(rnd)
    official = make.official(rnd, "CN")
    db.commit()
    response_id = driver.respond(official, submission.id, "FirstText-2f6c")
    round_page = f"/record/rounds/{rnd.id}"
    for lang in ("en", "zh-Hans"):  # each language's rendering of the item is kept
        assert "FirstText-2f6c" in client.get(round_page, params={"lang": lang}).text
    tag = client.get(f"/api/v1/responses/{response_id}").headers["ETag"]
    r = client.post(
        f"/api/v1/responses/{response_id}/revisions",
        json={"body": "SecondText-8d3a", "reason": "Corrected."},
        headers={**make.headers(official), "If-Match": tag},
    )
    assert r.status_code == 201, r.text
    for lang in ("en", "zh-Hans"):
        html = client.get(round_page, params={"lang": lang}).text
        assert "SecondText-8d3a" in html and "FirstText-2f6c" not in html
