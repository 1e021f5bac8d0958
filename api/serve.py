"""Serving the API: one process, or N worker processes sharing one listening socket.

Every server stops the same way on SIGTERM or SIGINT: it tells the app it is closing
(`api.lifecycle.begin_shutdown`, so live streams end at once), stops accepting, lets the
requests in flight finish for up to `GRACE_SECONDS`, then runs the app's shutdown. With
workers, uvicorn's supervisor passes the signal on to each worker, and each worker's
server does the above; a worker that dies is replaced.
"""

import logging
import time
from typing import TYPE_CHECKING, Any

import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process, logger

from api import lifecycle

if TYPE_CHECKING:
    from types import FrameType

GRACE_SECONDS = 10
WORKER_APP = "api.serve:worker_app"


class Server(uvicorn.Server):
    """uvicorn's server, which tells the app it is closing as soon as it is told to stop,
    before it waits for the requests in flight (a stream would otherwise hold it open)."""

    def handle_exit(self, sig: int, frame: "FrameType | None") -> None:
        app: Any = getattr(self.config, "loaded_app", None)
        # uvicorn may wrap the app in its own middleware: find the app under them
        while app is not None and not isinstance(app, Starlette):
            app = getattr(app, "app", None)
        if app is not None:
            lifecycle.begin_shutdown(app.state)
        super().handle_exit(sig, frame)


class _SecondsCached(logging.Formatter):
    """A formatter whose default timestamp is formatted once a second, not once a
    record: the same text as logging's (`2026-12-06 23:15:25,596`: its default time
    format and `%s,%03d` milliseconds), without a `strftime` per line."""

    _second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if self._second[0] != second:
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = (second, text)
        return f"{self._second[1]},{int(record.msecs):03d}"


def lean_logging() -> None:
    """Logging as cheap as it can be for a server that writes a line per request
    (`AccessLog`): the format (`api.cli.configure_logging`) shows no caller's file or
    line, no thread and no process, so they are not looked up for every record (the
    logging HOWTO's "Optimization"), and the time of day is formatted once a second."""
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    for handler in logging.getLogger().handlers:
        formatter = handler.formatter
        if type(formatter) is logging.Formatter and formatter.datefmt is None:
            lean = _SecondsCached()
            lean.__dict__.update(formatter.__dict__)
            handler.setFormatter(lean)


def worker_app() -> FastAPI:
    """The app as a worker process builds it (uvicorn's `factory`): settings from the
    environment, as the parent read them; logging set up as the parent's."""
    from api.cli import configure_logging
    from api.main import create_app

    configure_logging()
    lean_logging()
    return create_app()


class _Worker(Process):
    """A worker process whose server is ours rather than uvicorn's plain one."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = Server(config=self.config)
        return self._server


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, starting (and restarting) `_Worker`s."""

    failed = False

    def init_processes(self) -> None:
        for _ in range(self.processes_num):
            self.processes.append(self._start_worker())

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung or dead: make sure, then replace it
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # it failed before serving (the app, the database, the socket): a
                # replacement would fail the same way
                logger.error("Worker [%s] failed to start, stopping.", process.pid)
                self.failed = True
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info("Worker [%s] died; starting another", process.pid)
            self.processes[idx] = self._start_worker()

    def _start_worker(self) -> _Worker:
        worker = _Worker(self.config, self.sockets)
        worker.start()
        return worker

    # Restarting or adding workers by signal (HUP, TTIN) would start uvicorn's plain
    # workers, which do not end streams on a stop: restart the service instead.
    def handle_hup(self) -> None:
        logger.info("SIGHUP ignored: restart the service to restart its workers")

    def handle_ttin(self) -> None:
        logger.info("SIGTTIN ignored: restart the service with another --workers")


def server_config(app: FastAPI | str, *, host: str, port: int, workers: int) -> uvicorn.Config:
    # No access log from uvicorn (it carries the client address): the app logs
    # method, path, status and time. No proxy headers (the app reads them itself, from
    # the proxies it trusts), no server header.
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        factory=isinstance(app, str),
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        date_header=True,
        timeout_graceful_shutdown=GRACE_SECONDS,
    )


def run(app: FastAPI, *, host: str, port: int) -> int:
    """Serve `app` in this process until told to stop."""
    lean_logging()
    server = Server(server_config(app, host=host, port=port, workers=1))
    server.run()
    return 0 if server.started else STARTUP_FAILURE


def run_workers(*, host: str, port: int, workers: int) -> int:
    """Serve with `workers` processes on one socket, each building its own app."""
    config = server_config(WORKER_APP, host=host, port=port, workers=workers)
    sock = config.bind_socket()
    supervisor = _Supervisor(config, sockets=[sock])
    try:
        supervisor.run()
    finally:
        sock.close()
    return STARTUP_FAILURE if supervisor.failed else 0
