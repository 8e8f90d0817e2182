"""The no-loop check is an allow-list (``autograder/testing/source_rules.py``, "What counts as a
Python-level loop"): every disguised loop is refused with a sentence naming what it found, and vectorized code passes,
among it every correct alternative of the catalog and the reference cells.

The check is pure ast, so these tests grade no notebook; only the catalog's disguised loops are
run here, to show that their values are right and the no-loop check alone catches them.
"""
import ast
import builtins
from textwrap import dedent, indent

import nbformat
import numpy as np
import pytest

from autograder.testing.source_rules import (
    ALLOWED_ARRAY_METHODS,
    ALLOWED_BUILTINS,
    ALLOWED_NUMPY,
    find_function,
    imported_aliases,
    loop_problem,
)
from tests.autograder.mutants import catalog
from tests.notebooks import ROOT, SOLUTIONS
from utils.notebook_loader import python_source

# Per notebook: the cell, function and class its no-loop test reads.
TARGETS = {"knn": ("knn_class", "compute_distances_no_loops", "KNearestNeighbor"),
           "svm": ("svm_loss_vectorized", "svm_loss_vectorized", None),
           "softmax": ("softmax_loss_vectorized", "softmax_loss_vectorized", None)}
HIDDEN = ROOT / "autograder" / "hidden_tests" / "assignment1"
NEVER = ("vectorize", "frompyfunc", "apply_along_axis", "apply_over_axes", "fromiter", "fromfunction",
         "piecewise", "nditer", "ndindex", "ndenumerate", "linalg.norm")
MUTANTS, ALTERNATIVES = catalog("assignment1")


def _suite_constant(notebook, name):
    """A constant of a hidden suite, read from its source (importing a suite needs the grader's plugin)."""
    tree = ast.parse((HIDDEN / f"test_{notebook}.py").read_text())
    values = [n.value for n in tree.body if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == name]
    return ast.literal_eval(values[0])


def _problem(notebook, source):
    """The no-loop check's sentence for a cell, with the banned names the notebook's suite passes."""
    cell, name, class_name = TARGETS[notebook]
    tree = ast.parse(python_source(source))
    function, klass = find_function(tree, name, class_name=class_name)
    if notebook == "svm":
        return loop_problem(function, tree, banned={"svm_loss_naive"}, banned_hint=", which loops in Python")
    library = _suite_constant(notebook, "LIBRARY_NAMES")
    modules = {"scipy", "sklearn"} if notebook == "knn" else library
    return loop_problem(function, tree, klass, library | imported_aliases(tree, modules, library),
                        "; library function")


def _reference_cells(notebook):
    nb = nbformat.read(str(SOLUTIONS / f"{notebook}.ipynb"), as_version=4)
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells}


def _svm(body, top=""):
    return f"import numpy as np\n{dedent(top)}\ndef svm_loss_vectorized(W, X, y, reg):\n{indent(dedent(body), '    ')}"


def _softmax(body, top=""):
    return f"import numpy as np\n{dedent(top)}\ndef softmax_loss_vectorized(W, X, y, reg):\n" + indent(dedent(body),
                                                                                                     "    ")


def _knn(body, methods="", top=""):
    """A kNN class cell whose compute_distances_no_loops has ``body``; ``methods`` adds methods."""
    return (f"{dedent(top)}\nclass KNearestNeighbor:\n"
            "    def train(self, X, y):\n        self.X_train = X\n        self.y_train = y\n\n"
            f"    def compute_distances_no_loops(self, X):\n{indent(dedent(body), ' ' * 8)}\n"
            + indent(dedent(methods), "    "))


CROSS = "cross = X @ self.X_train.T\n"
TAIL = "return np.sqrt(np.maximum(np.sum(X ** 2, axis=1)[:, None] - 2 * cross + np.sum(self.X_train ** 2, axis=1), 0))\n"

