"""utils.cells: one rule gives every cell its role, and every tool takes cells by it."""
from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from utils import cells, notebook_loader
from utils.cells import CellRole, grade_id, points, role


def _marked(cell, gid=None, **flags):
    """``cell`` with nbgrader metadata: every flag False unless given, and ``gid`` if any."""
    meta = dict(dict(grade=False, locked=False, solution=False, task=False, schema_version=3), **flags)
    if gid is not None:
        meta["grade_id"] = gid
    cell.metadata["nbgrader"] = meta
    return cell


def _demo():
    """One cell of each role (and of each edge case), each failing loudly if it runs where it must not."""
    return new_notebook(cells=[
        _marked(new_code_cell("import math"), "imports", locked=True),
        _marked(new_code_cell("raise RuntimeError('data ran')"), "data", locked=True),
        _marked(new_code_cell("def area(r):\n    return math.pi * r ** 2"), "area", solution=True),
        _marked(new_code_cell("best_area = area(1)\nraise RuntimeError('tuning ran')"), "tune_best_area",
                solution=True),
        _marked(new_code_cell("assert area(1) > 3"), "test_area", grade=True, locked=True, points=3),
        _marked(new_code_cell("assert True"), "test_unpointed", grade=True, locked=True),
        _marked(new_markdown_cell("Why pi?"), "q_pi", solution=True, grade=True, points=2),
        _marked(new_code_cell("answer = 'by hand'\nraise RuntimeError('question ran')"), "q_code",
                solution=True, grade=True, points=1),
        _marked(new_markdown_cell("# Read only"), "intro", locked=True),
        _marked(new_code_cell("raise RuntimeError('a cell without a grade_id ran')"), solution=True),
        new_code_cell("raise RuntimeError('an experiment ran')"),
        new_markdown_cell("Notes."),
    ])


EXPECTED = [
    ("imports", CellRole.IMPORTS, None),
    ("data", CellRole.DATA, None),
    ("area", CellRole.DEFINITION, None),
    ("tune_best_area", CellRole.TUNING, None),
    ("test_area", CellRole.GRADE, 3.0),
    ("test_unpointed", CellRole.GRADE, 0.0),
    ("q_pi", CellRole.QUESTION, 2.0),
    ("q_code", CellRole.QUESTION, 1.0),
    ("intro", CellRole.OTHER, None),
    (None, CellRole.OTHER, None),
    (None, CellRole.UNMARKED, None),
    (None, CellRole.UNMARKED, None),
]


def test_each_cell_of_the_demo_notebook_has_its_documented_role_grade_id_and_points():
    found = [(grade_id(c), role(c), points(c)) for c in _demo().cells]
    assert found == EXPECTED


def test_imports_and_data_go_by_grade_id_alone_but_only_in_code_cells():
    flagged = _marked(new_code_cell("import numpy"), "imports", solution=True)
    assert role(flagged) is CellRole.IMPORTS
    assert role(_marked(new_code_cell("X = 1"), "data")) is CellRole.DATA
    assert role(_marked(new_markdown_cell("imports"), "imports", locked=True)) is CellRole.OTHER
    assert role(_marked(new_markdown_cell("data"), "data", locked=True)) is CellRole.OTHER


@pytest.mark.parametrize("gid", [None, ""], ids=["no-grade_id", "empty-grade_id"])
def test_a_marked_cell_without_a_grade_id_has_no_role(gid):
    for flags in ({"solution": True}, {"grade": True, "points": 2}, {"solution": True, "grade": True}):
        cell = _marked(new_code_cell("def area(r):\n    return r"), gid, **flags)
        assert (role(cell), points(cell)) == (CellRole.OTHER, None)


