"""The README works as written: its end-to-end round, taken from the README itself, runs
with bash against a real server, after the steps the README gives before it."""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _drop_postgres, _fresh_postgres
from tests.live import REPO, run_server

MARKER = "# readme: a round, end to end"
ADMIN_PASSWORD = "a long admin passphrase"  # the one the README exports


def fenced_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def readme_script() -> str:
    (script,) = [b for b in fenced_blocks((REPO / "README.md").read_text()) if MARKER in b]
    return script


def test_the_readme_marks_one_script_and_shows_the_admin_step() -> None:
    readme = (REPO / "README.md").read_text()
    assert f"export CIVIC_ADMIN_PASSWORD='{ADMIN_PASSWORD}'" in readme
    assert "civic-input create-admin --handle admin" in readme
    assert "source .venv/bin/activate" in readme
    # Chinese in a query is percent-encoded by curl, never sent raw
    assert "--data-urlencode 'q=律师'" in readme_script()
    assert not re.search(r"\?q=[^\x00-\x7f]", readme)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A database of the script's own (it makes fixed handles and a fixed slug)."""
    server = os.environ.get("CIVIC_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path / 'readme.db'}"
        return
    url, name = _fresh_postgres(server)
    try:
        yield url
    finally:
        _drop_postgres(url, name)


def test_the_readme_round_runs_against_a_live_server(database_url: str, tmp_path: Path) -> None:
    script = readme_script()
    bin_dir = str(Path(sys.executable).parent)
    with run_server(database_url, log_dir=tmp_path) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIVIC_") and k != "SERVER"}
        env.update(
            PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",  # as `source .venv/bin/activate`
            CIVIC_DATABASE_URL=database_url,
            CIVIC_ADMIN_PASSWORD=ADMIN_PASSWORD,
        )
        made = subprocess.run(
            ["civic-input", "create-admin", "--handle", "admin"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert made.returncode == 0, made.stderr
        # any command that fails stops the script, and the test with it
        ran = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env={**env, "SERVER": server.base_url},
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert ran.returncode == 0, f"{ran.stdout}\n{ran.stderr}\n{server.log_tail()}"

    lines = ran.stdout.splitlines()
    found = [json.loads(line) for line in lines if line.startswith('{"items"')]
    record = next(page for page in found if "Detained rights lawyers" in json.dumps(page))
    (item,) = record["items"]
    assert item["body"] == "维权律师被拘留：他们在哪里？"  # found by the Chinese query
    (answer,) = item["responses"]
    assert answer["body"] == "They are held in Beijing; families may visit."
    (grouped,) = [
        json.loads(line)
        for line in lines
        if line.startswith('{"id"') and '"grouped_with":["' in line
    ]
    assert grouped["kind"] == "holding" and len(grouped["grouped_with"]) == 1
    # the translations: the question's into English, the answer's the authoritative text
    assert [(t["language"], t["translated_by"]) for t in item["translations"]] == [("en", "author")]
    assert answer["authoritative_language"] == "zh-Hans"
    assert [(t["language"], t["authoritative"]) for t in answer["translations"]] == [
        ("zh-Hans", True)
    ]
    assert lines[-1].startswith("OK: ") and lines[-1].endswith("the checkpoint signature is valid")
    # the joint release: scheduled and hidden, then public once released
    (held,) = [json.loads(line) for line in lines if '"scheduled":[{' in line]
    assert held["responses"] == [] and [s["delegation"] for s in held["scheduled"]] == ["CN"]
    assert "404" in lines
    texts = [line for line in lines if "We are checking the records." in line]
    views = [json.loads(line) for line in texts if line.startswith('{"id"')]
    # the public's view once released (404 before)
    assert [(v["kind"], v["delegation"]) for v in views] == [("holding", "CN")]
