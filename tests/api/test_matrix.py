"""Who may do what: DESIGN.md's role table as one parametrised matrix.

Each row is an action, each cell a caller and the exact status it must get: 2xx when
allowed, 401 anonymous, 403 for the wrong role (refusing an action hides nothing), and
404 where the resource must stay hidden from that caller. Where ownership matters the
cells are `owner` (the submission's author, the endorser, the account itself, the
official of the delegation concerned) and `another_owner` (someone of the same role
who does not own it). Every case arranges its own data with the factories.
"""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from api import clock
from api.services import accounts, progress, translations
from api.services import rounds as round_service
from models.benchmark import Benchmark, BenchmarkCreate
from models.case import Case, CaseReview
from models.commitment import Commitment, CommitmentCreate
from models.dialogue import Dialogue
from models.round import Phase
from models.submission import Endorsement, Status
from models.translation import ResponseTranslationCreate
from models.user import InvitationCreate, Role, User
from tests.client import assert_problem
from tests.factories import HOUR, PASSWORD, Factory, window

API = "/api/v1"

# The columns.
ANONYMOUS, ACTIVIST, OFFICIAL, MODERATOR, ADMIN = (
    "anonymous",
    "activist",
    "official",
    "moderator",
    "admin",
)
OWNER, ANOTHER_OWNER = "owner", "another_owner"
ROLES = {
    ACTIVIST: Role.activist,
    OFFICIAL: Role.official,
    MODERATOR: Role.moderator,
    ADMIN: Role.admin,
}


@dataclass
class Call:
    """One request, and the users who stand in the ownership columns of its row."""

    method: str
    path: str
    json: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    callers: dict[str, User] = field(default_factory=dict)
    form: dict[str, str] | None = None


def _z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _submission_body() -> dict[str, Any]:
    return {
        "kind": "concern",
        "title": "Detained labour lawyers",
        "body": "Where are they held?",
        "language": "en",
        "themes": ["labour-rights"],
        "addressed_to": ["CN"],
    }


def _answered(make: Factory, *, phase: Phase = Phase.accepting_responses) -> tuple[Any, ...]:
    """A round in `phase` with a published submission addressed to CN, answered by CN."""
    rnd = make.round(phase=phase)
    author = make.user()
    submission = make.submission(rnd, author=author, addressed_to=("CN",))
    cn = make.official(rnd, "CN")
    response = make.response(submission, code="CN", official=cn)
    return rnd, author, submission, response, cn


# --- arrange: one function per action -------------------------------------------


def register(make: Factory) -> Call:
    return Call("POST", f"{API}/auth/register", {"handle": _unique("new"), "password": PASSWORD})


def sign_in(make: Factory) -> Call:
    account = make.user()
    form = {"username": account.handle, "password": PASSWORD}
    return Call("POST", f"{API}/auth/token", form=form)


def refresh(make: Factory) -> Call:
    pair = accounts.issue_tokens(make.session, make.security, user=make.user())
    make.session.commit()
    return Call("POST", f"{API}/auth/refresh", {"refresh_token": pair.refresh_token})


def sign_out(make: Factory) -> Call:
    return Call("POST", f"{API}/auth/logout")


def accept_invitation(make: Factory) -> Call:
    invitation = accounts.invite(
        make.session, data=InvitationCreate(role="moderator"), admin=make.user(Role.admin)
    )
    make.session.commit()
    body = {"token": invitation.token, "handle": _unique("invited"), "password": PASSWORD}
    return Call("POST", f"{API}/auth/accept-invitation", body)


def create_dialogue(make: Factory) -> Call:
    return Call("POST", f"{API}/dialogues", {"slug": _unique("dlg"), "title": "A new dialogue"})


def add_delegation(make: Factory) -> Call:
    slug = make.dialogue().slug
    return Call("POST", f"{API}/dialogues/{slug}/delegations", {"code": "EU", "name": "EU"})


