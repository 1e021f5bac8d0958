"""The privacy rules of DESIGN.md, tested against every public GET in the OpenAPI document.

A realistic round is played through the API (set up, submitted, moderated, withdrawn,
answered, revised, assessed, endorsed, advanced), then every GET endpoint is fetched
anonymously with the scenario's real ids, slugs and filters. No body or header may
carry a secret: every secret string is distinctive, and is shown to exist where it
may be seen, so the check can fail.
"""

import contextlib
import itertools
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models.audit import AuditEntry
from models.round import Phase, Round
from models.submission import Submission
from models.user import Role, User
from tests.factories import PASSWORD, Factory, window

API = "/api/v1"

# Distinctive strings: present in the system, never in a public view.
REJECT_REASON = "RejectReason-7f3a: names a witness in Guangzhou"
REMOVE_REASON = "RemoveReason-1b9d: endangers a source"
# DESIGN.md hides the raters, not what they said: the comment is no secret here.
ASSESSMENT_COMMENT = "Names the place but not the charges."
ORGANISATION = "OrgVisible-4a1c Rights Watch"


@dataclass
class Scenario:
    round_id: str
    slug: str
    submissions: dict[str, str]  # label -> id
    responses: dict[str, str]  # label -> id
    users: dict[str, User]
    secrets: dict[str, str] = field(default_factory=dict)  # what it is -> the string
    written_at: list[datetime] = field(default_factory=list)  # submissions' created_at


def _z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.text}"
    return r.json() if r.content else None


