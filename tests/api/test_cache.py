"""The read cache: anonymous JSON reads are served from memory, never stale after a
write in this process, never for signed-in callers."""

import sqlalchemy as sa

from models.round import Phase
from models.submission import Status
from models.user import Role


def record(client, rnd):
    return client.get(f"/api/v1/rounds/{rnd.id}/record")


def test_a_repeated_read_is_served_from_the_cache(client, make, app, engine):
    rnd = make.round(phase=Phase.accepting_responses)
    make.submission(rnd, title="First concern here")
    assert [i["title"] for i in record(client, rnd).json()["items"]] == ["First concern here"]
    statements = []

    def count(*_args):
        statements.append(1)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert record(client, rnd).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert statements == []


def test_a_withdrawal_is_seen_at_once(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    author = make.user()
    submission = make.submission(rnd, author=author, title="Soon withdrawn")
    assert len(record(client, rnd).json()["items"]) == 1
    r = client.post(f"/api/v1/submissions/{submission.id}/withdraw", headers=make.headers(author))
    assert r.status_code == 200
    assert record(client, rnd).json()["items"] == []
    assert client.get(f"/api/v1/submissions/{submission.id}").status_code == 404


def test_a_direct_database_write_invalidates_too(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    assert record(client, rnd).json()["items"] == []
    make.submission(rnd, title="Written behind the API")
    assert len(record(client, rnd).json()["items"]) == 1


def test_signed_in_reads_are_not_shared(client, make):
    rnd = make.round(phase=Phase.accepting_submissions)
    author = make.user()
    submission = make.submission(rnd, author=author, status=Status.pending)
    assert client.get(f"/api/v1/submissions/{submission.id}").status_code == 404
    mine = client.get(f"/api/v1/submissions/{submission.id}", headers=make.headers(author))
    assert mine.status_code == 200 and mine.json()["status"] == "pending"
    assert client.get(f"/api/v1/submissions/{submission.id}").status_code == 404
    moderator = make.user(Role.moderator)
    assert (
        client.get(
            f"/api/v1/submissions/{submission.id}", headers=make.headers(moderator)
        ).status_code
        == 200
    )


def test_a_cached_response_carries_cors_headers_only_when_asked(client, make):
    rnd = make.round(phase=Phase.accepting_responses)
    origin = {"Origin": "https://reader.example"}
    first = client.get(f"/api/v1/rounds/{rnd.id}/record", headers=origin)
    plain = client.get(f"/api/v1/rounds/{rnd.id}/record")
    again = client.get(f"/api/v1/rounds/{rnd.id}/record", headers=origin)
    assert first.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in plain.headers
    assert again.headers["access-control-allow-origin"] == "*"
    assert again.headers["vary"] == first.headers["vary"]
    assert "access-control-allow-credentials" not in again.headers
