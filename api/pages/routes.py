"""The public record as pages: /record and below. Each page reads through the public
projections and services the JSON reads use (api/views, api/services), so it shows
exactly what the public API shows, and no more."""

import re
import uuid
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlmodel import Session

from api import i18n as api_i18n
from api.db import transaction
from api.errors import BadRequest, NotFound, Unprocessable
from api.middleware import weak_etag
from api.pages import charts, context, diff, search
from api.pages.paging import MAX_PAGE_SIZE, PAGE_SIZE, bounded, page_links, page_size
from api.pages.render import Fragments, Reader, render, render_around
from api.services import accountability, cases, dialogues, progress, record, responses, rounds
from api.services import submissions as submission_service
from api.views import cases as case_views
from api.views import revisions as revision_views
from api.views import submissions as submission_views
from models.case import CaseStatus
from models.dialogue import Dialogue
from models.progress import ProgressStatus
from models.response import Rating
from models.round import Round
from models.submission import Kind

router = APIRouter(include_in_schema=False)

STYLESHEET = resources.files("api.pages").joinpath("static/record.css").read_bytes()
STYLESHEET_TAG = weak_etag(STYLESHEET)
SLUG = re.compile(r"^[a-z0-9-]{1,64}$")
ITEMS = Fragments("item.html")


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"No such {what}.") from None


Endpoint = Callable[[Request], Awaitable[Response]]


def page(path: str) -> Callable[[Endpoint], Endpoint]:
    """A page at /record`path`: a plain route, outside the OpenAPI document (which
    describes the JSON API), answering GET and HEAD."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_route("/record" + path, endpoint, methods=["GET"], include_in_schema=False)
        return endpoint

    return register


async def _read(request: Request, build: Any, **arguments: Any) -> Response:
    """`build(request, session, reader, **arguments)` in one reading transaction, in a
    worker thread (as the JSON reads do)."""
    tx = await transaction(request)
    return await tx.read(_page, request=request, build=build, **arguments)


def _page(session: Session, *, request: Request, build: Any, **arguments: Any) -> Response:
    """A page, or the page that says it is not there (404) or cannot be read (400)."""
    reader = Reader.of(request)
    try:
        return build(request, session, reader, **arguments)  # type: ignore[no-any-return]
    except NotFound:
        return render(
            request,
            reader,
            "error.html",
            status=404,
            title=reader.t("notfound.title"),
            message=reader.t("notfound.text"),
        )
    except Unprocessable as error:
        # a query that cannot be searched for (the API's 422), said in the reader's language
        return render(
            request,
            reader,
            "error.html",
            status=422,
            title=reader.t("unprocessable.title"),
            message=api_i18n.message(error.detail or "", reader.lang),
        )
    except BadRequest:
        return render(
            request,
            reader,
            "error.html",
            status=400,
            title=reader.t("badrequest.title"),
            message=reader.t("badrequest.text"),
        )


@page("/static/record.css")
async def stylesheet(request: Request) -> Response:
    headers = {"ETag": STYLESHEET_TAG, "Cache-Control": "public, max-age=86400"}
    if request.headers.get("if-none-match", "").strip() in (STYLESHEET_TAG, STYLESHEET_TAG[2:]):
        return Response(status_code=304, headers=headers)
    return Response(STYLESHEET, media_type="text/css; charset=utf-8", headers=headers)


# --- the dialogues ----------------------------------------------------------------


def _dialogue_detail(session: Session, dialogue: Dialogue) -> dict[str, Any]:
    return {
        "dialogue": dialogue,
        "delegations": dialogues.delegations(session, dialogue=dialogue),
        "rounds": [
            rounds.public(r, dialogue_slug=dialogue.slug)
            for r in rounds.of_dialogue(session, dialogue=dialogue)
        ],
    }


@page("")
async def index(request: Request) -> Response:
    """Every dialogue with its rounds and their phases."""
    return await _read(request, _index)


def _index(request: Request, session: Session, reader: Reader) -> Response:
    found, _ = dialogues.page(session, limit=MAX_PAGE_SIZE, cursor=None)
    return render(
        request,
        reader,
        "index.html",
        title=reader.t("index.title"),
        dialogues=[_dialogue_detail(session, d) for d in found],
    )


def _dialogue(session: Session, slug: str) -> Dialogue:
    if not SLUG.match(slug):
        raise NotFound("No such dialogue.")
    return dialogues.get_by_slug_or_404(session, slug=slug)


@page("/dialogues/{slug}")
async def dialogue_page(request: Request) -> Response:
    """A dialogue, its delegations, its rounds and the trend."""
    return await _read(request, _dialogue_page, slug=request.path_params["slug"])


def _dialogue_page(request: Request, session: Session, reader: Reader, *, slug: str) -> Response:
    dialogue = _dialogue(session, slug)
    trend = accountability.dialogue_scorecard(session, dialogue=dialogue)
    return render(
        request,
        reader,
        "dialogue.html",
        title=dialogue.title,
        **_dialogue_detail(session, dialogue),
        trend=_trend(trend),
    )


@page("/dialogues/{slug}/scorecard")
async def dialogue_scorecard(request: Request) -> Response:
    """The round-over-round trend as line charts, with their table."""
    return await _read(request, _dialogue_scorecard, slug=request.path_params["slug"])


def _dialogue_scorecard(
    request: Request, session: Session, reader: Reader, *, slug: str
) -> Response:
    dialogue = _dialogue(session, slug)
    trend = accountability.dialogue_scorecard(session, dialogue=dialogue)
    return render(
        request,
        reader,
        "trend.html",
        title=reader.t("trend.title", title=dialogue.title),
        dialogue=dialogue,
        trend=_trend(trend),
    )


TREND_SERIES = (
    ("answer_rate", 1.0),
    ("no_response_rate", 1.0),
    ("repeat_cases_unresolved", None),
    ("benchmarks_met", None),
)


def _trend(card: accountability.DialogueScorecard) -> dict[str, Any]:
    points = card.rounds
    series = []
    for key, maximum in TREND_SERIES:
        values: list[tuple[str, float | None, str]] = []
        for p in points:
            value = getattr(p, key)
            if maximum == 1.0:
                shown = "–" if value is None else f"{value * 100:.0f}%"
            else:
                shown = str(value)
            values.append((str(p.number), None if value is None else float(value), shown))
        series.append({"key": key, "chart": charts.line(values, maximum=maximum), "values": values})
    return {"points": points, "series": series}


# --- a round ----------------------------------------------------------------------


def _round(session: Session, round_id: str) -> Round:
    return rounds.get_or_404(session, round_id=_uuid(round_id, "round"))


@page("/rounds/{round_id}")
async def round_page(request: Request) -> Response:
    """The round's questions and answers: filters as a plain GET form, cursor pages."""
    return await _read(request, _round_page, round_id=request.path_params["round_id"])