def create_round(make: Factory) -> Call:
    slug = make.dialogue().slug
    instants = {k: _z(v) for k, v in window(Phase.upcoming).items()}
    body = {"number": 1, "title": "Round one", **instants}
    return Call("POST", f"{API}/dialogues/{slug}/rounds", body)


def patch_round(make: Factory) -> Call:
    rnd = make.round(phase=Phase.accepting_submissions)
    later = _z(rnd.responses_due_at + HOUR)
    tag = round_service.etag(rnd, round_service.phase_of(rnd))
    return Call(
        "PATCH", f"{API}/rounds/{rnd.id}", {"responses_due_at": later}, headers={"If-Match": tag}
    )


def create_theme(make: Factory) -> Call:
    body = {"slug": _unique("theme"), "names": {"en": "A theme", "zh-Hans": "主题"}}
    return Call("POST", f"{API}/themes", body)


def create_invitation(make: Factory) -> Call:
    return Call("POST", f"{API}/invitations", {"role": "moderator"})


def submit(make: Factory) -> Call:
    rnd = make.round(phase=Phase.accepting_submissions)
    return Call("POST", f"{API}/rounds/{rnd.id}/submissions", _submission_body())


def edit_own_pending(make: Factory) -> Call:
    rnd = make.round(phase=Phase.accepting_submissions)
    author = make.user()
    submission = make.submission(rnd, author=author, status=Status.pending)
    return Call(
        "PATCH",
        f"{API}/submissions/{submission.id}",
        {"title": "Detained labour lawyers in Guangdong"},
        callers={OWNER: author, ANOTHER_OWNER: make.user()},
    )


def withdraw(make: Factory) -> Call:
    rnd = make.round(phase=Phase.accepting_submissions)
    author = make.user()
    submission = make.submission(rnd, author=author, status=Status.pending)
    return Call(
        "POST",
        f"{API}/submissions/{submission.id}/withdraw",
        callers={OWNER: author, ANOTHER_OWNER: make.user()},
    )


def endorse(make: Factory) -> Call:
    rnd = make.round(phase=Phase.accepting_submissions)
    author = make.user()
    submission = make.submission(rnd, author=author)
    return Call("POST", f"{API}/submissions/{submission.id}/endorsements", callers={OWNER: author})


def unendorse(make: Factory) -> Call:
    rnd = make.round(phase=Phase.accepting_submissions)
    submission = make.submission(rnd)
    endorser = make.user()
    make.session.add(Endorsement(submission_id=submission.id, user_id=endorser.id))
    make.session.commit()
    return Call(
        "DELETE",
        f"{API}/submissions/{submission.id}/endorsements",
        callers={OWNER: endorser, ANOTHER_OWNER: make.user()},
    )


def read_moderation_queue(make: Factory) -> Call:
    rnd = make.round(phase=Phase.accepting_submissions)
    make.submission(rnd, status=Status.pending)
    return Call("GET", f"{API}/moderation/queue")


def _moderate(status: Status, decision: dict[str, str]) -> Callable[[Factory], Call]:
    def arrange(make: Factory) -> Call:
        rnd = make.round(phase=Phase.accepting_submissions)
        submission = make.submission(rnd, status=status)
        return Call("POST", f"{API}/submissions/{submission.id}/moderation", decision)

    return arrange


def respond(make: Factory) -> Call:
    rnd = make.round(phase=Phase.accepting_responses)
    submission = make.submission(rnd, addressed_to=("CN",))
    return Call(
        "POST",
        f"{API}/submissions/{submission.id}/responses",
        {"kind": "answer", "body": "They are held in Beijing.", "language": "en"},
        callers={OWNER: make.official(rnd, "CN"), ANOTHER_OWNER: make.official(rnd, "US")},
    )


def respond_grouped(make: Factory) -> Call:
    rnd = make.round(phase=Phase.accepting_responses)
    ids = [str(make.submission(rnd, addressed_to=("CN",)).id) for _ in range(2)]
    return Call(
        "POST",
        f"{API}/rounds/{rnd.id}/grouped-responses",
        {
            "submission_ids": ids,
            "kind": "answer",
            "body": "They are held in Beijing.",
            "language": "en",
        },
        callers={OWNER: make.official(rnd, "CN"), ANOTHER_OWNER: make.official(rnd, "US")},
    )


