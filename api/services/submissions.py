"""Submissions: create, edit, withdraw, endorse, moderate; and how each caller sees them."""

import functools
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Sequence
from enum import Enum
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlmodel import Session, col, select

from api import clock
from api.errors import Conflict, NotFound, Unprocessable
from api.pagination import keyset_page
from api.permissions import Permission, can
from api.services import audit, erasure, events, rounds, themes
from api.sql.json_text import UUID_TEXT, comma_joined, instant_text, uuid_text
from api.sql.prepared import Prepared, one_of, one_of_values
from models.dialogue import Delegation
from models.response import AnswerAssessment, Rating, Response, ResponsePublic, ResponseRevision
from models.round import Phase, Round
from models.submission import (
    Attribution,
    Decision,
    Endorsement,
    ModerationCreate,
    Status,
    Submission,
    SubmissionAddressee,
    SubmissionCreate,
    SubmissionPrivate,
    SubmissionPublic,
    SubmissionTheme,
    SubmissionUpdate,
)
from models.theme import Theme
from models.user import User


class View(Enum):
    """How much of a submission a caller sees."""

    public = "public"  # the published record
    private = "private"  # the author and moderators: status, reasons, times


def search_text(title: str, body: str) -> str:
    """What `q` is matched against: NFKC, casefolded, on every database alike."""
    return unicodedata.normalize("NFKC", f"{title}\n{body}").casefold()


def search_pattern(q: str) -> str:
    needle = unicodedata.normalize("NFKC", q).casefold()
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _delegation_ids(session: Session, *, rnd: Round, codes: list[str]) -> list[uuid.UUID]:
    params = {"dialogue_id": rnd.dialogue_id, **one_of_values(codes)}
    rows = _delegations_by_code(len(codes)).rows(session, params) if codes else []
    found: dict[str, uuid.UUID] = {code: id_ for code, id_ in rows}
    unknown = sorted(set(codes) - set(found))
    if unknown:
        raise Unprocessable(
            f"Not a delegation of this dialogue: {', '.join(unknown)}.", unknown_delegations=unknown
        )
    return [found[code] for code in codes]


def _set_links(
    session: Session,
    *,
    submission: Submission,
    theme_ids: list[uuid.UUID],
    delegation_ids: list[uuid.UUID],
    replace: bool = True,
) -> None:
    """Store a submission's themes and addressees (plain inserts: no ORM objects);
    `replace=False` for a new submission, which has none to delete."""
    if replace:
        session.execute(
            sa.delete(SubmissionTheme).where(col(SubmissionTheme.submission_id) == submission.id)
        )
        session.execute(
            sa.delete(SubmissionAddressee).where(
                col(SubmissionAddressee.submission_id) == submission.id
            )
        )
    if theme_ids:
        _INSERT_THEME_LINK.execute(
            session, [{"submission_id": submission.id, "theme_id": t} for t in theme_ids]
        )
    if delegation_ids:
        _INSERT_ADDRESSEE_LINK.execute(
            session,
            [{"submission_id": submission.id, "delegation_id": d} for d in delegation_ids],
        )


def create(session: Session, *, rnd: Round, data: SubmissionCreate, author: User) -> Submission:
    """A new pending submission, stored with plain inserts (the hot path at a deadline:
    no unit of work); the `Submission` returned is a read-only copy, not in the session."""
    rounds.require_phase(rnd, Phase.accepting_submissions, action="submitting")
    theme_ids = themes.ids_for(session, slugs=data.themes)
    delegation_ids = _delegation_ids(session, rnd=rnd, codes=data.addressed_to)
    if data.case_id is not None:
        _require_case(session, case_id=data.case_id, author=author)
    now = clock.now()
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "round_id": rnd.id,
        "author_id": author.id,
        "kind": data.kind.value,
        "title": data.title,
        "body": data.body,
        "language": data.language,
        "attribution": data.attribution.value,
        "organisation": data.organisation,
        "case_id": data.case_id,
        "status": Status.pending.value,
        "status_reason": None,
        "search_text": search_text(data.title, data.body),
        "created_at": now,
        "updated_at": now,
        "published_at": None,
        "withdrawn_at": None,
        "removed_at": None,
        "erased_at": None,
    }
    _INSERT_SUBMISSION.execute(session, row)
    submission = Submission.model_construct(**row)
    _set_links(
        session,
        submission=submission,
        theme_ids=theme_ids,
        delegation_ids=delegation_ids,
        replace=False,
    )
    return submission


