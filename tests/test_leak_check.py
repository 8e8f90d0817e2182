"""The leak check finds every kind of leak it promises to find, and passes on a clean tree."""
import nbformat
import pytest

from scripts.leak_check import find_leaks, secret_lines

SOLUTION_CELL = """def distance(a, b):
    # *** TODO: the Euclidean distance ***
    ### BEGIN SOLUTION
    squared = ((a - b) ** 2).sum()
    return squared ** 0.5
    ### END SOLUTION
"""
STARTER_CELL = """def distance(a, b):
    # *** TODO: the Euclidean distance ***
    # YOUR CODE HERE
    raise NotImplementedError("TODO")
"""


@pytest.fixture
def tree(tmp_path):
    solutions = tmp_path / "solutions" / "a1"
    solutions.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SOLUTION_CELL)]), str(solutions / "nb.ipynb"))
    shipped = tmp_path / "assignments"
    shipped.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(STARTER_CELL)]), str(shipped / "nb.ipynb"))
    return tmp_path


def _leaks(tree):
    return find_leaks([tree / "assignments"], solutions_dir=tree / "solutions")


def test_a_clean_release_has_no_leaks(tree):
    assert _leaks(tree) == []


def test_secret_lines_are_the_distinctive_solution_lines(tree):
    assert secret_lines(tree / "solutions") == {"squared = ((a - b) ** 2).sum()", "return squared ** 0.5"}


def test_a_pasted_solution_line_is_a_leak_even_reindented(tree):
    (tree / "assignments" / "helper.py").write_text("def d(a, b):\n        squared   = ((a - b) ** 2).sum()\n")
    assert [leak.what for leak in _leaks(tree)] == ["contains a line of a reference solution: 'squared = ((a - b) ** 2).sum()'"]


def test_saved_outputs_in_a_released_notebook_are_a_leak(tree):
    cell = nbformat.v4.new_code_cell("print(1)", outputs=[nbformat.v4.new_output("stream", text="1\n")])
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(tree / "assignments" / "ran.ipynb"))
    assert [leak.what for leak in _leaks(tree)] == ["cell 0 has saved outputs"]


@pytest.mark.parametrize("text", [
    "### BEGIN SOLUTION\n", "### BEGIN HIDDEN TESTS\n", "see autograder/hidden_tests/x.py\n",
    "import autograder\n", "from solutions.assignment1 import x\n",
])
def test_markers_and_forbidden_imports_are_leaks(tree, text):
    (tree / "assignments" / "notes.py").write_text(text)
    assert len(_leaks(tree)) == 1


def test_the_repository_ships_nothing_that_leaks():
    assert [str(leak) for leak in find_leaks()] == []
