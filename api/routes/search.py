"""Search across the whole public record: every round, every dialogue, every kind of text."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session

from api.deps import Tx
from api.errors import error_responses
from api.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, page_response
from api.search import query as search
from api.search.query import DocType, SearchFilters, SearchHit

router = APIRouter(prefix="/api/v1", tags=["public record"])

SearchPage = Page[SearchHit]

_EXAMPLE = {
    "items": [
        {
            "type": "submission",
            "id": "5b0f3c1e-8d55-4d5c-9a55-2f1e0c3b7a10",
            "round_id": "0e6d6f1a-3c2b-4f0e-8a51-7d2b1f9c4e21",
            "dialogue": "us-china-human-rights-dialogue",
            "submission_id": None,
            "language": "zh-Hans",
            "published_at": "2012-04-20T09:00:00Z",
            "title": "维权律师高智晟的下落",
            "snippet": {"text": "请说明维权律师高智晟的下落……", "matches": [[5, 8]]},
        }
    ],
    "next_cursor": "WzQyLDAsMzld",
}


@router.get(
    "/search",
    response_model=SearchPage,
    responses={
        200: {"content": {"application/json": {"example": _EXAMPLE}}},
        **error_responses(400, 422),
    },
)
async def search_record(
    request: Request,
    tx: Tx,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description='Words, Chinese or Japanese text, and "quoted phrases"; every one must '
            "match. Traditional and simplified characters find each other; English words "
            "match their plurals and -ed/-ing forms.",
            examples=["高智晟", "Gao Zhisheng 高智晟", '"re-education through labour"'],
        ),
    ],
    dialogue: Annotated[str | None, Query(max_length=64, description="A dialogue's slug.")] = None,
    round_id: Annotated[uuid.UUID | None, Query()] = None,
    type: Annotated[DocType | None, Query(description="Only this kind of text.")] = None,
    theme: Annotated[str | None, Query(max_length=64, description="A theme slug.")] = None,
    delegation: Annotated[
        str | None,
        Query(max_length=8, description="Addressed to (a submission), or from, this delegation."),
    ] = None,
    language: Annotated[
        str | None,
        Query(max_length=35, description="BCP 47; `zh` takes in `zh-Hans` and `zh-Hant`."),
    ] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Response:
    """Search published submissions, current responses, published cases, benchmarks and
    commitments, in Chinese and English: those matching in their title first, then the
    rest, newest first within each; cursor pages stay stable while new items are published."""
    filters = SearchFilters(
        dialogue=dialogue,
        round_id=round_id,
        type=type,
        theme=theme,
        delegation=delegation,
        language=language,
    )
    return await tx(_page, request=request, q=q, filters=filters, limit=limit, cursor=cursor)


def _page(
    session: Session,
    *,
    request: Request,
    q: str,
    filters: SearchFilters,
    limit: int,
    cursor: str | None,
) -> Response:
    items, next_cursor = search.search_page(
        session, q=q, filters=filters, limit=limit, cursor=cursor
    )
    return page_response(request, {"items": items, "next_cursor": next_cursor})