@pytest.mark.parametrize("metadata", [
    {"nbgrader": "solution"},
    {"nbgrader": ["grade_id", "area"]},
    {"nbgrader": None},
    ["nbgrader"],
    "nbgrader",
], ids=["nbgrader-str", "nbgrader-list", "nbgrader-null", "metadata-list", "metadata-str"])
def test_metadata_that_is_not_a_dict_leaves_the_cell_unmarked(metadata):
    cell = {"cell_type": "code", "source": "def area(r):\n    return r", "metadata": metadata}
    assert (role(cell), grade_id(cell), points(cell)) == (CellRole.UNMARKED, None, None)
    assert not cells.is_definition_cell(cell)


def test_a_cell_with_unreadable_metadata_can_stand_in_for_a_deleted_definition():
    nb = {"cells": [{"cell_type": "code", "source": "def area(r):\n    return r", "metadata": {"nbgrader": 1}}]}
    found, missing = notebook_loader.select_definition_cells(nb, expected=[("area", {"area"})])
    assert found == [("area", "def area(r):\n    return r")] and missing == []


def test_a_marked_cell_that_is_not_unmarked_never_stands_in_for_a_deleted_definition():
    read_only = _marked(new_code_cell("def area(r):\n    return r"), "cell-1", locked=True)
    found, missing = notebook_loader.select_definition_cells(new_notebook(cells=[read_only]), [("area", {"area"})])
    assert found == [] and missing == ["area"]


def test_the_loader_runs_the_imports_and_definition_cells_only(tmp_path):
    nbformat.write(_demo(), str(tmp_path / "demo.ipynb"))
    module = notebook_loader.load_notebook("demo", directory=tmp_path)
    assert module.area(1) == pytest.approx(3.141592653589793)
    assert not hasattr(module, "best_area") and not hasattr(module, "answer")
    assert [gid for gid, _ in notebook_loader.expected_definitions(_demo())] == ["imports", "area"]


def test_the_extractor_takes_locked_definition_and_tuning_cells_by_role():
    from autograder.extract import extract

    nb = _demo()
    extracted = extract("demo.ipynb", nb, nb)
    assert (extracted.imports, extracted.data) == ("import math", "raise RuntimeError('data ran')")
    assert [gid for gid, _ in extracted.definitions] == ["area"]
    assert [gid for gid, _ in extracted.tuning] == ["tune_best_area"]
    assert extracted.missing == [] and set(extracted.names) == {"area", "tune_best_area"}


def test_the_points_table_holds_every_autograded_grade_cell_and_nothing_else():
    from autograder.reference import ReferenceSet

    source = SimpleNamespace(notebooks=("demo.ipynb",), notebook=lambda name: _demo())
    table = ReferenceSet.points(source)
    assert table == {("demo.ipynb", "test_area"): 3.0, ("demo.ipynb", "test_unpointed"): 0.0}


def test_the_nbgrader_bridge_scores_grade_cells_only(monkeypatch, tmp_path):
    from autograder import pipeline
    from autograder.nbgrader_bridge import KitAutograde

    result = SimpleNamespace(status="graded", student="s", tests=[],
                             cells=lambda: {("demo.ipynb", "test_area"): (2.5, 3.0)})
    monkeypatch.setattr(pipeline, "grade_submission", lambda *args, **kwargs: result)
    monkeypatch.setattr(KitAutograde, "_submitted_folder", lambda self, *args: tmp_path)
    resources = {"unique_key": "demo", "nbgrader": {"assignment": "a", "student": "s"},
                 "metadata": {"path": str(tmp_path)}}
    nb, _ = KitAutograde().preprocess(_demo(), resources)
    scored = {grade_id(c): c.outputs[-1]["data"]["text/plain"] for c in nb.cells if c.get("outputs")}
    assert scored == {"test_area": "2.5", "test_unpointed": "0.0"}


def test_the_loaders_public_names_are_the_rules_own():
    assert (notebook_loader.IMPORTS_CELL, notebook_loader.TUNING_PREFIX) == (cells.IMPORTS_CELL, cells.TUNING_PREFIX)
    assert notebook_loader.grade_id is cells.grade_id
    assert notebook_loader.is_definition_cell is cells.is_definition_cell
