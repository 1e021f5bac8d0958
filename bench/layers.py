"""Where a cached public read spends its time inside the app: the ASGI stack is called
in-process (no sockets) for a request the response cache answers, from each layer down,
so that the difference between two layers is what the outer one costs per hit."""

import logging
import time
from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient

from bench.run import DATA, SECRET, key_file

CALLS = 500
REPEATS = 21


@dataclass
class Layer:
    name: str
    us_from_here: float  # µs for one hit called at this layer (it and all inside)
    us_own: float  # µs this layer adds to the hit


def _stack(app: Any) -> list[Any]:
    """The middleware stack from the outermost layer to the response cache."""
    app.middleware_stack = app.middleware_stack or app.build_middleware_stack()
    layers, layer = [], app.middleware_stack
    while layer is not None:
        layers.append(layer)
        if type(layer).__name__ == "ResponseCache":
            break
        layer = getattr(layer, "app", None)
    return layers


async def _time(layers: list[Any], scope: dict[str, Any]) -> list[float]:
    """µs per hit called at each layer: the best of REPEATS rounds, the layers taking
    turns within a round, so that a moment of contention on the machine weighs on one
    sample, not on one layer."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    status = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    for layer in layers:
        await layer(dict(scope), receive, send)  # warm
    assert set(status) == {200}, status
    best = [float("inf")] * len(layers)
    for _ in range(REPEATS):
        for i, layer in enumerate(layers):
            began = time.process_time()  # CPU time: other sessions' load is not ours
            for _ in range(CALLS):
                await layer(dict(scope), receive, send)
            best[i] = min(best[i], (time.process_time() - began) / CALLS * 1e6)
    return best


def measure(url: str, round_id: str) -> list[Layer]:
    from api.cli import configure_logging
    from api.config import Settings
    from api.main import create_app

    settings = Settings(
        secret_key=SECRET,
        env="production",
        database_url=url,
        signing_key_file=key_file(url),
        response_cache_seconds=60,  # no entry expires while it is timed
    )
    app = create_app(settings)
    path = f"/api/v1/rounds/{round_id}/record"
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    # as `civic-input serve` logs (one access line a request), to a file as in bench/run
    configure_logging()
    log_file = open(DATA / "layers.log", "w")  # noqa: SIM115
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(log_file)
    try:
        times, layers = _measure(app, path)
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
        log_file.close()
    out = []
    for i, layer in enumerate(layers):
        own = times[i] - (times[i + 1] if i + 1 < len(times) else 0.0)
        out.append(Layer(type(layer).__name__, times[i], own))
    return out


def _measure(app: Any, path: str) -> tuple[list[float], list[Any]]:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get(path, params={"limit": 50}).status_code == 200  # stored
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"limit=50",
            "headers": [(b"host", b"127.0.0.1")],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
            "app": app,
        }
        layers = _stack(app)
        portal = client.portal
        assert portal is not None
        return portal.call(_time, layers, scope), layers


def section(layers: list[Layer], limit_rps: float) -> str:
    whole = layers[0].us_from_here
    lines = [
        "#### Where a cache hit's time goes (in-process, no sockets)",
        "",
        f"A cached record page 1 called {CALLS:,} times at each layer of the ASGI stack, "
        f"in CPU time (the best of {REPEATS} rounds), logging as `civic-input serve` does; "
        "a layer's own cost is its time less the next one's. The response cache is the "
        "innermost middleware: every layer above it runs before a hit is served. For "
        "scale: the limit (one process, sockets and HTTP included) answers one request "
        f"every {1e6 / limit_rps:.0f} µs (1 ÷ its requests/s above).",
        "",
        "| layer (outermost first) | µs from here down | µs its own | share of the hit |",
        "| --- | ---: | ---: | ---: |",
    ]
    for layer in layers:
        lines.append(
            f"| {layer.name} | {layer.us_from_here:.1f} | {layer.us_own:.1f} "
            f"| {layer.us_own / whole:.0%} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    from bench.run import fixtures

    found = measure(sys.argv[1], fixtures(sys.argv[1])["round_id"])
    print(section(found, float(sys.argv[2]) if len(sys.argv) > 2 else 28_000.0))
