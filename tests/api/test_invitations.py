"""Invitations: admins only, one-time, expiring, officials bound to a delegation."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from models.user import Invitation, Role

INVITE = "/api/v1/invitations"
ACCEPT = "/api/v1/auth/accept-invitation"


def invite(client, make, admin, **body):
    return client.post(INVITE, headers=make.headers(admin), json=body)


def test_an_official_is_invited_for_a_delegation_and_gets_that_role(client, make):
    admin, delegation = make.user(Role.admin), make.delegation(code="CN")
    r = invite(client, make, admin, role="official", delegation_id=str(delegation.id))
    assert r.status_code == 201
    token = r.json()["token"]
    accepted = client.post(
        ACCEPT, json={"token": token, "handle": "cn-official", "password": "x" * 15}
    )
    assert accepted.status_code == 201
    body = accepted.json()
    assert body["role"] == "official" and body["delegation"]["code"] == "CN"


def test_a_moderator_invitation(client, make):
    admin = make.user(Role.admin)
    token = invite(client, make, admin, role="moderator").json()["token"]
    r = client.post(ACCEPT, json={"token": token, "handle": "mod-1", "password": "x" * 15})
    assert r.status_code == 201 and r.json()["role"] == "moderator"


@pytest.mark.parametrize("role", [Role.activist, Role.official, Role.moderator])
def test_only_admins_invite(client, make, role):
    caller = make.user(role)
    assert invite(client, make, caller, role="moderator").status_code == 403


def test_anonymous_cannot_invite(client):
    assert client.post(INVITE, json={"role": "moderator"}).status_code == 401


@pytest.mark.parametrize("role", ["admin", "activist"])
def test_admins_and_activists_are_not_invited(client, make, role):
    admin = make.user(Role.admin)
    assert invite(client, make, admin, role=role).status_code == 422


def test_an_official_needs_a_delegation(client, make):
    admin = make.user(Role.admin)
    assert invite(client, make, admin, role="official").status_code == 422


def test_an_invitation_works_once(client, make):
    admin = make.user(Role.admin)
    token = invite(client, make, admin, role="moderator").json()["token"]
    assert (
        client.post(
            ACCEPT, json={"token": token, "handle": "first", "password": "x" * 15}
        ).status_code
        == 201
    )
    r = client.post(ACCEPT, json={"token": token, "handle": "second", "password": "x" * 15})
    assert r.status_code == 410


def test_an_expired_invitation_is_refused(client, make, db):
    admin = make.user(Role.admin)
    token = invite(client, make, admin, role="moderator", expires_in_hours=1).json()["token"]
    stored = db.exec(select(Invitation)).one()
    stored.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.add(stored)
    db.commit()
    r = client.post(ACCEPT, json={"token": token, "handle": "tardy", "password": "x" * 15})
    assert r.status_code == 410


def test_an_unknown_invitation_is_404(client):
    r = client.post(ACCEPT, json={"token": "n" * 43, "handle": "guess", "password": "x" * 15})
    assert r.status_code == 404


def test_the_token_is_stored_only_as_a_hash(client, make, db):
    admin = make.user(Role.admin)
    token = invite(client, make, admin, role="moderator").json()["token"]
    assert token not in db.exec(select(Invitation)).one().token_hash
