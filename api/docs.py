"""Interactive docs served with assets shipped in the package: no CDN, no third-party host.

At-risk readers may be where CDNs are blocked, and every third-party asset
tells someone else who reads what.

Each page carries a Content-Security-Policy that lets it load only from this server:
the Swagger UI pages' inline scripts are allowed by their hashes (the pages are fixed,
so the policy is computed once); ReDoc writes its styles into the page as it renders
(styled-components), so its page gets a fresh nonce per request, passed to ReDoc. Both
draw icons from `data:` images, and ReDoc runs its search in a worker made from a
`blob:` of its own bundle.
"""

import base64
import hashlib
import html
import re
import secrets
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.errors import PROBLEM_JSON

STATIC = Path(__file__).parent / "static" / "docs"
PREFIX = "/static/docs"
CSP = "Content-Security-Policy"

_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
# ReDoc's bundle (2.5.4) adds one stylesheet as it loads, before it knows the nonce:
# perfect-scrollbar's CSS (with its source map), in a style element created empty. They
# are fixed text, so allowed by hash; a new bundle shows its hash in the CSP error that
# tests/test_docs_browser.py reports.
REDOC_LOAD_STYLES = (
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",  # perfect-scrollbar
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # the empty element
)


def _policy(scripts: list[str], styles: list[str]) -> str:
    return "; ".join(
        (
            "default-src 'none'",
            " ".join(("script-src 'self'", *scripts)),
            " ".join(("style-src 'self'", *styles)),
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "worker-src blob:",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        )
    )


def hashed_policy(page: str) -> str:
    """The CSP for a fixed page: each inline script and style allowed by its SHA-256."""
    sources: dict[str, list[str]] = {"script": [], "style": []}
    for tag, content in _INLINE.findall(page):
        digest = base64.b64encode(hashlib.sha256(content.encode()).digest()).decode()
        sources[tag].append(f"'sha256-{digest}'")
    return _policy(sources["script"], sources["style"])


