"""The limit: a bare ASGI app that returns the same bytes from memory.

BENCH_BODY=bench/data/page.json uvicorn bench.limit:app
"""

import os
from pathlib import Path

BODY = Path(os.environ.get("BENCH_BODY", "bench/data/page.json")).read_bytes()
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
