"""Many subscribers of the live feed in one process, apart from the server's (bench/stream.py
starts it): raw asyncio sockets, as light a client as there is, so that its own cost
weighs little on the server's two cores.

    python -m bench.subscribers http://127.0.0.1:PORT 1000 AFTER

It connects every subscriber to `/api/v1/feed/stream?after=AFTER`, then prints one line
`READY {"connected": n, "statuses": {...}}`. It then reads one line from stdin, a JSON
object `{"seq": sent_at}` (time.monotonic() of the server's machine, which is ours), and
waits until every subscriber has each of those events or 15 s pass; it prints one
`RESULT {...}` line: per-event latencies from `sent_at` to the arrival at each subscriber.
"""

import asyncio
import json
import re
import statistics
import sys
import time
import urllib.parse

ID = re.compile(rb"^id:\s?(\d+)\s*$")


class Subscriber:
    def __init__(self) -> None:
        self.status = 0
        self.arrived: dict[int, float] = {}
        self.ready = asyncio.Event()


async def _lines(reader: asyncio.StreamReader, chunked: bool):  # type: ignore[no-untyped-def]
    """The body's lines, decoding chunked transfer coding when the server uses it."""
    buffer = b""
    while True:
        if chunked:
            size_line = await reader.readline()
            if not size_line:
                return
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                return
            data = await reader.readexactly(size + 2)
            buffer += data[:-2]
        else:
            data = await reader.read(65536)
            if not data:
                return
            buffer += data
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            yield line.rstrip(b"\r")


async def subscribe(
    host: str, port: int, path: str, sub: Subscriber, opening: asyncio.Semaphore
) -> None:
    try:
        async with opening:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Accept: text/event-stream\r\n\r\n".encode()
            )
            await writer.drain()
            # a server that holds its headers back until the first event answers nothing
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        sub.status = -1
        sub.ready.set()
        return
    sub.status = int(head.split(b" ", 2)[1])
    sub.ready.set()
    if sub.status != 200:
        writer.close()
        return
    chunked = b"transfer-encoding: chunked" in head.lower()
    try:
        async for line in _lines(reader, chunked):
            if match := ID.match(line):
                sub.arrived.setdefault(int(match.group(1)), time.monotonic())
    except (OSError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()


async def main(base: str, count: int, after: int) -> None:
    url = urllib.parse.urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    path = f"/api/v1/feed/stream?after={after}"
    subs = [Subscriber() for _ in range(count)]
    opening = asyncio.Semaphore(50)  # connect in waves: no SYN backlog overflow
    tasks = [asyncio.create_task(subscribe(host, port, path, sub, opening)) for sub in subs]
    await asyncio.gather(*(sub.ready.wait() for sub in subs))
    statuses: dict[int, int] = {}
    for sub in subs:
        statuses[sub.status] = statuses.get(sub.status, 0) + 1
    connected = statuses.get(200, 0)
    print("READY " + json.dumps({"connected": connected, "statuses": statuses}), flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    sent = {int(seq): at for seq, at in json.loads(line or "{}").items()}
    live = [sub for sub in subs if sub.status == 200]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not all(sent.keys() <= s.arrived.keys() for s in live):
        await asyncio.sleep(0.05)
    latencies: list[float] = []
    missing = 0
    for seq, at in sent.items():
        for sub in live:
            if seq in sub.arrived:
                latencies.append(sub.arrived[seq] - at)
            else:
                missing += 1
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(int(p * len(latencies)), len(latencies) - 1)] if latencies else 0.0

    result = {
        "connected": connected,
        "events": len(sent),
        "deliveries": len(latencies),
        "missing": missing,
        "p50": pct(0.50),
        "p99": pct(0.99),
        "max": latencies[-1] if latencies else 0.0,
        "mean": statistics.mean(latencies) if latencies else 0.0,
    }
    print("RESULT " + json.dumps(result), flush=True)
    for task in tasks:
        task.cancel()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
