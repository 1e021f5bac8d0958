"""Every error is an RFC 9457 problem, hostile input gets a 4xx (never a 500 from the
database), and nothing internal (a trace, SQL, a driver or class name) reaches a client."""

import json

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import select

from api.errors import PayloadTooLarge
from api.main import create_app
from api.pagination import encode_cursor
from models.dialogue import Dialogue
from models.user import Invitation, Role, User
from tests.client import assert_problem

REGISTER = "/api/v1/auth/register"
TOKEN = "/api/v1/auth/token"
DIALOGUES = "/api/v1/dialogues"
INVITE = "/api/v1/invitations"
MIB = 1024 * 1024
TOO_LARGE = PayloadTooLarge().type


# --- FastAPI's own errors -----------------------------------------------------------


def test_unknown_path_is_a_404_problem(client):
    assert_problem(client.get("/api/v1/no-such-thing"), 404)


def test_wrong_method_is_a_405_problem(client):
    r = client.delete("/healthz")
    assert_problem(r, 405)
    assert "GET" in r.headers["allow"]


def test_validation_is_a_422_problem_that_never_echoes_the_input(client):
    secret = "zq7-hunter2"  # too short: refused, and must not come back
    r = client.post(REGISTER, json={"handle": "x", "password": secret, "unknown": "zq7-extra"})
    body = assert_problem(r, 422)
    assert body["errors"], body
    for issue in body["errors"]:
        assert set(issue) == {"loc", "msg", "type"}
        assert isinstance(issue["loc"], list) and issue["msg"] and issue["type"]
    locs = [issue["loc"] for issue in body["errors"]]
    assert ["body", "handle"] in locs and ["body", "password"] in locs
    assert ["body", "unknown"] in locs
    assert secret not in r.text and "zq7-extra" not in r.text


def test_a_missing_body_is_a_422_problem(client):
    body = assert_problem(client.post(REGISTER), 422)
    assert body["errors"]


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"handle": "abc", "password": }', b"\xff\xfe not utf-8", b"[1, 2", b"nul"],
    ids=["open-brace", "missing-value", "not-utf8", "open-list", "bare-word"],
)
def test_malformed_json_is_a_422_problem(client, raw):
    r = client.post(REGISTER, content=raw, headers={"Content-Type": "application/json"})
    body = assert_problem(r, 422)
    assert body["errors"]


# --- NUL bytes: PostgreSQL refuses them, so they must never reach it ----------------


def test_a_nul_in_a_handle_is_a_422(client, db):
    r = client.post(REGISTER, json={"handle": "lin\x00wei", "password": "a long passphrase"})
    assert_problem(r, 422)
    assert db.exec(select(User)).first() is None


def test_a_nul_in_a_password_is_a_422(client, db):
    r = client.post(REGISTER, json={"handle": "linwei", "password": "a long\x00passphrase"})
    assert_problem(r, 422)
    assert db.exec(select(User)).first() is None


@pytest.mark.parametrize("field", ["title", "description"])
def test_a_nul_in_a_dialogue_text_is_a_422(client, make, db, field):
    admin = make.user(Role.admin)
    data = {"slug": "nul-dialogue", "title": "A dialogue", "description": "About it"}
    data[field] = "before\x00after"
    r = client.post(DIALOGUES, headers=make.headers(admin), json=data)
    assert_problem(r, 422)
    assert db.exec(select(Dialogue)).first() is None


# These reach a query; PostgreSQL refuses a NUL in text outright (psycopg DataError).


def test_a_nul_in_a_path_parameter_is_not_a_500(client, make):
    make.dialogue(slug="us-china")
    assert_problem(client.get(f"{DIALOGUES}/us%00china"), 422)  # the text guard's answer
    assert_problem(client.get(f"{DIALOGUES}/us-china%00"), 422)


def test_a_nul_in_a_cursor_is_not_a_500(client, make):
    make.dialogue(slug="b-dialogue")
    r = client.get(DIALOGUES, params={"cursor": encode_cursor(["a\x00b"])})
    assert_problem(r, 400)  # not a cursor the API wrote


def test_a_nul_in_the_record_filters_is_not_a_500(client, make):
    # the record's statements run on the DB-API cursor (api/sql/prepared.py): the driver's
    # error must still reach the problem handlers as SQLAlchemy's
    rnd = make.round()
    url = f"/api/v1/rounds/{rnd.id}/record"
    for params in ({"q": "law\x00yer"}, {"theme": "a\x00b"}, {"delegation": "C\x00N"}):
        r = client.get(url, params=params)
        assert_problem(r, 422)


def test_a_nul_in_a_sign_in_name_is_a_4xx(client, make):
    make.user(handle="linwei")
    r = client.post(TOKEN, data={"username": "lin\x00wei", "password": "a long passphrase"})
    assert_problem(r, 422)  # the text guard refuses the form before sign-in reads it
    assert "access_token" not in r.text


# --- numbers out of range -----------------------------------------------------------


@pytest.mark.parametrize("hours", [10**30, -(10**30), 0, 1e308, "1e400", "ten"])
def test_an_absurd_invitation_expiry_is_a_422(client, make, db, hours):
    admin = make.user(Role.admin)
    r = client.post(
        INVITE,
        headers=make.headers(admin),
        json={"role": "moderator", "expires_in_hours": hours},
    )
    assert_problem(r, 422)
    assert db.exec(select(Invitation)).first() is None


