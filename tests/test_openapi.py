"""The OpenAPI document tells the truth a client generator, a linter and a fuzzer need:
typed problems, readable names, examples that fit their schemas, the headers and
statuses the server really sends; and the server holds to it (strict instants, `Allow`,
one moderation vocabulary)."""

import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from models.round import Phase
from models.user import Role
from tests.client import assert_problem
from tests.factories import window

PROBLEM_JSON = "application/problem+json"
SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
GENERIC = {"Kind", "Status", "Side", "Decision", "Phase", "HTTPValidationError", "ValidationError"}


@pytest.fixture(scope="module")
def doc(app) -> dict[str, Any]:
    return app.openapi()


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_the_document_is_valid_openapi(client):
    spec = client.get("/openapi.json").json()
    validate(spec)
    assert spec["openapi"].startswith("3.1")


def test_every_error_is_a_typed_problem_and_nothing_else(doc):
    seen = 0
    for path, method, op in operations(doc):
        for code, response in op["responses"].items():
            if int(code) < 400:
                continue
            seen += 1
            expected = "ValidationProblem" if code == "422" else "Problem"
            assert response["content"] == {
                PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{expected}"}}
            }, (method, path, code)
    assert seen > 150
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status"}


def test_operation_ids_are_explicit_snake_case_and_unique(doc):
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert SNAKE.match(operation_id), operation_id
        assert "api_v1" not in operation_id and not operation_id.endswith(("_get", "_post"))
    for expected in ("create_submission", "read_record", "moderate_case", "create_token"):
        assert expected in ids


def test_schemas_are_named_for_what_they_are(doc):
    names = set(doc["components"]["schemas"])
    assert not names & GENERIC
    assert not [n for n in names if n.startswith(("Body_", "Page_")) or "_" in n]
    assert {"SubmissionKind", "TokenRequest", "Jwks", "ModerationDecision"} <= names
    moderation = doc["components"]["schemas"]["CaseModeration"]["properties"]["decision"]
    assert moderation == {**moderation, "$ref": "#/components/schemas/ModerationDecision"}
    assert doc["components"]["schemas"]["ModerationDecision"]["enum"] == [
        "publish",
        "reject",
        "remove",
    ]


def test_tags_servers_license_and_contact(doc):
    defined = {tag["name"]: tag.get("description") for tag in doc["tags"]}
    used = {tag for _, _, op in operations(doc) for tag in op["tags"]}
    assert used <= set(defined)
    assert all(defined.values())
    assert doc["servers"] and doc["info"]["license"]["identifier"] == "AGPL-3.0-or-later"
    assert doc["info"]["contact"]["name"]


def _validator(doc, schema):
    return Draft202012Validator(_inline(doc, schema))


def _inline(doc, node):
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return _inline(doc, doc["components"]["schemas"][name])
        return {k: _inline(doc, v) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(doc, v) for v in node]
    return node


def test_every_body_and_2xx_answer_has_an_example_that_fits(doc):
    checked = 0
    for path, method, op in operations(doc):
        contents = [(f"{method} {path} body", op.get("requestBody", {}).get("content", {}))]
        for code, response in op["responses"].items():
            if code.startswith("2"):
                contents.append((f"{method} {path} {code}", response.get("content", {})))
        for where, content in contents:
            for media, item in content.items():
                assert "example" in item, (where, media)
                if media == "application/json" or "form" in media:
                    errors = list(_validator(doc, item["schema"]).iter_errors(item["example"]))
                    assert not errors, (where, errors[0].message)
                    checked += 1
    assert checked > 60


