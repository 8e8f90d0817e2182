"""Build the committed example classes (``examples/<assignment>/``) that ``make demo`` grades.

Five students per assignment, each a folder of the assignment's notebooks as a student
would hand them in:

* ``ada``     the reference solution everywhere (full marks);
* ``blank``   the release, untouched (zero);
* ``partial`` the first notebooks done, one more half done, the rest blank;
* ``bugs``    complete, with classic mistakes (assignment 1: squared distances, the reg
  gradient without the factor 2, an unstable softmax, a missing ReLU mask, the mean in
  rel_error; assignment 0: "< 0" for the perceptron's mistake test, so w stays 0, and a
  logistic loss summed instead of averaged);
* ``broken``  hostile or broken notebooks: a truncated file, an endless loop, a syntax
  error, a memory bomb, a deleted solution cell.

Usage: ``python -m scripts.make_examples [--assignment A]`` (default: every assignment
with a plan here). A test rebuilds each class and fails if the committed one is stale.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from scripts.paste_solutions import write_reference_submission
from scripts.release import ROOT, generate_release

EXAMPLES = ROOT / "examples"
STUDENTS = ("ada", "blank", "broken", "bugs", "partial")

# (notebook, cell grade_id, text in the reference cell, replacement); each text occurs once.
BUGS_1 = [
    ("knn", "knn_class", "dists = np.sqrt(np.maximum(sq_dists, 0.0, out=sq_dists), out=sq_dists)",
     "dists = np.maximum(sq_dists, 0.0, out=sq_dists)"),
    ("gradient_check", "rel_error", "worst = float(np.max(errors))", "worst = float(np.mean(errors))"),
    ("svm", "svm_loss_vectorized", "/ num_train + 2 * reg * W", "/ num_train + reg * W"),
    ("softmax", "softmax_loss_vectorized", "shifted = scores - scores.max(axis=1, keepdims=True)",
     "shifted = scores"),
    ("two_layer_net", "two_layer_net", "dhidden_in = dhidden * (hidden_in > 0)", "dhidden_in = dhidden"),
]

BUGS_0 = [
    ("perceptron", "perceptron", "if y[i] * (w @ X[i]) <= 0:", "if y[i] * (w @ X[i]) < 0:"),
    ("logistic_regression", "logistic_loss", "np.mean(np.logaddexp(0.0, -margins))",
     "np.sum(np.logaddexp(0.0, -margins))"),
]

SIGMOID_SYNTAX_ERROR = '''import numpy as np

def sigmoid(z):
    return 1 / (1 + np.exp(-z)
'''
LOSS_MEMORY_BOMB = '''import numpy as np

def logistic_loss(w, X, y, reg=0.0):
    pairs = np.ones((X.shape[0], 10**6, 10**3))  # every example against everything
    return float(pairs.sum()), np.zeros_like(w)
'''
ENDLESS_GRADIENT = '''import numpy as np

def eval_numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    while True:  # forgot to advance the index
        pass
    return grad
'''
SYNTAX_ERROR = '''def svm_loss_naive(W, X, y, reg):
    loss = 0.0
    for i in range(X.shape[0]:
        loss += 1
    return loss, W
'''
MEMORY_BOMB = '''import numpy as np

def softmax_loss_vectorized(W, X, y, reg):
    everything = np.ones((X.shape[0], 10**6, 10**3))  # an outer product too far
    return float(everything.sum()), np.zeros_like(W)
'''


def _cell(nb, grade_id):
    matches = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id]
    if len(matches) != 1:
        raise RuntimeError(f"expected one cell {grade_id!r}, found {len(matches)}")
    return matches[0]


def _edit(folder, notebook, change):
    path = folder / f"{notebook}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    change(nb)
    nbformat.write(nb, str(path))


def _replace(grade_id, old, new):
    def change(nb):
        cell = _cell(nb, grade_id)
        if cell.source.count(old) != 1:
            raise RuntimeError(f"{old!r} does not occur exactly once in cell {grade_id!r}")
        cell.source = cell.source.replace(old, new)
    return change


def _set_source(grade_id, source):
    def change(nb):
        _cell(nb, grade_id).source = source
    return change


def _delete(grade_id):
    def change(nb):
        nb.cells.remove(_cell(nb, grade_id))
    return change


@dataclass(frozen=True)
class ClassPlan:
    """What each example student of one assignment hands in, as edits of the reference or the release."""

    done: tuple  # notebooks the partial student finished
    half_done: tuple  # (notebook, grade_id): one more cell the partial student finished
    bugs: list  # (notebook, grade_id, old text, new text)
    truncated: str  # the broken student's notebook cut in half
    broken_cells: list  # (notebook, grade_id, new source), or (notebook, grade_id, None) to delete the cell


def build_class(out, release, reference, plan):
    """Write the five example students of ``plan`` into ``out``."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(reference, out / "ada")
    shutil.copytree(release, out / "blank")

    partial = out / "partial"
    shutil.copytree(release, partial)
    for name in plan.done:
        shutil.copy2(reference / f"{name}.ipynb", partial / f"{name}.ipynb")
    notebook, grade_id = plan.half_done
    finished = nbformat.read(str(reference / f"{notebook}.ipynb"), as_version=4)
    _edit(partial, notebook, _set_source(grade_id, _cell(finished, grade_id).source))

    bugs = out / "bugs"
    shutil.copytree(reference, bugs)
    for notebook, grade_id, old, new in plan.bugs:
        _edit(bugs, notebook, _replace(grade_id, old, new))

    broken = out / "broken"
    shutil.copytree(reference, broken)
    text = (broken / f"{plan.truncated}.ipynb").read_text()
    (broken / f"{plan.truncated}.ipynb").write_text(text[: len(text) // 2])  # an upload cut in half
    for notebook, grade_id, source in plan.broken_cells:
        _edit(broken, notebook, _delete(grade_id) if source is None else _set_source(grade_id, source))
    return out


PLANS = {
    "assignment0": ClassPlan(
        done=("perceptron",), half_done=("logistic_regression", "sigmoid"), bugs=BUGS_0,
        truncated="perceptron",
        broken_cells=[("logistic_regression", "sigmoid", SIGMOID_SYNTAX_ERROR),
                      ("logistic_regression", "logistic_loss", LOSS_MEMORY_BOMB)]),
    "assignment1": ClassPlan(
        done=("knn", "gradient_check"), half_done=("svm", "svm_loss_naive"), bugs=BUGS_1, truncated="knn",
        broken_cells=[("gradient_check", "eval_numerical_gradient", ENDLESS_GRADIENT),
                      ("svm", "svm_loss_naive", SYNTAX_ERROR),
                      ("softmax", "softmax_loss_vectorized", MEMORY_BOMB),
                      ("two_layer_net", "two_layer_net", None)]),
}


def build_from_solutions(out, assignment):
    """Generate ``assignment``'s release and reference submission in scratch space, then its class into ``out``."""
    with tempfile.TemporaryDirectory() as scratch:
        release = generate_release(assignment, release_dir=Path(scratch) / "release")
        reference = write_reference_submission(Path(scratch) / "reference", release_dir=release,
                                               assignment=assignment)
        return build_class(out, release, reference, PLANS[assignment])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", choices=sorted(PLANS), help="one assignment (default: every one)")
    args = parser.parse_args(argv)
    for assignment in [args.assignment] if args.assignment else sorted(PLANS):
        print(f"example class written to {build_from_solutions(EXAMPLES / assignment, assignment)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
