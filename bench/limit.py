"""The limit: a bare ASGI app that returns the same bytes from memory.

BENCH_BODY=bench/data/page.json uvicorn bench.limit:app
"""

import os
from pathlib import Path
from typing import Any


def make(body: bytes) -> Any:
    """The limit answering `body`."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def __getattr__(name: str) -> Any:
    # `app`, made when uvicorn asks for it: importing `make` needs no body file
    if name == "app":
        return make(Path(os.environ.get("BENCH_BODY", "bench/data/page.json")).read_bytes())
    raise AttributeError(name)
