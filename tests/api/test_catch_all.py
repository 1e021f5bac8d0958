"""An unexpected error is answered once and not re-raised to the server, so the client
keeps its connection and the log holds one traceback, not two."""

from fastapi.testclient import TestClient

from tests.client import PROBLEM, assert_problem, failing_app


def test_an_unexpected_error_is_answered_and_not_re_raised(settings):
    # raise_server_exceptions=True: the client raises if anything escapes the app
    with TestClient(failing_app(settings), raise_server_exceptions=True) as client:
        r = client.get("/api/v1/boom")
    assert_problem(r, 500)
    assert r.headers["content-type"] == PROBLEM
    assert "secret-internal-detail" not in r.text and "RuntimeError" not in r.text
