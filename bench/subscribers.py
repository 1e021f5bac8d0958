"""Many subscribers of the live feed, apart from the server's process (bench/stream.py
starts it): bare asyncio protocols on uvloop, as light a client as there is, so that its
own cost weighs little on the server's two cores.

    python -m bench.subscribers http://127.0.0.1:PORT 1000 AFTER

It connects every subscriber to `/api/v1/feed/stream?after=AFTER`, waits until each has
had its backlog (the `: live` comment), then prints one line
`READY {"connected": n, "statuses": {...}, "live": n, "live_after_s": s}`. It then reads
one line from stdin, a JSON object whose keys are the seqs to wait for, and waits until
every subscriber has each of them or 15 s pass; it prints one `RESULT {...}` line: each
subscriber's arrival times of those events (time.monotonic(), the same clock as the
publisher's on this machine), and the CPU time this process spent meanwhile.

A subscriber notes an event when the bytes `\\nid: <seq>\\n` arrive (an event's first
line follows a blank line or a chunk-size line; `data:` is one line of JSON, which has no
raw newline), with the time of the read that completed it: one regex search per read,
no decoding of the chunked body.
"""

import asyncio
import contextlib
import json
import re
import sys
import time
import urllib.parse

ID = re.compile(rb"\nid: (\d+)\r?\n")
WAIT_SECONDS = 15.0


class Subscriber(asyncio.Protocol):
    def __init__(self) -> None:
        self.status = 0
        self.arrived: dict[int, float] = {}
        self.ready = asyncio.get_running_loop().create_future()
        self.live = asyncio.get_running_loop().create_future()  # its backlog is sent
        self.closed = False
        self._head = b""
        self._tail = b""  # the last partial line: an id may come in two reads
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if not self.ready.done():
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            self.status = int(self._head.split(b" ", 2)[1])
            self.ready.set_result(None)
            data, self._head = self._head[end + 2 :], b""  # keeps a "\r\n" before the body
            if self.status != 200 and self._transport is not None:
                self._transport.close()
                return
        now = time.monotonic()
        buffer = self._tail + data
        cut = buffer.rfind(b"\n")
        self._tail = buffer[cut:] if cut >= 0 else buffer
        arrived = self.arrived
        for seq in ID.findall(buffer, 0, cut + 1 if cut >= 0 else 0):
            arrived.setdefault(int(seq), now)
        if not self.live.done() and b"\n: live\n" in buffer:
            self.live.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.status = -1
            self.ready.set_result(None)
        if not self.live.done():
            self.live.set_result(None)


async def connect(host: str, port: int, path: str, opening: asyncio.Semaphore) -> Subscriber:
    loop = asyncio.get_running_loop()
    async with opening:
        try:
            _, sub = await loop.create_connection(Subscriber, host, port)
        except OSError:
            sub = Subscriber()
            sub.status = -1
            return sub
        assert sub._transport is not None
        sub._transport.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        # a server that holds its headers back until the first event answers nothing
        try:
            await asyncio.wait_for(asyncio.shield(sub.ready), 30)
        except TimeoutError:
            sub.status = -1
    return sub


async def main(base: str, count: int, after: int) -> None:
    url = urllib.parse.urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    path = f"/api/v1/feed/stream?after={after}"
    opening = asyncio.Semaphore(50)  # connect in waves: no SYN backlog overflow
    subs = await asyncio.gather(*(connect(host, port, path, opening) for _ in range(count)))
    statuses: dict[int, int] = {}
    for sub in subs:
        statuses[sub.status] = statuses.get(sub.status, 0) + 1
    connected = statuses.get(200, 0)
    live = [sub for sub in subs if sub.status == 200]
    # every stream past its backlog before any event is published: what is measured is
    # the fan-out, not the connections' start
    began = time.monotonic()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(sub.live for sub in live)), 60)
    ready = {
        "connected": connected,
        "statuses": statuses,
        "live": sum(1 for sub in live if sub.live.done() and not sub.closed),
        "live_after_s": time.monotonic() - began,
    }
    print("READY " + json.dumps(ready), flush=True)
    cpu_start = time.process_time()
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    wanted = {int(seq) for seq in json.loads(line or "{}")}
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and not all(wanted <= s.arrived.keys() for s in live):
        await asyncio.sleep(0.05)
    cpu = time.process_time() - cpu_start
    arrivals = [{seq: s.arrived[seq] for seq in wanted if seq in s.arrived} for s in live]
    result = {"connected": connected, "cpu_s": cpu, "arrivals": arrivals}
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # the plain loop does, a little slower
        pass
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
