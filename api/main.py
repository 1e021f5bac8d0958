"""create_app(): routers, error handlers, middleware; nothing else."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from api import (
    __version__,
    background,
    docs,
    errors,
    lifecycle,
    pages,
    release_scheduler,
    single,
    stream,
)
from api.cache import FinalResponseCache, Invalidation, ResponseCache
from api.config import Settings, get_settings
from api.db import Gate, default_concurrency, make_engine, writer
from api.head import HeadAsGet
from api.headers import SecurityHeaders
from api.i18n import Language
from api.middleware import AccessLog, BodyLimit, CatchAll, ConditionalGet
from api.routes import (
    audit,
    auth,
    cases,
    dialogues,
    feed,
    grouped_responses,
    health,
    progress,
    releases,
    responses,
    rounds,
    submissions,
    themes,
    users,
)
from api.routes import search as search_routes
from api.routes import translations as translation_routes
from api.security import Security
from api.services import signing_keys
from api.shared import Shared
from api.text import TextGuard

log = logging.getLogger("civic_input")

DESCRIPTION = """
The public question-and-answer record of intergovernmental human-rights dialogues.

Activists and NGOs submit concerns and cases before a round; officials of each
delegation answer, hold or decline after it; everything published forms a
public record anyone can read, search, sync, export and verify.

**Authorize** with a handle and password (the OAuth2 password form). Errors are
RFC 9457 problem details (`application/problem+json`). Lists are cursor pages:
`?limit=` (1-100) and `?cursor=` from `next_cursor` or the `Link: rel="next"` header.

**Languages:** problem titles and details, theme names and enum labels
(`GET /api/v1/vocabulary`) follow `Accept-Language`: `en` (the default) or `zh-Hans`
(also `zh`, `zh-CN`, `zh-SG`); such answers say `Content-Language` and
`Vary: Accept-Language`. Problem types, field names and enum values never change.
"""


class CivicApp(FastAPI):
    """The app as served: FastAPI behind a front door (`front`, the final response
    cache), so that a hit is answered before Starlette's own error and exception
    middleware, or any of ours, does any work; everything else goes on to FastAPI."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.front: ASGIApp = self.behind_front

    async def behind_front(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.front(scope, receive, send)


def create_app(settings: Settings | None = None) -> CivicApp:
    settings = settings or get_settings()
    if settings.ephemeral_secret and settings.env == "development":
        log.warning("no CIVIC_SECRET_KEY: using an ephemeral key; tokens die with this process")
    engine = make_engine(
        settings.database_url,
        connect_timeout=settings.db_connect_timeout_seconds,
        statement_timeout=settings.db_statement_timeout_seconds or None,
    )
    key_store = signing_keys.store_for(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # made here, in the loop that serves the app: anyio's semaphores and limiters
        # belong to the loop that made them (a TestClient runs each app in its own)
        # without Redis, the only process on its database (api/single.py)
        alone = single.hold(engine) if shared is None and settings.env != "test" else None
        app.state.gate = Gate.open(engine, settings.db_concurrency or default_concurrency(engine))
        closing = lifecycle.open(app.state)
        app.state.stream = stream.Hub(
            engine, max_subscribers=settings.stream_max_subscribers, closing=closing
        )
        security.open_lane()
        signer = signing_keys.ensure(engine, key_store, production=settings.env == "production")
        app.state.signing_keys = signing_keys.Keys(key_store, signer)
        # Failed sign-ins (and the address hashes they carry) go when their window ends,
        # whether or not anyone signs in again.
        tasks = [asyncio.create_task(security.throttle.sweep_forever())]
        # shared state with the deployment's other processes (api/shared.py)
        invalidation = Invalidation(shared, settings.response_cache_seconds) if shared else None
        if shared is not None and invalidation is not None:
            shared.start()
            invalidation.start()
        leader = app.state.leader = background.Leader(shared)
        if shared is not None:
            tasks.append(asyncio.create_task(leader.hold_forever()))
        if settings.release_poll_seconds > 0:
            tasks.append(
                asyncio.create_task(
                    release_scheduler.release_when_due(app.state, settings.release_poll_seconds)
                )
            )
        if settings.purge_interval_hours > 0:
            tasks.append(
                asyncio.create_task(background.purge_periodically(engine, settings, leader))
            )
        try:
            yield
        finally:
            closing.set()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await app.state.stream.stop()
            if shared is not None and invalidation is not None:
                invalidation.stop()
                leader.resign()
                shared.stop()
            if alone is not None:
                alone()
            engine.dispose()

    app = CivicApp(
        title="Civic Input",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        generate_unique_id_function=docs.operation_id,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.write_engine = writer(engine)
    shared = (
        Shared(settings.redis_url, prefix=settings.redis_prefix) if settings.redis_url else None
    )
    app.state.shared = shared
    app.state.security = security = Security(settings, shared)

    errors.install(app)
    for router in (
        health.router,
        auth.router,
        users.router,
        dialogues.router,
        themes.router,
        themes.vocabulary_router,
        rounds.router,
        submissions.router,
        responses.router,
        grouped_responses.router,
        releases.router,
        cases.router,
        progress.router,
        feed.router,
        feed.keys_router,
        audit.router,
    ):
        app.include_router(router)
    app.include_router(search_routes.router)
    app.include_router(translation_routes.router)
    docs.install(app)
    app.include_router(pages.router)
    app.openapi = lambda: docs.openapi_document(app)  # type: ignore[method-assign]

    # Public reads may be fetched from any origin, never with credentials.
    cache_on = settings.response_cache and settings.response_cache_seconds > 0
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=False,
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=["If-None-Match", "Accept"],
        expose_headers=["ETag", "Link", "Retry-After"],
    )
    # outside CORS: an entry holds CORS's headers where ConditionalGet, outside, finds
    # them, so that a cached answer's headers are in the order of an uncached one
    app.add_middleware(ResponseCache, enabled=cache_on, ttl=settings.response_cache_seconds)
    app.add_middleware(ConditionalGet)
    app.add_middleware(TextGuard)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(CatchAll)
    app.add_middleware(Language)  # outside every layer that can answer with a problem
    app.add_middleware(SecurityHeaders, hsts=settings.env == "production")
    app.add_middleware(HeadAsGet)  # inside the access log: it logs HEAD as HEAD
    app.add_middleware(AccessLog)
    # in front of it all: a fresh hit is answered before any layer does work
    app.front = FinalResponseCache(
        app.behind_front, enabled=cache_on, ttl=settings.response_cache_seconds
    )
    return app
