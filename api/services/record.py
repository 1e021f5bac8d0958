"""The public record of a round, and its scorecard: SQL does the filtering and the counting."""

import functools
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from api import clock
from api.errors import Unprocessable
from api.pagination import decode_keyset_cursor, encode_cursor
from api.search.sql import SubmissionMatches, match_param
from api.search.tokens import QueryError, parse_query
from api.services import rounds
from api.sql.prepared import Prepared
from api.views.submissions import record_fields, view_query
from models.dialogue import Delegation
from models.response import (
    AnswerAssessment,
    Ratings,
    Response,
    ResponseKind,
    ResponseRevision,
    ResponseSubmission,
    is_public,
)
from models.round import Round
from models.submission import Kind, Status, Submission, SubmissionAddressee, SubmissionTheme
from models.theme import Theme


class RecordFilters(BaseModel):
    theme: str | None = None
    kind: Kind | None = None
    delegation: str | None = None
    answered: bool | None = None
    q: str | None = None


# A response held for a joint release is no answer yet (api/services/releases.py).
_PUBLIC = is_public(col(Response.embargo_until), col(Response.released_at))


def _current_answer_exists(delegation_code: sa.BindParameter[str] | None) -> sa.Exists:
    """A current revision of kind `answer`, alone or grouped (from that delegation, if one
    is named)."""
    query = (
        sa.select(sa.literal(1))
        .select_from(ResponseSubmission)
        .join(Response, col(Response.id) == col(ResponseSubmission.response_id))
        .join(
            ResponseRevision,
            (col(ResponseRevision.response_id) == col(Response.id))
            & (col(ResponseRevision.number) == col(Response.revision_count)),
        )
        .where(
            col(ResponseSubmission.submission_id) == col(Submission.id),
            col(ResponseRevision.kind) == ResponseKind.answer,
            _PUBLIC,
        )
    )
    if delegation_code is not None:
        query = query.join(
            Delegation, col(Delegation.id) == col(ResponseSubmission.delegation_id)
        ).where(col(Delegation.code) == delegation_code)
    return query.exists()


_COLUMNS = sa.inspect(Submission).columns


@functools.cache
def _page_query(
    *, kind: bool, theme: bool, code: bool, answered: bool | None, q: bool, after: bool
) -> Prepared:
    """The page query for one shape of filters (which are given, and `answered`), with
    the values bound at execution: built and compiled once per shape."""
    query = view_query().where(
        col(Submission.round_id) == sa.bindparam("round_id", type_=_COLUMNS.round_id.type),
        col(Submission.status) == Status.published,
    )
    if kind:
        query = query.where(col(Submission.kind) == sa.bindparam("kind", type_=sa.String))
    if theme:
        query = query.where(
            sa.select(sa.literal(1))
            .select_from(SubmissionTheme)
            .join(Theme, col(Theme.id) == col(SubmissionTheme.theme_id))
            .where(
                col(SubmissionTheme.submission_id) == col(Submission.id),
                col(Theme.slug) == sa.bindparam("theme", type_=sa.String),
            )
            .exists()
        )
    if code:
        query = query.where(
            sa.select(sa.literal(1))
            .select_from(SubmissionAddressee)
            .join(Delegation, col(Delegation.id) == col(SubmissionAddressee.delegation_id))
            .where(
                col(SubmissionAddressee.submission_id) == col(Submission.id),
                col(Delegation.code) == sa.bindparam("code", type_=sa.String),
            )
            .exists()
        )
    if answered is not None:
        exists = _current_answer_exists(sa.bindparam("code", type_=sa.String) if code else None)
        query = query.where(exists if answered else ~exists)
    if q:
        # the round's part of the search index (`api.search`), as each database searches it
        query = query.where(
            SubmissionMatches(
                col(Submission.id),
                sa.bindparam("match", type_=sa.String),
                sa.bindparam("search_round", type_=_COLUMNS.round_id.type),
            )
        )
    if after:
        at = sa.bindparam("at", type_=_COLUMNS.published_at.type)
        # the first condition lets the index seek straight to the cursor
        query = query.where(
            col(Submission.published_at) >= at,
            (col(Submission.published_at) > at)
            | (col(Submission.id) > sa.bindparam("sid", type_=_COLUMNS.id.type)),
        )
    return Prepared(
        query.order_by(col(Submission.published_at), col(Submission.id)).limit(
            sa.bindparam("limit", type_=sa.Integer)
        )
    )