def redoc_page(title: str, nonce: str) -> str:
    return f"""<!DOCTYPE html>
<html>
<head>
<title>{html.escape(title)}</title>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="shortcut icon" href="{PREFIX}/favicon-32x32.png">
<style nonce="{nonce}">body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<noscript>ReDoc requires JavaScript to show the API documentation.</noscript>
<div id="redoc"></div>
<script src="{PREFIX}/redoc.standalone.js"></script>
<script nonce="{nonce}">
Redoc.init("/openapi.json", {{nonce: "{nonce}"}}, document.getElementById("redoc"));
</script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    app.mount(PREFIX, StaticFiles(directory=STATIC), name="docs-static")
    title = f"{app.title} — API"

    swagger = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=title,
        oauth2_redirect_url="/docs/oauth2-redirect",
        swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{PREFIX}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False},
    )
    swagger_page = bytes(swagger.body).decode()
    swagger_csp = hashed_policy(swagger_page)
    redirect_page = bytes(get_swagger_ui_oauth2_redirect_html().body).decode()
    redirect_csp = hashed_policy(redirect_page)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger_page, headers={CSP: swagger_csp})

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return HTMLResponse(redirect_page, headers={CSP: redirect_csp})

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        nonce = secrets.token_urlsafe(18)
        nonce_source = f"'nonce-{nonce}'"
        policy = _policy([nonce_source], [nonce_source, *REDOC_LOAD_STYLES])
        return HTMLResponse(redoc_page(title, nonce), headers={CSP: policy})


# --- the OpenAPI document --------------------------------------------------------------
#
# FastAPI writes the document from the routes; `openapi_document` then makes it say what
# the server does, in one place rather than in every route: problems under
# `application/problem+json`, response headers, 304/412/428, optional sign-in on public
# reads, `If-Match` required where a 428 says so, readable names and an example for every
# request body and 2xx answer.

TAGS = [
    ("health", "Liveness and readiness, for load balancers and orchestrators."),
    ("accounts", "Registration, OAuth2 tokens, invitations and the caller's own account."),
    ("admin", "What only admins do: invitations and the audit log."),
    ("dialogues", "Dialogues between two or more delegations, and their delegations."),
    ("themes", "The controlled vocabulary of themes, in several languages."),
    ("rounds", "Rounds of a dialogue, their five instants and computed phase."),
    ("submissions", "Concerns and cases civil society submits before a round."),
    ("moderation", "Moderators' decisions on submissions and cases."),
    ("responses", "Delegations' answers, their public revisions and their assessments."),
    ("translations", "Translations of submissions and responses; which text is authoritative."),
    ("cases", "People raised across rounds: status, consent, sharing and access log."),
    ("benchmarks and commitments", "Checkable goals and undertakings, and their progress."),
    ("public record", "The round's published record and the accountability scorecards."),
    ("feed and export", "The hash-chained record log: sync, stream, Atom, exports, checkpoints."),
]

# Operation ids: the route's function name, unless it says less than this.
OPERATION_IDS = {
    "register": "register_account",
    "token": "create_token",
    "refresh": "refresh_token",
    "me": "read_me",
    "round_record": "read_record",
    "round_scorecard": "read_round_scorecard",
    "dialogue_scorecard": "read_dialogue_scorecard",
    "my_submissions": "list_my_submissions",
    "endorse": "endorse_submission",
    "unendorse": "unendorse_submission",
    "moderation_queue": "list_moderation_queue",
    "moderate": "moderate_submission",
    "feed": "read_feed",
    "feed_stream": "stream_feed",
    "feed_atom": "read_feed_atom",
    "record_checkpoint": "read_checkpoint",
    "jwks": "read_jwks",
    "healthz": "read_liveness",
    "readyz": "read_readiness",
    "read_audit": "list_audit",
    "set_consent": "set_case_consent",
    "read_sharing": "read_case_sharing",
    "set_sharing": "set_case_sharing",
    "read_access_log": "read_case_access_log",
    "add_timeline_entry": "add_case_timeline_entry",
    "read_release": "read_delegation_release",
    "schedule_release": "schedule_delegation_release",
    "release_now": "release_delegation_now",
}

# Reads anyone may make, with more shown to a signed-in caller who may see more.
OPTIONAL_SIGN_IN = {"read_case", "read_submission", "read_response", "list_revisions"}

SCHEMA_NAMES = {"Body_create_token": "TokenRequest"}

BEARER = "OAuth2PasswordBearer"


def operation_id(route: Any) -> str:
    return OPERATION_IDS.get(route.name, route.name)


def _header(description: str, *, example: str, schema: dict[str, Any] | None = None) -> Any:
    return {
        "description": description,
        "schema": schema or {"type": "string"},
        "example": example,
    }


ETAG = _header(
    "The answer's entity tag: send it in `If-None-Match` for a 304, or in `If-Match`.",
    example='"round-3"',
)
CACHE_CONTROL = _header(
    "`public, max-age=0, must-revalidate` for anonymous reads; `no-store` otherwise.",
    example="public, max-age=0, must-revalidate",
)
LINK = _header(
    'The next page, `<…>; rel="next"`, absent on the last page.',
    example='</api/v1/dialogues?cursor=WyJ1cy1jaGluYSJd>; rel="next"',
)
RETRY_AFTER = _header(
    "Seconds to wait before trying again.",
    example="5",
    schema={"type": "string", "pattern": "^[0-9]+$"},
)
WWW_AUTHENTICATE = _header("The scheme to authenticate with.", example="Bearer")
REPLAYED = _header(
    "`true` when this is the stored answer to an earlier request with the same "
    "`Idempotency-Key`; absent on a first answer.",
    example="true",
    schema={"type": "string", "enum": ["true"]},
)
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "An `ETag` from an earlier answer: 304 with no body while it still holds.",
    "schema": {"type": "string"},
}

ERROR_DESCRIPTIONS = {
    400: "A cursor or parameter that cannot be used (a problem).",
    401: "No valid access token (a problem).",
    403: "The caller's role may not do this (a problem).",
    404: "No such resource, or not one the caller may see (a problem).",
    409: "The resource's state does not allow it now (a problem).",
    410: "No longer valid (a problem).",
    412: "`If-Match` does not match the current `ETag` (a problem).",
    413: "The request body is too large (a problem).",
    422: "The request is not valid; `errors` names each field (a problem).",
    428: "`If-Match` is required (a problem).",
    429: "Too many attempts; wait `Retry-After` seconds (a problem).",
    503: "Busy or the database is not answering; wait `Retry-After` seconds (a problem).",
}

# Answers that are not JSON, by media type.
TEXT_EXAMPLES = {
    "text/event-stream": (
        'event: entry\nid: 42\ndata: {"seq":42,"event_type":"submission.published",…}\n\n'
    ),
    "application/atom+xml": (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Civic Input: the public record</title>…</feed>"
    ),
    "application/x-ndjson": '{"seq":1,"event_type":"round.created",…}\n',
    "text/csv": "seq,at,event_type,object_type,object_id,round_id,content,prev_hash,hash\n",
}

# Values for an example, by property name (then by format, then by type).
EXAMPLE_VALUES: dict[str, Any] = {
    "slug": "china-us-2026",
    "dialogue_slug": "china-us-2026",
    "title": "Detained labour lawyers",
    "description": "The human-rights dialogue between China and the United States.",
    "body": "Please say where the detained labour lawyers are held.",
    "text": "The lawyers are held in Beijing; families may visit.",
    "summary": "A labour lawyer detained since March.",
    "note": "Released on bail, according to the family.",
    "reason": "Added the visiting arrangements.",
    "language": "en",
    "handle": "lin-wei",
    "password": "correct horse battery staple",
    "username": "lin-wei",
    "grant_type": "password",
    "email": "lin.wei@example.org",
    "code": "CN",
    "delegation": "CN",
    "name": "China",
    "database": "ok",
    "redis": "ok",
    "name_native": "王全璋",
    "location": "Beijing",
    "organisation": "Rights Defenders Network",
    "themes": ["detention"],
    "theme": "detention",
    "addressed_to": ["CN"],
    "delegations": ["CN"],
    "names": {"en": "Detention", "zh-Hans": "拘留"},
    "token": "inv_8K3mP0qR7sT2uV5wX9yZ1aB4cD6eF",
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "refresh_token": "rt_4vJ9kL2mN8pQ1rS6tU3wX7yZ0aB5cD",
    "token_type": "bearer",
    "expires_in": 900,
    "expires_in_hours": 72,
    "number": 1,
    "seq": 42,
    "head_seq": 42,
    "next_after": None,
    "next_cursor": None,
    "hash": "9f2c4e1a7b3d5f608192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8",
    "prev_hash": "1b3d5f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c",
    "kid": "ck-2026-01",
    "jws": "eyJhbGciOiJFUzI1NiIsImtpZCI6ImNrLTIwMjYtMDEifQ.eyJzZXEiOjQyfQ.c2ln",
    "event_type": "submission.published",
    "object_type": "submission",
    "status": "ok",
    "submissions_open_at": "2026-03-01T00:00:00Z",
    "submissions_close_at": "2026-04-01T00:00:00Z",
    "starts_at": "2026-05-12T09:00:00+08:00",
    "ends_at": "2026-05-13T18:00:00+08:00",
    "responses_due_at": "2026-08-13T00:00:00Z",
    "event_date": "2026-03-09",
    "assessed_on": "2026-06-01",
    "due_on": "2026-12-31",
    "source_url": "https://example.org/reports/2026-03-09",
    "evidence_url": "https://example.org/reports/2026-06-01",
    "endorsement_count": 3,
}
# Schemas whose fields depend on each other or on the schema: changes over the example
# made from the values above (None leaves the field out), so that each example would be
# accepted (a request) or could be sent (an answer).
SCHEMA_EXAMPLES: dict[str, dict[str, Any]] = {
    "TokenRequest": {"scope": None, "client_id": None, "client_secret": None},
    "DialogueCreate": {"title": "China–United States human-rights dialogue"},
    "DelegationCreate": {"name": "China"},
    "ThemeCreate": {"slug": "detention"},
    "SubmissionCreate": {"organisation": None, "case_id": None},
    "SubmissionUpdate": {"attribution": None, "organisation": None},
    "ModerationCreate": {"decision": "reject", "reason": "It names a private person."},
    "CaseModeration": {"reason": None},
    "ResponseCreate": {"body": "The lawyers are held in Beijing.", "reason_code": None},
    "RevisionCreate": {"kind": None, "language": None, "reason_code": None},
    "AssessmentCreate": {"comment": "Names the place but not the charges."},
    "CaseCreate": {
        "name": "Wang Quanzhang",
        "restricted_details": "Family contact through the network; never public.",
    },
    "CaseSummary": {"name": "Wang Quanzhang"},
    "CaseDetail": {"name": "Wang Quanzhang"},
    "CasePrivate": {
        "name": "Wang Quanzhang",
        "restricted_details": "Family contact through the network; never public.",
    },
    "InvitationCreated": {"role": "official"},
    "Readiness": {"status": "ready"},
    "BenchmarkCreate": {"title": "Release the detained labour lawyers"},
    "CommitmentCreate": {"text": "Families of detained lawyers may visit monthly."},
}
EXAMPLE_UUID = "7d3b1f2e-5a4c-4e8b-9f1d-2c6a8e0b4d13"
FORMAT_VALUES = {
    "uuid": EXAMPLE_UUID,
    "date-time": "2026-03-01T09:00:00Z",
    "date": "2026-03-01",
    "uri": "https://example.org/",
    "email": "lin.wei@example.org",
}


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example_of(doc: dict[str, Any], schema: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """A value of `schema`, from `EXAMPLE_VALUES` where the property's name is known."""
    schema = _resolve(doc, schema)
    if "examples" in schema:
        return schema["examples"][0]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        value = EXAMPLE_VALUES.get(name)
        return value if value in schema["enum"] else schema["enum"][0]
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        concrete = [o for o in options if o.get("type") != "null"]
        if name in EXAMPLE_VALUES and EXAMPLE_VALUES[name] is None:
            return None
        return example_of(doc, concrete[0], name, depth) if concrete else None
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if isinstance(EXAMPLE_VALUES.get(name), dict):
            return EXAMPLE_VALUES[name]
        if depth > 6:
            return {}
        example = {
            key: example_of(doc, sub, key, depth + 1)
            for key, sub in schema.get("properties", {}).items()
        }
        for key, value in SCHEMA_EXAMPLES.get(schema.get("title", ""), {}).items():
            if value is None:
                example.pop(key, None)
            else:
                example[key] = value
        return example
    if kind == "array":
        items = _resolve(doc, schema.get("items", {}))
        if isinstance(EXAMPLE_VALUES.get(name), list) and items.get("type") == "string":
            return EXAMPLE_VALUES[name]
        if depth > 6:
            return []
        item = example_of(doc, schema.get("items", {}), name, depth + 1)
        return [item] if schema.get("minItems", 0) > 0 or depth < 4 else []
    if name in EXAMPLE_VALUES:
        return EXAMPLE_VALUES[name]
    if name.endswith("_id") or name == "id":
        return EXAMPLE_UUID
    if kind == "string":
        if schema.get("format") in FORMAT_VALUES:
            return FORMAT_VALUES[schema["format"]]
        return "example"[: schema.get("maxLength", 7)].ljust(schema.get("minLength", 0), "x")
    if kind == "integer":
        return max(schema.get("minimum", 1), 1) if "maximum" not in schema else schema["minimum"]
    if kind == "number":
        return schema.get("minimum", 0.5)
    if kind == "boolean":
        return False
    return None


