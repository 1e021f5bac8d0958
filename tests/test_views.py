"""The public-projection layer keeps its promises: no public projection reads a column
it must not, and the services and views import each other only at module level,
without a cycle."""

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import elements, selectable

from api.views import cases, responses, submissions, translations
from models.submission import Attribution, Submission, SubmissionPrivate, SubmissionPublic

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api.services", "api.views")

# --- the projections ---------------------------------------------------------------

# Every column whose value a public projection may hand out (selected, through a scalar
# subquery's selection or an aggregate, or as a CASE result). Nothing else may reach
# the output.
OUTPUT_ALLOWED = {
    "submission.id",
    "submission.round_id",
    "submission.kind",
    "submission.title",
    "submission.body",
    "submission.language",
    "submission.attribution",
    "submission.organisation",
    "submission.case_id",
    "submission.published_at",
    "theme.slug",
    "delegation.code",
    "user_account.handle",
    "response.id",
    "response_submission.submission_id",
    "response.responded_at",
    "response.revision_count",
    "response_revision.kind",
    "response_revision.body",
    "response_revision.language",
    "response_revision.reason_code",
    "response_revision.created_at",
    "answer_assessment.rating",  # counted: every rating, never its rater
    "round.responses_due_at",
    "case_timeline_entry.case_id",
    "case_timeline_entry.status",
    "case_timeline_entry.event_date",
    "translation.object_type",
    "translation.object_id",
    "translation.language",
    "translation.title",
    "translation.body",
    "translation.translated_by",
    "translation.authoritative",
    "translation.revision",
    "translation.updated_at",
}

# Columns no public projection may touch at all, not even to filter or join by.
FORBIDDEN = {
    "user_account.email",
    "user_account.password_hash",
    "submission.created_at",
    "submission.updated_at",
    "submission.status_reason",
    "submission.search_text",
    "case_file.created_at",
    "case_file.created_by_id",
    "case_file.restricted_details",
    "case_file.review_reason",
    "case_file.name",
    "case_file.name_native",
    "translation.translator_id",
    "translation.created_at",
}

# The one exception: the author's id is read only to find the handle, in the WHERE
# of a scalar subquery that selects `user_account.handle` alone, itself the result of
# the CASE branch for attribution `handle` (`api.views.submissions.AUTHOR_SHOWN`).
AUTHOR_ID = "submission.author_id"

PUBLIC_PROJECTIONS: dict[str, sa.Select[Any]] = {
    "submission": submissions.PUBLIC_PROJECTION,
    "response": responses.PROJECTION,
    "case status": sa.select(cases.latest_entry_query()),
    "translation": translations.PROJECTION,
}


def _name(column: sa.ColumnElement[Any]) -> str:
    assert isinstance(column, sa.Column)
    return f"{column.table.name}.{column.name}"


Found = tuple[str, str, tuple[Any, ...]]  # (table.column, "output"/"condition", ancestors)


def _walk(element: Any, role: str, path: tuple[Any, ...]) -> Iterator[Found]:
    """Every table column under `element`, with its role: "output" where its value can
    reach the result, "condition" where it only filters, joins, orders or picks a
    CASE branch."""
    path = (*path, element)
    if isinstance(element, sa.Column):
        table = element.table
        if isinstance(table, sa.Table):
            yield _name(element), role, path
        elif isinstance(table, selectable.Alias) and isinstance(table.element, sa.Table):
            # an aliased table (a table joined twice): its columns are the table's
            yield _name(table.element.c[element.key]), role, path
        elif isinstance(table, selectable.Subquery | selectable.Alias):
            inner = table.element
            assert isinstance(inner, sa.Select)
            yield from _walk(inner.selected_columns[element.key], role, path)
            yield from _select_conditions(inner, path)
        return
    if isinstance(element, selectable.ScalarSelect | selectable.Subquery):
        yield from _select(element.element, role, path)
        return
    if isinstance(element, sa.Select):
        yield from _select(element, role, path)
        return
    if isinstance(element, elements.Case):
        for when, then in element.whens:
            yield from _walk(when, "condition", path)
            yield from _walk(then, role, path)
        if element.else_ is not None:
            yield from _walk(element.else_, role, path)
        return
    if isinstance(element, elements.Over):
        yield from _walk(element.element, role, path)
        for part in (element.partition_by, element.order_by):
            if part is not None:
                yield from _walk(part, "condition", path)
        return
    for child in element.get_children():
        yield from _walk(child, role, path)


def _select_conditions(select: sa.Select[Any], path: tuple[Any, ...]) -> Iterator[Found]:
    for criterion in select._where_criteria:
        yield from _walk(criterion, "condition", path)
    for clause in (*select._order_by_clauses, *select._group_by_clauses):
        yield from _walk(clause, "condition", path)
    for source in select.get_final_froms():
        yield from _from(source, path)