def page(
    session: Session,
    *,
    round_id: uuid.UUID,
    filters: RecordFilters,
    limit: int,
    cursor: str | None,
    preferred: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Published submissions of the round in publication order, with their current
    responses: new ones join the end, so a client paging through never misses or
    repeats one. The fields of `SubmissionPublic`, as `views.submissions.record_fields` gives
    them, with their translations (`preferred` first); three queries.

    The round is looked up only when the page is empty (a page with rows proves it
    exists): no such round is a 404, a round with nothing (more) to show an empty page.
    """
    code = filters.delegation.upper() if filters.delegation else None
    after = decode_keyset_cursor(cursor)
    query = _page_query(
        kind=filters.kind is not None,
        theme=filters.theme is not None,
        code=code is not None,
        answered=filters.answered,
        q=bool(filters.q),
        after=after is not None,
    )
    params: dict[str, Any] = {"round_id": round_id, "limit": limit + 1}
    if filters.kind is not None:
        params["kind"] = filters.kind.value
    if filters.theme is not None:
        params["theme"] = filters.theme
    if code is not None:
        params["code"] = code
    if filters.q:
        try:
            parsed = parse_query(filters.q)
        except QueryError as error:
            raise Unprocessable(str(error), field="q") from None
        params["match"] = match_param(session.get_bind().dialect.name, parsed)
        params["search_round"] = round_id
    if after is not None:
        params["at"], params["sid"] = after
    rows = query.rows(session, params)
    if not rows:
        rounds.get_or_404(session, round_id=round_id)
        return [], None
    more = len(rows) > limit
    rows = rows[:limit]
    items = record_fields(session, rows, preferred=preferred)
    if not more:
        return items, None
    last = items[-1]  # its instant and id are text already (`view_query`)
    return items, encode_cursor([last["published_at"], last["id"]])


# --- the scorecard --------------------------------------------------------------


class DelegationScore(BaseModel):
    delegation: str
    name: str
    addressed: int = Field(description="Published submissions addressed to the delegation.")
    answered: int
    holding: int
    declined: int
    unanswered: int = Field(description="Addressed, with no response yet.")
    no_response: int = Field(
        description="Unanswered once `responses_due_at` has passed (0 before): silence."
    )
    late: int = Field(
        description="Responses first given after `responses_due_at`; a held response by "
        "the instant it was released."
    )
    scheduled: int = Field(
        default=0,
        description="Of `holding`: responses held for a joint release, not yet public.",
    )
    released_late: int = Field(
        default=0,
        description="Of `late`: responses held for a joint release and released after "
        "`responses_due_at`.",
    )
    median_hours_to_answer: float | None = Field(
        description="From publication to the response, over responses now of kind `answer`."
    )
    ratings: Ratings


class Scorecard(BaseModel):
    round_id: uuid.UUID
    responses_due_at: datetime
    due_date_passed: bool
    delegations: list[DelegationScore]


def _seconds_between(session: Session, later: Any, earlier: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0
    return sa.extract("epoch", later - earlier)


def scorecard(session: Session, *, rnd: Round) -> Scorecard:
    now = clock.now()
    due_passed = now >= rnd.responses_due_at
    published = (col(Submission.round_id) == rnd.id) & (col(Submission.status) == Status.published)
    delegations = list(
        session.exec(
            select(Delegation)
            .where(Delegation.dialogue_id == rnd.dialogue_id)
            .order_by(col(Delegation.code))
        )
    )
    addressed = dict(
        session.exec(
            select(SubmissionAddressee.delegation_id, sa.func.count())
            .join(Submission, col(Submission.id) == col(SubmissionAddressee.submission_id))
            .where(published)
            .group_by(col(SubmissionAddressee.delegation_id))
        ).all()
    )
    current = (col(ResponseRevision.response_id) == col(Response.id)) & (
        col(ResponseRevision.number) == col(Response.revision_count)
    )
    # per submission answered: a grouped answer counts once for each of its submissions
    answers = col(Response.id) == col(ResponseSubmission.response_id)
    answered_one = col(Submission.id) == col(ResponseSubmission.submission_id)
    by_kind: dict[tuple[uuid.UUID, str], int] = {}
    late: dict[uuid.UUID, int] = {}
    released_late: dict[uuid.UUID, int] = {}
    is_late = col(Response.responded_at) > rnd.responses_due_at
    for delegation_id, kind, total, late_count, held_late in session.execute(
        sa.select(
            col(Response.delegation_id),
            col(ResponseRevision.kind),
            sa.func.count(),
            sa.func.sum(sa.case((is_late, 1), else_=0)),
            sa.func.sum(sa.case((is_late & col(Response.embargo_until).is_not(None), 1), else_=0)),
        )
        .join(ResponseSubmission, answers)
        .join(ResponseRevision, current)
        .join(Submission, answered_one)
        .where(published, _PUBLIC)
        .group_by(col(Response.delegation_id), col(ResponseRevision.kind))
    ):
        by_kind[(delegation_id, kind)] = total
        late[delegation_id] = late.get(delegation_id, 0) + int(late_count or 0)
        released_late[delegation_id] = released_late.get(delegation_id, 0) + int(held_late or 0)
    # held for a joint release: the public knows only that they are scheduled, so they
    # count as holding, whatever their kind, until released
    scheduled = dict(
        session.exec(
            select(Response.delegation_id, sa.func.count())
            .join(ResponseSubmission, answers)
            .join(Submission, answered_one)
            .where(published, ~_PUBLIC)
            .group_by(col(Response.delegation_id))
        ).all()
    )

    # Median by window functions (SQLite and PostgreSQL alike): the middle one or two rows.
    seconds = _seconds_between(session, col(Response.responded_at), col(Submission.published_at))
    ranked = (
        sa.select(
            col(Response.delegation_id).label("delegation_id"),
            seconds.label("seconds"),
            sa.func.row_number()
            .over(partition_by=col(Response.delegation_id), order_by=seconds)
            .label("n"),
            sa.func.count().over(partition_by=col(Response.delegation_id)).label("total"),
        )
        .join(ResponseSubmission, answers)
        .join(ResponseRevision, current)
        .join(Submission, answered_one)
        .where(published, _PUBLIC, col(ResponseRevision.kind) == ResponseKind.answer)
        .subquery()
    )
    medians = dict(
        session.execute(
            sa.select(ranked.c.delegation_id, sa.func.avg(ranked.c.seconds))
            .where(
                # Floor division: `/` is true division in SQLAlchemy 2, and PostgreSQL
                # rounds 2.5 up when casting it back, picking the wrong middle row.
                ranked.c.n.in_([(ranked.c.total + 1) // 2, (ranked.c.total + 2) // 2])
            )
            .group_by(ranked.c.delegation_id)
        ).all()
    )
    ratings: dict[uuid.UUID, dict[str, int]] = {}
    for delegation_id, rating, total in session.exec(
        select(Response.delegation_id, AnswerAssessment.rating, sa.func.count())
        .join(Response, col(Response.id) == col(AnswerAssessment.response_id))
        .join(Submission, col(Submission.id) == col(Response.submission_id))
        .where(published, _PUBLIC)
        .group_by(col(Response.delegation_id), col(AnswerAssessment.rating))
    ):
        ratings.setdefault(delegation_id, {})[rating] = total

    scores = []
    for d in delegations:
        answered = by_kind.get((d.id, ResponseKind.answer.value), 0)
        held = scheduled.get(d.id, 0)
        holding = by_kind.get((d.id, ResponseKind.holding.value), 0) + held
        declined = by_kind.get((d.id, ResponseKind.declined.value), 0)
        total = addressed.get(d.id, 0)
        unanswered = total - answered - holding - declined
        median = medians.get(d.id)
        scores.append(
            DelegationScore(
                delegation=d.code,
                name=d.name,
                addressed=total,
                answered=answered,
                holding=holding,
                declined=declined,
                unanswered=unanswered,
                no_response=unanswered if due_passed else 0,
                late=late.get(d.id, 0),
                scheduled=held,
                released_late=released_late.get(d.id, 0),
                median_hours_to_answer=round(float(median) / 3600, 2)
                if median is not None
                else None,
                ratings=Ratings(**ratings.get(d.id, {})),
            )
        )
    return Scorecard(
        round_id=rnd.id,
        responses_due_at=rnd.responses_due_at,
        due_date_passed=due_passed,
        delegations=scores,
    )