def revise_response(make: Factory) -> Call:
    rnd, _author, _submission, response, cn = _answered(make)
    return Call(
        "POST",
        f"{API}/responses/{response.id}/revisions",
        {"body": "They are held in Tianjin.", "reason": "The first answer named the wrong city."},
        headers={"If-Match": f'"response-{response.revision_count}"'},
        callers={OWNER: cn, ANOTHER_OWNER: make.official(rnd, "US")},
    )


def assess_response(make: Factory) -> Call:
    _rnd, author, _submission, response, _cn = _answered(make)
    return Call(
        "POST",
        f"{API}/responses/{response.id}/assessments",
        {"rating": "evasive", "comment": "It names no place."},
        callers={OWNER: author, ANOTHER_OWNER: make.user()},
    )


def _held(make: Factory, *, phase: Phase = Phase.accepting_responses) -> tuple[Any, ...]:
    """Like `_answered`, but CN's response is held for a joint release a day ahead."""
    rnd, author, submission, response, cn = _answered(make, phase=phase)
    response.embargo_until = clock.now() + 24 * HOUR
    make.session.add(response)
    make.session.commit()
    return rnd, author, submission, response, cn


def _release(method: str, phase: Phase = Phase.accepting_responses) -> Callable[[Factory], Call]:
    def arrange(make: Factory) -> Call:
        rnd = make.round(phase=phase)
        body = {"release_at": _z(clock.now() + 24 * HOUR)} if method == "PUT" else None
        return Call(
            method,
            f"{API}/rounds/{rnd.id}/delegations/CN/release",
            body,
            callers={OWNER: make.official(rnd, "CN"), ANOTHER_OWNER: make.official(rnd, "US")},
        )

    return arrange


def _translate_submission(status: Status) -> Callable[[Factory], Call]:
    def arrange(make: Factory) -> Call:
        rnd = make.round(phase=Phase.accepting_responses)
        author = make.user()
        submission = make.submission(rnd, author=author, status=status)
        return Call(
            "POST",
            f"{API}/submissions/{submission.id}/translations",
            {"language": "zh-Hans", "title": "被拘留的劳工律师", "body": "他们被关在哪里？"},
            callers={OWNER: author, ANOTHER_OWNER: make.user()},
        )

    return arrange


def _held_action(method: str, suffix: str, body: dict[str, Any] | None) -> Callable[..., Call]:
    def arrange(make: Factory) -> Call:
        rnd, author, _submission, response, cn = _held(make)
        callers = {OWNER: cn, ANOTHER_OWNER: make.official(rnd, "US"), ACTIVIST: author}
        return Call(method, f"{API}/responses/{response.id}{suffix}", body, callers=callers)

    return arrange


def translate_response(make: Factory) -> Call:
    rnd, _author, _submission, response, cn = _answered(make)
    return Call(
        "POST",
        f"{API}/responses/{response.id}/translations",
        {"language": "zh-Hans", "body": "他们被关押在北京。"},
        callers={OWNER: cn, ANOTHER_OWNER: make.official(rnd, "US")},
    )


def set_authoritative_text(make: Factory) -> Call:
    rnd, _author, _submission, response, cn = _answered(make)
    translations.translate_response(
        make.session,
        response=response,
        data=ResponseTranslationCreate(language="zh-Hans", body="他们被关押在北京。"),
        user=cn,
    )
    make.session.commit()
    return Call(
        "PUT",
        f"{API}/responses/{response.id}/authoritative",
        {"language": "zh-Hans"},
        callers={OWNER: cn, ANOTHER_OWNER: make.official(rnd, "US")},
    )


def read_audit_log(make: Factory) -> Call:
    return Call("GET", f"{API}/audit")