def test_an_overflowing_json_number_is_a_4xx(client, make):
    admin = make.user(Role.admin)
    raw = b'{"role": "moderator", "expires_in_hours": 1' + b"0" * 5000 + b"}"
    r = client.post(
        INVITE,
        headers={**make.headers(admin), "Content-Type": "application/json"},
        content=raw,
    )
    assert_problem(r, 400)  # not JSON the parser accepts


@pytest.mark.parametrize(
    "limit", ["99999999999999999999", "-99999999999999999999", "0", "101", "1e3", "NaN"]
)
def test_an_out_of_range_limit_is_a_422(client, limit):
    assert_problem(client.get(DIALOGUES, params={"limit": limit}), 422)


@pytest.mark.parametrize(
    "values",
    [[10**30], [-(10**30)], [1e308], ["x" * 300], [[1, 2]], []],
    ids=["huge-int", "huge-negative", "huge-float", "long-text", "nested", "empty"],
)
def test_a_forged_cursor_is_not_a_500(client, values):
    r = client.get(DIALOGUES, params={"cursor": encode_cursor(values)})
    assert_problem(r, 400)


def test_a_cursor_of_null_reads_from_the_start(client, make):
    # a dialogue cursor is [slug]; a null slug is taken as no cursor at all
    make.dialogue(slug="a-dialogue")
    r = client.get(DIALOGUES, params={"cursor": encode_cursor([None])})
    assert r.status_code == 200, r.text
    assert [d["slug"] for d in r.json()["items"]] == ["a-dialogue"]
    assert r.json()["next_cursor"] is None


def test_a_cursor_that_is_not_base64_json_is_a_400(client):
    assert_problem(client.get(DIALOGUES, params={"cursor": "%%%not-a-cursor%%%"}), 400)


# --- bodies: depth and size ---------------------------------------------------------


@pytest.mark.parametrize("opener,closer", [(b"[", b"]"), (b'{"a":', b"}")], ids=["list", "dict"])
def test_a_body_nested_ten_thousand_deep_is_a_4xx(client, db, opener, closer):
    raw = opener * 10_000 + b"1" + closer * 10_000
    r = client.post(REGISTER, content=raw, headers={"Content-Type": "application/json"})
    assert_problem(r, 400)
    assert db.exec(select(User)).first() is None


def _padded_registration(size: int) -> bytes:
    """A valid registration that would be stored if the size limit were not enforced."""
    head = b'{"handle": "bigbody", "password": "a long passphrase"'
    return head + b" " * (size - len(head) - 1) + b"}"


def test_a_body_just_under_the_limit_is_read(client, db):
    raw = _padded_registration(MIB - 16)
    r = client.post(REGISTER, content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    assert db.exec(select(User).where(User.handle == "bigbody")).one()


def test_a_body_over_a_mebibyte_with_content_length_is_a_413(client, db):
    raw = _padded_registration(MIB + 1)
    r = client.post(REGISTER, content=raw, headers={"Content-Type": "application/json"})
    assert r.request.headers["content-length"] == str(len(raw))
    assert assert_problem(r, 413)["type"] == TOO_LARGE
    assert db.exec(select(User)).first() is None


def test_a_chunked_body_over_a_mebibyte_is_a_413(client, db):
    raw = _padded_registration(2 * MIB)

    def chunks():
        for start in range(0, len(raw), 64 * 1024):
            yield raw[start : start + 64 * 1024]

    r = client.post(REGISTER, content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in r.request.headers
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert assert_problem(r, 413)["type"] == TOO_LARGE
    assert db.exec(select(User)).first() is None


def test_a_lying_content_length_does_not_get_a_big_body_through(client, db):
    raw = _padded_registration(MIB + 4096)
    r = client.post(
        REGISTER,
        content=raw,
        headers={"Content-Type": "application/json", "Content-Length": "100"},
    )
    assert assert_problem(r, 413)["type"] == TOO_LARGE  # counted as read, not as told
    assert db.exec(select(User)).first() is None


# --- the unexpected ------------------------------------------------------------------


@pytest.fixture
def fragile_client(settings):
    """A fresh app (not the shared one) with routes that fail in the worst ways."""
    app = create_app(settings)

    @app.get("/boom")
    def boom() -> dict:
        raise RuntimeError("secret-internal-detail")

    @app.get("/boom-db")
    def boom_db() -> dict:
        raise sa.exc.ProgrammingError(
            "SELECT secret_column FROM secret_table", {}, Exception("psycopg secret-db-detail")
        )

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_an_unexpected_exception_is_a_bare_500_problem(fragile_client):
    r = fragile_client.get("/boom")
    body = assert_problem(r, 500)
    assert "secret-internal-detail" not in r.text
    assert "RuntimeError" not in r.text
    assert set(body) <= {"type", "title", "status", "detail"}


def test_a_database_error_is_a_500_problem_without_sql(fragile_client):
    r = fragile_client.get("/boom-db")
    assert_problem(r, 500)
    for secret in ("secret_column", "secret_table", "secret-db-detail", "ProgrammingError"):
        assert secret not in r.text


def test_problem_bodies_are_json_objects_not_lists(client):
    # A guard on the helper itself: a 404 body is a mapping with the three members.
    r = client.get("/nothing-here")
    assert set(json.loads(r.content)) >= {"type", "title", "status"}