def _require_case(session: Session, *, case_id: uuid.UUID, author: User) -> None:
    """A case submission points at a published case, or at one its author recorded."""
    from models.case import Case, CaseReview

    case = session.get(Case, case_id)
    if case is None or (
        case.review != CaseReview.published.value and case.created_by_id != author.id
    ):
        raise Unprocessable("No such case.", field="case_id")


def get_or_404(session: Session, *, submission_id: uuid.UUID) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound("No such submission.")
    return submission


def view_for(submission: Submission, viewer: User | None) -> View:
    """What `viewer` may see of `submission`; NotFound when nothing (its existence stays hidden)."""
    if viewer is not None and (
        viewer.id == submission.author_id or can(viewer.role, Permission.moderate)
    ):
        return View.private
    if submission.status == Status.published.value:
        return View.public
    raise NotFound("No such submission.")


def own_or_404(submission: Submission, author: User) -> Submission:
    if submission.author_id != author.id:
        raise NotFound("No such submission.")
    return submission


def update(
    session: Session, *, submission: Submission, data: SubmissionUpdate, author: User
) -> Submission:
    own_or_404(submission, author)
    if submission.status != Status.pending.value:
        raise Conflict(f"Only a pending submission can be edited; this one is {submission.status}.")
    rnd = session.get_one(Round, submission.round_id)
    rounds.require_phase(rnd, Phase.accepting_submissions, action="editing a submission")
    changes = data.model_dump(exclude_unset=True)
    for name in ("title", "body", "language"):
        if changes.get(name) is not None:
            setattr(submission, name, changes[name])
    attribution = changes.get("attribution") or submission.attribution
    organisation = changes.get("organisation", submission.organisation)
    if attribution != Attribution.organisation.value:
        organisation = None
    elif not organisation:
        raise Unprocessable("attribution `organisation` needs the organisation's name")
    submission.attribution, submission.organisation = str(attribution), organisation
    if data.themes is not None or data.addressed_to is not None:
        theme_ids = (
            themes.ids_for(session, slugs=sorted(set(data.themes)))
            if data.themes is not None
            else list(
                session.exec(
                    select(SubmissionTheme.theme_id).where(
                        SubmissionTheme.submission_id == submission.id
                    )
                )
            )
        )
        delegation_ids = (
            _delegation_ids(session, rnd=rnd, codes=sorted({c.upper() for c in data.addressed_to}))
            if data.addressed_to is not None
            else list(
                session.exec(
                    select(SubmissionAddressee.delegation_id).where(
                        SubmissionAddressee.submission_id == submission.id
                    )
                )
            )
        )
        _set_links(
            session, submission=submission, theme_ids=theme_ids, delegation_ids=delegation_ids
        )
    submission.search_text = search_text(submission.title, submission.body)
    submission.updated_at = clock.now()
    session.add(submission)
    session.flush()
    return submission


def withdraw(session: Session, *, submission: Submission, author: User) -> Submission:
    """The author takes it back, at any time: it leaves every public view at once, and
    its text leaves the database (`erasure.erase`)."""
    own_or_404(submission, author)
    if submission.status == Status.withdrawn.value:
        return submission
    was_public = submission.status == Status.published.value
    now = clock.now()
    submission.status = Status.withdrawn.value
    submission.withdrawn_at = now
    submission.updated_at = now
    session.add(submission)
    session.flush()
    if was_public:
        events.submission_gone(session, submission=submission, event_type="submission.withdrawn")
    erasure.erase(session, submission=submission)
    return submission


