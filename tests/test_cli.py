"""The `civic-input` command line: what `serve` accepts."""

import pytest

from api.cli import parser


def test_serve_takes_a_number_of_workers() -> None:
    assert parser().parse_args(["serve", "--workers", "3"]).workers == 3
    assert parser().parse_args(["serve"]).workers == 1


@pytest.mark.parametrize("given", ["0", "-2", "many"])
def test_serve_refuses_a_number_of_workers_below_one(given: str) -> None:
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(["serve", "--workers", given])
    assert exited.value.code == 2