# (id, notebook, cell source, a phrase the sentence must contain: what was found)
REFUSED = [
    ("functools_reduce", "knn", _knn("import functools\ncross = functools.reduce(np.dot, [X, self.X_train.T])\n"
                                     + TAIL), "calls functools.reduce"),
    ("reduce_imported_by_name", "svm", _svm("loss = reduce(np.add, X.sum(axis=1))\nreturn loss, W\n",
                                            top="from functools import reduce\n"), "calls reduce (functools.reduce)"),
    ("itertools_starmap", "svm", _svm("import itertools\nparts = [*itertools.starmap(np.outer, zip(X, X))]\n"
                                      "return 0.0, np.sum(parts, axis=0)\n"), "calls itertools.starmap"),
    ("itertools_product_through_an_alias", "knn", _knn("import itertools as it\npairs = it.product(X, self.X_train)\n"
                                                       "cross = np.array([*pairs])\n" + TAIL),
     "calls it.product (itertools.product)"),
    ("map_over_rows", "svm", _svm("return float(np.sum([*map(np.sum, X)])), W\n"), "calls map"),
    ("sum_over_a_generator", "softmax", _softmax("return sum(row.sum() for row in X), W\n"), "(GeneratorExp)"),
    ("builtin_sum_over_rows", "softmax", _softmax("return float(sum(X).sum()), W\n"), "calls sum, a builtin"),
    ("sorted_rows", "knn", _knn("cross = np.array(sorted(X @ self.X_train.T))\n" + TAIL), "calls sorted"),
    ("builtin_max", "svm", _svm("return max(X.ravel()), W\n"), "calls max"),
    ("zip_of_arrays", "svm", _svm("pairs = np.array([*zip(X, y)], dtype=object)\nreturn 0.0, W\n"), "calls zip"),
    ("enumerate_rows", "softmax", _softmax("rows = np.array([*enumerate(X)], dtype=object)\nreturn 0.0, W\n"),
     "calls enumerate"),
    ("list_of_rows", "knn", _knn("rows = list(X)\ncross = X @ self.X_train.T\n" + TAIL), "calls list"),
    ("filter_rows", "svm", _svm("kept = np.array([*filter(np.any, X)])\nreturn 0.0, W\n"), "calls filter"),
    ("vectorize_through_getattr", "knn", _knn("row = getattr(np, 'vectorize')(np.dot, signature='(d),(d,n)->(n)')\n"
                                              "cross = row(X, self.X_train.T)\n" + TAIL), "calls getattr"),
    ("vectorize_through_the_module_dict", "svm", _svm("f = np.__dict__['vectorize'](abs)\nreturn 0.0, f(W)\n"),
     "__dict__"),
    ("np_vectorize", "softmax", _softmax("return 0.0, np.vectorize(abs)(W)\n"), "calls np.vectorize"),
    ("vectorize_imported_from_numpy", "softmax", _softmax("return 0.0, vectorize(abs)(W)\n",
                                                          top="from numpy import vectorize\n"),
     "calls vectorize (numpy.vectorize)"),
    ("np_frompyfunc", "svm", _svm("return 0.0, np.frompyfunc(abs, 1, 1)(W)\n"), "calls np.frompyfunc"),
    ("np_fromfunction", "softmax", _softmax("one_hot = np.fromfunction(np.equal, W.shape)\nreturn 0.0, W\n"),
     "calls np.fromfunction"),
    ("np_piecewise", "svm", _svm("return 0.0, np.piecewise(W, [W > 0], [1.0, 0.0])\n"), "calls np.piecewise"),
    ("np_nditer", "knn", _knn("items = np.nditer(X)\n" + CROSS + TAIL), "calls np.nditer"),
    ("np_ndindex", "svm", _svm("places = np.ndindex(W.shape)\nreturn 0.0, W\n"), "calls np.ndindex"),
    ("np_ndenumerate", "softmax", _softmax("items = np.ndenumerate(W)\nreturn 0.0, W\n"), "calls np.ndenumerate"),
    ("np_apply_along_axis", "knn", _knn("cross = np.apply_along_axis(np.dot, 1, X, self.X_train.T)\n" + TAIL),
     "calls np.apply_along_axis"),
    ("np_linalg_norm", "svm", _svm("return np.linalg.norm(W) ** 2, W\n"), "calls np.linalg.norm"),
    ("linalg_norm_through_a_submodule_alias", "svm", _svm("return la.norm(W), W\n", top="import numpy.linalg as la\n"),
     "calls la.norm (numpy.linalg.norm)"),
    ("lambda_passed_along", "softmax", _softmax("f = np.apply_along_axis(lambda r: r.sum(), 1, X)\nreturn 0.0, W\n"),
     "uses a lambda"),
    ("recursion", "svm", _svm("if X.shape[0] > 1:\n    return svm_loss_vectorized(W, X[1:], y[1:], reg)\n"
                              "return 0.0, W\n"), "is recursive (svm_loss_vectorized -> svm_loss_vectorized)"),
    ("recursion_through_a_helper", "softmax", _softmax(
        "return _half(W, X, y, reg)\n",
        top="def _half(W, X, y, reg):\n    return softmax_loss_vectorized(W, X[1:], y[1:], reg)\n"),
     "is recursive (softmax_loss_vectorized -> _half -> softmax_loss_vectorized)"),
    ("recursion_through_self", "knn", _knn("if len(X) > 1:\n    return np.vstack([self.compute_distances_no_loops(X[:1]),"
                                           " self.compute_distances_no_loops(X[1:])])\n" + CROSS + TAIL),
     "is recursive (compute_distances_no_loops -> compute_distances_no_loops)"),
    ("a_parameter_called", "svm", _svm("return reg(X), W\n"), "calls reg, one of its own variables"),
    ("a_local_variable_called", "softmax", _softmax("f = np.sum\nreturn f(X), W\n"), "calls f, one of its own"),
    ("a_function_of_another_cell", "svm", _svm("return _fast(W, X, y, reg)\n", top="_fast = svm_loss_naive\n"),
     "calls _fast, which is not a function of this cell"),
    ("operator_through_an_alias", "softmax", _softmax("return op.mul(X, X).sum(), W\n", top="import operator as op\n"),
     "calls op.mul (operator.mul)"),
    ("a_module_handed_around", "svm", _svm("b = builtins\nreturn b.sum(X), W\n", top="import builtins\n"),
     "uses builtins"),
    ("a_subscripted_callable", "softmax", _softmax("return [np.sum][0](X), W\n"), "calls [np.sum][0]"),
    ("super", "knn", _knn("return super().compute_distances_no_loops(X)\n"), "calls super, a builtin"),
    ("a_method_not_on_the_list", "svm", _svm("rows = X.tolist()\nreturn 0.0, W\n"), "calls X.tolist"),
    ("self_attribute_that_is_not_a_method", "knn", _knn("return self.distance_function(X)\n"),
     "calls self.distance_function, which is not a method of KNearestNeighbor"),
    ("np_bound_to_another_module", "svm", _svm("return np.starmap(W, X), W\n", top="import itertools as np\n"),
     "calls np.starmap (itertools.starmap)"),
    ("exec", "softmax", _softmax("exec('loss = 0')\nreturn 0.0, W\n"), "uses exec"),
    ("a_helper_decorated_with_vectorize", "svm", _svm("return float(_hinge(X @ W).sum()), W\n",
                                                      top="@np.vectorize\ndef _hinge(s):\n    return max(s, 0.0)\n"),
     "_hinge (called by it) has the decorator @np.vectorize"),
    ("the_function_replaced_after_its_definition", "svm",
     _svm("return 0.0, W\n") + "svm_loss_vectorized = np.vectorize(svm_loss_vectorized)\n",
     "binds svm_loss_vectorized again"),
    ("the_method_replaced_by_another_method", "knn", _knn(CROSS + TAIL, methods="""
        def predict(self, X):
            self.compute_distances_no_loops = self.compute_distances_one_loop
            return X
        """), "assigns self.compute_distances_no_loops"),
    ("a_helper_handed_over", "softmax", _softmax("return np.sum(X), _row\n", top="def _row(r):\n    return r\n"),
     "hands _row over as a value"),
    ("a_method_handed_over", "knn", _knn("rows = self._row\n" + CROSS + TAIL,
                                         methods="def _row(self, x):\n    return self.X_train @ x\n"),
     "hands self._row over as a value"),
    ("a_function_defined_inside", "svm", _svm("def inner(a):\n    return a\nreturn 0.0, W\n"), "defines inner inside it"),
    ("a_generator", "softmax", _softmax("yield 0.0\n"), "uses yield"),
    ("setattr_in_the_cell", "knn", _knn(CROSS + TAIL) + "setattr(KNearestNeighbor, 'compute_distances_no_loops', 0)\n",
     "the cell uses setattr"),
    ("an_array_method_defined_in_the_cell", "knn", _knn(CROSS + TAIL, methods="def dot(self, other):\n    return 0\n"),
     "defines a function named dot"),
    ("a_loop_in_a_helper", "svm", _svm("return _total(X), W\n", top="def _total(X):\n    t = 0.0\n    while t < 1:\n"
                                                                     "        t += 1\n    return t\n"),
     "_total (called by it) uses a Python loop or comprehension (While)"),
    ("the_naive_version", "svm", _svm("return svm_loss_naive(W, X, y, reg)\n"), "uses svm_loss_naive"),
    ("scipy_cdist", "knn", _knn("from scipy.spatial.distance import cdist\nreturn cdist(X, self.X_train)\n"),
     "uses cdist"),
]

