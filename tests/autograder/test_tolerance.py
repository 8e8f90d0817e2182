"""Extraction tolerates what students do to notebooks (the documented rule), and a broken
notebook costs only its own tests."""
import shutil

import nbformat
import pytest

from autograder.pipeline import grade_submission

pytestmark = pytest.mark.slow
NB = "gradient_check.ipynb"


@pytest.fixture
def submission(tmp_path, reference_submission):
    folder = tmp_path / "student"
    folder.mkdir()
    shutil.copy2(reference_submission / NB, folder / NB)
    return folder


def _edit(folder, change):
    nb = nbformat.read(str(folder / NB), as_version=4)
    change(nb)
    nbformat.write(nb, str(folder / NB))


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _grade(folder):
    return grade_submission(folder, notebooks=[NB])


def _lost(result):
    return {t.target for t in result.tests if t.score < t.max_score}


def test_reordered_cells_and_extra_experiment_cells_change_nothing(submission):
    def change(nb):
        cell = _cell(nb, "rel_error")
        nb.cells.remove(cell)
        nb.cells.append(cell)  # defined after the cells that use it
        nb.cells.insert(0, nbformat.v4.new_code_cell("while True:\n    pass  # an experiment never run by the grader"))
    _edit(submission, change)
    result = _grade(submission)
    assert result.score == result.max_score


def test_a_deleted_cell_costs_its_tests_says_which_cell_and_keeps_the_maximum(submission):
    full = _grade(submission)
    _edit(submission, lambda nb: nb.cells.remove(_cell(nb, "rel_error")))
    result = _grade(submission)
    assert result.max_score == full.max_score
    assert _lost(result) == {"rel_error"}
    messages = {t.message for t in result.tests if t.target == "rel_error"}
    assert all("the cell 'rel_error' is missing from gradient_check.ipynb" in m for m in messages)


def test_a_duplicated_cell_counts_its_last_copy(submission):
    def change(nb):
        cell = _cell(nb, "sgd_step")
        wrong = nbformat.from_dict(cell)
        wrong.id = "copied-cell"  # Jupyter gives a copied cell its own id
        wrong.source = "def sgd_step(w, dw, learning_rate):\n    return w"
        nb.cells.insert(nb.cells.index(cell), wrong)  # a wrong first copy above the right one
    _edit(submission, change)
    assert _grade(submission).score == _grade(submission).max_score


def test_a_retyped_cell_without_metadata_is_found_by_the_names_it_defines(submission):
    def change(nb):
        cell = _cell(nb, "backprop_example")
        nb.cells[nb.cells.index(cell)] = nbformat.v4.new_code_cell(cell.source)
    _edit(submission, change)
    result = _grade(submission)
    assert result.score == result.max_score


def test_magics_and_shell_escapes_in_a_solution_cell_are_skipped(submission):
    def change(nb):
        cell = _cell(nb, "sgd_step")
        cell.source = "%load_ext autoreload\n!ls /\n" + cell.source + "\n%time 1 + 1\n"
    _edit(submission, change)
    result = _grade(submission)
    assert result.score == result.max_score


def test_a_syntax_error_costs_that_cells_tests_only_and_names_the_line(submission):
    _edit(submission, lambda nb: setattr(_cell(nb, "rel_error"), "source", "def rel_error(x, y):\n    return (x -\n"))
    result = _grade(submission)
    assert _lost(result) == {"rel_error"}
    assert any("raised SyntaxError at line" in t.message for t in result.tests if t.target == "rel_error")


def test_a_notebook_that_is_not_json_fails_its_tests_with_a_clear_message(submission, reference_submission):
    shutil.copy2(reference_submission / "two_layer_net.ipynb", submission / "two_layer_net.ipynb")
    (submission / NB).write_text('{"cells": [')
    result = grade_submission(submission, notebooks=[NB, "two_layer_net.ipynb"])
    assert result.status == "graded"
    broken = [t for t in result.tests if t.notebook == NB]
    assert broken and all(t.score == 0 and "not a valid notebook" in t.message for t in broken)
    assert all(t.status == "passed" for t in result.tests if t.notebook == "two_layer_net.ipynb")
    assert result.problems[NB].startswith(f"{NB} is not a valid notebook")


def test_a_folder_without_any_readable_notebook_is_an_invalid_submission(tmp_path):
    (tmp_path / "empty").mkdir()
    result = grade_submission(tmp_path / "empty", notebooks=[NB])
    assert result.status == "invalid_submission" and result.score == 0 and result.max_score > 0


def test_grading_the_same_submission_twice_gives_identical_results(submission):
    first, second = _grade(submission).to_dict(timings=False), _grade(submission).to_dict(timings=False)
    assert first == second
