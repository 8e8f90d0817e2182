"""The committed student release: current, runnable up to the first TODO, and valid for nbgrader."""
import json

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from scripts.paste_solutions import write_reference_submission
from scripts.release import generate_release
from tests.notebooks import ASSIGNMENT, NOTEBOOKS, RELEASE


def _grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def test_release_holds_exactly_the_five_notebooks_and_the_manifest():
    assert sorted(p.name for p in RELEASE.iterdir()) == sorted([f"{name}.ipynb" for name in NOTEBOOKS]
                                                               + ["manifest.toml"])


def test_committed_release_is_what_nbgrader_generates_from_the_solutions(tmp_path):
    fresh = generate_release(release_dir=tmp_path)
    stale = []
    for name in NOTEBOOKS:
        committed = json.loads((RELEASE / f"{name}.ipynb").read_text())
        generated = json.loads((fresh / f"{name}.ipynb").read_text())
        if committed != generated:
            stale.append(name)
    assert stale == [], f"assignments/ is stale for {stale}: run `make release` and commit it"
    assert sorted(p.name for p in fresh.iterdir()) == sorted(p.name for p in RELEASE.iterdir())


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_solution_cell_of_the_release_is_a_runnable_stub(name):
    nb = nbformat.read(str(RELEASE / f"{name}.ipynb"), as_version=4)
    solution_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    assert solution_cells, "a notebook without TODOs"
    for cell in solution_cells:
        assert "raise NotImplementedError" in cell.source, _grade_id(cell)
        compile(cell.source, _grade_id(cell), "exec")  # the starter code is valid Python


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_starter_notebook_runs_up_to_the_first_todo_and_stops_there_with_not_implemented(release_copy, name):
    path = release_copy / f"{name}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(release_copy)}})
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    assert info.value.ename == "NotImplementedError"
    failed = next(i for i, c in enumerate(nb.cells) if any(o.get("output_type") == "error" for o in c.get("outputs", [])))
    assert _grade_id(nb.cells[failed]).startswith("test_"), "the first error must come from a check of a TODO"
    todos_before = [c for c in nb.cells[:failed] if c.metadata.get("nbgrader", {}).get("solution")]
    assert todos_before, "the first failing check must follow a TODO"


def test_pasted_reference_differs_from_the_release_only_in_solution_cells(tmp_path):
    submission = write_reference_submission(tmp_path / ASSIGNMENT)
    for name in NOTEBOOKS:
        released = nbformat.read(str(RELEASE / f"{name}.ipynb"), as_version=4)
        filled = nbformat.read(str(submission / f"{name}.ipynb"), as_version=4)
        changed = [_grade_id(a) for a, b in zip(released.cells, filled.cells) if a.source != b.source]
        solution_ids = {_grade_id(c) for c in released.cells if c.metadata.get("nbgrader", {}).get("solution")}
        assert changed and set(changed) <= solution_ids