def endorse(session: Session, *, submission: Submission, activist: User) -> None:
    if submission.status != Status.published.value:
        raise NotFound("No such submission.")
    if submission.author_id == activist.id:
        raise Conflict("Authors cannot endorse their own submission.")
    exists = session.get(Endorsement, (submission.id, activist.id))
    if exists is not None:
        raise Conflict("You have endorsed this submission already.")
    session.add(Endorsement(submission_id=submission.id, user_id=activist.id))
    session.flush()


def unendorse(session: Session, *, submission: Submission, activist: User) -> None:
    endorsement = session.get(Endorsement, (submission.id, activist.id))
    if endorsement is None:
        raise NotFound("You have not endorsed this submission.")
    session.delete(endorsement)
    session.flush()


# Which status each decision moves from, and to.
TRANSITIONS: dict[Decision, tuple[frozenset[str], Status]] = {
    Decision.publish: (frozenset({Status.pending.value}), Status.published),
    Decision.reject: (frozenset({Status.pending.value}), Status.rejected),
    Decision.remove: (frozenset({Status.pending.value, Status.published.value}), Status.removed),
}


def moderate(
    session: Session, *, submission: Submission, data: ModerationCreate, moderator: User
) -> Submission:
    sources, target = TRANSITIONS[data.decision]
    was_public = submission.status == Status.published.value
    if submission.status not in sources:
        raise Conflict(f"A {submission.status} submission cannot be given `{data.decision.value}`.")
    now = clock.now()
    submission.status = target.value
    submission.status_reason = data.reason if target != Status.published else None
    if target == Status.published:
        submission.published_at = now
    if target == Status.removed:
        submission.removed_at = now  # its text is erased after the retention period
    submission.updated_at = now
    session.add(submission)
    session.flush()
    audit.record(
        session,
        actor=moderator,
        action=f"submission.{data.decision.value}",
        target_type="submission",
        target_id=submission.id,
        detail={"reason": data.reason} if data.reason else {},
    )
    if target == Status.published:
        events.submission_published(session, submission=submission)
    elif was_public:
        events.submission_gone(session, submission=submission, event_type="submission.removed")
    return submission


# --- pages -------------------------------------------------------------------------


def mine(
    session: Session, *, author: User, limit: int, cursor: str | None
) -> tuple[list[Submission], str | None]:
    """The author's own, newest first, every status."""
    query = select(Submission).where(Submission.author_id == author.id)
    return keyset_page(
        session,
        query,
        at_column=Submission.created_at,
        id_column=Submission.id,
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def queue(
    session: Session, *, round_id: uuid.UUID | None, limit: int, cursor: str | None
) -> tuple[list[Submission], str | None]:
    """Pending submissions, oldest first (first come, first reviewed)."""
    query = select(Submission).where(Submission.status == Status.pending.value)
    if round_id is not None:
        query = query.where(Submission.round_id == round_id)
    return keyset_page(
        session,
        query,
        at_column=Submission.created_at,
        id_column=Submission.id,
        limit=limit,
        cursor=cursor,
    )


# --- views: a constant number of queries for a page of any size --------------------


def _table(model: type[Any]) -> sa.Table:
    table: sa.Table = model.__table__
    return table


_SUBMISSION = _table(Submission)
_SUBMISSION_THEME = _table(SubmissionTheme)
_SUBMISSION_ADDRESSEE = _table(SubmissionAddressee)
_THEME = _table(Theme)
_DELEGATION = _table(Delegation)
_ENDORSEMENT = _table(Endorsement)
_USER = _table(User)
_RESPONSE = _table(Response)
_REVISION = _table(ResponseRevision)
_ASSESSMENT = _table(AnswerAssessment)
_ROUND = _table(Round)

# The statements of submitting, compiled once and run on the cursor (`Prepared`): the
# hot path at a deadline.
_INSERT_SUBMISSION = Prepared(sa.insert(_SUBMISSION))
_INSERT_THEME_LINK = Prepared(sa.insert(_SUBMISSION_THEME))
_INSERT_ADDRESSEE_LINK = Prepared(sa.insert(_SUBMISSION_ADDRESSEE))


@functools.cache
def _delegations_by_code(count: int) -> Prepared:
    """The ids of a dialogue's delegations by `count` codes."""
    return Prepared(
        sa.select(_DELEGATION.c.code, _DELEGATION.c.id).where(
            _DELEGATION.c.dialogue_id
            == sa.bindparam("dialogue_id", type_=_DELEGATION.c.dialogue_id.type),
            one_of(_DELEGATION.c.code, count),
        )
    )


def _endorsement_count() -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.count())
        .select_from(_ENDORSEMENT)
        .where(_ENDORSEMENT.c.submission_id == _SUBMISSION.c.id)
        .scalar_subquery()
    )


