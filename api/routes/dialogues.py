"""Dialogues and their delegations."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from api.deps import Admin, SessionDep
from api.errors import error_responses
from api.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, link_next
from api.services import accountability, dialogues, rounds
from models.dialogue import (
    DelegationCreate,
    DelegationPublic,
    Dialogue,
    DialogueCreate,
    DialogueDetail,
    DialogueSummary,
)

router = APIRouter(prefix="/api/v1/dialogues", tags=["dialogues"])

SlugPath = Annotated[
    str, Path(max_length=64, pattern=r"^[a-z0-9-]+$", description="The dialogue's slug.")
]


def dialogue_by_slug(slug: SlugPath, session: SessionDep) -> Dialogue:
    return dialogues.get_by_slug_or_404(session, slug=slug)


DialogueDep = Annotated[Dialogue, Depends(dialogue_by_slug)]


def detail(session: SessionDep, dialogue: Dialogue) -> DialogueDetail:
    return DialogueDetail(
        **DialogueSummary.model_validate(dialogue, from_attributes=True).model_dump(),
        delegations=[
            DelegationPublic.model_validate(d, from_attributes=True)
            for d in dialogues.delegations(session, dialogue=dialogue)
        ],
        rounds=[
            rounds.public(r, dialogue_slug=dialogue.slug)
            for r in rounds.of_dialogue(session, dialogue=dialogue)
        ],
    )


@router.get("", response_model=Page[DialogueSummary], responses=error_responses(400, 422))
def list_dialogues(
    request: Request,
    response: Response,
    session: SessionDep,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[DialogueSummary]:
    """Every dialogue, by slug, a cursor page at a time."""
    rows, next_cursor = dialogues.page(session, limit=limit, cursor=cursor)
    link_next(request, response, next_cursor)
    return Page(
        items=[DialogueSummary.model_validate(d, from_attributes=True) for d in rows],
        next_cursor=next_cursor,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DialogueDetail,
    responses=error_responses(401, 403, 409, 422),
)
def create_dialogue(data: DialogueCreate, _admin: Admin, session: SessionDep) -> DialogueDetail:
    """Create a dialogue (admins)."""
    return detail(session, dialogues.create(session, data=data))


@router.get("/{slug}", response_model=DialogueDetail, responses=error_responses(404))
def read_dialogue(dialogue: DialogueDep, session: SessionDep) -> DialogueDetail:
    """A dialogue with its delegations and rounds."""
    return detail(session, dialogue)


@router.post(
    "/{slug}/delegations",
    status_code=status.HTTP_201_CREATED,
    response_model=DelegationPublic,
    responses=error_responses(401, 403, 404, 409, 422),
)
def add_delegation(
    data: DelegationCreate, dialogue: DialogueDep, _admin: Admin, session: SessionDep
) -> DelegationPublic:
    """Add a delegation (such as `US` or `CN`) to a dialogue (admins)."""
    delegation = dialogues.add_delegation(session, dialogue=dialogue, data=data)
    return DelegationPublic.model_validate(delegation, from_attributes=True)


@router.get(
    "/{slug}/scorecard",
    response_model=accountability.DialogueScorecard,
    responses=error_responses(404),
    tags=["public record"],
)
def dialogue_scorecard(
    dialogue: DialogueDep, session: SessionDep
) -> accountability.DialogueScorecard:
    """The trend round by round: answer rate, no-response rate, rating mix, repeat cases
    unresolved, benchmarks met."""
    return accountability.dialogue_scorecard(session, dialogue=dialogue)