VECTORIZED = [
    ("expanded_square", "knn", _knn(CROSS + TAIL)),
    ("newaxis_and_transpose", "knn", _knn("a = np.sum(X * X, axis=1)[:, np.newaxis]\n"
                                          "b = (self.X_train ** 2).sum(axis=1)[np.newaxis, :]\n"
                                          "return np.sqrt(np.clip(a + b - 2.0 * X.dot(self.X_train.T), 0, None))\n")),
    ("a_method_helper", "knn", _knn("return np.sqrt(self._squared(X))\n", methods="""
        def _squared(self, X):
            return np.maximum(np.einsum('ij,ij->i', X, X)[:, None] + self._norms() - 2 * X @ self.X_train.T, 0)

        @staticmethod
        def _unused():
            return 0

        def _norms(self):
            return np.einsum('ij,ij->i', self.X_train, self.X_train)
        """)),
    ("a_helper_of_the_cell", "knn", _knn("return np.sqrt(np.maximum(_sq(X, self.X_train), 0.0))\n",
                                         top="def _sq(A, B):\n    return (A * A).sum(1)[:, None] - 2 * A @ B.T + "
                                             "(B * B).sum(1)\n")),
    ("range_as_an_index", "svm", _svm("scores = X @ W\nmargins = np.maximum(0, scores - scores[range(len(y)), y]"
                                      "[:, None] + 1)\nmargins[range(len(y)), y] = 0\n"
                                      "return float(margins.sum() / len(y)), W\n")),
    ("ufunc_add_at", "svm", _svm("counts = np.zeros(W.shape[1])\nnp.add.at(counts, y, 1.0)\n"
                                 "return float(np.maximum.reduce(counts)), W\n")),
    ("functions_imported_from_numpy", "softmax", _softmax("s = X @ W\nreturn float(mx(exp(s), 0).sum()), W\n",
                                                          top="from numpy import exp, maximum as mx\n")),
    ("another_name_for_numpy", "softmax", "import numpy as xp\n\ndef softmax_loss_vectorized(W, X, y, reg):\n"
                                          "    s = xp.exp(X @ W)\n    return float(xp.log(s.sum())), W * 0\n"),
    ("take_and_put_along_axis", "svm", _svm("s = X @ W\nc = np.take_along_axis(s, y[:, None], axis=1)\n"
                                            "m = np.clip(s - c + 1, 0, None)\nnp.put_along_axis(m, y[:, None], 0, axis=1)\n"
                                            "return float(m.sum()), W\n")),
    ("errstate_and_exceptions", "softmax", _softmax("""
        if X.ndim != 2:
            raise ValueError("X must be 2-D")
        with np.errstate(over="ignore"):
            s = np.exp(X @ W)
        return float(np.log(s.sum(axis=1)).mean()), np.zeros_like(W)
        """)),
    ("allowed_builtins_and_types", "svm", _svm("""
        n = int(len(y))
        print("batch of", n, isinstance(X, np.ndarray))
        mask = (X @ W > 0).astype(float)
        ones = np.ones(W.shape, dtype=bool)
        return float(abs(mask.sum()) / n), W * ones[slice(None)]
        """)),
    ("constants_of_the_cell", "softmax", _softmax("return float(np.log(X.sum() + EPS)), W.astype(DTYPE)\n",
                                                  top="EPS = 1e-12\nDTYPE = np.float64\n")),
    ("keyword_and_starred_arguments", "svm", _svm("shape = W.shape\nz = np.zeros(shape=(*shape,))\n"
                                                  "return np.float64(z.sum(axis=None, keepdims=False)), z\n")),
    ("one_hot_from_eye", "softmax", _softmax("one_hot = np.eye(W.shape[1])[y]\np = np.exp(X @ W)\n"
                                             "p /= p.sum(axis=1, keepdims=True)\n"
                                             "return float(-np.log((p * one_hot).sum(1)).mean()), X.T @ (p - one_hot)\n")),
    ("walrus_and_conditional", "svm", _svm("return (float(s.mean()) if (s := X @ W).size else 0.0), W\n")),
    ("annotations_and_a_main_guard", "svm", "import numpy as np\n\n"
     "def svm_loss_vectorized(W: np.ndarray, X: np.ndarray, y, reg: float = 0.0) -> tuple:\n"
     "    loss: float = float((X @ W).sum())\n    return loss, W\n\n"
     "if __name__ == '__main__':\n    print(svm_loss_vectorized)\n"),
    ("method_chains_on_results", "softmax", _softmax("return float(np.exp(X @ W).sum(axis=1).mean()), "
                                                     "(X.T @ X).copy().reshape(W.shape[0], -1)[:, :W.shape[1]]\n")),
]


