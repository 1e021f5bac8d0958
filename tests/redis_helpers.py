"""Redis for the tests: the shared one at 127.0.0.1:6379 under a key prefix of each
test's own (never flushed, never stopped), or a `redis-server` of the test's own."""

import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

SHARED_REDIS = "redis://127.0.0.1:6379/0"


def new_prefix() -> str:
    return f"civic-test-{uuid.uuid4().hex[:12]}:"


def drop_prefix(prefix: str, url: str = SHARED_REDIS) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def keys_under(prefix: str, url: str = SHARED_REDIS) -> list[str]:
    client = redis.Redis.from_url(url)
    try:
        return [key.decode() for key in client.scan_iter(match=prefix + "*", count=500)]
    finally:
        client.close()


@contextmanager
def own_redis(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`redis-server` on `port`, nothing saved; stopped on exit (if still running)."""
    process = start_redis(port)
    try:
        yield process
    finally:
        stop_redis(process)


def start_redis(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.RedisError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"redis-server on port {port} did not start") from None
            time.sleep(0.05)
    client.close()
    return process


def stop_redis(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