def _filters(
    *,
    theme: str | None,
    kind: str | None,
    delegation: str | None,
    answered: str | None,
    q: str | None,
) -> record.RecordFilters:
    """The form's values: an empty field is no filter; a value the form never offers is a 400."""
    try:
        kind_value = Kind(kind) if kind else None
    except ValueError:
        raise BadRequest("Unknown kind.") from None
    answered_value = {"": None, None: None, "true": True, "false": False}.get(answered, ...)
    if answered_value is ...:
        raise BadRequest("answered is true or false.")
    if delegation and len(delegation) > 8:
        raise BadRequest("Unknown delegation.")
    return record.RecordFilters(
        theme=theme or None,
        kind=kind_value,
        delegation=delegation or None,
        answered=answered_value,  # type: ignore[arg-type]
        q=(q or "").strip() or None,
    )


def _round_page(request: Request, session: Session, reader: Reader, *, round_id: str) -> Response:
    query = request.query_params
    theme, kind, delegation, answered, q = (
        bounded(query.get(name), 200) for name in ("theme", "kind", "delegation", "answered", "q")
    )
    cursor = bounded(query.get("cursor"), 400)
    back = [bounded(b, 400) or "" for b in query.getlist("back")]
    limit = page_size(query.get("limit"))
    ttl = request.app.state.settings.response_cache_seconds
    found = context.round_context(session, _uuid(round_id, "round"), ttl=ttl)
    rnd, dialogue = found.round, found.dialogue
    filters = _filters(theme=theme, kind=kind, delegation=delegation, answered=answered, q=q)
    items, next_cursor = record.page(
        session, round_id=rnd.id, filters=filters, limit=limit, cursor=cursor or None
    )
    view = rounds.public(rnd, dialogue_slug=dialogue.slug)
    form = {
        "theme": filters.theme or "",
        "kind": kind or "",
        "delegation": delegation or "",
        "answered": answered or "",
        "q": filters.q or "",
    }
    here = f"/record/rounds/{rnd.id}"
    base = {k: v for k, v in form.items() if v}
    if limit != PAGE_SIZE:
        base["limit"] = str(limit)
    links = page_links(reader, here, base, cursor=cursor, back=back, next_cursor=next_cursor)
    page_values: dict[str, Any] = {
        "title": reader.t("round.title", title=rnd.title),
        "feed": f"/api/v1/feed.atom?round_id={rnd.id}",
        "round": view,
        "dialogue": dialogue,
        "form": form,
        "themes": found.themes[reader.lang],
        "delegations": found.delegations,
        "links": links,
        "filtered": bool(base),
        "here": here,
    }
    if not items:
        return render(request, reader, "round.html", items=[], **page_values)
    due_passed = view.phase.value == "concluded"
    listing = ITEMS.render_list(
        reader, "item", items, lambda i: _item(i, due_passed), given=due_passed
    )
    # the rest of the page is the same for every request with the same round (read
    # under the record's version), phase, form and page links: rendered once, around
    # the list
    key = ("round", rnd.id, view.phase.value, *form.values(), *links.items(), bool(base))
    return render_around(
        request, reader, "round.html", key=key, ttl=ttl, name="items", fill=listing, **page_values
    )