@pytest.mark.parametrize("notebook,source,found", [pytest.param(n, s, f, id=i) for i, n, s, f in REFUSED])
def test_a_disguised_loop_is_refused_with_a_sentence_naming_what_was_found(notebook, source, found):
    problem = _problem(notebook, source)
    assert problem is not None and found in problem, problem


@pytest.mark.parametrize("notebook,source", [pytest.param(n, s, id=i) for i, n, s in VECTORIZED])
def test_vectorized_code_passes(notebook, source):
    assert _problem(notebook, source) is None


@pytest.mark.parametrize("notebook", TARGETS)
def test_the_reference_cell_passes(notebook):
    assert _problem(notebook, _reference_cells(notebook)[TARGETS[notebook][0]]) is None


CHECKED_ALTERNATIVES = [a for a in ALTERNATIVES if a.notebook in TARGETS and a.cell == TARGETS[a.notebook][0]]


@pytest.mark.parametrize("alternative", CHECKED_ALTERNATIVES, ids=lambda a: f"{a.notebook}.{a.name}")
def test_every_correct_alternative_of_the_catalog_passes(alternative):
    reference = _reference_cells(alternative.notebook)[alternative.cell]
    assert _problem(alternative.notebook, alternative.apply(reference)) is None


DISGUISED = [m for m in MUTANTS if m.name.startswith("disguised_loop_")]


