"""The fast path (api/sql) is fenced off from HTTP: nothing in it imports, directly or
through the project's own modules, the web framework or the modules that serve HTTP, so
statements and cursors can be used (and changed) without knowing how requests arrive."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SQL = ROOT / "api" / "sql"
FIRST_PARTY = ("api", "models")
HTTP = (
    "fastapi",
    "starlette",
    "api.cache",
    "api.deps",
    "api.middleware",
    "api.routes",
    "api.main",
)


def _module_file(name: str) -> Path | None:
    """The file of a first-party module (a package's __init__), or None."""
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts if parts[-1] == "__init__" else parts[:-1])


def imported(path: Path) -> set[str]:
    """Every module a file imports, by its full name (relative imports resolved; for
    `from x import y`, both `x` and `x.y`, since `y` may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                package = _package_of(path).split(".")
                package = package[: len(package) - (node.level - 1)]
                module = ".".join([*package, module] if module else package)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def reachable(start: Path) -> dict[str, str]:
    """Every module imported from `start`, following first-party modules, each with the
    first-party module that imports it."""
    seen: dict[str, str] = {}
    todo = [(start, str(start.relative_to(ROOT)))]
    visited: set[Path] = set()
    while todo:
        path, label = todo.pop()
        if path in visited:
            continue
        visited.add(path)
        for name in imported(path):
            seen.setdefault(name, label)
            if name.split(".")[0] in FIRST_PARTY:
                found = _module_file(name)
                if found is not None:
                    todo.append((found, name))
    return seen


def _is_http(name: str) -> bool:
    return any(name == fenced or name.startswith(fenced + ".") for fenced in HTTP)


SQL_FILES = sorted(SQL.rglob("*.py"))


def test_the_fast_path_package_has_modules():
    names = {path.name for path in SQL_FILES}
    assert {"prepared.py", "json_text.py", "snapshot.py"} <= names


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda path: path.name)
def test_no_sql_module_reaches_an_http_module(path):
    crossings = sorted(
        f"{name} (imported by {by})" for name, by in reachable(path).items() if _is_http(name)
    )
    assert crossings == []


def test_the_fence_sees_an_import_through_a_first_party_module():
    # the check itself: a module that reaches fastapi through api.errors is caught
    found = reachable(ROOT / "api" / "errors.py")
    assert "fastapi" in found and _is_http("fastapi.responses")