def _item(item: dict[str, Any], due_passed: bool) -> dict[str, Any]:
    """A record item with, for each delegation addressed and silent, its silence (one
    with a response scheduled for release is not silent)."""
    answered_by = {r["delegation"] for r in item["responses"]}
    answered_by |= {s["delegation"] for s in item["scheduled"]}
    silent = [code for code in item["addressed_to"] if code not in answered_by]
    return {**item, "silent": silent, "due_passed": due_passed}


@page("/rounds/{round_id}/scorecard")
async def round_scorecard(request: Request) -> Response:
    """The scorecard of a round as tables and charts."""
    return await _read(request, _round_scorecard, round_id=request.path_params["round_id"])


def _round_scorecard(
    request: Request, session: Session, reader: Reader, *, round_id: str
) -> Response:
    rnd = _round(session, round_id)
    card = accountability.round_scorecard(session, rnd=rnd)
    slug = rounds.dialogue_slug(session, rnd=rnd)
    dialogue = dialogues.get_by_slug_or_404(session, slug=slug)
    benchmarks, _ = progress.benchmark_page(session, rnd=rnd, limit=MAX_PAGE_SIZE, cursor=None)
    commitments, _ = progress.commitment_page(session, rnd=rnd, limit=MAX_PAGE_SIZE, cursor=None)
    silence = "no_response" if card.due_date_passed else "unanswered"
    bars = charts.stacked(
        [
            (
                d.delegation,
                [
                    ("answered", d.answered),
                    ("holding", d.holding),
                    ("declined", d.declined),
                    (silence, d.no_response if card.due_date_passed else d.unanswered),
                ],
                ("late", d.late),
            )
            for d in card.delegations
        ]
    )
    ratings = charts.stacked(
        [
            (d.delegation, [(r.value, getattr(d.ratings, r.value)) for r in Rating], None)
            for d in card.delegations
        ]
    )
    states = [s.value for s in ProgressStatus]
    progress_chart = charts.stacked(
        [
            (
                reader.t(f"sc.{name}.short"),
                [(s, getattr(counts, s)) for s in states],
                ("contested", counts.contested),
            )
            for name, counts in (("benchmarks", card.benchmarks), ("commitments", card.commitments))
        ]
    )
    return render(
        request,
        reader,
        "scorecard.html",
        title=reader.t("scorecard.title", title=rnd.title),
        feed=f"/api/v1/feed.atom?round_id={rnd.id}",
        round=rounds.public(rnd, dialogue_slug=slug),
        dialogue=dialogue,
        card=card,
        silence=silence,
        bars=bars,
        ratings_chart=ratings,
        progress_chart=progress_chart,
        states=states,
        ratings=[r.value for r in Rating],
        benchmarks=benchmarks,
        commitments=commitments,
    )


