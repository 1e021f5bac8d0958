"""Dialogues and their delegations."""

from sqlmodel import Session, col, select

from api.errors import Conflict, NotFound
from api.pagination import decode_cursor, encode_cursor
from models.dialogue import Delegation, DelegationCreate, Dialogue, DialogueCreate


def get_by_slug_or_404(session: Session, *, slug: str) -> Dialogue:
    dialogue = session.exec(select(Dialogue).where(Dialogue.slug == slug)).first()
    if dialogue is None:
        raise NotFound("No dialogue with this slug.")
    return dialogue


def create(session: Session, *, data: DialogueCreate) -> Dialogue:
    if session.exec(select(Dialogue.id).where(Dialogue.slug == data.slug)).first() is not None:
        raise Conflict("A dialogue with this slug exists.")
    dialogue = Dialogue(slug=data.slug, title=data.title, description=data.description)
    session.add(dialogue)
    session.flush()
    return dialogue


def page(session: Session, *, limit: int, cursor: str | None) -> tuple[list[Dialogue], str | None]:
    """Dialogues by slug, a cursor page at a time."""
    query = select(Dialogue).order_by(col(Dialogue.slug)).limit(limit + 1)
    after = decode_cursor(cursor, 1)
    if after is not None:
        query = query.where(col(Dialogue.slug) > str(after[0]))
    rows = list(session.exec(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor([rows[-1].slug]) if more else None


def delegations(session: Session, *, dialogue: Dialogue) -> list[Delegation]:
    return list(
        session.exec(
            select(Delegation)
            .where(Delegation.dialogue_id == dialogue.id)
            .order_by(col(Delegation.code))
        )
    )


def add_delegation(session: Session, *, dialogue: Dialogue, data: DelegationCreate) -> Delegation:
    exists = session.exec(
        select(Delegation.id).where(
            Delegation.dialogue_id == dialogue.id, Delegation.code == data.code
        )
    ).first()
    if exists is not None:
        raise Conflict(f"This dialogue already has a delegation {data.code}.")
    delegation = Delegation(dialogue_id=dialogue.id, code=data.code, name=data.name)
    session.add(delegation)
    session.flush()
    return delegation