def test_the_catalog_has_disguised_loops_for_every_no_loop_target():
    assert len(DISGUISED) >= 8
    assert {m.notebook for m in DISGUISED} == set(TARGETS)


@pytest.mark.parametrize("mutant", DISGUISED, ids=lambda m: f"{m.notebook}.{m.name}")
def test_a_disguised_loop_of_the_catalog_is_refused_with_its_phrase(mutant):
    problem = _problem(mutant.notebook, mutant.apply(_reference_cells(mutant.notebook)[mutant.cell]))
    assert problem is not None and mutant.mistake in problem, problem


def _run_cell(source):
    namespace = {"np": np}
    exec(compile(python_source(source), "<cell>", "exec"), namespace)  # our own catalog, not a submission
    return namespace


@pytest.mark.parametrize("mutant", DISGUISED, ids=lambda m: f"{m.notebook}.{m.name}")
def test_a_disguised_loop_of_the_catalog_computes_the_reference_values(mutant):
    """What makes it a disguised loop: only the no-loop test can tell it from the reference."""
    reference_source = _reference_cells(mutant.notebook)[mutant.cell]
    ours, theirs = _run_cell(reference_source), _run_cell(mutant.apply(reference_source))
    rng = np.random.default_rng(7)
    for size in (1, 5, 100):
        if mutant.notebook == "knn":
            X, X_train = rng.normal(size=(size, 6)), rng.normal(size=(30, 6))
            results = []
            for namespace in (ours, theirs):
                classifier = namespace["KNearestNeighbor"]()
                classifier.train(X_train, np.zeros(30, dtype=np.int64))
                results.append(classifier.compute_distances_no_loops(X))
            np.testing.assert_allclose(results[1], results[0], rtol=1e-9, atol=1e-12)
        else:
            W, X, y = rng.normal(size=(6, 4)), rng.normal(size=(size, 6)), rng.integers(4, size=size)
            name = TARGETS[mutant.notebook][1]
            (loss, dW), (their_loss, their_dW) = ours[name](W, X, y, 0.1), theirs[name](W, X, y, 0.1)
            assert their_loss == pytest.approx(loss, rel=1e-9)
            np.testing.assert_allclose(their_dW, dW, rtol=1e-9, atol=1e-12)


def test_every_allowed_numpy_name_exists_and_none_runs_python_code_per_element():
    for path in ALLOWED_NUMPY:
        obj = np
        for part in path.split("."):
            obj = getattr(obj, part)
    assert not set(NEVER) & ALLOWED_NUMPY
    assert {"exp", "log", "sqrt", "maximum", "square", "abs", "matmul"} <= ALLOWED_NUMPY  # the ufuncs


def test_every_allowed_method_is_an_array_method_and_the_builtins_exclude_iterating_ones():
    assert all(hasattr(np.ndarray, name) for name in ALLOWED_ARRAY_METHODS)
    assert all(hasattr(builtins, name) for name in ALLOWED_BUILTINS)
    iterating = {"sum", "max", "min", "sorted", "map", "filter", "zip", "enumerate", "list", "tuple", "iter", "next",
                 "any", "all", "getattr", "super", "type"}
    assert not iterating & ALLOWED_BUILTINS


def test_a_banned_name_gets_the_suites_hint():
    source = _knn("return np.linalg.norm(X[:, None] - self.X_train[None], axis=2)\n")
    assert _problem("knn", source) == "compute_distances_no_loops uses norm; library function"
