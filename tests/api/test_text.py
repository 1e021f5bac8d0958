"""No 500 from text: a lone UTF-16 surrogate, bytes that are not UTF-8, or NUL, anywhere a
client can put text (every string of every JSON write body, every text query filter,
every path parameter, a form body) is a 422 validation problem, on both databases. And
control characters in a request cannot forge a line of the access log.

The operations come from the OpenAPI document, so a new endpoint is covered the day it
is added. The core writes (a submission and a case, created and edited) are sent by a
caller allowed to make them, with a body that is otherwise accepted (checked: 2xx), so
that without the guard the text would reach the database.
"""

import copy
import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.services import rounds as round_service
from api.text import PrintableMessages, printable
from models.round import Phase
from models.submission import Status
from models.user import Role
from tests.factories import PASSWORD, Factory

API = "/api/v1"
SURROGATE = "ab\ud800cd"  # sent as the JSON escape `"ab\ud800cd"`
LOW_SURROGATE = "\udc00x"
NUL = "a\x00b"
# in a URL: a surrogate (UTF-8-encoded, which is not UTF-8), a byte that is never UTF-8,
# a cut-off sequence, NUL
BAD_URL_TEXT = ("%ED%A0%80", "%ff", "ab%E6%B3", "a%00b")
WRITE_METHODS = ("post", "put", "patch", "delete")

# Bodies whose plain version must be accepted (so the bad text would reach the database
# without the guard): (method, path) -> the 2xx expected.
CORE = {
    ("post", "/api/v1/rounds/{round_id}/submissions"): 201,
    ("patch", "/api/v1/submissions/{submission_id}"): 200,
    ("post", "/api/v1/cases"): 201,
    ("post", "/api/v1/cases/{case_id}/timeline"): 201,
    ("post", "/api/v1/submissions/{submission_id}/responses"): 201,
}

# Valid values by field name where the schema's bare type is not enough.
FIELD_VALUES: dict[str, Any] = {
    "themes": ["labour-rights"],
    "addressed_to": ["CN"],
    "delegations": ["CN"],
    "delegation": "CN",
    "language": "en",
    "code": "EU",
    "password": PASSWORD,
    "names": {"en": "A theme"},
    "title": "Detained labour lawyers",
    "name": "Chen Guangcheng",
    "status_date": "2012-04-22",
    "event_date": "2012-04-23",
    "cases": [],
    "submissions": [],
    "benchmarks": [],
}
# ... and by operation, where one field name means different things.
OPERATION_VALUES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/v1/rounds/{round_id}/submissions"): {"kind": "concern"},
    ("post", "/api/v1/submissions/{submission_id}/responses"): {"kind": "answer"},
    ("post", "/api/v1/cases/{case_id}/timeline"): {"status": "released"},
}