def _author() -> sa.Case[Any]:
    """The author the public sees, by the attribution: the handle, the organisation, or
    nothing (`_fields` is the same rule for a submission already loaded)."""
    handle = sa.select(_USER.c.handle).where(_USER.c.id == _SUBMISSION.c.author_id)
    return sa.case(
        (_SUBMISSION.c.attribution == Attribution.handle.value, handle.scalar_subquery()),
        (_SUBMISSION.c.attribution == Attribution.organisation.value, _SUBMISSION.c.organisation),
    )


def _joined_names(link: sa.Table, named: sa.Table, key: str, name: str) -> sa.ScalarSelect[Any]:
    """The names (theme slugs, delegation codes) linked to the submission, joined by
    commas, in no particular order (`_split` sorts them)."""
    return (
        sa.select(comma_joined(named.c[name]))
        .select_from(link.join(named, named.c.id == link.c[key]))
        .where(link.c.submission_id == _SUBMISSION.c.id)
        .scalar_subquery()
    )


def _split(names: str | None) -> list[str]:
    return sorted(names.split(",")) if names else []


# What a record page reads of each submission, in `SubmissionPublic`'s field order
# (`record_fields` unpacks the rows by position): ids and instants as the text the page
# carries (`json_text`), so that no `UUID` or `datetime` is built per row.
_VIEW_QUERY = sa.select(
    uuid_text(_SUBMISSION.c.id).label("id"),
    uuid_text(_SUBMISSION.c.round_id).label("round_id"),
    _SUBMISSION.c.kind,
    _SUBMISSION.c.title,
    _SUBMISSION.c.body,
    _SUBMISSION.c.language,
    _joined_names(_SUBMISSION_THEME, _THEME, "theme_id", "slug").label("theme_slugs"),
    _joined_names(_SUBMISSION_ADDRESSEE, _DELEGATION, "delegation_id", "code").label(
        "delegation_codes"
    ),
    _SUBMISSION.c.attribution,
    _author().label("author"),
    uuid_text(_SUBMISSION.c.case_id).label("case_id"),
    instant_text(_SUBMISSION.c.published_at).label("published_at"),
    _endorsement_count().label("endorsement_count"),
)


def view_query() -> sa.Select[Any]:
    """A select of submissions with what a record page shows of each, the endorsement
    count, the author shown, the themes and the addressees included, ids and instants
    as text: `record_fields` makes the rows the page's items."""
    return _VIEW_QUERY


def _rows(
    session: Session, query: sa.Executable, params: dict[str, Any] | None = None
) -> Sequence[Any]:
    """Plain rows by a Core select on the session's connection: no ORM entities, no
    identity map. Pending changes are flushed first, as an ORM query would."""
    session.flush()
    return session.connection().execute(query, params).all()


