"""What a cached public read costs the server, in process and in CPU time, against the
limit: both answer through uvicorn's own HTTP protocol (httptools, as `civic-input
serve` and the limit's uvicorn run them) over a transport that keeps what is written,
so a figure is everything a request costs the server but the socket's system calls,
and other work on the machine does not count in it (time.process_time). Then the apps
alone (an ASGI call each), and a request that the front door passes on (one with
`Origin`, answered by `ResponseCache` inside)."""

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from bench import limit
from bench.run import DATA, SECRET, key_file

CALLS = 1000
REPEATS = 15


@dataclass
class Layer:
    name: str
    us: float  # CPU µs for one request
    limit_us: float  # the same for the limit, measured the same way


class _Transport(asyncio.Transport):
    """A connection that keeps nothing but the last answer."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []

    def write(self, data: Any) -> None:
        self.written.append(bytes(data))
        del self.written[:-2]

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class _Connection:
    """One keep-alive connection to `app` through uvicorn's httptools protocol."""

    def __init__(self, config: uvicorn.Config, path: str, headers: str = "") -> None:
        self.state = ServerState()
        self.protocol = HttpToolsProtocol(config, self.state, {}, asyncio.get_running_loop())
        self.transport = _Transport()
        self.protocol.connection_made(self.transport)
        self.request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n{headers}\r\n".encode()

    async def get(self) -> bytes:
        self.protocol.data_received(self.request)
        await asyncio.gather(*list(self.state.tasks))
        return b"".join(self.transport.written)


def _config(app: Any, *, server_header: bool) -> uvicorn.Config:
    # as api/serve.py's server_config (ours) or uvicorn's command line (the limit)
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=server_header,
        lifespan="off",
    )
    config.load()
    return config


async def _asgi_call(app: Any, scope: dict[str, Any]) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    await app(dict(scope), receive, send)


async def _timed(loads: dict[str, Any]) -> dict[str, float]:
    """CPU µs a request for each load: the best of REPEATS rounds, the loads taking
    turns within a round, so that a moment of contention weighs on one sample."""
    best = dict.fromkeys(loads, float("inf"))
    for _ in range(REPEATS):
        for name, (setup, call) in loads.items():
            setup()
            began = time.process_time()
            for _ in range(CALLS):
                await call()
            await asyncio.sleep(0)  # what the calls left for the loop's next turn
            best[name] = min(best[name], (time.process_time() - began) / CALLS * 1e6)
    return best


async def _measure(app: Any, path: str) -> list[Layer]:
    access = logging.getLogger("civic_input.access")
    async with app.router.lifespan_context(app):
        ours = _config(app, server_header=False)
        plain, with_origin = _Connection(ours, path), _Connection(ours, path, "Origin: x\r\n")
        for _ in range(3):
            answer = await plain.get()  # stored
            await with_origin.get()
        head, body = answer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200 "), head
        bare = limit.make(body)
        the_limit = _Connection(_config(bare, server_header=True), "/")
        assert (await the_limit.get()).endswith(body)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path.split("?")[0],
            "raw_path": path.split("?")[0].encode(),
            "root_path": "",
            "query_string": path.partition("?")[2].encode(),
            "headers": [(b"host", b"127.0.0.1:8000")],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }

        def logged() -> None:
            access.setLevel(logging.NOTSET)

        def unlogged() -> None:
            access.setLevel(logging.WARNING)

        try:
            times = await _timed(
                {
                    "limit": (logged, the_limit.get),
                    "hit": (logged, plain.get),
                    "hit, unlogged": (unlogged, plain.get),
                    "origin": (logged, with_origin.get),
                    "limit app": (logged, lambda: _asgi_call(bare, scope)),
                    "hit app": (logged, lambda: _asgi_call(app, scope)),
                }
            )
        finally:
            access.setLevel(logging.NOTSET)
    lim, app_lim = times["limit"], times["limit app"]
    return [
        Layer("a plain poll: a hit on the front door", times["hit"], lim),
        Layer("the same, its access line not written", times["hit, unlogged"], lim),
        Layer("with `Origin`: a hit on `ResponseCache` inside", times["origin"], lim),
        Layer("a plain poll, the app alone (one ASGI call)", times["hit app"], app_lim),
    ]


def measure(url: str, round_id: str) -> list[Layer]:
    import uvloop

    from api.cli import configure_logging
    from api.config import Settings
    from api.main import create_app
    from api.serve import lean_logging

    settings = Settings(
        secret_key=SECRET,
        env="production",
        database_url=url,
        signing_key_file=key_file(url),
        response_cache_seconds=60,  # no entry expires while it is timed
    )
    app = create_app(settings)
    path = f"/api/v1/rounds/{round_id}/record?limit=50"
    root = logging.getLogger()
    saved = root.level, list(root.handlers), logging._srcfile  # type: ignore[attr-defined]
    # as `civic-input serve` logs (one access line a request), to a file as in bench/run
    configure_logging()
    lean_logging()
    DATA.mkdir(parents=True, exist_ok=True)
    log_file = open(DATA / "layers.log", "w")  # noqa: SIM115
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(log_file)
    try:
        return uvloop.run(_measure(app, path))
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
        logging._srcfile = saved[2]  # type: ignore[attr-defined]
        log_file.close()


def section(layers: list[Layer], limit_rps: float) -> str:
    lines = [
        "#### A cache hit's cost to the server, in process",
        "",
        "Ours as served and the limit, each answering a cached record page 1 through "
        "uvicorn's own HTTP protocol (httptools, on uvloop) over an in-memory transport: "
        "everything a request costs the server but the socket's system calls, in CPU time "
        f"(`time.process_time`, the best of {REPEATS} rounds of {CALLS:,}, the loads taking "
        "turns), logging as `civic-input serve` does. The last row is the apps alone, one "
        "ASGI call each. The same in wall-clock terms: the limit above answers one request "
        f"every {1e6 / limit_rps:.0f} µs (1 ÷ its requests/s), sockets included.",
        "",
        "| request | ours µs | the limit's µs | limit ÷ ours |",
        "| --- | ---: | ---: | ---: |",
    ]
    for layer in layers:
        lines.append(
            f"| {layer.name} | {layer.us:.1f} | {layer.limit_us:.1f} "
            f"| {layer.limit_us / layer.us:.0%} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    from bench.run import fixtures

    found = measure(sys.argv[1], fixtures(sys.argv[1])["round_id"])
    print(section(found, float(sys.argv[2]) if len(sys.argv) > 2 else 28_000.0))
