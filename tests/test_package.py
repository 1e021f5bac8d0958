"""The package as a deployment gets it: a wheel, built without a warning, installed in a
fresh virtual environment, and run from an empty directory (no checkout beside it).

The fresh environment takes the package from the wheel and only the dependencies from
this test run's environment (a .pth line, instead of downloading them again), so the
test stays fast and needs no network; `pip install --no-index` still checks that the
wheel's declared dependencies are all there.
"""

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import api
from tests.conftest import _drop_postgres, _fresh_postgres
from tests.live import REPO, free_port

ADMIN_PASSWORD = "a long admin passphrase for the wheel"


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without CIVIC_ settings (a deployment starts with none) and
    without PYTHONDONTWRITEBYTECODE (setuptools warns when it cannot byte-compile)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CIVIC_") and k not in {"PYTHONDONTWRITEBYTECODE", "PYTHONPATH"}
    }
    env.update(extra)
    return env


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, (
        f"{args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )
    return result


_LEFT_OUT = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*_cache",
    "*.db",
    "*.db-*",
    "*.pem",
)


def _not_sources(directory: str, names: list[str]) -> set[str]:
    """What a copy of the checkout leaves out: builds, caches, databases, bench data."""
    left_out = set(_LEFT_OUT(directory, names))
    if Path(directory) == REPO / "bench":
        left_out.add("data")
    return left_out


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The wheel built from a clean copy of the repository (a `build/` left by an earlier
    build would be packed again), and everything the build printed."""
    source = tmp_path_factory.mktemp("source") / "civic-input"
    shutil.copytree(REPO, source, ignore=_not_sources)
    out = tmp_path_factory.mktemp("wheel")
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--verbose", "-w", str(out), "."],
        env=_clean_env(),
        cwd=source,
    )
    (path,) = out.glob("civic_input-*.whl")
    yield path, built.stdout + built.stderr


def test_the_wheel_builds_without_a_warning(wheel: tuple[Path, str]) -> None:
    _, log = wheel
    # pip's own notes about this machine's package indexes are not the build's
    lines = [line for line in log.splitlines() if not line.startswith("WARNING: Location")]
    warnings = [line for line in lines if "warn" in line.lower() or "deprecat" in line.lower()]
    assert not warnings, "\n".join(warnings)


def test_the_wheel_ships_migrations_types_and_licences(wheel: tuple[Path, str]) -> None:
    path, _ = wheel
    names = set(zipfile.ZipFile(path).namelist())
    versions = {p.name for p in (REPO / "api" / "migrations" / "versions").glob("*.py")}
    assert versions and {f"api/migrations/versions/{v}" for v in versions} <= names
    assert {"api/migrations/env.py", "api/migrations/script.py.mako"} <= names
    assert {"api/py.typed", "models/py.typed", "models/data/common-passwords.txt.gz"} <= names
    dist_info = f"civic_input-{api.__version__}.dist-info"
    assert f"{dist_info}/licenses/LICENSE" in names
    metadata = zipfile.ZipFile(path).read(f"{dist_info}/METADATA").decode()
    assert "License-Expression: AGPL-3.0-or-later" in metadata.splitlines()
    # the version `civic-input --version` prints (tests/test_cli.py) is the wheel's
    assert f"Version: {api.__version__}" in metadata.splitlines()
    assert "GNU AFFERO GENERAL PUBLIC LICENSE" in (REPO / "LICENSE").read_text()


@pytest.fixture(scope="module")
def installed(wheel: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its bin directory."""
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    # the dependencies, from this environment: its entries linked into one directory,
    # all but its own (editable) civic-input, which must not be seen
    deps = venv / "dependencies"
    deps.mkdir()
    for entry in Path(sysconfig.get_path("purelib")).iterdir():
        if not entry.name.startswith(("civic_input", "__editable__")) and entry.suffix != ".pth":
            (deps / entry.name).symlink_to(entry)
    (site / "dependencies.pth").write_text(f"{deps}\n")
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    _run(
        [*pip, "install", "--no-index", "--no-compile", "--quiet", str(wheel[0])], env=_clean_env()
    )
    return venv / "bin"


def _readyz(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


@pytest.fixture
def database() -> Iterator[dict[str, str]]:
    """The default (a SQLite file in the working directory), or on the PostgreSQL pass
    a fresh database of its own."""
    server = os.environ.get("CIVIC_TEST_DATABASE_URL")
    if not server:
        yield {}
        return
    url, name = _fresh_postgres(server)
    try:
        yield {"CIVIC_DATABASE_URL": url}
    finally:
        _drop_postgres(url, name)


def test_the_installed_command_migrates_creates_an_admin_and_serves(
    installed: Path, database: dict[str, str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    env = _clean_env(CIVIC_ADMIN_PASSWORD=ADMIN_PASSWORD, **database)
    command = str(installed / "civic-input")

    # the code that runs is the wheel's: the checkout is on no path of the environment
    site = Path(sysconfig.get_path("purelib", vars={"base": str(installed.parent)}))
    assert (site / "api" / "migrations" / "env.py").is_file()
    assert not (site / "dependencies.pth").read_text().startswith(str(REPO))

    migrated = _run([command, "migrate"], cwd=empty, env=env)
    assert "database at the newest migration" in migrated.stdout
    assert database or (empty / "civic-input.db").is_file()
    created = _run([command, "create-admin", "--handle", "admin"], cwd=empty, env=env)
    assert "admin admin created" in created.stdout

    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [command, "serve", "--port", str(port)],
        cwd=empty,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not _readyz(f"http://127.0.0.1:{port}/readyz"):
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.1)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/auth/token",
            data=f"username=admin&password={ADMIN_PASSWORD}".encode(),
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            # uvicorn ends by raising the signal it was stopped with, after its shutdown
            assert server.wait(timeout=15) == -signal.SIGTERM
        finally:
            if server.poll() is None:
                server.kill()
            log.close()
    # nothing but what the commands made (a SQLite file and the signing key beside it)
    made = {p.name for p in empty.iterdir()}
    assert not {p for p in made if p.endswith(".py") or p.startswith("alembic")}, made