# --- a submission -----------------------------------------------------------------


@page("/submissions/{submission_id}")
async def submission_page(request: Request) -> Response:
    """A submission with every response and its revision history."""
    submission_id = request.path_params["submission_id"]
    return await _read(request, _submission_page, submission_id=submission_id)


def _submission_page(
    request: Request, session: Session, reader: Reader, *, submission_id: str
) -> Response:
    submission = submission_service.get_or_404(
        session, submission_id=_uuid(submission_id, "submission")
    )
    # the public view, as GET /api/v1/submissions/{id} gives it to anyone (404 unless published)
    view = submission_service.view_for(submission, None)
    shown = submission_views.views(session, [submission], view=view, preferred=reader.lang)[0]
    rnd = rounds.get_or_404(session, round_id=shown.round_id)
    slug = rounds.dialogue_slug(session, rnd=rnd)
    round_view = rounds.public(rnd, dialogue_slug=slug)
    histories = {}
    for answer in shown.responses:
        found = responses.get_or_404(session, response_id=answer.id)
        history = revision_views.views(responses.revisions(session, response=found))
        versions = []
        for index, revision in enumerate(history):
            before = history[index - 1] if index else None
            versions.append(
                {
                    "revision": revision,
                    "changes": diff.changes(before.body, revision.body) if before else None,
                    "kind_changed": before is not None and before.kind != revision.kind,
                    "previous": before,
                }
            )
        histories[answer.id] = versions
    item = _item(shown.model_dump(), round_view.phase.value == "concluded")
    return render(
        request,
        reader,
        "submission.html",
        title=shown.title,
        feed=f"/api/v1/feed.atom?round_id={rnd.id}",
        s=shown,
        item=item,
        round=round_view,
        histories=histories,
    )


# --- cases ------------------------------------------------------------------------


@page("/cases")
async def case_list(request: Request) -> Response:
    """The published cases."""
    return await _read(request, _case_list)


def _case_list(request: Request, session: Session, reader: Reader) -> Response:
    cursor = bounded(request.query_params.get("cursor"), 400)
    rows, next_cursor = cases.page(
        session, q=None, status=None, theme=None, limit=MAX_PAGE_SIZE, cursor=cursor or None
    )
    links = {}
    if cursor:
        links["first"] = reader.url("/record/cases")
    if next_cursor:
        links["next"] = reader.url("/record/cases", {"cursor": next_cursor})
    return render(
        request,
        reader,
        "cases.html",
        title=reader.t("cases.title"),
        cases=case_views.summaries(session, rows),
        links=links,
    )


@page("/cases/{case_id}")
async def case_page(request: Request) -> Response:
    """A case with its status timeline and the rounds that raised it."""
    return await _read(request, _case_page, case_id=request.path_params["case_id"])


def _case_page(request: Request, session: Session, reader: Reader, *, case_id: str) -> Response:
    case = cases.get_or_404(session, case_id=_uuid(case_id, "case"))
    # what GET /api/v1/cases/{id} gives an anonymous reader (404 unless published)
    seen = cases.access(session, case=case, viewer=None)
    view = case_views.detail(session, case=case, private=seen.private)
    return render(
        request, reader, "case.html", title=view.name, case=view, statuses=list(CaseStatus)
    )


# --- search -----------------------------------------------------------------------


@page("/search")
async def search_page(request: Request) -> Response:
    """The whole record searched as GET /api/v1/search searches it (api/pages/search.py)."""
    return await _read(request, search.page)


@page("/{rest:path}")
async def unknown(request: Request) -> Response:
    """Any other address under /record: the page that says so."""
    reader = Reader.of(request)
    return render(
        request,
        reader,
        "error.html",
        status=404,
        title=reader.t("notfound.title"),
        message=reader.t("notfound.text"),
    )
