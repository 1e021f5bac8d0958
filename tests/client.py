"""What API tests share: the problem-document assertion, a checked-status helper, and a
small driver for the calls many tests make (submit, moderate, respond, revise, assess,
withdraw), each made over HTTP as a real user with a real token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from api.config import Settings
from api.main import create_app

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from models.user import User
    from tests.factories import Factory

PROBLEM = "application/problem+json"
# Words that would show an internal detail (a trace, SQL, a driver) reached a client.
LEAKS = ("Traceback", "sqlalchemy", "psycopg", "sqlite3", 'File "')


def assert_problem(response: Any, status: int | None = None) -> dict[str, Any]:
    """An RFC 9457 problem document with `status` (or, when None, any 4xx) that leaks
    nothing internal; returns its body."""
    if status is None:
        assert 400 <= response.status_code < 500, response.text
    else:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    for leak in LEAKS:
        assert leak.lower() not in response.text.lower(), response.text
    body: dict[str, Any] = response.json()
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert body["status"] == response.status_code
    return body


def ok(response: Any, status: int = 200) -> Any:
    """The JSON body of a response that has exactly `status`."""
    assert response.status_code == status, response.text
    return response.json()


def failing_app(settings: Settings, path: str = "/api/v1/boom") -> FastAPI:
    """A fresh app with one more route, at `path`, that fails as an unexpected bug would,
    naming `secret-internal-detail` (which must never reach the client)."""
    app = create_app(settings)

    @app.get(path)
    def boom() -> None:
        raise RuntimeError("secret-internal-detail")

    return app


def submission_body(**override: Any) -> dict[str, Any]:
    """A valid submission; a field given as None is left out."""
    body = {
        "kind": "concern",
        "title": "Detained labour lawyers",
        "body": "Where are the labour lawyers detained in 2011 held, and on what charge?",
        "language": "en",
        "themes": ["labour-rights", "rule-of-law"],
        "addressed_to": ["CN"],
        "attribution": "anonymous",
    }
    body.update(override)
    return {k: v for k, v in body.items() if v is not None}


class Driver:
    """The everyday writes, as the API's clients make them. Methods named for a result
    (`publish`, `respond`, ...) check the status; `submit` and `moderate` hand back the
    raw response so a test can check a refusal."""

    def __init__(self, client: TestClient, make: Factory) -> None:
        self.client = client
        self.make = make

    def headers(self, user: User | None) -> dict[str, str]:
        return self.make.headers(user) if user is not None else {}

    def submit(self, rnd: Any, author: User | None, **override: Any) -> Any:
        return self.client.post(
            f"/api/v1/rounds/{rnd.id}/submissions",
            headers=self.headers(author),
            json=submission_body(**override),
        )

    def moderate(
        self, moderator: User, submission_id: Any, decision: str, reason: str | None = None
    ) -> Any:
        body = {"decision": decision} | ({"reason": reason} if reason else {})
        return self.client.post(
            f"/api/v1/submissions/{submission_id}/moderation",
            json=body,
            headers=self.headers(moderator),
        )

    def publish(self, moderator: User, submission_id: Any) -> dict[str, Any]:
        return ok(self.moderate(moderator, submission_id, "publish"))

    def remove(
        self, moderator: User, submission_id: Any, reason: str = "Names a witness."
    ) -> dict[str, Any]:
        return ok(self.moderate(moderator, submission_id, "remove", reason))

    def withdraw(self, author: User, submission_id: Any) -> dict[str, Any]:
        r = self.client.post(
            f"/api/v1/submissions/{submission_id}/withdraw", headers=self.headers(author)
        )
        return ok(r)

    def respond(self, official: User, submission_id: Any, body: str, kind: str = "answer") -> str:
        """A response by `official`'s delegation; returns its id."""
        r = self.client.post(
            f"/api/v1/submissions/{submission_id}/responses",
            json={"kind": kind, "body": body, "language": "en"},
            headers=self.headers(official),
        )
        response_id: str = ok(r, 201)["id"]
        return response_id

    def revise(
        self, official: User, response_id: Any, body: str, reason: str = "Corrected."
    ) -> dict[str, Any]:
        r = self.client.post(
            f"/api/v1/responses/{response_id}/revisions",
            json={"body": body, "reason": reason},
            headers=self.headers(official),
        )
        return ok(r, 201)

    def assess(
        self, user: User, response_id: Any, rating: str, comment: str | None = None
    ) -> dict[str, Any]:
        body = {"rating": rating} | ({"comment": comment} if comment else {})
        r = self.client.post(
            f"/api/v1/responses/{response_id}/assessments", json=body, headers=self.headers(user)
        )
        return ok(r, 201)