def _problem_content(status: int) -> dict[str, Any]:
    model = "ValidationProblem" if status == 422 else "Problem"
    return {PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{model}"}}}


def _rename(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                head, _, tail = value.rpartition("/")
                value = f"{head}/{names.get(tail, tail)}"
            out[key] = _rename(value, names)
        return out
    if isinstance(node, list):
        return [_rename(value, names) for value in node]
    return node


def _schema_names(schemas: dict[str, Any]) -> dict[str, str]:
    """`Body_x` as named above; `Page_X_` as `XPage`."""
    names = {}
    for name in schemas:
        if name in SCHEMA_NAMES:
            names[name] = SCHEMA_NAMES[name]
        elif name.startswith("Page_") and name.endswith("_"):
            names[name] = name[len("Page_") : -1] + "Page"
    return names


def _finish_operation(doc: dict[str, Any], method: str, op: dict[str, Any]) -> None:
    responses = op["responses"]
    params = op.setdefault("parameters", [])
    names = {p["name"].lower() for p in params}
    secured = bool(op.get("security"))
    if secured and "401" not in responses:
        responses["401"] = {}
    if op["operationId"] in OPTIONAL_SIGN_IN:
        op["security"] = [{}, {BEARER: []}]
    for p in params:
        if p["in"] == "header":
            # FastAPI spells a header as its parameter's name, lowercased
            p["name"] = "-".join(part.capitalize() for part in p["name"].split("-"))
            p["name"] = {"Last-Event-Id": "Last-Event-ID"}.get(p["name"], p["name"])
        if p["name"] == "If-Match" and "428" in responses:
            # 428 without it: required, though FastAPI reads it as optional
            p["required"] = True
            p["schema"] = next(s for s in p["schema"]["anyOf"] if s.get("type") != "null")
    ok = responses.get("200", {})
    json_read = method == "get" and "application/json" in ok.get("content", {})
    if json_read:
        params.append(IF_NONE_MATCH)
        responses["304"] = {
            "description": "Not modified: the `ETag` sent in `If-None-Match` still holds.",
            "headers": {"ETag": ETAG, "Cache-Control": CACHE_CONTROL},
        }
    for code, response in list(responses.items()):
        status = int(code)
        headers = response.setdefault("headers", {})
        if status >= 400:
            response["description"] = ERROR_DESCRIPTIONS.get(
                status, response.get("description") or HTTPStatus(status).phrase
            )
            response["content"] = _problem_content(status)
            if status == 401:
                headers["WWW-Authenticate"] = WWW_AUTHENTICATE
            if status in (429, 503):
                headers["Retry-After"] = RETRY_AFTER
        elif 200 <= status < 300:
            if json_read and status == 200:
                headers["ETag"] = ETAG
                headers["Cache-Control"] = CACHE_CONTROL
            elif op["operationId"] in SETS_ETAG:
                headers["ETag"] = ETAG
            if names & {"cursor", "after"} and method == "get":
                headers["Link"] = LINK
            if "idempotency-key" in names:
                headers["Idempotent-Replayed"] = REPLAYED
            for media, content in response.get("content", {}).items():
                if media in TEXT_EXAMPLES:
                    content.setdefault("example", TEXT_EXAMPLES[media])
                elif "schema" in content:
                    content.setdefault("example", example_of(doc, content["schema"]))
        if not headers:
            del response["headers"]
    body = op.get("requestBody", {}).get("content", {})
    form = body.get("application/x-www-form-urlencoded")
    if form is not None:
        _empty_is_absent(doc, form["schema"])
    for content in body.values():
        content.setdefault("example", example_of(doc, content["schema"]))
    if not params:
        del op["parameters"]


def _empty_is_absent(doc: dict[str, Any], schema: dict[str, Any]) -> None:
    """FastAPI reads an empty form field as a missing one: where an optional field has a
    pattern, the empty string is allowed too."""
    schema = _resolve(doc, schema)
    required = set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        if name in required:
            continue
        for option in [prop, *prop.get("anyOf", ())]:
            if "pattern" in option:
                option["pattern"] = f"^(?:{option['pattern'].strip('^$')})?$"


# Writes that answer with the resource's `ETag` (its version), for a later `If-Match`.
SETS_ETAG = {
    "create_round",
    "update_round",
    "create_response",
    "create_grouped_response",
    "revise_response",
}


# Where a path parameter's value comes from: the operation that makes the resource, and
# the field of its answer. Written into the document as links (for clients, and for
# Schemathesis's stateful phase to chain calls).
LINK_SOURCES = {
    "slug": ("create_dialogue", "slug"),
    "round_id": ("create_round", "id"),
    "submission_id": ("create_submission", "id"),
    "response_id": ("create_response", "id"),
    "case_id": ("create_case", "id"),
    "benchmark_id": ("create_benchmark", "id"),
    "commitment_id": ("create_commitment", "id"),
    "user_id": ("register_account", "id"),
}


def _links(doc: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for item in doc["paths"].values() for op in item.values()}
    for path, item in doc["paths"].items():
        for op in item.values():
            params = [p["name"] for p in op.get("parameters", ()) if p["in"] == "path"]
            if len(params) != 1 or params[0] not in LINK_SOURCES:
                continue
            source, field = LINK_SOURCES[params[0]]
            created = by_id[source]["responses"]
            code = next(c for c in created if c.startswith("2"))
            links = created[code].setdefault("links", {})
            links[op["operationId"]] = {
                "operationId": op["operationId"],
                "parameters": {params[0]: f"$response.body#/{field}"},
                "description": f"`{field}` of the answer is `{params[0]}` in {path}.",
            }


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, built once."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=[{"name": name, "description": text} for name, text in TAGS],
        servers=[{"url": "/", "description": "This server."}],
        license_info={
            "name": "AGPL-3.0-or-later",
            "identifier": "AGPL-3.0-or-later",
        },
        contact={"name": "Civic Input"},
    )
    schemas = doc["components"]["schemas"]
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    names = _schema_names(schemas)
    doc = _rename(doc, names)
    doc["components"]["schemas"] = {names.get(k, k): v for k, v in schemas.items()}
    for renamed in names.values():
        doc["components"]["schemas"][renamed]["title"] = renamed
    doc["components"]["schemas"] = _rename(doc["components"]["schemas"], names)
    for item in doc["paths"].values():
        for method, op in item.items():
            _finish_operation(doc, method, op)
    _links(doc)
    app.openapi_schema = doc
    return doc