def _links() -> sa.Select[Any]:
    """Theme slugs (0) and addressed delegation codes (1) of the submissions `ids`, in
    order, each with the submission's id as stored."""
    ids: sa.BindParameter[Any] = sa.bindparam("ids", expanding=True, type_=_SUBMISSION.c.id.type)
    links = sa.union_all(
        sa.select(
            sa.literal(0).label("what"),
            sa.type_coerce(_SUBMISSION_THEME.c.submission_id, sa.String).label("sid"),
            _THEME.c.slug.label("name"),
        )
        .join_from(_SUBMISSION_THEME, _THEME, _THEME.c.id == _SUBMISSION_THEME.c.theme_id)
        .where(_SUBMISSION_THEME.c.submission_id.in_(ids)),
        sa.select(
            sa.literal(1).label("what"),
            sa.type_coerce(_SUBMISSION_ADDRESSEE.c.submission_id, sa.String).label("sid"),
            _DELEGATION.c.code.label("name"),
        )
        .join_from(
            _SUBMISSION_ADDRESSEE,
            _DELEGATION,
            _DELEGATION.c.id == _SUBMISSION_ADDRESSEE.c.delegation_id,
        )
        .where(_SUBMISSION_ADDRESSEE.c.submission_id.in_(ids)),
    ).subquery()
    return sa.select(links.c.what, links.c.sid, links.c.name).order_by(links.c.what, links.c.name)


_LINKS = _links()


def _count_endorsements_and_handles(
    session: Session,
    submissions: Sequence[Any],
    endorsements: dict[uuid.UUID, int],
    handles: dict[uuid.UUID, str],
) -> None:
    """Endorsement counts by submission and handles by author, in one query."""
    ids = [s.id for s in submissions]
    handle_ids = {s.author_id for s in submissions if s.attribution == Attribution.handle.value}
    counts = (
        sa.select(
            sa.literal(0).label("what"),
            _ENDORSEMENT.c.submission_id.label("key"),
            sa.func.count().label("n"),
            sa.cast(sa.null(), sa.String).label("handle"),
        )
        .where(_ENDORSEMENT.c.submission_id.in_(ids))
        .group_by(_ENDORSEMENT.c.submission_id)
    )
    query: sa.Executable = counts
    if handle_ids:
        query = sa.union_all(
            counts,
            sa.select(
                sa.literal(1).label("what"),
                _USER.c.id.label("key"),
                sa.cast(sa.null(), sa.Integer).label("n"),
                _USER.c.handle.label("handle"),
            ).where(_USER.c.id.in_(handle_ids)),
        )
    for what, key, n, handle in _rows(session, query):
        if what:
            handles[key] = handle
        else:
            endorsements[key] = n


_PUBLIC_VIEWS = TypeAdapter(list[SubmissionPublic])
_PRIVATE_VIEWS = TypeAdapter(list[SubmissionPrivate])
_RESPONSE_VIEWS = TypeAdapter(list[ResponsePublic])
_RATINGS = tuple(rating.value for rating in Rating)


def _fields(
    s: Any,
    *,
    view: View,
    themes: list[str],
    addressed_to: list[str],
    handle: str | None,
    endorsement_count: int,
    responses: list[dict[str, Any]],
) -> dict[str, Any]:
    """The fields of a submission's view; `handle` is its author's handle, if known."""
    author = None
    if s.attribution == Attribution.handle.value:
        author = handle
    elif s.attribution == Attribution.organisation.value:
        author = s.organisation
    fields = {
        "id": s.id,
        "round_id": s.round_id,
        "kind": s.kind,
        "title": s.title,
        "body": s.body,
        "language": s.language,
        "themes": themes,
        "addressed_to": addressed_to,
        "attribution": s.attribution,
        "author": author,
        "case_id": s.case_id,
        "published_at": s.published_at,
        "endorsement_count": endorsement_count,
        "responses": responses,
    }
    if view == View.private:
        fields |= {
            "status": s.status,
            "status_reason": s.status_reason,
            "created_at": s.created_at,
            "updated_at": s.updated_at,
        }
    return fields


def created_view(
    submission: Submission, *, data: SubmissionCreate, author: User
) -> SubmissionPrivate:
    """The author's view of a submission `create` just made, without a query: its themes
    and addressees are those given (sorted and unique, as `views` lists them), and it
    has no endorsements or responses yet."""
    return SubmissionPrivate.model_validate(
        _fields(
            submission,
            view=View.private,
            themes=data.themes,
            addressed_to=data.addressed_to,
            handle=author.handle,
            endorsement_count=0,
            responses=[],
        )
    )