def read_user(make: Factory) -> Call:
    account = make.user()
    return Call("GET", f"{API}/users/{account.id}", callers={OWNER: account})


def read_my_submissions(make: Factory) -> Call:
    return Call("GET", f"{API}/me/submissions")


# --- cases --------------------------------------------------------------------------


def _case(make: Factory, recorder: User, review: CaseReview = CaseReview.published) -> Case:
    case = Case(
        created_by_id=recorder.id,
        name="Chen Guangcheng",
        summary="A self-taught legal advocate held under house arrest.",
        restricted_details="His brother's number.",
        review=review.value,
        published_at=clock.now() if review == CaseReview.published else None,
    )
    make.session.add(case)
    make.session.commit()
    return case


def create_case(make: Factory) -> Call:
    body = {
        "name": "Chen Guangcheng",
        "status": "detained",
        "status_date": "2012-04-22",
        "summary": "A self-taught legal advocate held under house arrest.",
    }
    return Call("POST", f"{API}/cases", body)


def add_case_timeline(make: Factory) -> Call:
    recorder = make.user()
    case = _case(make, recorder)
    body = {"status": "released", "event_date": "2012-05-19", "note": "Left for New York."}
    return Call("POST", f"{API}/cases/{case.id}/timeline", body, callers={OWNER: recorder})


def moderate_case(make: Factory) -> Call:
    case = _case(make, make.user(), CaseReview.pending)
    return Call("POST", f"{API}/cases/{case.id}/moderation", {"decision": "published"})


def _case_action(
    method: str,
    tail: str,
    json: dict[str, Any] | None,
    review: CaseReview = CaseReview.published,
) -> Callable[[Factory], Call]:
    """An action on a case, whose recorder stands in the `owner` column."""

    def arrange(make: Factory) -> Call:
        recorder = make.user()
        case = _case(make, recorder, review)
        return Call(
            method,
            f"{API}/cases/{case.id}/{tail}",
            json,
            callers={OWNER: recorder, ANOTHER_OWNER: make.user()},
        )

    return arrange


# --- benchmarks and commitments --------------------------------------------------


def _benchmark(make: Factory) -> tuple[Any, Benchmark]:
    """A CN benchmark, adopted (through the service) before the session of its round."""
    rnd = make.round(phase=Phase.awaiting_session)
    data = BenchmarkCreate(delegation="CN", title="Release the lawyer", description="Free him.")
    benchmark = progress.create_benchmark(
        make.session, rnd=rnd, data=data, moderator=make.user(Role.moderator)
    )
    make.session.commit()
    return rnd, benchmark


def _commitment(make: Factory) -> tuple[Any, Commitment, User]:
    """A CN commitment, recorded (through the service) by a CN official in session."""
    rnd = make.round(phase=Phase.in_session)
    cn = make.official(rnd, "CN")
    data = CommitmentCreate(text="Will reply in writing on each case raised.")
    commitment = progress.create_commitment(make.session, rnd=rnd, data=data, actor=cn)
    make.session.commit()
    return rnd, commitment, cn


def create_benchmark(make: Factory) -> Call:
    rnd = make.round(phase=Phase.awaiting_session)
    body = {"delegation": "CN", "title": "Release the lawyer", "description": "Free him."}
    return Call("POST", f"{API}/rounds/{rnd.id}/benchmarks", body)


def create_commitment(make: Factory) -> Call:
    rnd = make.round(phase=Phase.in_session)
    body = {"delegation": "CN", "text": "Will reply in writing on each case raised."}
    return Call(
        "POST",
        f"{API}/rounds/{rnd.id}/commitments",
        body,
        callers={OWNER: make.official(rnd, "CN"), ANOTHER_OWNER: make.official(rnd, "US")},
    )


PROGRESS = {"status": "in_progress", "note": "Some steps taken."}