# --- the OpenAPI document -----------------------------------------------------------


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its `$ref` followed and an optional (`anyOf [x, null]`) unwrapped."""
    while True:
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        elif "anyOf" in schema or "oneOf" in schema:
            options = [s for s in schema.get("anyOf", schema.get("oneOf")) if s != {"type": "null"}]
            schema = options[0]
        elif "allOf" in schema and len(schema["allOf"]) == 1:
            schema = schema["allOf"][0]
        else:
            return schema


def _sample(spec: dict[str, Any], schema: dict[str, Any], name: str = "") -> Any:
    """A plausible value for `schema` (an object: its required properties): good enough
    for the core bodies, with FIELD_VALUES; the right shape elsewhere."""
    schema = _resolve(spec, schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = schema.get("required", ())
        return {
            key: _sample(spec, sub, key)
            for key, sub in schema.get("properties", {}).items()
            if key in required
        }
    if kind == "array":
        return [_sample(spec, schema.get("items", {}), name)]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    formats = {
        "date": "2024-01-02",
        "date-time": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        "uuid": str(uuid.uuid4()),
        "uri": "https://example.org/source",
    }
    if schema.get("format") in formats:
        return formats[schema["format"]]
    return f"Some text for {name or 'this field'}."


def _string_slots(spec: dict[str, Any], schema: dict[str, Any], path: tuple[Any, ...] = ()):
    """(where, how) for every place in a body where the schema takes a string: a string
    property, an item of a list of strings, a key or a value of a map of strings."""
    schema = _resolve(spec, schema)
    if "properties" in schema:
        for key, sub in schema["properties"].items():
            yield from _string_slots(spec, sub, (*path, key))
        return
    kind = schema.get("type")
    if kind == "string" or "enum" in schema:
        yield path, "value"
    elif kind == "array":
        items = _resolve(spec, schema.get("items", {}))
        if items.get("type") == "string" or "enum" in items:
            yield path, "item"
    elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        yield path, "key"
        yield path, "map-value"


def _with_text(body: dict[str, Any], path: tuple[Any, ...], how: str, text: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    if not path:
        body[text] = "A value"
        return body
    parent = body
    for key in path[:-1]:
        parent = parent.setdefault(key, {})
    key = path[-1]
    parent[key] = {
        "value": text,
        "item": [text],
        "key": {text: "A theme"},
        "map-value": {"en": text},
    }[how]
    return body


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield method, path, operation


def _json_body_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    return content.get("application/json", {}).get("schema")


def _send_json(client, method: str, url: str, body: Any, headers: dict[str, str]):
    # json.dumps escapes a lone surrogate as `\ud800`, as any client library would send it
    return client.request(
        method.upper(),
        url,
        content=json.dumps(body).encode("ascii"),
        headers={**headers, "Content-Type": "application/json"},
    )


def _assert_not_text_problem(response, where: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "urn:civic-input:problem:validation"
    assert problem["status"] == 422
    [issue] = problem["errors"]
    assert issue["type"] == "string_unicode"
    assert issue["loc"][0] == where


# --- a world in which every write can succeed ----------------------------------------


def _world(client, make: Factory) -> dict[str, Any]:
    """Ids for the path parameters and the caller allowed on each operation."""
    admin, moderator = make.user(Role.admin), make.user(Role.moderator)
    author = make.user(Role.activist)
    open_round = make.round(phase=Phase.accepting_submissions)
    pending = make.submission(open_round, author=author, status=Status.pending)
    answering = make.round(phase=Phase.accepting_responses)
    addressed = make.submission(answering, author=author, addressed_to=("CN",))
    cn = make.official(answering, "CN")
    answered = make.submission(answering, author=author, addressed_to=("CN",))
    response = make.response(answered, code="CN", official=cn)
    case = client.post(
        f"{API}/cases",
        json={"name": "Gao Zhisheng", "status_date": "2010-04-01", "summary": "A lawyer."},
        headers=make.headers(author),
    )
    assert case.status_code == 201, case.text
    dialogue_slug = make.dialogue().slug
    ids = {
        "slug": dialogue_slug,
        "round_id": open_round.id,
        "submission_id": pending.id,
        "response_id": response.id,
        "case_id": case.json()["id"],
        "user_id": author.id,
    }
    tag = round_service.etag(open_round, round_service.phase_of(open_round))
    return {
        "ids": ids,
        "callers": {"admin": admin, "moderator": moderator, "author": author, "cn": cn},
        # (method, path) -> (caller, ids that differ from the default, headers)
        "calls": {
            ("post", "/api/v1/rounds/{round_id}/submissions"): ("author", {}, {}),
            ("patch", "/api/v1/submissions/{submission_id}"): ("author", {}, {}),
            ("post", "/api/v1/submissions/{submission_id}/moderation"): ("moderator", {}, {}),
            ("post", "/api/v1/submissions/{submission_id}/responses"): (
                "cn",
                {"submission_id": addressed.id},
                {},
            ),
            ("post", "/api/v1/responses/{response_id}/revisions"): (
                "cn",
                {},
                {"If-Match": f'"response-{response.revision_count}"'},
            ),
            ("post", "/api/v1/responses/{response_id}/assessments"): ("author", {}, {}),
            ("post", "/api/v1/cases"): ("author", {}, {}),
            ("post", "/api/v1/cases/{case_id}/timeline"): ("moderator", {}, {}),
            ("post", "/api/v1/cases/{case_id}/moderation"): ("moderator", {}, {}),
            ("put", "/api/v1/cases/{case_id}/consent"): ("author", {}, {}),
            ("patch", "/api/v1/rounds/{round_id}"): ("admin", {}, {"If-Match": tag}),
            ("post", "/api/v1/rounds/{round_id}/benchmarks"): ("moderator", {}, {}),
            ("post", "/api/v1/rounds/{round_id}/commitments"): ("moderator", {}, {}),
        },
    }


def _request_for(world: dict[str, Any], make: Factory, method: str, path: str):
    """The URL and headers of (method, path): its caller (an admin unless the table says
    otherwise; nobody for the auth endpoints) and its ids (unknown ones: fresh UUIDs)."""
    caller, ids, headers = world["calls"].get((method, path), ("admin", {}, {}))
    if path.startswith(f"{API}/auth/"):
        caller = None
    values = {**world["ids"], **ids}
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    url = path.format(**{name: values.get(name, uuid.uuid4()) for name in names})
    if caller is not None:
        headers = {**headers, **make.headers(world["callers"][caller])}
    return url, headers


# --- the tests ----------------------------------------------------------------------


def test_every_string_of_every_write_body_refuses_a_lone_surrogate(app, client, make):
    spec = app.openapi()
    world = _world(client, make)
    tried, failures, core_seen = 0, [], set()
    for method, path, operation in _operations(spec):
        schema = _json_body_schema(operation)
        if method not in WRITE_METHODS or schema is None:
            continue
        url, headers = _request_for(world, make, method, path)
        body = _sample(spec, schema)
        body |= {key: FIELD_VALUES[key] for key in body if key in FIELD_VALUES}
        body |= OPERATION_VALUES.get((method, path), {})
        # every string field, and a key of the body itself (for a body with no string)
        slots = [*_string_slots(spec, schema), ((), "key")]
        for where, how in slots:
            for text in (SURROGATE, LOW_SURROGATE, NUL):
                tried += 1
                r = _send_json(client, method, url, _with_text(body, where, how, text), headers)
                problem = r.json() if r.status_code == 422 else {}
                issues = problem.get("errors") or [{}]
                if r.status_code != 422 or issues[0].get("type") != "string_unicode":
                    failures.append((method.upper(), path, where, how, repr(text), r.status_code))
                elif how in ("value", "item", "map-value"):
                    assert issues[0]["loc"][: len(where) + 1] == ["body", *where], (path, issues)
        if (method, path) in CORE:
            core_seen.add((method, path))
            r = _send_json(client, method, url, body, headers)
            assert r.status_code == CORE[method, path], (method, path, body, r.text)
    assert not failures, "\n".join(map(str, failures))
    assert core_seen == set(CORE)
    assert tried > 100


def test_text_query_filters_refuse_what_is_not_text(app, client, make):
    spec = app.openapi()
    world = _world(client, make)
    tried = 0
    for method, path, operation in _operations(spec):
        if method != "get":
            continue
        url, headers = _request_for(world, make, method, path)
        for parameter in operation.get("parameters", ()):
            if parameter["in"] != "query":
                continue
            schema = _resolve(spec, parameter["schema"])
            if schema.get("type") != "string" and "enum" not in schema:
                continue
            for bad in BAD_URL_TEXT:
                tried += 1
                r = client.get(f"{url}?{parameter['name']}={bad}", headers=headers)
                _assert_not_text_problem(r, "query")
    assert tried >= 4 * 10


def test_path_parameters_refuse_what_is_not_text(app, client, make):
    spec = app.openapi()
    world = _world(client, make)
    tried = 0
    for method, path, operation in _operations(spec):
        names = [p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"]
        for name in names:
            for bad in BAD_URL_TEXT:
                _url, headers = _request_for(world, make, method, path)
                # the value of `name` is the bad text; the other ids stay real
                values = {other: world["ids"].get(other, uuid.uuid4()) for other in names}
                url = path.format(**{**values, name: bad})
                tried += 1
                r = client.request(method.upper(), url, headers=headers)
                _assert_not_text_problem(r, "path")
    assert tried >= 4 * 20


def test_a_form_body_that_is_not_utf8_is_refused(client, make):
    user = make.user()
    for bad in BAD_URL_TEXT:
        r = client.post(
            f"{API}/auth/token",
            content=f"username={user.handle}{bad}&password=x".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        _assert_not_text_problem(r, "body")


def test_good_text_still_passes(client, make):
    """The guard refuses only what is not text: a surrogate pair (an emoji written as two
    escapes), Chinese percent-encoded in a query, a backslash-u written out as text."""
    rnd = make.round(phase=Phase.accepting_submissions)
    author = make.user()
    body = {
        "kind": "concern",
        "title": "Lawyers \ud83d\ude00 held",  # json.dumps: "\ud83d\ude00", a pair
        "body": "A literal \\ud800 is text, and so is 法.",
        "language": "en",
        "themes": ["labour-rights"],
        "addressed_to": ["CN"],
    }
    r = _send_json(client, "post", f"{API}/rounds/{rnd.id}/submissions", body, make.headers(author))
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "Lawyers 😀 held"
    assert r.json()["body"] == "A literal \\ud800 is text, and so is 法."
    r = client.get(f"{API}/cases?q=%E6%B3%95")
    assert r.status_code == 200, r.text
    r = client.get(f"{API}/dialogues/%E6%B3%95")  # text, but not a slug: the route says so
    assert r.status_code == 422
    assert r.json()["errors"][0]["type"] == "string_pattern_mismatch"


# --- log lines ----------------------------------------------------------------------


def test_a_newline_in_the_path_cannot_forge_an_access_log_line(client, caplog):
    caplog.set_level(logging.INFO, logger="civic_input.access")
    r = client.get(f"{API}/x%0aFORGED 200 1.0ms%0d%1b[31m\\")
    assert r.status_code == 404
    records = [rec for rec in caplog.records if rec.name == "civic_input.access"]
    assert len(records) == 1
    line = records[0].getMessage()
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert line.isprintable()
    assert line.startswith(f"GET {API}/x\\x0aFORGED 200 1.0ms\\x0d\\x1b[31m\\\\ 404 ")
    assert caplog.text.count("\n") == 1  # one record, one line


def test_printable_escapes_every_unprintable_character():
    assert printable("/api/v1/rounds") == "/api/v1/rounds"
    assert printable("法/ü é") == "法/ü é"
    assert printable("a\nb\rc\x1bd\x00e\x7ff\x85g\u2028h\\i") == (
        "a\\x0ab\\x0dc\\x1bd\\x00e\\x7ff\\x85g\\u2028h\\\\i"
    )


def test_the_server_log_filter_keeps_one_record_on_one_line():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "got %s", ("a\nFORGED",), None)
    assert PrintableMessages().filter(record)
    assert logging.Formatter("%(message)s").format(record) == "got a\\x0aFORGED"


@pytest.mark.parametrize("text", [SURROGATE, NUL])
def test_pydantic_never_sees_it(client, make, text):
    """The answer is the guard's, before validation or routing: even anonymous."""
    r = _send_json(client, "post", f"{API}/cases", {"name": text}, {})
    _assert_not_text_problem(r, "body")
