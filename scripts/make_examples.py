"""Build the committed example class (``examples/class/``) that ``make demo`` grades.

Five students, each a folder of the five notebooks as a student would hand them in:

* ``ada``     the reference solution everywhere (full marks);
* ``blank``   the release, untouched (zero);
* ``partial`` kNN and gradient checking done, the SVM half done, the rest blank;
* ``bugs``    complete, with classic mistakes (squared distances, reg gradient without
  the factor 2, an unstable softmax, a missing ReLU mask, the mean in rel_error);
* ``broken``  hostile or broken notebooks: a truncated file, an endless loop, a syntax
  error, a memory bomb, a deleted solution cell.

Usage: ``python -m scripts.make_examples [--out examples/class]``. A test rebuilds the
class and fails if the committed one is stale.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from scripts.paste_solutions import write_reference_submission
from scripts.release import ROOT, generate_release

EXAMPLES = ROOT / "examples" / "class"

# (notebook, cell grade_id, text in the reference cell, replacement); each text occurs once.
BUGS = [
    ("knn", "knn_class", "dists = np.sqrt(np.maximum(sq_dists, 0.0))", "dists = np.maximum(sq_dists, 0.0)"),
    ("gradient_check", "rel_error", "worst = float(np.max(errors))", "worst = float(np.mean(errors))"),
    ("svm", "svm_loss_vectorized", "/ num_train + 2 * reg * W", "/ num_train + reg * W"),
    ("softmax", "softmax_loss_vectorized", "shifted = scores - scores.max(axis=1, keepdims=True)",
     "shifted = scores"),
    ("two_layer_net", "two_layer_net", "dhidden_in = dhidden * (hidden_in > 0)", "dhidden_in = dhidden"),
]

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


def build_class(out, release, reference):
    """Write the five example students into ``out``."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(reference, out / "ada")
    shutil.copytree(release, out / "blank")

    partial = out / "partial"
    shutil.copytree(release, partial)
    for name in ("knn", "gradient_check"):
        shutil.copy2(reference / f"{name}.ipynb", partial / f"{name}.ipynb")
    reference_svm = nbformat.read(str(reference / "svm.ipynb"), as_version=4)
    _edit(partial, "svm", _set_source("svm_loss_naive", _cell(reference_svm, "svm_loss_naive").source))

    bugs = out / "bugs"
    shutil.copytree(reference, bugs)
    for notebook, grade_id, old, new in BUGS:
        _edit(bugs, notebook, _replace(grade_id, old, new))

    broken = out / "broken"
    shutil.copytree(reference, broken)
    text = (broken / "knn.ipynb").read_text()
    (broken / "knn.ipynb").write_text(text[: len(text) // 2])  # an upload cut in half
    _edit(broken, "gradient_check", _set_source("eval_numerical_gradient", ENDLESS_GRADIENT))
    _edit(broken, "svm", _set_source("svm_loss_naive", SYNTAX_ERROR))
    _edit(broken, "softmax", _set_source("softmax_loss_vectorized", MEMORY_BOMB))
    _edit(broken, "two_layer_net", _delete("two_layer_net"))
    return out


def build_from_solutions(out):
    """Generate a release and a reference submission in scratch space, then the class into ``out``."""
    with tempfile.TemporaryDirectory() as scratch:
        release = generate_release(release_dir=Path(scratch) / "release")
        reference = write_reference_submission(Path(scratch) / "reference", release_dir=release)
        return build_class(out, release, reference)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=EXAMPLES)
    args = parser.parse_args(argv)
    print(f"example class written to {build_from_solutions(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