def assess_benchmark(make: Factory) -> Call:
    rnd, benchmark = _benchmark(make)
    return Call(
        "POST",
        f"{API}/benchmarks/{benchmark.id}/assessments",
        PROGRESS,
        callers={OWNER: make.official(rnd, "CN"), ANOTHER_OWNER: make.official(rnd, "US")},
    )


def assess_commitment(make: Factory) -> Call:
    rnd, commitment, cn = _commitment(make)
    return Call(
        "POST",
        f"{API}/commitments/{commitment.id}/assessments",
        PROGRESS,
        callers={OWNER: cn, ANOTHER_OWNER: make.official(rnd, "US")},
    )


# --- the public record: every role reads it --------------------------------------


def _public_read(template: str) -> Callable[[Factory], Call]:
    def arrange(make: Factory) -> Call:
        rnd, _author, submission, response, _cn = _answered(make)
        slug = make.session.get_one(Dialogue, rnd.dialogue_id).slug
        ids = {"slug": slug, "round": rnd.id, "submission": submission.id, "response": response.id}
        return Call("GET", API + template.format(**ids))

    return arrange


PUBLIC_READS = {
    "list-dialogues": "/dialogues",
    "read-dialogue": "/dialogues/{slug}",
    "list-themes": "/themes",
    "read-round": "/rounds/{round}",
    "round-record": "/rounds/{round}/record?q=lawyers",
    "round-scorecard": "/rounds/{round}/scorecard",
    "read-published-submission": "/submissions/{submission}",
    "read-response": "/responses/{response}",
    "list-revisions": "/responses/{response}/revisions",
}


# --- the matrix ------------------------------------------------------------------

ALL_200 = {ANONYMOUS: 200, ACTIVIST: 200, OFFICIAL: 200, MODERATOR: 200, ADMIN: 200}
ADMIN_ONLY_201 = {ANONYMOUS: 401, ACTIVIST: 403, OFFICIAL: 403, MODERATOR: 403, ADMIN: 201}
MODERATORS_200 = {ANONYMOUS: 401, ACTIVIST: 403, OFFICIAL: 403, MODERATOR: 200, ADMIN: 200}