class Actor:
    """A signed-in caller of the API."""

    def __init__(self, client: TestClient, make: Factory, user: User) -> None:
        self.client, self.user, self.headers = client, user, make.headers(user)

    def post(self, path: str, body: dict[str, Any] | None = None, status: int = 201, **kw) -> Any:
        headers = {**self.headers, **kw.pop("headers", {})}
        return _ok(self.client.post(API + path, json=body, headers=headers, **kw), status)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(API + path, headers=self.headers, **kw)

    def put(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        return _ok(self.client.put(API + path, json=body, headers=self.headers), status)

    def patch(self, path: str, body: dict[str, Any], if_match: str) -> Any:
        headers = {**self.headers, "If-Match": if_match}
        return _ok(self.client.patch(API + path, json=body, headers=headers))


def _load(db: Session, user_id: str) -> User:
    user = db.get_one(User, uuid.UUID(user_id))
    db.commit()  # end the transaction: on SQLite it holds the write lock the app needs
    return user


def _register(client: TestClient, make: Factory, db: Session, handle: str) -> Actor:
    email = f"{handle.lower()}@mail.example.org"
    body = {"handle": handle, "password": PASSWORD, "email": email}
    created = _ok(client.post(f"{API}/auth/register", json=body), 201)
    return Actor(client, make, _load(db, created["id"]))


def _invited(client: TestClient, make: Factory, db: Session, admin: Actor, handle: str, **invite):
    token = admin.post("/invitations", invite)["token"]
    body = {"token": token, "handle": handle, "password": PASSWORD}
    created = _ok(client.post(f"{API}/auth/accept-invitation", json=body), 201)
    return Actor(client, make, _load(db, created["id"]))


def _advance(admin: Actor, round_id: str, phase: Phase) -> None:
    """Move the round to `phase` the way an admin would: PATCH its instants with If-Match."""
    tag = admin.get(f"/rounds/{round_id}").headers["ETag"]
    instants = {name: _z(at) for name, at in window(phase).items()}
    assert admin.patch(f"/rounds/{round_id}", instants, if_match=tag)["phase"] == phase.value


ANSWER_TO_GROUP = {"kind": "answer", "language": "en"}


@pytest.fixture
def scenario(client: TestClient, make: Factory, db: Session) -> Scenario:
    admin = Actor(client, make, make.user(Role.admin, handle="Admin-8e2c"))
    slug = "us-china-hrd"
    admin.post("/dialogues", {"slug": slug, "title": "US-China Human Rights Dialogue"})
    delegations = {
        code: admin.post(f"/dialogues/{slug}/delegations", {"code": code, "name": name})["id"]
        for code, name in (("US", "United States"), ("CN", "China"))
    }
    instants = {name: _z(at) for name, at in window(Phase.accepting_submissions).items()}
    round_id = admin.post(
        f"/dialogues/{slug}/rounds",
        {"number": 17, "title": "Washington 2012", "location": "Washington", **instants},
    )["id"]

    moderator = _invited(client, make, db, admin, "Moderator-6a0f", role="moderator")
    cn = _invited(
        client, make, db, admin, "CnOfficial-3e1a", role="official", delegation_id=delegations["CN"]
    )
    us = _invited(
        client, make, db, admin, "UsOfficial-7c5b", role="official", delegation_id=delegations["US"]
    )

    anon_author = _register(client, make, db, "AnonAuthor-c41d")
    handle_author = _register(client, make, db, "HandleAuthor-2b7d")
    org_author = _register(client, make, db, "OrgAuthor-5e8a")
    endorser_1 = _register(client, make, db, "Endorser-3d6f")
    endorser_2 = _register(client, make, db, "Endorser-9a7b")

    def submit(author: Actor, title: str, body: str, **extra: Any) -> str:
        payload = {
            "kind": "concern",
            "title": title,
            "body": body,
            "language": "en",
            "themes": ["labour-rights"],
            "addressed_to": ["CN"],
            **extra,
        }
        return str(author.post(f"/rounds/{round_id}/submissions", payload)["id"])

    s = {
        "anonymous": submit(
            anon_author,
            "Detained labour lawyers in Guangzhou",
            "Where are the labour lawyers (律师) detained in Guangzhou held?",
            themes=["labour-rights", "human-rights-defenders"],
        ),
        "handle": submit(
            handle_author,
            "Freedom of religion in Xinjiang",
            "Will the delegations allow a UN rapporteur to visit?",
            attribution="handle",
            themes=["freedom-of-religion", "xinjiang"],
            addressed_to=["CN", "US"],
        ),
        "organisation": submit(
            org_author,
            "Independent unions",
            "Will workers be allowed to form independent unions?",
            attribution="organisation",
            organisation=ORGANISATION,
        ),
        "rejected": submit(anon_author, "RejectedTitle-0d2e", "RejectedBody-0d2e 律师"),
        "removed": submit(
            handle_author, "RemovedTitle-1c3f", "RemovedBody-1c3f 律师", attribution="handle"
        ),
        "withdrawn": submit(anon_author, "WithdrawnTitle-6b4a", "WithdrawnBody-6b4a 律师"),
        # grouped answers: one keeps a member, the other loses both
        "grouped-kept": submit(anon_author, "Lawyers' licences", "Licences not renewed."),
        "grouped-gone": submit(anon_author, "GroupedGoneTitle-3a9d", "GroupedGoneBody-3a9d"),
        "grouped-all-1": submit(anon_author, "GroupedAllTitle-4c2e", "GroupedAllBody-4c2e"),
        "grouped-all-2": submit(
            handle_author, "GroupedAllTitle-9e1b", "GroupedAllBody-9e1b", attribution="handle"
        ),
        # answered by CN with a response held for a joint release: the public sees only
        # that it is scheduled, never its text, its id or its kind
        "held": submit(handle_author, "Lawyers' families", "Are the families told?"),
        "pending": submit(
            org_author,
            "PendingTitle-5f8e",
            "PendingBody-5f8e 律师",
            attribution="organisation",
            organisation="PendingOrg-2a9c",
        ),
    }

    def moderate(label: str, decision: str, reason: str | None = None) -> None:
        body = {"decision": decision, **({"reason": reason} if reason else {})}
        moderator.post(f"/submissions/{s[label]}/moderation", body, status=200)

    for label in ("anonymous", "handle", "organisation", "removed", "withdrawn", "held"):
        moderate(label, "publish")
    for label in ("grouped-kept", "grouped-gone", "grouped-all-1", "grouped-all-2"):
        moderate(label, "publish")
    moderate("rejected", "reject", REJECT_REASON)

    for endorser, labels in ((endorser_1, ("anonymous", "handle")), (endorser_2, ("anonymous",))):
        for label in labels:
            endorser.post(f"/submissions/{s[label]}/endorsements")
    endorser_2.post(f"/submissions/{s['withdrawn']}/endorsements")

    _advance(admin, round_id, Phase.accepting_responses)

    def respond(official: Actor, label: str, kind: str, body: str, **extra: Any) -> str:
        payload = {"kind": kind, "body": body, "language": "en", **extra}
        return str(official.post(f"/submissions/{s[label]}/responses", payload)["id"])

    r = {
        "anonymous": respond(cn, "anonymous", "answer", "They are held in Guangzhou."),
        "handle-cn": respond(
            cn, "handle", "declined", "An internal matter.", reason_code="internal_affairs"
        ),
        "handle-us": respond(us, "handle", "holding", "We will answer after consultation."),
        "organisation": respond(cn, "organisation", "answer", "Unions exist already."),
        "withdrawn": respond(cn, "withdrawn", "answer", "AnswerToWithdrawn-8d1b"),
        "removed": respond(cn, "removed", "answer", "AnswerToRemoved-4e7c"),
    }
    for key, labels, body in (
        ("grouped-kept", ("grouped-kept", "grouped-gone"), "One answer to two questions."),
        ("grouped-gone", ("grouped-all-1", "grouped-all-2"), "GroupedAnswerGone-7f3a"),
    ):
        payload = {"submission_ids": [s[label] for label in labels], **ANSWER_TO_GROUP}
        r[key] = str(
            cn.post(f"/rounds/{round_id}/grouped-responses", {**payload, "body": body})["id"]
        )
    # CN's release instant for the round holds what it posts next; a revision before the
    # release replaces the draft silently
    held_until = _z(datetime.now(UTC) + timedelta(days=2))
    cn.put(f"/rounds/{round_id}/delegations/CN/release", {"release_at": held_until})
    held = respond(cn, "held", "declined", "HeldAnswer-5c2d", reason_code="other")
    cn.post(f"/responses/{held}/revisions", {"body": "HeldRevision-7e3a", "reason": "Draft."})
    tag = cn.get(f"/responses/{r['anonymous']}").headers["ETag"]
    cn.post(
        f"/responses/{r['anonymous']}/revisions",
        {"body": "They are held in Guangzhou No. 1 Detention Centre.", "reason": "More precise."},
        headers={"If-Match": tag},
    )

    anon_author.post(
        f"/responses/{r['anonymous']}/assessments",
        {"rating": "partial", "comment": ASSESSMENT_COMMENT},
    )
    handle_author.post(f"/responses/{r['handle-cn']}/assessments", {"rating": "non_responsive"})
    moderator.post(f"/responses/{r['anonymous']}/assessments", {"rating": "evasive"})

    # Translations: of what stays public (the Chinese answer made authoritative), and of
    # what is then withdrawn or removed, which must leave with its original.
    moderator.post(
        f"/submissions/{s['anonymous']}/translations",
        {"language": "zh-Hans", "title": "广州被拘留的劳工律师", "body": "他们被关押在哪里？"},
    )
    cn.post(
        f"/responses/{r['anonymous']}/translations",
        {"language": "zh-Hans", "body": "他们被关押在广州市第一看守所。"},
    )
    cn.client.put(
        f"{API}/responses/{r['anonymous']}/authoritative",
        json={"language": "zh-Hans"},
        headers=cn.headers,
    ).raise_for_status()
    anon_author.post(
        f"/submissions/{s['withdrawn']}/translations",
        {"language": "zh-Hans", "title": "WithdrawnTrTitle-7e2f", "body": "WithdrawnTr-7e2f 律师"},
    )
    cn.post(
        f"/responses/{r['withdrawn']}/translations",
        {"language": "zh-Hans", "body": "WithdrawnAnswerTr-5c1e"},
    )
    moderator.post(
        f"/submissions/{s['removed']}/translations",
        {"language": "fr", "body": "RemovedTr-3a9d"},
    )

    anon_author.post(f"/submissions/{s['withdrawn']}/withdraw", status=200)
    moderate("removed", "remove", REMOVE_REASON)
    anon_author.post(f"/submissions/{s['grouped-gone']}/withdraw", status=200)
    anon_author.post(f"/submissions/{s['grouped-all-1']}/withdraw", status=200)
    moderate("grouped-all-2", "remove", REMOVE_REASON)
    _advance(admin, round_id, Phase.concluded)

    users = {
        "admin": admin.user,
        "moderator": moderator.user,
        "anonymous author": anon_author.user,
        "handle author": handle_author.user,
        "organisation author": org_author.user,
        "endorser 1": endorser_1.user,
        "endorser 2": endorser_2.user,
    }
    secrets: dict[str, str] = {}
    for who, user in users.items():
        secrets[f"{who}'s id"] = str(user.id)
        if user.email:
            secrets[f"{who}'s email"] = user.email
        if who != "handle author":  # the only handle attribution allows the public to see
            secrets[f"{who}'s handle"] = user.handle
    secrets.update(
        {
            "rejection reason": REJECT_REASON,
            "removal reason": REMOVE_REASON,
            "withdrawn title": "WithdrawnTitle-6b4a",
            "withdrawn body": "WithdrawnBody-6b4a",
            "removed title": "RemovedTitle-1c3f",
            "removed body": "RemovedBody-1c3f",
            "rejected title": "RejectedTitle-0d2e",
            "rejected body": "RejectedBody-0d2e",
            "pending title": "PendingTitle-5f8e",
            "pending body": "PendingBody-5f8e",
            "pending organisation": "PendingOrg-2a9c",
            "answer to the withdrawn": "AnswerToWithdrawn-8d1b",
            "answer to the removed": "AnswerToRemoved-4e7c",
            "withdrawn grouped member's title": "GroupedGoneTitle-3a9d",
            "withdrawn grouped member's body": "GroupedGoneBody-3a9d",
            "grouped members' titles": "GroupedAllTitle-",
            "grouped members' bodies": "GroupedAllBody-",
            "grouped answer to none left": "GroupedAnswerGone-7f3a",
            "held answer": "HeldAnswer-5c2d",
            "held revision": "HeldRevision-7e3a",
            "held response's id": held,
            "withdrawn translation's title": "WithdrawnTrTitle-7e2f",
            "withdrawn translation": "WithdrawnTr-7e2f",
            "translated answer to the withdrawn": "WithdrawnAnswerTr-5c1e",
            "removed translation": "RemovedTr-3a9d",
            # who translated: the public sees only the kind (`translated_by`)
            "translating official's handle": cn.user.handle,
            "translating official's id": str(cn.user.id),
            "rejected submission's id": s["rejected"],
            "pending submission's id": s["pending"],
        }
    )
    db.expire_all()
    for entry in db.exec(select(AuditEntry)):
        secrets[f"audit entry {entry.action} id"] = str(entry.id)
    written_at = [row.created_at for row in db.exec(select(Submission))]
    db.commit()
    return Scenario(round_id, slug, s, r, users, secrets, written_at)


# --- walking the OpenAPI document ------------------------------------------------


@dataclass
class Fetched:
    template: str
    url: str
    response: httpx.Response


def _deref(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _schema_values(spec: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every value an enum or boolean parameter can take."""
    schema = _deref(spec, schema)
    values: list[str] = []
    for option in schema.get("anyOf", []):
        values += _schema_values(spec, option)
    if "enum" in schema:
        values += [str(v) for v in schema["enum"]]
    if schema.get("type") == "boolean":
        values += ["true", "false"]
    return values


def _query_values(sc: Scenario) -> dict[str, list[str]]:
    searches = ["律师", "Guangzhou", "lawyers"]
    # searching for a secret must find nothing, and must not echo it back either
    searches += ["WithdrawnTitle", "RemovedBody", "PendingTitle", "RejectedTitle", "PendingOrg"]
    searches += ["HeldAnswer", "HeldRevision"]
    return {
        "q": searches,
        "theme": ["labour-rights", "xinjiang"],
        "delegation": ["CN", "US", "cn"],
        "limit": ["1"],
        "round_id": [sc.round_id],
        "target_id": list(sc.submissions.values()),
        "after": ["0"],
    }


def _path_values(sc: Scenario) -> dict[str, list[str]]:
    return {
        "slug": [sc.slug],
        "round_id": [sc.round_id],
        "submission_id": list(sc.submissions.values()),
        "response_id": list(sc.responses.values()),
        "user_id": [str(u.id) for u in sc.users.values()],
    }


def _list_ids(body: Any) -> list[str]:
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return [str(i["id"]) for i in body["items"] if isinstance(i, dict) and "id" in i]
    return []


def _fetch(client: TestClient, template: str, url: str, out: list[Fetched]) -> list[str]:
    """GET `url` and every following page; the ids its pages list."""
    ids: list[str] = []
    for _ in range(50):
        r = client.get(url)
        out.append(Fetched(template, url, r))
        media = r.headers.get("content-type", "").split(";")[0]
        body = r.json() if media in ("application/json", "application/problem+json") else None
        ids += _list_ids(body)
        cursor = body.get("next_cursor") if isinstance(body, dict) else None
        if not cursor:
            return ids
        url = str(httpx.URL(url).copy_merge_params({"cursor": cursor}))
    pytest.fail(f"{template}: more than 50 pages")


def fetch_every_get(client: TestClient, sc: Scenario) -> list[Fetched]:
    """Every GET of the OpenAPI document, anonymously, with the scenario's ids and filters.

    A path parameter the scenario does not know (an entity it does not create) gets the
    ids the collection above it lists, and an id that does not exist."""
    spec = client.get("/openapi.json").json()
    path_values, query_values = _path_values(sc), _query_values(sc)
    listed: dict[str, list[str]] = {}  # a collection's last segment -> the ids it lists
    fetched: list[Fetched] = []
    templates = sorted(
        (path for path, ops in spec["paths"].items() if "get" in ops),
        key=lambda path: path.count("{"),
    )
    for template in templates:
        if template == "/api/v1/feed/stream":
            continue  # never ends; it sends the feed's entries, fetched here already
        params = spec["paths"][template]["get"].get("parameters", [])
        names = re.findall(r"{(\w+)}", template)
        choices = []
        for name in names:
            if name in path_values:
                choices.append(path_values[name])
            else:
                collection = template.split("{" + name + "}")[0].rstrip("/").rsplit("/", 1)[-1]
                choices.append([*listed.get(collection, []), str(uuid.uuid4())])
        for combination in itertools.product(*choices):
            path = template
            for name, value in zip(names, combination, strict=True):
                path = path.replace("{" + name + "}", value)
            segment = template.rstrip("/").rsplit("/", 1)[-1]
            listed.setdefault(segment, []).extend(_fetch(client, template, path, fetched))
            for param in params:
                if param["in"] != "query" or param["name"] == "cursor":
                    continue
                name = param["name"]
                values = query_values.get(name) or _schema_values(spec, param.get("schema", {}))
                for value in values:
                    url = str(httpx.URL(path).copy_merge_params({name: value}))
                    _fetch(client, template, url, fetched)
    return fetched


def _text(f: Fetched) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in f.response.headers.items())
    return f"{headers}\n\n{f.response.text}".casefold()


def _forms(secret: str) -> set[str]:
    """The secret as it might be written: as is, and a UUID also without its dashes."""
    forms = {secret.casefold()}
    with contextlib.suppress(ValueError):
        forms.add(uuid.UUID(secret).hex)
    return forms


def _instant_forms(at: datetime) -> set[str]:
    plain = at.isoformat()  # always with its zone, so a whole second never matches a part
    return {plain, plain.replace("+00:00", "Z")}


# --- the tests ----------------------------------------------------------------------

# Public GETs that must answer 200 to anyone (a walk that reached none of them proves nothing).
PUBLIC = {
    "/api/v1/dialogues",
    "/api/v1/dialogues/{slug}",
    "/api/v1/themes",
    "/api/v1/rounds/{round_id}",
    "/api/v1/rounds/{round_id}/record",
    "/api/v1/rounds/{round_id}/scorecard",
    "/api/v1/submissions/{submission_id}",
    "/api/v1/responses/{response_id}",
    "/api/v1/responses/{response_id}/revisions",
    "/api/v1/search",
}


def test_no_public_view_leaks_a_secret(client, scenario):
    fetched = fetch_every_get(client, scenario)

    answered = {f.template for f in fetched if f.response.status_code == 200}
    assert answered >= PUBLIC, f"never answered 200: {sorted(PUBLIC - answered)}"
    broken = [(f.url, f.response.status_code) for f in fetched if f.response.status_code >= 500]
    assert not broken

    leaks = [
        (f.url, what)
        for f in fetched
        for what, secret in scenario.secrets.items()
        if any(form in _text(f) for form in _forms(secret))
    ]
    assert not leaks, "\n".join(f"{url} shows the {what}" for url, what in leaks)

    written = [form for at in scenario.written_at for form in _instant_forms(at)]
    timing = [f.url for f in fetched if any(form in f.response.text for form in written)]
    assert not timing, f"when a submission was written shows in {timing}"
    keyed = [f.url for f in fetched if "created_at" in f.response.text]
    assert not keyed, f"a `created_at` shows in {keyed}"


def test_attribution_shows_what_it_allows_and_secrets_exist_where_they_may_be_seen(
    client, make, scenario
):
    s = scenario.submissions
    by_id = {
        label: client.get(f"{API}/submissions/{sid}")
        for label, sid in s.items()
        if label in ("anonymous", "handle", "organisation")
    }
    assert by_id["handle"].json()["author"] == "HandleAuthor-2b7d"
    assert by_id["organisation"].json()["author"] == ORGANISATION
    assert by_id["anonymous"].json()["author"] is None
    assert by_id["anonymous"].json()["endorsement_count"] == 2
    ratings = by_id["anonymous"].json()["responses"][0]["ratings"]
    assert ratings == {"satisfactory": 0, "partial": 1, "evasive": 1, "non_responsive": 0}

    record = client.get(f"{API}/rounds/{scenario.round_id}/record").json()["items"]
    assert {i["id"]: i["author"] for i in record} == {
        s["anonymous"]: None,
        s["handle"]: "HandleAuthor-2b7d",
        s["organisation"]: ORGANISATION,
        s["grouped-kept"]: None,
        s["held"]: None,
    }
    # the grouped answer stays for the member left, and names no other
    (kept,) = [i for i in record if i["id"] == s["grouped-kept"]]
    assert [(r["id"], r["grouped_with"]) for r in kept["responses"]] == [
        (scenario.responses["grouped-kept"], [])
    ]
    assert client.get(f"{API}/responses/{scenario.responses['grouped-gone']}").status_code == 404
    held = next(i for i in record if i["id"] == s["held"])
    assert held["responses"] == []
    assert [d["delegation"] for d in held["scheduled"]] == ["CN"]
    revisions = client.get(f"{API}/responses/{scenario.responses['anonymous']}/revisions")
    assert [i["reason"] for i in revisions.json()["items"]] == [None, "More precise."]

    # The secrets are real: those allowed to see them do.
    users = scenario.users
    held_id = scenario.secrets["held response's id"]
    cn_official = make.official(make.session.get_one(Round, uuid.UUID(scenario.round_id)), "CN")
    for viewer in (users["moderator"], cn_official):
        draft = client.get(f"{API}/responses/{held_id}", headers=make.headers(viewer))
        assert draft.status_code == 200 and draft.json()["body"] == "HeldRevision-7e3a"
        assert draft.json()["revision_count"] == 1
    mine = client.get(f"{API}/me/submissions", headers=make.headers(users["anonymous author"]))
    assert REJECT_REASON in mine.text
    # a withdrawn text is erased: its author sees that it was withdrawn, not the text
    assert "WithdrawnTitle-6b4a" not in mine.text
    assert {"status": "withdrawn", "title": "", "body": ""}.items() <= {
        i["status"]: i for i in mine.json()["items"]
    }["withdrawn"].items()
    theirs = client.get(f"{API}/me/submissions", headers=make.headers(users["handle author"]))
    assert REMOVE_REASON in theirs.text
    queue = client.get(f"{API}/moderation/queue", headers=make.headers(users["moderator"]))
    assert "PendingTitle-5f8e" in queue.text and "PendingOrg-2a9c" in queue.text
    audit = client.get(f"{API}/audit?limit=100", headers=make.headers(users["admin"])).text
    assert REJECT_REASON in audit and REMOVE_REASON in audit
    assert all(v in audit for k, v in scenario.secrets.items() if k.startswith("audit entry"))


def test_hidden_submissions_answer_the_same_bare_404_as_a_missing_one(client, scenario):
    missing = client.get(f"{API}/submissions/{uuid.uuid4()}")
    assert missing.status_code == 404
    for label in ("withdrawn", "pending", "rejected", "removed"):
        r = client.get(f"{API}/submissions/{scenario.submissions[label]}")
        assert r.status_code == 404, label
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.content == missing.content, label
    for label in ("withdrawn", "removed"):
        for suffix in ("", "/revisions"):
            r = client.get(f"{API}/responses/{scenario.responses[label]}{suffix}")
            assert r.status_code == 404, label
            assert r.content == client.get(f"{API}/responses/{uuid.uuid4()}{suffix}").content


def test_a_revision_does_not_call_its_time_created_at(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    response = make.response(make.submission(rnd))
    r = client.get(f"{API}/responses/{response.id}/revisions")
    assert r.status_code == 200
    assert "created_at" not in r.text
