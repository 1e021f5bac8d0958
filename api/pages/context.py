"""What a round's page shows around its items (the round, its dialogue, the dialogue's
delegations, the theme names), read once and kept while nothing has been written.

A round page of 50 items read these four on every request, in more time than the items
themselves. They change only by a write (a round's deadline extended, a delegation or a
theme added), so they are kept by the rules of the response cache (api/cache.py): an
entry serves only while no write has committed since it was read (this process's version
of the record, which the invalidation listener keeps current across processes), while
the cache's lease holds, and for at most the response cache's time to live. None of
them is content that a withdrawal, removal or consent change takes down: those live in
the items, which every page reads afresh.
"""

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlmodel import Session

from api import cache
from api.pages import i18n
from api.services import dialogues, rounds
from api.services import themes as theme_service
from api.sql.snapshot import snapshot
from models.dialogue import Delegation, Dialogue
from models.round import Round

K = TypeVar("K")
V = TypeVar("V")


class Kept(Generic[K, V]):
    """Values computed from the database, kept while the record's version is the one
    they were computed under (and at most `ttl` seconds); the newest `size` are kept."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.entries: OrderedDict[K, tuple[int, float, V]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V], *, ttl: float) -> V:
        version = cache.version_if_fresh()
        now = time.monotonic()
        if version is not None and ttl > 0:
            with self.lock:
                found = self.entries.get(key)
            if found is not None and found[0] == version and now - found[1] < ttl:
                return found[2]
        value = compute()
        # kept only if no write committed while it was computed (nor the lease lapsed)
        if version is not None and ttl > 0 and cache.version_if_fresh() == version:
            with self.lock:
                self.entries[key] = (version, now, value)
                self.entries.move_to_end(key)
                while len(self.entries) > self.size:
                    self.entries.popitem(last=False)
        return value


@dataclass(frozen=True)
class RoundContext:
    """Plain copies (no ORM state: they outlive the session that read them)."""

    round: Round
    dialogue: Dialogue
    delegations: list[Delegation]
    themes: dict[str, list[tuple[str, str]]]  # by language: (slug, name), by slug


def theme_names(session: Session) -> dict[str, list[tuple[str, str]]]:
    """Each theme's slug and name in each language of the pages (English, else the
    Chinese, else the slug, when it has no name in the language)."""
    found: dict[str, list[tuple[str, str]]] = {lang: [] for lang in i18n.LANGUAGES}
    for theme in theme_service.all_themes(session):
        names = theme.names or {}
        for lang in i18n.LANGUAGES:
            name = names.get(lang) or names.get("zh" if lang != "en" else "en") or theme.slug
            found[lang].append((theme.slug, name))
    return found


def _read(session: Session, round_id: uuid.UUID) -> RoundContext:
    rnd = rounds.snapshot_or_404(session, round_id=round_id)
    dialogue = snapshot(session, Dialogue, rnd.dialogue_id)
    assert dialogue is not None  # a round's dialogue is a foreign key
    return RoundContext(
        round=rnd,
        dialogue=dialogue,
        delegations=[
            Delegation.model_construct(id=g.id, dialogue_id=g.dialogue_id, code=g.code, name=g.name)
            for g in dialogues.delegations(session, dialogue=dialogue)
        ],
        themes=theme_names(session),
    )


_KEPT: Kept[uuid.UUID, RoundContext] = Kept()


def round_context(session: Session, round_id: uuid.UUID, *, ttl: float) -> RoundContext:
    """The round's context, from this process's memory when it is still true; an
    unknown round is a NotFound (and nothing is kept for it)."""
    return _KEPT.get(round_id, lambda: _read(session, round_id), ttl=ttl)
