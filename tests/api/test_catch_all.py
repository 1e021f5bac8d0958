"""An unexpected error is answered once and not re-raised to the server, so the client
keeps its connection and the log holds one traceback, not two."""

from fastapi.testclient import TestClient

from api.main import create_app


def test_an_unexpected_error_is_answered_and_not_re_raised(settings):
    app = create_app(settings)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret-internal-detail")

    # raise_server_exceptions=True: the client raises if anything escapes the app
    with TestClient(app, raise_server_exceptions=True) as client:
        r = client.get("/api/v1/boom")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert "secret-internal-detail" not in r.text and "RuntimeError" not in r.text
