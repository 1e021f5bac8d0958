"""The search page (/record/search): the whole record searched as GET /api/v1/search
searches it (the same service function), with a plain GET form, the results with the
match marked, cursor pages, and the API's 422 said on the page."""

import uuid
from typing import Any

from fastapi import Request, Response
from sqlmodel import Session

from api import i18n as api_i18n
from api.errors import BadRequest, Unprocessable
from api.pages import context
from api.pages.paging import MAX_PAGE_SIZE, PAGE_SIZE, bounded, page_links, page_size
from api.pages.render import Reader, marked, render
from api.search import query as search_service
from api.services import dialogues, rounds
from models.dialogue import Dialogue
from models.round import Round

SEARCH_TYPES = [t.value for t in search_service.DocType]
SEARCH_LANGUAGES = ("en", "zh")
MAX_QUERY = 200  # as GET /api/v1/search takes it


def _search_filters(
    *,
    dialogue: str | None,
    round_id: str | None,
    type_: str | None,
    theme: str | None,
    delegation: str | None,
    language: str | None,
) -> search_service.SearchFilters:
    """The form's values as the API's filters, within the API's bounds: an empty field
    is no filter; a value the form never offers is a 400."""
    for value, limit in ((dialogue, 64), (theme, 64), (delegation, 8), (language, 35)):
        if value and len(value) > limit:
            raise BadRequest("A value in the query is too long.")
    try:
        round_value = uuid.UUID(round_id) if round_id else None
        type_value = search_service.DocType(type_) if type_ else None
    except ValueError:
        raise BadRequest("Unknown round or type.") from None
    return search_service.SearchFilters(
        dialogue=dialogue or None,
        round_id=round_value,
        type=type_value,
        theme=theme or None,
        delegation=delegation or None,
        language=language or None,
    )


def _search_options(session: Session, reader: Reader) -> dict[str, Any]:
    """What the form offers: the dialogues, their rounds, delegations and the themes."""
    found, _ = dialogues.page(session, limit=MAX_PAGE_SIZE, cursor=None)
    groups: list[tuple[Dialogue, list[Round]]] = []
    codes: dict[str, str] = {}
    round_names: dict[uuid.UUID, str] = {}
    for d in found:
        rounds_of = rounds.of_dialogue(session, dialogue=d)
        groups.append((d, rounds_of))
        for rnd in rounds_of:
            round_names[rnd.id] = f"{reader.t('round.n', n=rnd.number)}: {rnd.title}"
        for g in dialogues.delegations(session, dialogue=d):
            codes.setdefault(g.code, g.name)
    return {
        "groups": groups,
        "round_names": round_names,
        "delegations": sorted(codes.items()),
        "themes": context.theme_names(session)[reader.lang],
    }


def _hit(
    reader: Reader, hit: search_service.SearchHit, round_names: dict[uuid.UUID, str]
) -> dict[str, Any]:
    """A result as the page shows it: where it links, its round, its snippet marked."""
    kind = hit.type.value
    if kind == "submission":
        link = reader.url(f"/record/submissions/{hit.id}")
    elif kind == "response":
        link = reader.url(f"/record/submissions/{hit.submission_id}", fragment=f"response-{hit.id}")
    elif kind == "case":
        link = reader.url(f"/record/cases/{hit.id}")
    else:  # a benchmark or commitment: on its round's scorecard
        link = reader.url(f"/record/rounds/{hit.round_id}/scorecard", fragment="progress")
    round_link = round_name = None
    if hit.round_id is not None:
        round_link = reader.url(f"/record/rounds/{hit.round_id}")
        round_name = round_names.get(hit.round_id, reader.t("round"))
    return {
        "type": kind,
        "id": hit.id,
        "link": link,
        "title": hit.title,
        "language": hit.language,
        "published_at": hit.published_at,
        "round_link": round_link,
        "round_name": round_name,
        "snippet": marked(hit.snippet.text, hit.snippet.matches),
    }


def page(request: Request, session: Session, reader: Reader) -> Response:
    """The search page: the form alone, or the results of its query, or the query's 422."""
    query = request.query_params
    names = ("q", "dialogue", "round_id", "type", "theme", "delegation", "language")
    # the query is echoed in the form, with the API's 422 when it is over MAX_QUERY
    raw = {name: bounded(query.get(name), 1000 if name == "q" else 400) or "" for name in names}
    cursor = bounded(query.get("cursor"), 400)
    back = [bounded(b, 400) or "" for b in query.getlist("back")]
    limit = page_size(query.get("limit"))
    filters = _search_filters(
        dialogue=raw["dialogue"],
        round_id=raw["round_id"],
        type_=raw["type"],
        theme=raw["theme"],
        delegation=raw["delegation"],
        language=raw["language"],
    )
    q = raw["q"].strip()
    options = _search_options(session, reader)
    hits: list[dict[str, Any]] = []
    links: dict[str, str] = {}
    problem = None
    status = 200
    if len(q) > MAX_QUERY:
        problem, status = reader.t("search.too_long", n=MAX_QUERY), 422
    elif q:
        try:
            found, next_cursor = search_service.search(
                session, q=q, filters=filters, limit=limit, cursor=cursor or None
            )
        except Unprocessable as error:
            # the API's 422, said on the page with the form to mend the query
            detail = api_i18n.message(error.detail or "", reader.lang)
            problem, status = reader.t("search.invalid", detail=detail), 422
        else:
            hits = [_hit(reader, h, options["round_names"]) for h in found]
            here = "/record/search"
            base = {k: v for k, v in raw.items() if v}
            base["q"] = q
            if limit != PAGE_SIZE:
                base["limit"] = str(limit)
            links = page_links(
                reader, here, base, cursor=cursor, back=back, next_cursor=next_cursor
            )
    return render(
        request,
        reader,
        "search.html",
        status=status,
        title=reader.t("search.title"),
        form={**raw, "q": raw["q"] if status != 200 else q},
        searched=bool(q) and problem is None,
        problem=problem,
        hits=hits,
        links=links,
        types=SEARCH_TYPES,
        languages=SEARCH_LANGUAGES,
        **options,
    )
