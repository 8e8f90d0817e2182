"""Independent numerical helpers for the reference tests (written here, not taken from any notebook)."""
import nbformat
import numpy as np

from tests.notebooks import SOLUTIONS


def rel_error(a, b):
    """Largest elementwise relative error, with the 1e-8 floor of the gradient_check notebook."""
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def central_differences(f, W, h=1e-5):
    """Numerical gradient of the scalar function f at W, one entry at a time (W is not changed)."""
    grad = np.zeros_like(W)
    for index in np.ndindex(*W.shape):
        step = np.zeros_like(W)
        step[index] = h
        grad[index] = (f(W + step) - f(W - step)) / (2 * h)
    return grad


def random_problem(seed, N=20, D=8, C=5, scale=0.5):
    """(W (D, C), X (N, D), y (N,)) of a random linear-classifier problem."""
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal((D, C)), rng.standard_normal((N, D)), rng.integers(0, C, size=N)


def cell_source(notebook, grade_id):
    """Source of the solution notebook's cell with this grade_id."""
    nb = nbformat.read(str(SOLUTIONS / f"{notebook}.ipynb"), as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    return cell.source