def view_fields(
    session: Session, submissions: Sequence[Submission], *, view: View
) -> list[dict[str, Any]]:
    """The fields of the views of a page of submissions, as plain dicts in the models'
    field order: three queries (themes and addressees, endorsements and handles,
    responses) for a page of any size."""
    if not submissions:
        return []
    ids = [s.id for s in submissions]
    theme_slugs: dict[uuid.UUID, list[str]] = defaultdict(list)
    addressed: dict[uuid.UUID, list[str]] = defaultdict(list)
    endorsements: dict[uuid.UUID, int] = {}
    handles: dict[uuid.UUID, str] = {}
    # the keys come back as stored (no UUID built per row), then map to the ids given
    known: dict[Any, uuid.UUID] = {sid: sid for sid in ids}
    known.update((sid.hex, sid) for sid in ids)
    for what, raw, name in _rows(session, _LINKS, {"ids": ids}):
        sid = known.get(raw) or uuid.UUID(str(raw))
        (addressed if what else theme_slugs)[sid].append(name)
    _count_endorsements_and_handles(session, submissions, endorsements, handles)
    responses = _response_fields(session, submission_ids=ids)
    return [
        _fields(
            s,
            view=view,
            themes=theme_slugs.get(s.id, []),
            addressed_to=addressed.get(s.id, []),
            handle=handles.get(s.author_id),
            endorsement_count=endorsements.get(s.id, 0),
            responses=responses.get(s.id, []),
        )
        for s in submissions
    ]


def record_fields(rows: Sequence[Any], response_rows: Sequence[Any]) -> list[dict[str, Any]]:
    """The fields of the public views of rows of `view_query()`, as plain dicts in
    `SubmissionPublic`'s field order, ids and instants as text, with their responses
    (rows of `response_texts`). The rows are unpacked by position (a `Row`'s
    attributes cost more than the rest of the work together)."""
    responses = _by_submission(response_rows)
    return [
        {
            "id": sid,
            "round_id": round_id,
            "kind": kind,
            "title": title,
            "body": body,
            "language": language,
            "themes": _split(theme_slugs),
            "addressed_to": _split(delegation_codes),
            "attribution": attribution,
            "author": author,
            "case_id": case_id,
            "published_at": published_at,
            "endorsement_count": endorsement_count,
            "responses": responses.get(sid, []),
        }
        for (
            sid,
            round_id,
            kind,
            title,
            body,
            language,
            theme_slugs,
            delegation_codes,
            attribution,
            author,
            case_id,
            published_at,
            endorsement_count,
        ) in rows
    ]


def views(
    session: Session, submissions: Sequence[Submission], *, view: View
) -> list[SubmissionPublic]:
    """The views of a page of submissions (`view_fields`), validated in one call."""
    fields = view_fields(session, submissions, view=view)
    if view == View.private:
        return list(_PRIVATE_VIEWS.validate_python(fields))
    return _PUBLIC_VIEWS.validate_python(fields)


def _rating_count(rating: Rating) -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.count())
        .select_from(_ASSESSMENT)
        .where(
            _ASSESSMENT.c.response_id == _RESPONSE.c.id,
            _ASSESSMENT.c.rating == rating.value,
        )
        .scalar_subquery()
    )


def _response_query(*, text: bool) -> sa.Select[Any]:
    """Current responses with their ratings; ids and instants as text if `text`."""

    def as_uuid(column: sa.Column[Any]) -> Any:
        return uuid_text(column).label(column.name) if text else column

    def as_instant(column: sa.Column[Any]) -> Any:
        return instant_text(column).label(column.name) if text else column

    return (
        sa.select(
            as_uuid(_RESPONSE.c.id),
            as_uuid(_RESPONSE.c.submission_id),
            _DELEGATION.c.code,
            _REVISION.c.kind,
            _REVISION.c.body,
            _REVISION.c.language,
            _REVISION.c.reason_code,
            as_instant(_RESPONSE.c.responded_at),
            as_instant(_REVISION.c.created_at),
            _RESPONSE.c.revision_count,
            (_RESPONSE.c.responded_at > _ROUND.c.responses_due_at).label("late"),
            *(_rating_count(rating) for rating in Rating),
        )
        .select_from(_RESPONSE)
        .join(
            _REVISION,
            (_REVISION.c.response_id == _RESPONSE.c.id)
            & (_REVISION.c.number == _RESPONSE.c.revision_count),
        )
        .join(_DELEGATION, _DELEGATION.c.id == _RESPONSE.c.delegation_id)
        .join(_SUBMISSION, _SUBMISSION.c.id == _RESPONSE.c.submission_id)
        .join(_ROUND, _ROUND.c.id == _SUBMISSION.c.round_id)
        .order_by(_DELEGATION.c.code)
    )


