"""Demo data: the 2012 US–China Human Rights Dialogue round in Washington."""

import sqlalchemy as sa
from sqlmodel import Session, select

from api.config import Settings
from api.db import make_engine, open_session
from models.dialogue import Delegation, Dialogue

SLUG = "us-china-human-rights"


def seed_if_empty(settings: Settings) -> bool:
    engine = make_engine(settings.database_url)
    try:
        with open_session(engine) as session:
            empty = session.exec(select(sa.func.count()).select_from(Dialogue)).one() == 0
    finally:
        engine.dispose()
    return seed(settings) if empty else False


def seed(settings: Settings) -> bool:
    """Load the demo dialogue once; answer False when it is already there."""
    engine = make_engine(settings.database_url)
    try:
        with open_session(engine, write=True) as session:
            if session.exec(select(Dialogue.id).where(Dialogue.slug == SLUG)).first():
                return False
            _build(session)
            session.commit()
            return True
    finally:
        engine.dispose()


def _build(session: Session) -> None:
    dialogue = Dialogue(
        slug=SLUG,
        title="US–China Human Rights Dialogue",
        description=(
            "The annual bilateral human-rights dialogue between the United States and the "
            "People's Republic of China."
        ),
    )
    session.add(dialogue)
    session.flush()
    session.add(Delegation(dialogue_id=dialogue.id, code="US", name="United States"))
    session.add(Delegation(dialogue_id=dialogue.id, code="CN", name="China"))
    session.flush()