def _from(source: Any, path: tuple[Any, ...]) -> Iterator[Found]:
    if isinstance(source, sa.Join):
        yield from _walk(source.onclause, "condition", path)
        yield from _from(source.left, path)
        yield from _from(source.right, path)
    elif isinstance(source, selectable.Subquery):
        yield from _select_conditions(source.element, path)


def _select(select: sa.Select[Any], role: str, path: tuple[Any, ...]) -> Iterator[Found]:
    for column in select.selected_columns:
        yield from _walk(column, role, path)
    yield from _select_conditions(select, path)


def _columns(projection: sa.Select[Any]) -> list[Found]:
    return list(_select(projection, "output", ()))


def _author_id_as_allowed(path: tuple[Any, ...]) -> bool:
    """`submission.author_id` in the WHERE of the handle subquery of the `handle` branch."""
    scalar = next(e for e in reversed(path) if isinstance(e, selectable.ScalarSelect))
    selected = [_name(c) for c in scalar.element.selected_columns]
    index = next(i for i, e in enumerate(path) if e is scalar)
    case = path[index - 1]
    if selected != ["user_account.handle"] or not isinstance(case, elements.Case):
        return False
    when = next((w for w, then in case.whens if then is scalar), None)
    compiled = str(when.compile(compile_kwargs={"literal_binds": True})) if when is not None else ""
    return compiled.strip("()") == f"submission.attribution = '{Attribution.handle.value}'"


def test_public_projections_read_only_allowed_columns() -> None:
    for what, projection in PUBLIC_PROJECTIONS.items():
        found = _columns(projection)
        assert found, what
        for name, role, path in found:
            assert name not in FORBIDDEN, f"the {what} projection reads {name} ({role})"
            if name == AUTHOR_ID:
                assert role == "condition", f"the {what} projection outputs {name}"
                assert _author_id_as_allowed(path), f"the {what} projection reads {name}"
            elif role == "output":
                assert name in OUTPUT_ALLOWED, f"the {what} projection outputs {name}"


def test_author_id_is_read_once_for_the_handle() -> None:
    found = [f for f in _columns(submissions.PUBLIC_PROJECTION) if f[0] == AUTHOR_ID]
    assert len(found) == 1
    assert _author_id_as_allowed(found[0][2])


def test_the_walk_sees_a_forbidden_column_inside_a_case() -> None:
    """The check can fail: a forbidden column hidden in a CASE result is caught."""
    table = Submission.__table__  # type: ignore[attr-defined]
    leaky = submissions.PUBLIC_PROJECTION.add_columns(
        sa.case((table.c.kind == "x", table.c.status_reason)).label("leak")
    )
    names = {(name, role) for name, role, _ in _columns(leaky)}
    assert ("submission.status_reason", "output") in names


def test_the_walk_sees_a_forbidden_column_of_an_aliased_table() -> None:
    """The check can fail: a forbidden column read through an alias of its table."""
    other = Submission.__table__.alias("other")  # type: ignore[attr-defined]
    leaky = submissions.PUBLIC_PROJECTION.add_columns(
        sa.select(other.c.status_reason).where(other.c.id == other.c.id).scalar_subquery()
    )
    names = {(name, role) for name, role, _ in _columns(leaky)}
    assert ("submission.status_reason", "output") in names


def test_the_private_view_adds_only_the_private_fields() -> None:
    public = [name for name, _ in submissions.PUBLIC]
    private = [name for name, _ in submissions.PRIVATE]
    flags = [name for name, _ in submissions.FLAGS]  # whether it has translations
    assert submissions.PRIVATE_PROJECTION.selected_columns.keys() == public + private + flags
    assert set(SubmissionPrivate.model_fields) - set(SubmissionPublic.model_fields) == set(private)


# --- the imports -------------------------------------------------------------------


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        base = ROOT / package.replace(".", "/")
        for path in sorted(base.rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _targets(node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> set[str]:
    """The modules of ours an import statement loads (not counting parent packages)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in modules}
    base = node.module or ""
    out = {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules}
    if base in modules and len(out) < len(node.names):
        out.add(base)  # a name from the module itself
    return out


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    """Module-level imports among our modules, and every import inside a function or
    class (hidden from the module level)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    hidden = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        top = set(map(id, tree.body))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            if id(node) not in top:
                hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            graph[name] |= _targets(node, modules)
    return graph, hidden


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, if any (a depth-first search)."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_inside_a_function() -> None:
    _, hidden = _graph()
    assert hidden == []


def test_no_import_cycle_among_services_and_views() -> None:
    graph, _ = _graph()
    assert "api.views.record_log" in graph["api.services.events"]
    assert _cycle(graph) is None


def test_views_import_no_service() -> None:
    graph, _ = _graph()
    for name, targets in graph.items():
        if name.startswith("api.views"):
            assert not {t for t in targets if t.startswith("api.services")}, name


def test_the_cycle_search_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
