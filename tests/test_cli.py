"""The `civic-input` command line: what `serve` accepts, its version, the migrations."""

from pathlib import Path

import pytest

import api
from api.cli import migrations_dir, parser


def test_serve_takes_a_number_of_workers() -> None:
    assert parser().parse_args(["serve", "--workers", "3"]).workers == 3
    assert parser().parse_args(["serve"]).workers == 1


@pytest.mark.parametrize("given", ["0", "-2", "many"])
def test_serve_refuses_a_number_of_workers_below_one(given: str) -> None:
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(["serve", "--workers", given])
    assert exited.value.code == 2


def test_version_is_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"civic-input {api.__version__}\n"


def test_the_migrations_are_found_in_the_package_from_any_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CIVIC_MIGRATIONS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    found = migrations_dir()
    assert found == Path(api.__file__).parent / "migrations"
    assert (found / "env.py").is_file() and any((found / "versions").glob("*.py"))


def test_a_migrations_setting_naming_no_migrations_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CIVIC_MIGRATIONS_DIR", str(tmp_path))
    with pytest.raises(SystemExit, match=r"holds no Alembic env\.py"):
        migrations_dir()