# action: (arrange, {caller: expected status})
MATRIX: dict[str, tuple[Callable[[Factory], Call], dict[str, int]]] = {
    "register": (
        register,
        {ANONYMOUS: 201, ACTIVIST: 201, OFFICIAL: 201, MODERATOR: 201, ADMIN: 201},
    ),
    "sign-in": (sign_in, ALL_200),
    "refresh": (refresh, ALL_200),
    "sign-out": (
        sign_out,
        {ANONYMOUS: 401, ACTIVIST: 204, OFFICIAL: 204, MODERATOR: 204, ADMIN: 204},
    ),
    "accept-invitation": (
        accept_invitation,
        {ANONYMOUS: 201, ACTIVIST: 201, OFFICIAL: 201, MODERATOR: 201, ADMIN: 201},
    ),
    "create-dialogue": (create_dialogue, ADMIN_ONLY_201),
    "add-delegation": (add_delegation, ADMIN_ONLY_201),
    "create-round": (create_round, ADMIN_ONLY_201),
    "patch-round": (
        patch_round,
        {ANONYMOUS: 401, ACTIVIST: 403, OFFICIAL: 403, MODERATOR: 403, ADMIN: 200},
    ),
    "create-theme": (create_theme, ADMIN_ONLY_201),
    "create-invitation": (create_invitation, ADMIN_ONLY_201),
    "submit": (
        submit,
        {ANONYMOUS: 401, ACTIVIST: 201, OFFICIAL: 403, MODERATOR: 403, ADMIN: 403},
    ),
    "edit-own-pending": (
        edit_own_pending,
        {ANONYMOUS: 401, OWNER: 200, ANOTHER_OWNER: 404, OFFICIAL: 403, MODERATOR: 403, ADMIN: 403},
    ),
    "withdraw": (
        withdraw,
        {ANONYMOUS: 401, OWNER: 200, ANOTHER_OWNER: 404, OFFICIAL: 403, MODERATOR: 403, ADMIN: 403},
    ),
    "endorse": (
        endorse,
        {ANONYMOUS: 401, ACTIVIST: 201, OWNER: 409, OFFICIAL: 403, MODERATOR: 403, ADMIN: 403},
    ),
    "unendorse": (
        unendorse,
        {ANONYMOUS: 401, OWNER: 204, ANOTHER_OWNER: 404, OFFICIAL: 403, MODERATOR: 403, ADMIN: 403},
    ),
    "read-moderation-queue": (read_moderation_queue, MODERATORS_200),
    "moderate-publish": (_moderate(Status.pending, {"decision": "publish"}), MODERATORS_200),
    "moderate-reject": (
        _moderate(Status.pending, {"decision": "reject", "reason": "Names a witness."}),
        MODERATORS_200,
    ),
    "moderate-remove": (
        _moderate(Status.published, {"decision": "remove", "reason": "Endangers a source."}),
        MODERATORS_200,
    ),
    "respond": (
        respond,
        {ANONYMOUS: 401, ACTIVIST: 403, OWNER: 201, ANOTHER_OWNER: 403, MODERATOR: 403, ADMIN: 403},
    ),
    # an official of another delegation: 403, as for one submission
    "respond-grouped": (
        respond_grouped,
        {ANONYMOUS: 401, ACTIVIST: 403, OWNER: 201, ANOTHER_OWNER: 403, MODERATOR: 403, ADMIN: 403},
    ),
    "revise-response": (
        revise_response,
        {ANONYMOUS: 401, ACTIVIST: 403, OWNER: 201, ANOTHER_OWNER: 403, MODERATOR: 403, ADMIN: 403},
    ),
    "assess-response": (
        assess_response,
        {ANONYMOUS: 401, OWNER: 201, ANOTHER_OWNER: 403, OFFICIAL: 403, MODERATOR: 201, ADMIN: 201},
    ),
    "translate-submission": (
        _translate_submission(Status.published),
        {ANONYMOUS: 401, OWNER: 201, ANOTHER_OWNER: 403, OFFICIAL: 403, MODERATOR: 201, ADMIN: 201},
    ),
    # only a published submission is translated: its author and moderators are told so, the
    # others do not learn it exists
    "translate-pending-submission": (
        _translate_submission(Status.pending),
        {ANONYMOUS: 401, OWNER: 409, ANOTHER_OWNER: 404, OFFICIAL: 404, MODERATOR: 409, ADMIN: 409},
    ),
    "translate-withdrawn-submission": (
        _translate_submission(Status.withdrawn),
        {ANONYMOUS: 401, OWNER: 409, ANOTHER_OWNER: 404, MODERATOR: 409},
    ),
    "translate-response": (
        translate_response,
        {ANONYMOUS: 401, ACTIVIST: 403, OWNER: 201, ANOTHER_OWNER: 403, MODERATOR: 201, ADMIN: 201},
    ),
    "set-authoritative-text": (
        set_authoritative_text,
        {ANONYMOUS: 401, ACTIVIST: 403, OWNER: 200, ANOTHER_OWNER: 403, MODERATOR: 403, ADMIN: 403},
    ),
    "read-audit-log": (
        read_audit_log,
        {ANONYMOUS: 401, ACTIVIST: 403, OFFICIAL: 403, MODERATOR: 403, ADMIN: 200},
    ),
    "read-another-user": (
        read_user,
        {ANONYMOUS: 401, OWNER: 200, ACTIVIST: 404, OFFICIAL: 404, MODERATOR: 404, ADMIN: 200},
    ),
    # Any account may list its own submissions; only an activist has any.
    "read-my-submissions": (
        read_my_submissions,
        {ANONYMOUS: 401, ACTIVIST: 200, OFFICIAL: 200, MODERATOR: 200, ADMIN: 200},
    ),
    "create-case": (
        create_case,
        {ANONYMOUS: 401, ACTIVIST: 201, OFFICIAL: 403, MODERATOR: 403, ADMIN: 403},
    ),
    "add-case-timeline": (
        add_case_timeline,
        {ANONYMOUS: 401, OWNER: 403, OFFICIAL: 403, MODERATOR: 201, ADMIN: 201},
    ),
    "moderate-case": (moderate_case, MODERATORS_200),
    # Naming consent is the recorder's to give; a moderator may only withdraw it.
    "give-consent": (
        _case_action("PUT", "consent", {"name_consent": True}),
        {ANONYMOUS: 401, OWNER: 200, ANOTHER_OWNER: 403, OFFICIAL: 403, MODERATOR: 403, ADMIN: 403},
    ),
    "withdraw-consent": (
        _case_action("PUT", "consent", {"name_consent": False}),
        {ANONYMOUS: 401, OWNER: 200, ANOTHER_OWNER: 403, OFFICIAL: 403, MODERATOR: 200, ADMIN: 200},
    ),
    "withdraw-consent-pending-case": (
        _case_action("PUT", "consent", {"name_consent": False}, CaseReview.pending),
        {ANONYMOUS: 401, OWNER: 200, ANOTHER_OWNER: 404, OFFICIAL: 404, MODERATOR: 200, ADMIN: 200},
    ),
    # Whom the restricted details are shared with is the recorder's choice alone.
    "share-case": (
        _case_action("PUT", "sharing", {"delegations": []}),
        {ANONYMOUS: 401, OWNER: 200, ANOTHER_OWNER: 403, OFFICIAL: 403, MODERATOR: 403, ADMIN: 403},
    ),
    "share-pending-case": (
        _case_action("PUT", "sharing", {"delegations": []}, CaseReview.pending),
        {ANONYMOUS: 401, OWNER: 200, ANOTHER_OWNER: 404, OFFICIAL: 404, MODERATOR: 403, ADMIN: 403},
    ),
    "read-case-sharing": (
        _case_action("GET", "sharing", None),
        {ANONYMOUS: 401, OWNER: 200, ANOTHER_OWNER: 403, OFFICIAL: 403, MODERATOR: 200, ADMIN: 200},
    ),
    "read-case-access-log": (
        _case_action("GET", "access-log", None),
        {ANONYMOUS: 401, OWNER: 200, ANOTHER_OWNER: 403, OFFICIAL: 403, MODERATOR: 200, ADMIN: 200},
    ),
    "create-benchmark": (
        create_benchmark,
        {ANONYMOUS: 401, ACTIVIST: 403, OFFICIAL: 403, MODERATOR: 201, ADMIN: 201},
    ),
    "create-commitment": (
        create_commitment,
        {ANONYMOUS: 401, ACTIVIST: 403, OWNER: 201, ANOTHER_OWNER: 403, MODERATOR: 201, ADMIN: 201},
    ),
    "assess-benchmark": (
        assess_benchmark,
        {ANONYMOUS: 401, ACTIVIST: 403, OWNER: 201, ANOTHER_OWNER: 403, MODERATOR: 201, ADMIN: 201},
    ),
    "assess-commitment": (
        assess_commitment,
        {ANONYMOUS: 401, ACTIVIST: 403, OWNER: 201, ANOTHER_OWNER: 403, MODERATOR: 201, ADMIN: 201},
    ),
    **{name: (_public_read(template), ALL_200) for name, template in PUBLIC_READS.items()},
    # A joint release: the delegation's officials set it; a held response is hidden (404)
    # from all but them and moderators, who may read it but neither revise nor rate it.
    "schedule-release": (
        _release("PUT"),
        {ANONYMOUS: 401, ACTIVIST: 403, OWNER: 200, ANOTHER_OWNER: 403, MODERATOR: 403, ADMIN: 403},
    ),
    "release-now": (
        _release("DELETE"),
        {ANONYMOUS: 401, ACTIVIST: 403, OWNER: 200, ANOTHER_OWNER: 403, MODERATOR: 403, ADMIN: 403},
    ),
    "read-release": (
        _release("GET"),
        {ANONYMOUS: 401, ACTIVIST: 403, OWNER: 200, ANOTHER_OWNER: 403, MODERATOR: 200, ADMIN: 200},
    ),
    "schedule-release-in-session": (
        _release("PUT", Phase.in_session),
        {ANONYMOUS: 401, ACTIVIST: 403, OWNER: 409, ANOTHER_OWNER: 403, MODERATOR: 403, ADMIN: 403},
    ),
    "read-held-response": (
        _held_action("GET", "", None),
        {ANONYMOUS: 404, ACTIVIST: 404, OWNER: 200, ANOTHER_OWNER: 404, MODERATOR: 200, ADMIN: 200},
    ),
    "list-held-revisions": (
        _held_action("GET", "/revisions", None),
        {ANONYMOUS: 404, ACTIVIST: 404, OWNER: 200, ANOTHER_OWNER: 404, MODERATOR: 200, ADMIN: 200},
    ),
    "revise-held-response": (
        _held_action("POST", "/revisions", {"body": "Draft two.", "reason": "Draft."}),
        {ANONYMOUS: 404, ACTIVIST: 404, OWNER: 201, ANOTHER_OWNER: 404, MODERATOR: 403, ADMIN: 403},
    ),
    "assess-held-response": (
        _held_action("POST", "/assessments", {"rating": "evasive"}),
        {ANONYMOUS: 404, ACTIVIST: 404, OWNER: 403, ANOTHER_OWNER: 404, MODERATOR: 409, ADMIN: 409},
    ),
}

