"""`rows_to_dicts`: rows by position into dicts in the declared order, with expressions."""

import pytest

from api.views.tables import rows_to_dicts


def test_rows_become_dicts_in_the_declared_order_with_their_expressions() -> None:
    shape = rows_to_dicts(
        ("id", "names", "count"),
        [("id", "id"), ("names", "split(names)"), ("extra", "extra[id]"), ("count", "count")],
        {"split": lambda text: text.split(",")},
    )
    rows = [("a", "x,y", 1), ("b", "z", 2)]
    shaped = shape(rows, {"a": "for a", "b": "for b"})
    assert shaped == [
        {"id": "a", "names": ["x", "y"], "extra": "for a", "count": 1},
        {"id": "b", "names": ["z"], "extra": "for b", "count": 2},
    ]
    assert [list(fields) for fields in shaped] == [["id", "names", "extra", "count"]] * 2


def test_a_row_of_another_width_is_an_error() -> None:
    shape = rows_to_dicts(("a", "b"), [("a", "a")], {})
    with pytest.raises(ValueError, match="unpack"):
        shape([("only one",)], None)


@pytest.mark.parametrize("name", ["not a name", "import", "x); import os; (y"])
def test_only_identifiers_are_column_names(name: str) -> None:
    with pytest.raises(ValueError, match="not a column name"):
        rows_to_dicts(("ok", name), [("ok", "ok")], {})