def _in(column: sa.Column[Any], name: str, type_: Any = None) -> sa.ColumnElement[bool]:
    return column.in_(sa.bindparam(name, expanding=True, type_=type_ or column.type))


def _response_queries() -> dict[tuple[bool, bool], sa.Select[Any]]:
    """The query built once for each pair (by submission ids?, by response ids?), the
    ids bound at execution."""
    queries = {}
    for by_submission in (False, True):
        for by_response in (False, True):
            query = _response_query(text=False)
            if by_submission:
                query = query.where(_in(_RESPONSE.c.submission_id, "submission_ids"))
            if by_response:
                query = query.where(_in(_RESPONSE.c.id, "response_ids"))
            queries[(by_submission, by_response)] = query
    return queries


_RESPONSE_QUERIES = _response_queries()


def _by_submission(rows: Sequence[Any]) -> dict[Any, list[dict[str, Any]]]:
    """Rows of `_response_query` as the fields of `ResponsePublic`, by submission id."""
    out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for (
        rid,
        sid,
        code,
        kind,
        body,
        language,
        reason_code,
        responded_at,
        updated_at,
        revision_count,
        late,
        *ratings,
    ) in rows:
        out[sid].append(
            {
                "id": rid,
                "submission_id": sid,
                "delegation": code,
                "kind": kind,
                "body": body,
                "language": language,
                "reason_code": reason_code,
                "responded_at": responded_at,
                "updated_at": updated_at,
                "revision_count": revision_count,
                "late": late,
                "ratings": dict(zip(_RATINGS, ratings, strict=True)),
            }
        )
    return out


def _response_fields(
    session: Session,
    *,
    submission_ids: list[uuid.UUID] | None = None,
    response_ids: list[uuid.UUID] | None = None,
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The fields of `ResponsePublic` for current responses (their latest revision),
    with their ratings, by submission id: one query."""
    params: dict[str, Any] = {}
    if submission_ids is not None:
        params["submission_ids"] = submission_ids
    if response_ids is not None:
        params["response_ids"] = response_ids
    query = _RESPONSE_QUERIES[(submission_ids is not None, response_ids is not None)]
    return _by_submission(_rows(session, query, params))


@functools.cache
def _response_texts_for(count: int) -> Prepared:
    """The responses to `count` submissions given by their ids as text."""
    return Prepared(
        _response_query(text=True).where(one_of(_RESPONSE.c.submission_id, count, UUID_TEXT))
    )


def response_texts(session: Session, *, submission_ids: list[str]) -> Sequence[Any]:
    """Current responses (their latest revision), with their ratings, to the
    submissions given by their ids as text: rows of the fields of `ResponsePublic`, ids
    and instants as text, for `record_fields`. One query, by the very ids a page shows
    (selecting them again by the page's filters could, on PostgreSQL, see a later
    snapshot than the page did, and miss some)."""
    if not submission_ids:
        return []
    statement = _response_texts_for(len(submission_ids))
    return statement.rows(session, one_of_values(submission_ids))


def response_views(
    session: Session,
    *,
    submission_ids: list[uuid.UUID] | None = None,
    response_ids: list[uuid.UUID] | None = None,
) -> dict[uuid.UUID, list[ResponsePublic]]:
    """Current responses (their latest revision), with their ratings, by submission id:
    one query."""
    fields = _response_fields(session, submission_ids=submission_ids, response_ids=response_ids)
    return {sid: _RESPONSE_VIEWS.validate_python(responses) for sid, responses in fields.items()}