# Cells where the code answers otherwise than DESIGN.md, awaiting the lead's ruling. Strict:
# the day the code agrees, the cell passes and this entry must go.
DEVIATIONS: dict[tuple[str, str], str] = {}

CELLS = [
    pytest.param(
        action,
        caller,
        expected,
        id=f"{action}-{caller}",
        marks=[pytest.mark.xfail(strict=True, reason=DEVIATIONS[action, caller])]
        if (action, caller) in DEVIATIONS
        else [],
    )
    for action, (_arrange, cells) in MATRIX.items()
    for caller, expected in cells.items()
]


def _caller(make: Factory, call: Call, column: str) -> User | None:
    if column == ANONYMOUS:
        return None
    if column in call.callers:
        return call.callers[column]
    assert column in ROLES, f"the row gives no user for the `{column}` column"
    role = ROLES[column]
    if role == Role.official:
        return make.user(role, delegation=make.delegation())
    return make.user(role)


@pytest.mark.parametrize(("action", "column", "expected"), CELLS)
def test_role_matrix(client, make, action, column, expected):
    arrange, _cells = MATRIX[action]
    call = arrange(make)
    caller = _caller(make, call, column)
    headers = {**call.headers, **(make.headers(caller) if caller else {})}

    r = client.request(call.method, call.path, json=call.json, data=call.form, headers=headers)

    assert r.status_code == expected, r.text
    if expected >= 400:
        assert_problem(r, expected)


WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _operation(template: str) -> re.Pattern[str]:
    """A pattern matching the paths an OpenAPI path template stands for."""
    return re.compile(
        "".join(
            "[^/]+" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", template)
        )
    )


def test_the_matrix_has_a_row_for_every_write_operation(app, make):
    """A new POST, PUT, PATCH or DELETE in the OpenAPI document needs its row above."""
    operations = {
        (method.upper(), template): _operation(template)
        for template, item in app.openapi()["paths"].items()
        for method in item
        if method.upper() in WRITES
    }
    covered = set()
    for action, (arrange, _cells) in MATRIX.items():
        call = arrange(make)
        matches = [
            key
            for key, pattern in operations.items()
            if key[0] == call.method and pattern.fullmatch(call.path.split("?")[0])
        ]
        if call.method in WRITES:
            assert len(matches) == 1, f"{action}: {call.method} {call.path} is no operation"
        covered.update(matches)
    assert sorted(set(operations) - covered) == []
