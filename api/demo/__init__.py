"""Demo data: two rounds of the US–China Human Rights Dialogue, the 17th (Washington, July
2012) and the 18th (Kunming, July 2013).

The content is data, `dialogue.toml` beside this module, with its provenance (what is
historical, what is illustrative) in its `about`. `data` reads it and checks every item with
the create schema the API uses; `replay` feeds it to the services with the clock set to
each item's instant, so the demo obeys every rule the API enforces.
"""

import logging
import secrets

import sqlalchemy as sa
from sqlmodel import Session, select

from api.config import Settings
from api.db import make_engine, open_session
from api.demo.data import DemoData, DemoDataError, load
from api.demo.replay import DemoConflict, replay
from api.security import Security
from models.dialogue import Dialogue

__all__ = ["DemoConflict", "DemoData", "DemoDataError", "load", "seed", "seed_if_empty"]

log = logging.getLogger("civic_input")


def __getattr__(name: str) -> str:
    if name == "SLUG":  # the demo dialogue's slug, as the data file names it
        return load().slug
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _present(session: Session, slug: str) -> bool:
    return session.exec(select(Dialogue.id).where(Dialogue.slug == slug)).first() is not None


def seed_if_empty(settings: Settings) -> bool:
    engine = make_engine(settings.database_url)
    try:
        with open_session(engine) as session:
            empty = session.exec(select(sa.func.count()).select_from(Dialogue)).one() == 0
    finally:
        engine.dispose()
    if not empty:
        return False
    try:
        return seed(settings)
    except DemoConflict as exc:
        log.warning("demo data not loaded: %s", exc)
        return False


def seed(settings: Settings, data: DemoData | None = None) -> bool:
    """Load the demo dialogue once; answer False when it is already there."""
    data = data or load()
    engine = make_engine(settings.database_url)
    try:
        with open_session(engine, write=True) as session:
            if _present(session, data.slug):
                return False
            # One hash of a random, forgotten password for every demo account: none can sign in.
            password_hash = Security(settings).hash_password(secrets.token_urlsafe(32))
            try:
                replay(session, data, password_hash=password_hash)
                session.commit()
            except sa.exc.IntegrityError:
                session.rollback()  # another process loaded it at the same moment
                if _present(session, data.slug):
                    return False
                raise
            return True
    finally:
        engine.dispose()
