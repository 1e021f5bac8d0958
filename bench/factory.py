"""The app as `civic-input serve` makes it (its logging, settings from the environment),
for `uvicorn --factory bench.factory:create_app --workers N` while the command has no
`--workers` of its own: one process and several are then served by the same code."""

from fastapi import FastAPI

from api import main
from api.cli import configure_logging


def create_app() -> FastAPI:
    configure_logging()
    return main.create_app()
