"""Submissions written to cheat or to break the grader get nothing for it, and the batch goes on."""
import shutil

import nbformat
import pytest

from autograder.batch import grade_batch
from autograder.pipeline import grade_submission

pytestmark = pytest.mark.slow


def _copy(folder, reference_submission, notebook):
    folder.mkdir(parents=True)
    shutil.copy2(reference_submission / notebook, folder / notebook)
    return folder


def _edit(path, grade_id, change):
    nb = nbformat.read(str(path), as_version=4)
    change(next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id))
    nbformat.write(nb, str(path))


LOOKUP_TABLE = '''import numpy as np

class _Memory:
    """Predicts by looking up the validation labels, which the tuning cell can see."""
    def __init__(self, X, y):
        self.table = {tuple(row): label for row, label in zip(X, y)}
    def predict(self, X):
        return np.array([self.table.get(tuple(row), 0) for row in X])

best_svm = _Memory(X_val, y_val)
'''

LEAKY_EXCEPTION = '''import numpy as np

def svm_loss_vectorized(W, X, y, reg):
    leak = "LEAK_" + "_".join(str(int(1000 * abs(v))) for v in X.ravel()[:5])
    raise type(leak, (Exception,), {})()
'''


def test_a_lookup_table_of_the_validation_labels_earns_nothing(tmp_path, reference_submission):
    folder = _copy(tmp_path / "cheat", reference_submission, "svm.ipynb")
    _edit(folder / "svm.ipynb", "tune_best_svm", lambda cell: setattr(cell, "source", LOOKUP_TABLE))
    result = grade_submission(folder, notebooks=["svm.ipynb"])
    best = [t for t in result.tests if t.target == "best_svm"]
    assert best and all(t.score == 0 for t in best)


def test_an_exception_named_after_the_hidden_inputs_is_not_shown(tmp_path, reference_submission):
    folder = _copy(tmp_path / "leaky", reference_submission, "svm.ipynb")
    _edit(folder / "svm.ipynb", "svm_loss_vectorized", lambda cell: setattr(cell, "source", LEAKY_EXCEPTION))
    result = grade_submission(folder, notebooks=["svm.ipynb"])
    messages = " ".join(t.message for t in result.tests)
    assert "your code raised an exception" in messages and "LEAK" not in messages


def test_broken_grading_metadata_costs_nothing_and_never_stops_the_batch(tmp_path, reference_submission):
    root = tmp_path / "class"
    odd = _copy(root / "odd", reference_submission, "gradient_check.ipynb")
    _copy(root / "zoe", reference_submission, "gradient_check.ipynb")
    _edit(odd / "gradient_check.ipynb", "sgd_step", lambda cell: cell.metadata.update(nbgrader="hello"))
    results = grade_batch([root], tmp_path / "out", jobs=1, progress=False)
    assert [r.status for r in results] == ["graded", "graded"]
    assert results[0].score == results[1].score > 0  # the unmarked cell still defines sgd_step


ALIASED_LOOPS = '''_fast = svm_loss_naive  # the naive loops, under another name

def svm_loss_vectorized(W, X, y, reg):
    return _fast(W, X, y, reg)
'''


def test_loops_hidden_behind_an_alias_do_not_pass_the_no_loop_check(tmp_path, reference_submission):
    folder = _copy(tmp_path / "alias", reference_submission, "svm.ipynb")
    _edit(folder / "svm.ipynb", "svm_loss_vectorized", lambda cell: setattr(cell, "source", ALIASED_LOOPS))
    result = grade_submission(folder, notebooks=["svm.ipynb"])
    no_loops = [t for t in result.tests if t.id == "svm.svm_loss_vectorized.vectorized_has_no_python_loops"]
    assert no_loops and no_loops[0].score == 0 and "_fast" in no_loops[0].message