def test_headers_and_conditional_statuses_are_documented(doc):
    read_round = doc["paths"]["/api/v1/rounds/{round_id}"]["get"]
    assert "ETag" in read_round["responses"]["200"]["headers"]
    assert "304" in read_round["responses"]
    update = doc["paths"]["/api/v1/rounds/{round_id}"]["patch"]
    if_match = next(p for p in update["parameters"] if p["name"] == "If-Match")
    assert if_match["required"] is True and if_match["schema"]["type"] == "string"
    assert {"412", "428"} <= set(update["responses"])
    revise = doc["paths"]["/api/v1/responses/{response_id}/revisions"]["post"]
    assert not next(p for p in revise["parameters"] if p["name"] == "If-Match")["required"]
    listing = doc["paths"]["/api/v1/dialogues"]["get"]["responses"]["200"]["headers"]
    assert "Link" in listing
    submit = doc["paths"]["/api/v1/rounds/{round_id}/submissions"]["post"]
    assert "Idempotent-Replayed" in submit["responses"]["201"]["headers"]
    assert "WWW-Authenticate" in submit["responses"]["401"]["headers"]
    token = doc["paths"]["/api/v1/auth/token"]["post"]["responses"]["429"]
    assert "Retry-After" in token["headers"]


def test_public_reads_say_sign_in_is_optional(doc, client, make):
    for path in ("/api/v1/cases/{case_id}", "/api/v1/submissions/{submission_id}"):
        assert doc["paths"][path]["get"]["security"] == [{}, {"OAuth2PasswordBearer": []}]
    create = doc["paths"]["/api/v1/cases"]["post"]
    assert create["security"] == [{"OAuth2PasswordBearer": []}]
    # and they are: anonymous reads of a published submission answer
    submission = make.submission(make.round())
    assert client.get(f"/api/v1/submissions/{submission.id}").status_code == 200


ROUND = window(Phase.upcoming)


def _round_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": 1,
        "title": "Round one",
        **{name: at.isoformat() for name, at in ROUND.items()},
    }
    return body | changes


@pytest.mark.parametrize(
    "value",
    [0, 1700000000, "0", "1700000000", "2030-01-01T00:00:00", "2030-01-01", True, None],
)
def test_instants_are_strings_with_a_zone(client, make, value):
    admin, dialogue = make.user(Role.admin), make.dialogue()
    r = client.post(
        f"/api/v1/dialogues/{dialogue.slug}/rounds",
        json=_round_body(submissions_open_at=value),
        headers=make.headers(admin),
    )
    problem = assert_problem(r, 422)
    assert problem["errors"][0]["loc"] == ["body", "submissions_open_at"]


def test_an_instant_with_an_offset_is_taken(client, make):
    admin, dialogue = make.user(Role.admin), make.dialogue()
    opens = ROUND["submissions_open_at"].astimezone().isoformat()
    r = client.post(
        f"/api/v1/dialogues/{dialogue.slug}/rounds",
        json=_round_body(submissions_open_at=opens),
        headers=make.headers(admin),
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/dialogues", "GET, POST"),
        ("DELETE", "/api/v1/rounds/7d3b1f2e-5a4c-4e8b-9f1d-2c6a8e0b4d13", "GET, PATCH"),
        (
            "PUT",
            "/api/v1/submissions/7d3b1f2e-5a4c-4e8b-9f1d-2c6a8e0b4d13/endorsements",
            "POST, DELETE",
        ),
        ("POST", "/healthz", "GET"),
    ],
)
def test_a_405_allows_every_method_of_the_path(client, method, path, allowed):
    r = client.request(method, path)
    assert_problem(r, 405)
    assert r.headers["allow"] == allowed


@pytest.mark.parametrize("decision", ["publish", "published"])
def test_case_moderation_takes_the_submission_words(client, make, decision):
    activist, moderator = make.user(Role.activist), make.user(Role.moderator)
    r = client.post(
        "/api/v1/cases",
        json={"name": "Wang Quanzhang", "summary": "A lawyer.", "status_date": "2015-07-09"},
        headers=make.headers(activist),
    )
    assert r.status_code == 201, r.text
    case = r.json()["id"]
    r = client.post(
        f"/api/v1/cases/{case}/moderation",
        json={"decision": decision},
        headers=make.headers(moderator),
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/cases/{case}/moderation",
        json={"decision": "remove"},
        headers=make.headers(moderator),
    )
    assert r.json()["errors"][0]["msg"].endswith("a reason is required to remove a case")
    r = client.post(
        f"/api/v1/cases/{case}/moderation",
        json={"decision": "remove", "reason": "Asked by the family."},
        headers=make.headers(moderator),
    )
    assert r.status_code == 200, r.text
