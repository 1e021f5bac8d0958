"""Accounts and tokens, including every attack DESIGN.md names."""

import base64
import hashlib
import hmac
import json
import threading
import time
import tomllib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from jose import jwt
from sqlmodel import select

from api.security import ALGORITHM, Security
from models.round import Phase
from models.user import RefreshToken, Role, User
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
REGISTER = "/api/v1/auth/register"
TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"


def sign_in(client, handle, password=PASSWORD):
    return client.post(TOKEN, data={"username": handle, "password": password})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def claims_for(app, user, **override):
    settings = app.state.settings
    now = int(time.time())
    claims = {
        "sub": str(user.id),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
        "typ": "access",
        "sv": user.session_version,
    }
    claims.update(override)
    return {k: v for k, v in claims.items() if v is not None}


def forge(app, claims, key=None, algorithm=ALGORITHM):
    return jwt.encode(claims, key or app.state.settings.secret, algorithm=algorithm)


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forge_by_hand(app, claims):
    """HS256 from the standard library (RFC 7515): a second implementation beside
    python-jose, so the checks do not lean on how one library encodes."""
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(claims)}".encode()
    mac = hmac.new(app.state.settings.secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{signing_input.decode()}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


ENCODERS = {"python-jose": forge, "by hand": forge_by_hand}


# --- registration -----------------------------------------------------------------


def test_register_makes_an_activist_and_hides_the_password(client, db):
    r = client.post(REGISTER, json={"handle": "Lin_Wei", "password": "a long passphrase"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["role"] == "activist" and body["handle"] == "Lin_Wei"
    assert "password" not in r.text and "hash" not in r.text
    stored = db.exec(select(User).where(User.handle == "Lin_Wei")).one()
    assert stored.password_hash.startswith("$argon2id$")


def test_handles_are_unique_ignoring_case(client):
    assert (
        client.post(REGISTER, json={"handle": "Mei", "password": "a long passphrase"}).status_code
        == 201
    )
    r = client.post(REGISTER, json={"handle": "MEI", "password": "a long passphrase"})
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("field", ["role", "id", "is_active", "delegation_id"])
def test_register_cannot_set_privileged_fields(client, db, field):
    value = {
        "role": "admin",
        "id": str(uuid.uuid4()),
        "is_active": True,
        "delegation_id": str(uuid.uuid4()),
    }[field]
    r = client.post(
        REGISTER, json={"handle": "sneaky", "password": "a long passphrase", field: value}
    )
    assert r.status_code == 422
    assert db.exec(select(User).where(User.role == Role.admin.value)).first() is None


def test_short_password_is_refused(client):
    r = client.post(REGISTER, json={"handle": "shorty", "password": "zq7secret"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "password"]
    assert "zq7secret" not in json.dumps(r.json()["errors"])  # the input is never echoed


def _invitation(make, db):
    from api.security import digest, new_opaque_token
    from models.user import Invitation

    admin, token = make.user(Role.admin), new_opaque_token()
    db.add(
        Invitation(
            token_hash=digest(token),
            role=Role.moderator.value,
            created_by_id=admin.id,
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
    )
    db.commit()
    return token


# NIST SP 800-63B-4, single factor: 15 to 256 characters, not a common password.
@pytest.mark.parametrize("endpoint", ["register", "accept-invitation"])
@pytest.mark.parametrize(
    ("password", "status", "says"),
    [
        ("zq7-fourteen-c", 422, "at least 15 characters"),  # 14
        ("é" * 14, 422, "at least 15 characters"),  # characters, not bytes
        ("e\u0301" * 8, 422, "at least 15 characters"),  # counted after NFC
        ("zq7" + "-" * 254, 422, "at most 256 characters"),  # 257
        ("1q2w3e4r5t6y7u8i9o0p", 422, "common passwords"),  # in the shipped list
        ("QAZWSXEDCRFVTGB", 422, "common passwords"),  # ignoring case
        ("zq7-fifteen-chr", 201, None),  # 15
        ("zq7" + "-" * 253, 201, None),  # 256
    ],
)
def test_password_rules(client, make, db, endpoint, password, status, says):
    body = {"handle": "chooser", "password": password}
    if endpoint == "accept-invitation":
        body["token"] = _invitation(make, db)
    r = client.post(f"/api/v1/auth/{endpoint}", json=body)
    assert r.status_code == status, r.text
    if says:
        (issue,) = r.json()["errors"]
        assert issue["loc"] == ["body", "password"]
        assert says in issue["msg"] and "items" not in issue["msg"]
        assert password not in r.text
    else:
        assert sign_in(client, "chooser", password).status_code == 200


def test_the_common_password_list_is_shipped_and_read_once():
    from models.passwords import common_passwords

    listed = common_passwords()
    assert isinstance(listed, frozenset) and len(listed) >= 10_000
    assert common_passwords() is listed
    assert "password1234" in listed and all(p == p.lower() for p in listed)
    # ... and goes into the wheel (models/data/NOTICE gives its source and licence)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "data/*" in pyproject["tool"]["setuptools"]["package-data"]["models"]
    assert (ROOT / "models" / "data" / "NOTICE").read_text().count("Django") >= 3


def test_every_password_the_tests_use_meets_the_rules():
    from models.passwords import MIN_LENGTH, is_common

    for password in (PASSWORD, "a long passphrase", "not the right passphrase"):
        assert len(password) >= MIN_LENGTH and not is_common(password)


# --- sign-in ----------------------------------------------------------------------


def test_sign_in_and_read_me(client, make):
    user = make.user(handle="reader")
    r = sign_in(client, "READER")
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    me = client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json() == {
        "id": str(user.id),
        "handle": "reader",
        "role": "activist",
        "delegation": None,
    }


def test_unknown_user_and_wrong_password_get_the_same_answer(client, make):
    make.user(handle="known")
    unknown = sign_in(client, "nobody-here")
    wrong = sign_in(client, "known", "not the password!")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_unknown_user_costs_a_password_hash(client, make, app, monkeypatch):
    """An unknown handle runs a full Argon2 verification, as a wrong password does, so
    the two cannot be told apart by timing (counted, not timed)."""
    make.user(handle="known-one")
    real = app.state.security._hasher
    verified = []

    class Counting:
        def verify(self, hash_, password):
            verified.append(hash_.split("$")[1])
            return real.verify(hash_, password)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(app.state.security, "_hasher", Counting())
    assert sign_in(client, "known-one", "wrong password!!").status_code == 401
    assert sign_in(client, "nobody-at-all", "wrong password!!").status_code == 401
    assert verified == ["argon2id", "argon2id"]


def test_a_flood_of_guesses_is_throttled(client, make, app):
    make.user(handle="target")
    limit = app.state.settings.login_failures_per_pair
    for _ in range(limit):
        assert sign_in(client, "target", "wrong guess!!").status_code == 401
    r = sign_in(client, "target", PASSWORD)
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0


# --- access tokens: every forgery is a 401 ---------------------------------------


def test_a_minted_token_works(client, app, make):
    user = make.user()
    assert client.get(ME, headers=bearer(forge(app, claims_for(app, user)))).status_code == 200


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_refused(client, app, make, alg):
    user = make.user()
    token = f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims_for(app, user))}."
    assert client.get(ME, headers=bearer(token)).status_code == 401


@pytest.mark.parametrize(
    "case",
    [
        "other_key",
        "wrong_audience",
        "wrong_issuer",
        "no_exp",
        "no_iat",
        "no_sub",
        "no_typ",
        "expired",
        "refresh_typ",
        "hs512",
        "stale_session",
    ],
)
def test_forged_or_unfit_tokens_are_refused(client, app, make, case):
    user = make.user()
    claims = claims_for(app, user)
    key, algorithm = None, ALGORITHM
    if case == "other_key":
        key = "another-secret-of-at-least-thirty-two-bytes!!"
    elif case == "wrong_audience":
        claims["aud"] = "someone-else"
    elif case == "wrong_issuer":
        claims["iss"] = "someone-else"
    elif case == "expired":
        claims["exp"] = int(time.time()) - 5
        claims["iat"] = int(time.time()) - 600
    elif case == "refresh_typ":
        claims["typ"] = "refresh"
    elif case == "hs512":
        algorithm = "HS512"
    elif case == "stale_session":
        claims["sv"] = user.session_version + 1
    else:
        claims.pop(case.removeprefix("no_"))
    r = client.get(ME, headers=bearer(forge(app, claims, key, algorithm)))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("encoder", list(ENCODERS))
@pytest.mark.parametrize(
    ("issued", "lifetime", "status"),
    [
        (0, None, 200),  # as minted here
        (25, None, 200),  # within 30 s of clock skew
        (60, None, 401),  # issued in the future
        (3600, None, 401),
        (0, 1, 401),  # a second longer than the configured lifetime
        (-300, 10 * 365 * 86400, 401),  # a lifetime of years
        (0, 0, 200),  # exactly the configured lifetime
    ],
)
def test_tokens_from_the_future_or_for_too_long_are_refused(
    client, app, make, encoder, issued, lifetime, status
):
    user = make.user()
    now = int(time.time())
    iat = now + issued
    exp = iat + app.state.security.access_token_seconds + (lifetime or 0)
    if lifetime is None:
        exp = now + 300
    token = ENCODERS[encoder](app, claims_for(app, user, iat=iat, exp=exp))
    assert client.get(ME, headers=bearer(token)).status_code == status


@pytest.mark.parametrize("encoder", list(ENCODERS))
@pytest.mark.parametrize("value", ["0", True, None])
def test_times_that_are_not_numbers_are_refused(client, app, make, encoder, value):
    user = make.user()
    claims = claims_for(app, user)
    claims["iat"] = value
    assert client.get(ME, headers=bearer(ENCODERS[encoder](app, claims))).status_code == 401


def test_a_tampered_payload_is_refused(client, app, make):
    user, other = make.user(), make.user(Role.admin)
    header, _payload, signature = forge(app, claims_for(app, user)).split(".")
    tampered = f"{header}.{b64(claims_for(app, other))}.{signature}"
    assert client.get(ME, headers=bearer(tampered)).status_code == 401


def test_garbage_tokens_are_401_not_500(client):
    for token in ["x", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.e30."]:
        assert client.get(ME, headers=bearer(token)).status_code == 401


def test_a_deactivated_user_is_refused_at_once(client, make, db):
    user = make.user()
    headers = make.headers(user)
    assert client.get(ME, headers=headers).status_code == 200
    user.is_active = False
    db.add(user)
    db.commit()
    assert client.get(ME, headers=headers).status_code == 401


def test_a_role_change_applies_on_the_next_request(client, make, db):
    user = make.user(Role.admin)
    headers = make.headers(user)
    assert (
        client.post(
            "/api/v1/dialogues", headers=headers, json={"slug": "a-b", "title": "A b c"}
        ).status_code
        == 201
    )
    user.role = Role.activist.value
    db.add(user)
    db.commit()
    assert (
        client.post(
            "/api/v1/dialogues", headers=headers, json={"slug": "b-c", "title": "B c d"}
        ).status_code
        == 403
    )


# --- refresh tokens ---------------------------------------------------------------
# Every refresh test runs twice: through the JSON endpoint and through the OAuth2 token
# endpoint's refresh grant (RFC 6749 §6), which must rotate and detect reuse alike.


@pytest.fixture(params=["json", "oauth2"])
def via(request):
    return request.param


def spend(client, via, refresh_token):
    if via == "json":
        return client.post(REFRESH, json={"refresh_token": refresh_token})
    return client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh_token})


def test_refresh_rotates_and_a_spent_token_revokes_the_family(client, make, db, via):
    make.user(handle="rotor")
    first = sign_in(client, "rotor").json()
    second = spend(client, via, first["refresh_token"])
    assert second.status_code == 200
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 200

    # Replaying the spent token: refused, and the whole family with it.
    assert spend(client, via, first["refresh_token"]).status_code == 401
    assert spend(client, via, pair["refresh_token"]).status_code == 401
    assert all(t.revoked_at is not None for t in db.exec(select(RefreshToken)))


def test_reusing_a_spent_refresh_token_ends_the_access_tokens_at_once(client, make, via):
    make.user(handle="robbed")
    first = sign_in(client, "robbed").json()
    second = spend(client, via, first["refresh_token"]).json()
    elsewhere = sign_in(client, "robbed").json()  # another device, another family
    for pair in (first, second, elsewhere):
        assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 200

    # The thief (or the owner) presents the spent token: theft is evident.
    assert spend(client, via, first["refresh_token"]).status_code == 401
    for pair in (first, second, elsewhere):
        assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 401
    # The family is gone; the other device signs back in by refreshing.
    assert spend(client, via, second["refresh_token"]).status_code == 401
    renewed = spend(client, via, elsewhere["refresh_token"])
    assert renewed.status_code == 200
    assert client.get(ME, headers=bearer(renewed.json()["access_token"])).status_code == 200

    # Replaying a token of a family revoked already ends nothing more.
    assert spend(client, via, first["refresh_token"]).status_code == 401
    assert client.get(ME, headers=bearer(renewed.json()["access_token"])).status_code == 200


def test_refresh_tokens_are_stored_only_as_hashes(client, make, db):
    make.user(handle="hashed")
    pair = sign_in(client, "hashed").json()
    stored = db.exec(select(RefreshToken)).one()
    assert pair["refresh_token"] not in stored.token_hash


def test_an_access_token_is_not_a_refresh_token(client, make, via):
    make.user(handle="mixer")
    pair = sign_in(client, "mixer").json()
    r = spend(client, via, pair["access_token"])
    assert r.status_code == 422, r.text  # too long for a refresh token: refused at the door
    # ... and a refresh token is not an access token
    assert client.get(ME, headers=bearer(pair["refresh_token"])).status_code == 401


def test_an_expired_refresh_token_is_refused(client, make, db, via):
    make.user(handle="late")
    pair = sign_in(client, "late").json()
    stored = db.exec(select(RefreshToken)).one()
    stored.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.add(stored)
    db.commit()
    assert spend(client, via, pair["refresh_token"]).status_code == 401


def test_logout_revokes_refresh_and_access_tokens(client, make, via):
    make.user(handle="leaver")
    pair = sign_in(client, "leaver").json()
    assert (
        client.post("/api/v1/auth/logout", headers=bearer(pair["access_token"])).status_code == 204
    )
    assert spend(client, via, pair["refresh_token"]).status_code == 401
    assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 401


# --- the OAuth2 token endpoint, as a standard client library uses it -------------


@pytest.fixture
def oauth2(client):
    """Authlib's OAuth2 client (an httpx client) on the test app, as a public client."""
    from authlib.integrations.httpx_client import OAuth2Client

    def session(**kwargs):
        return OAuth2Client(
            client_id="a-script",
            token_endpoint_auth_method="none",
            token_endpoint=f"{client.base_url}{TOKEN}",
            transport=client._transport,
            base_url=client.base_url,
            **kwargs,
        )

    return session


def test_an_oauth2_library_signs_in_refreshes_and_detects_reuse(oauth2, make, db):
    from authlib.integrations.base_client import OAuthError

    make.user(handle="oauth-user")
    owner = oauth2()
    first = dict(owner.fetch_token(username="oauth-user", password=PASSWORD))
    assert owner.get(ME).json()["handle"] == "oauth-user"

    second = dict(owner.refresh_token())
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert owner.get(ME).status_code == 200
    assert len(db.exec(select(RefreshToken)).all()) == 2  # one family, rotated
    db.rollback()  # end the read: the writes below need the database

    # Someone replays the spent refresh token: refused with RFC 6749's invalid_grant ...
    thief = oauth2(token=first)
    with pytest.raises(OAuthError) as caught:
        thief.refresh_token()
    assert caught.value.error == "invalid_grant"
    assert "already used" in caught.value.description
    # ... and the owner's rotated pair ends with its family, at once.
    assert owner.get(ME).status_code == 401
    with pytest.raises(OAuthError, match="invalid_grant"):
        owner.refresh_token()
    assert all(t.revoked_at is not None for t in db.exec(select(RefreshToken)))


def test_an_oauth2_library_refreshes_an_expired_token_by_itself(oauth2, make):
    make.user(handle="oauth-auto")
    renewed = []
    session = oauth2(update_token=lambda token, refresh_token=None: renewed.append(token))
    first = dict(session.fetch_token(username="oauth-auto", password=PASSWORD))
    session.token = {**first, "expires_at": int(time.time()) - 60}  # as if 15 minutes passed
    assert session.get(ME).json()["handle"] == "oauth-auto"
    assert len(renewed) == 1 and renewed[0]["refresh_token"] != first["refresh_token"]


def test_an_oauth2_library_is_told_a_wrong_password(oauth2, make):
    from authlib.integrations.base_client import OAuthError

    make.user(handle="oauth-wrong")
    session = oauth2()
    with pytest.raises(OAuthError) as caught:
        session.fetch_token(username="oauth-wrong", password="not the right passphrase")
    assert caught.value.error == "invalid_grant"
    assert not session.token  # the error body was not taken for a token


def test_token_endpoint_errors_are_problems_with_oauth2_codes(client, make):
    make.user(handle="codes")
    pair = sign_in(client, "codes").json()

    def grant(**form):
        r = client.post(TOKEN, data=form)
        assert r.headers["content-type"].startswith("application/problem+json"), r.text
        return r.status_code, r.json()

    status, body = grant(username="codes", password="not the right passphrase")
    assert (status, body["error"], body["type"]) == (
        401,
        "invalid_grant",
        "urn:civic-input:problem:unauthorized",
    )
    status, body = grant(grant_type="client_credentials")
    assert (status, body["error"]) == (400, "unsupported_grant_type")
    status, body = grant(
        grant_type="refresh_token", refresh_token=pair["refresh_token"], scope="admin"
    )
    assert (status, body["error"]) == (400, "invalid_scope")
    status, body = grant(grant_type="refresh_token", refresh_token="x" * 43)
    assert (status, body["error"], body["detail"]) == (
        401,
        "invalid_grant",
        "The refresh token is not valid.",
    )
    status, body = grant(grant_type="refresh_token")
    assert status == 422 and body["errors"][0]["loc"] == ["body", "refresh_token"]
    status, body = grant(password=PASSWORD)
    assert status == 422 and body["errors"][0]["loc"] == ["body", "username"]
    # the refused scope did not spend the token
    assert spend(client, "oauth2", pair["refresh_token"]).status_code == 200


# --- reading other users ----------------------------------------------------------


@pytest.mark.parametrize("role", [Role.activist, Role.moderator, Role.official])
def test_no_one_but_an_admin_reads_another_user(client, make, role):
    reader, other = make.user(role), make.user()
    assert client.get(f"/api/v1/users/{other.id}", headers=make.headers(reader)).status_code == 404
    assert client.get(f"/api/v1/users/{reader.id}", headers=make.headers(reader)).status_code == 200


def test_an_admin_reads_any_user(client, make):
    admin, other = make.user(Role.admin), make.user()
    r = client.get(f"/api/v1/users/{other.id}", headers=make.headers(admin))
    assert r.status_code == 200 and r.json()["handle"] == other.handle


def test_anonymous_gets_401_on_me(client):
    r = client.get(ME)
    assert r.status_code == 401
    assert r.json()["type"].startswith("urn:civic-input:problem:")


def test_a_sign_in_holds_no_database_turn_while_it_hashes(client, make, monkeypatch):
    # Argon2 runs outside the transaction: while a sign-in hashes, a submission (a write,
    # which on SQLite needs the single writer's turn) still goes through.
    activist = make.user(Role.activist, handle="hasher")
    rnd = make.round(phase=Phase.accepting_submissions)
    hashing, finish = threading.Event(), threading.Event()
    verify = Security.verify_password

    def slow_verify(self, password_hash, password):
        hashing.set()
        assert finish.wait(20)
        return verify(self, password_hash, password)

    monkeypatch.setattr(Security, "verify_password", slow_verify)
    answers: dict[str, object] = {}
    signing_in = threading.Thread(
        target=lambda: answers.setdefault("sign-in", sign_in(client, "hasher"))
    )
    signing_in.start()
    try:
        assert hashing.wait(20)
        submitting = threading.Thread(
            target=lambda: answers.setdefault(
                "submission",
                client.post(
                    f"/api/v1/rounds/{rnd.id}/submissions",
                    headers=make.headers(activist),
                    json={
                        "kind": "concern",
                        "title": "Written while a sign-in hashes",
                        "body": "The writer's turn is free while Argon2 runs.",
                        "language": "en",
                        "addressed_to": ["CN"],
                    },
                ),
            )
        )
        submitting.start()
        submitting.join(10)
        assert not submitting.is_alive(), "the submission waited for the sign-in's hash"
        assert answers["submission"].status_code == 201
    finally:
        finish.set()
        signing_in.join(20)
    assert answers["sign-in"].status_code == 200
