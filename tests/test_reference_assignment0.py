"""Assignment 0 (binary classification): the data helpers and the reference notebooks.

The helpers of ``utils.binary`` are checked against scikit-learn's digits and a
linear program (which says whether a line separates a toy set). The reference
solutions of ``perceptron.ipynb`` and ``logistic_regression.ipynb`` are checked
against oracles written here in plain Python, scipy's ``expit``, central
differences, and scikit-learn's LogisticRegression; the notebooks' cells
against the conventions of solutions/README.md. Shapes: N examples, D features
(bias column included), C classes.
"""
import json
import os
import re
import warnings

os.environ.setdefault("MPLBACKEND", "Agg")  # headless; must precede the pyplot import

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from scipy.optimize import linprog, minimize  # noqa: E402
from scipy.special import expit  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from scripts.leak_check import find_leaks  # noqa: E402
from scripts.notebook_runner import run_notebook  # noqa: E402
from tests.notebooks import ROOT  # noqa: E402
from utils import add_bias, load_binary_digits, load_notebook, load_splits, plot_decision_boundary, toy_dataset  # noqa: E402
from utils import binary  # noqa: E402

SOLUTIONS = ROOT / "solutions" / "assignment0"
NOTEBOOKS = ("perceptron", "logistic_regression")
# Graded target -> (definition cell, grade cell, points), per notebook (DESIGN.md, assignment 0).
TARGETS = {
    "perceptron": {
        "predict_binary": ("predict_binary", "test_predict_binary", 2),
        "perceptron": ("perceptron", "test_perceptron", 6),
        "perceptron_loss": ("perceptron_loss", "test_perceptron_loss", 6),
        "multiclass_perceptron": ("multiclass_perceptron", "test_multiclass_perceptron", 6),
    },
    "logistic_regression": {
        "sigmoid": ("sigmoid", "test_sigmoid", 4),
        "logistic_loss": ("logistic_loss", "test_logistic_loss", 7),
        "sgd": ("sgd", "test_sgd", 5),
        "best_logistic_w": ("tune_best_logistic_w", "test_best_logistic_w", 4),
    },
}
QUESTIONS = {
    "perceptron": {"q_full_batch_from_zero": 2, "q_step_size": 1, "q_perceptron_loss": 2},
    "logistic_regression": {"q_max_likelihood": 3},
}
ACCURACY_TARGET = 0.97  # best_logistic_w on the digits 8 vs 9, as the logistic notebook states

# The worked examples of the perceptron notebook.
X_TRACE = np.array([[2.0, 1.0, 1.0], [-1.0, -2.0, 1.0], [1.0, -1.0, 1.0]])
Y_TRACE = np.array([1, -1, -1])
X_THREE = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [-1.0, -1.0, 1.0]])
Y_THREE = np.array([0, 1, 2])


@pytest.fixture(scope="module")
def part1():
    return load_notebook("perceptron", directory=SOLUTIONS)


@pytest.fixture(scope="module")
def part2():
    return load_notebook("logistic_regression", directory=SOLUTIONS)


@pytest.fixture(scope="module")
def digits():
    return load_binary_digits()


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def random_binary_problem(seed, N=30, D=4, integers=False):
    """(w (D,), X (N, D), y (N,) of +1/-1); small integers make scores of exactly 0 likely."""
    rng = np.random.default_rng(seed)
    if integers:
        return (rng.integers(-2, 3, size=D).astype(float), rng.integers(-2, 3, size=(N, D)).astype(float),
                rng.choice([-1, 1], size=N))
    return rng.standard_normal(D), rng.standard_normal((N, D)), rng.choice([-1, 1], size=N)


def central_differences(f, w, h=1e-6):
    grad = np.zeros_like(w)
    for d in range(len(w)):
        step = np.zeros_like(w)
        step[d] = h
        grad[d] = (f(w + step) - f(w - step)) / (2 * h)
    return grad


def separable_by_a_line(X, y):
    """A linear program: is there a w with y_i * (w @ x_i) >= 1 for every i? (X includes the bias.)"""
    result = linprog(np.zeros(X.shape[1]), A_ub=-(y[:, None] * X), b_ub=-np.ones(len(y)),
                     bounds=[(None, None)] * X.shape[1], method="highs")
    return result.status == 0


def cells(notebook):
    with open(SOLUTIONS / f"{notebook}.ipynb", encoding="utf-8") as handle:
        return json.load(handle)["cells"]


def nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def source(cell):
    return "".join(cell["source"])


def cell_by_id(notebook, grade_id):
    (cell,) = [c for c in cells(notebook) if nbgrader(c).get("grade_id") == grade_id]
    return cell


# ---------------------------------------------------------------- utils.binary: digits

def test_binary_digits_are_every_8_and_9_of_the_dataset_scaled_with_labels_plus_and_minus_1(digits):
    oracle = load_digits()
    assert (digits.positive, digits.negative) == (8, 9)
    splits = [(digits.X_train, digits.y_train), (digits.X_val, digits.y_val), (digits.X_test, digits.y_test)]
    ours = sorted((tuple(np.rint((row[:-1] + digits.mean_image) * 16).astype(int)), int(label))
                  for X, y in splits for row, label in zip(X, y))
    keep = np.isin(oracle.target, [8, 9])
    theirs = sorted((tuple(image.astype(int)), 1 if label == 8 else -1)
                    for image, label in zip(oracle.data[keep], oracle.target[keep]))
    assert ours == theirs


def test_binary_digits_have_the_bias_column_centred_pixels_and_int64_labels(digits):
    for X, y in [(digits.X_train, digits.y_train), (digits.X_val, digits.y_val), (digits.X_test, digits.y_test)]:
        assert X.dtype == np.float64 and X.shape[1] == 65 and y.shape == (X.shape[0],)
        assert y.dtype == np.int64 and set(np.unique(y)) == {-1, 1}
        assert np.all(X[:, -1] == 1.0)
        pixels = X[:, :-1] + digits.mean_image
        assert pixels.min() >= 0.0 and pixels.max() <= 1.0
    assert np.allclose(digits.X_train[:, :-1].mean(axis=0), 0.0)
    assert (len(digits.y_train), len(digits.y_val), len(digits.y_test)) == (196, 93, 65)


def test_binary_test_split_holds_the_8s_and_9s_of_assignment_1s_test_split(digits):
    ten = load_splits("digits")
    keep = np.isin(ten.y_test, [8, 9])
    assert np.allclose(digits.X_test[:, :-1] + digits.mean_image, ten.X_test[keep] / 16)
    assert np.array_equal(digits.y_test, np.where(ten.y_test[keep] == 8, 1, -1))


def test_binary_digits_ignore_kit_dataset(monkeypatch, digits):
    monkeypatch.setenv("KIT_DATASET", "cifar10")
    again = load_binary_digits()
    assert np.array_equal(again.X_train, digits.X_train) and np.array_equal(again.y_val, digits.y_val)


def test_other_digit_pairs_label_the_first_digit_plus_1():
    pair = load_binary_digits(1, 7)
    ten = load_splits("digits", **binary.SPLIT_SIZES)
    keep = np.isin(ten.y_train, [1, 7])
    assert np.array_equal(pair.y_train, np.where(ten.y_train[keep] == 1, 1, -1))
    assert pair.class_names == ("7", "1")
    assert "+1: digit 1, -1: digit 7" in repr(pair)


@pytest.mark.parametrize("pair", [(3, 3), (10, 1), (-1, 2), (2.0, 3), (True, 3)])
def test_bad_digit_pairs_raise_value_error(pair):
    with pytest.raises(ValueError):
        load_binary_digits(*pair)


# ---------------------------------------------------------------- utils.binary: toy sets

@pytest.mark.parametrize("name", binary.TOY_DATASETS)
def test_toy_sets_are_balanced_2d_points_with_the_bias_and_labels_plus_minus_1(name):
    X, y = toy_dataset(name, num_examples=120, seed=3)
    assert X.shape == (120, 3) and X.dtype == np.float64 and np.all(X[:, 2] == 1.0)
    assert y.dtype == np.int64 and np.sum(y == 1) == np.sum(y == -1) == 60


@pytest.mark.parametrize("name", binary.TOY_DATASETS)
def test_toy_sets_are_reproducible_from_their_seed(name):
    assert np.array_equal(toy_dataset(name)[0], toy_dataset(name)[0])
    assert not np.array_equal(toy_dataset(name, seed=0)[0], toy_dataset(name, seed=1)[0])


@pytest.mark.parametrize("seed", range(5))
def test_blobs_are_linearly_separable_and_moons_are_not(seed):
    assert separable_by_a_line(*toy_dataset("blobs", seed=seed))
    assert not separable_by_a_line(*toy_dataset("moons", seed=seed))


@pytest.mark.parametrize("args", [("circles",), ("blobs", 1), ("moons", 2.5)])
def test_bad_toy_requests_raise_value_error(args):
    with pytest.raises(ValueError):
        toy_dataset(*args)


# ---------------------------------------------------------------- utils.binary: the plot

def test_decision_boundary_asks_for_grid_points_with_the_bias_and_draws_one_boundary():
    X, y = toy_dataset("blobs")
    asked = []

    def decision(points):
        asked.append(points)
        return points[:, 0] - 0.25

    fig = plot_decision_boundary(decision, X, y, title="blobs", resolution=30)
    assert isinstance(fig, Figure)
    (points,) = asked
    assert points.shape == (900, 3) and np.all(points[:, 2] == 1.0)
    assert points[:, 0].min() < X[:, 0].min() and points[:, 0].max() > X[:, 0].max()
    assert points[:, 1].min() < X[:, 1].min() and points[:, 1].max() > X[:, 1].max()
    ax = fig.axes[0]
    assert ax.get_title() == "blobs"
    # Filled regions, the boundary line, and one scatter per class.
    assert len(ax.collections) == 4


def test_decision_boundary_of_w_zero_is_all_plus_1_without_a_line():
    X, y = toy_dataset("moons")
    fig = plot_decision_boundary(lambda points: np.zeros(len(points)), X, y)
    assert len(fig.axes[0].collections) == 3  # one region, no boundary, two scatters


def test_decision_boundary_without_a_bias_column_passes_2d_points_and_can_share_an_axes():
    X, y = toy_dataset("blobs")
    fig, (left, right) = plt.subplots(1, 2)
    widths = []
    plot_decision_boundary(lambda points: widths.append(points.shape[1]) or points[:, 1], X[:, :2], y, ax=right)
    assert widths == [2] and right.collections and not left.collections


def test_decision_boundary_rejects_a_decision_of_the_wrong_size_and_mismatched_labels():
    X, y = toy_dataset("blobs")
    with pytest.raises(ValueError, match="one number per row"):
        plot_decision_boundary(lambda points: np.zeros(3), X, y)
    with pytest.raises(ValueError, match="y must have shape"):
        plot_decision_boundary(lambda points: points[:, 0], X, y[:-1])


def test_nothing_in_utils_leaks_a_reference_solution_of_assignment_0():
    assert find_leaks([ROOT / "utils"], solutions_dir=SOLUTIONS) == []


# ---------------------------------------------------------------- perceptron.ipynb

def perceptron_oracle(X, y, num_steps):
    """The lecture's algorithm in plain Python lists: (w, number of updates)."""
    rows, labels = X.tolist(), y.tolist()
    w, updates = [0.0] * len(rows[0]), 0
    for t in range(num_steps):
        x, label = rows[t % len(rows)], labels[t % len(rows)]
        if label * sum(a * b for a, b in zip(w, x)) <= 0:
            w, updates = [a + label * b for a, b in zip(w, x)], updates + 1
    return np.array(w), updates


def multiclass_oracle(X, y, num_classes, num_steps):
    """The lecture's multiclass perceptron in plain Python lists; ties go to the smallest class."""
    rows, labels = X.tolist(), y.tolist()
    W = [[0.0] * num_classes for _ in rows[0]]  # W[d][c]
    for t in range(num_steps):
        x, label = rows[t % len(rows)], labels[t % len(rows)]
        scores = [sum(x[d] * W[d][c] for d in range(len(x))) for c in range(num_classes)]
        predicted = scores.index(max(scores))
        if predicted != label:
            for d in range(len(x)):
                W[d][label] += x[d]
                W[d][predicted] -= x[d]
    return np.array(W)


@pytest.mark.parametrize("seed", [0, 1, 2, 4])
def test_predict_binary_is_the_sign_with_zero_counted_as_plus_1(part1, seed):
    w, X, _ = random_binary_problem(seed, integers=True)
    scores = X @ w
    assert np.any(scores == 0), "test setup: the integer problem should contain scores of exactly 0"
    predicted = part1.predict_binary(w, X)
    assert predicted.dtype == np.int64 and predicted.shape == (30,)
    assert np.array_equal(predicted, np.where(np.sign(scores) == 0, 1, np.sign(scores)))


@pytest.mark.parametrize("seed,num_steps", [(0, 0), (1, 7), (2, 30), (3, 95), (4, 400)])
def test_perceptron_matches_the_plain_python_algorithm_with_wrap_around(part1, seed, num_steps):
    _, X, y = random_binary_problem(seed, integers=seed % 2 == 0)
    w = part1.perceptron(X, y, num_steps)
    assert w.dtype == np.float64 and w.shape == (4,)
    assert np.array_equal(w, perceptron_oracle(X, y, num_steps)[0])


def test_perceptron_reproduces_the_worked_example(part1):
    trace = [part1.perceptron(X_TRACE, Y_TRACE, steps).tolist() for steps in range(7)]
    assert trace == [[0, 0, 0], [2, 1, 1], [2, 1, 1], [1, 2, 0], [1, 2, 0], [1, 2, 0], [1, 2, 0]]
    # The visible check's second example, where the second pass updates w (step 4).
    X_again, y_again = np.array([[1.0, 0.0, 1.0], [0.0, -1.0, 1.0], [1.0, -1.0, 1.0]]), np.array([1, -1, 1])
    assert [part1.perceptron(X_again, y_again, steps).tolist() for steps in (3, 4, 5, 60)] == \
        [[2, 0, 1], [2, 0, 1], [2, 1, 0], [2, 1, 0]]


def test_perceptron_takes_integer_data_and_leaves_its_inputs_alone(part1):
    X, y = X_TRACE.astype(np.int64), Y_TRACE.copy()
    w = part1.perceptron(X, y, 6)
    assert w.dtype == np.float64 and np.array_equal(w, [1, 2, 0])
    assert np.array_equal(X, X_TRACE) and np.array_equal(y, Y_TRACE)


def test_perceptron_on_separable_blobs_stops_within_the_convergence_bound(part1):
    X, y = toy_dataset("blobs")
    # Any separating w* bounds the updates by (R / gamma)^2, gamma its margin once |w*| = 1:
    # take the hard-margin SVM's (scikit-learn), written on the features with the bias column.
    svm = SVC(kernel="linear", C=1e6).fit(X[:, :2], y)
    w_star = np.append(svm.coef_[0], svm.intercept_[0])
    gamma = np.min(y * (X @ w_star)) / np.linalg.norm(w_star)
    radius = np.linalg.norm(X, axis=1).max()
    w_oracle, updates = perceptron_oracle(X, y, 50 * len(y))
    assert gamma > 0 and updates <= (radius / gamma) ** 2
    w = part1.perceptron(X, y, 50 * len(y))
    assert np.array_equal(w, w_oracle) and np.all(y * (X @ w) > 0)


@pytest.mark.parametrize("seed", range(3))
def test_perceptron_loss_equals_the_formula_and_its_gradient_counts_margins_at_most_0(part1, seed):
    w, X, y = random_binary_problem(seed, integers=True)
    margins = y * (X @ w)
    loss, grad = part1.perceptron_loss(w, X, y)
    assert type(loss) is float and grad.dtype == np.float64 and grad.shape == (4,)
    assert loss == pytest.approx(sum(max(0.0, -m) for m in margins) / len(y), rel=1e-12)
    expected = -sum(label * x for label, x, m in zip(y, X, margins) if m <= 0) / len(y)
    assert np.allclose(grad, expected, rtol=0, atol=1e-12)


def test_perceptron_loss_gradient_matches_central_differences_away_from_kinks(part1):
    w, X, y = random_binary_problem(7, N=50, D=5)
    assert np.min(np.abs(X @ w)) > 1e-3, "test setup: no score near 0"
    _, grad = part1.perceptron_loss(w, X, y)
    assert np.allclose(grad, central_differences(lambda v: part1.perceptron_loss(v, X, y)[0], w), atol=1e-7)


def test_perceptron_loss_is_0_at_w_0_with_the_mean_of_minus_y_x_as_gradient(part1):
    loss, grad = part1.perceptron_loss(np.zeros(3), X_TRACE, Y_TRACE)
    assert loss == 0.0
    assert np.allclose(grad, -np.array([2.0, 4.0, -1.0]) / 3)


def test_sgd_on_the_perceptron_loss_with_batch_1_and_step_1_is_the_perceptron(part1):
    _, X, y = random_binary_problem(8, N=25, integers=True)
    w = np.zeros(X.shape[1])
    for t in range(120):
        i = t % len(y)
        w = w - part1.perceptron_loss(w, X[i:i + 1], y[i:i + 1])[1]
    assert np.array_equal(w, part1.perceptron(X, y, 120))


def test_full_batch_descent_with_step_0_1_gives_0_1_times_the_weights_of_step_1(part1, digits):
    X, y = digits.X_train, digits.y_train
    w_one, w_tenth = np.zeros(X.shape[1]), np.zeros(X.shape[1])
    for _ in range(20):
        w_one = w_one - 1.0 * part1.perceptron_loss(w_one, X, y)[1]
        w_tenth = w_tenth - 0.1 * part1.perceptron_loss(w_tenth, X, y)[1]
        assert np.allclose(w_tenth, 0.1 * w_one, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("seed,num_steps", [(0, 1), (1, 13), (2, 90), (3, 301)])
def test_multiclass_perceptron_matches_the_plain_python_algorithm(part1, seed, num_steps):
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, size=(20, 4)).astype(float)  # integers: ties between classes occur
    y = rng.integers(0, 4, size=20)
    W = part1.multiclass_perceptron(X, y, 4, num_steps)
    assert W.dtype == np.float64 and W.shape == (4, 4)
    assert np.array_equal(W, multiclass_oracle(X, y, 4, num_steps))
    assert np.allclose(W.sum(axis=1), 0.0)


def test_multiclass_perceptron_reproduces_the_worked_example(part1):
    final = [[2, -1, -1], [0, 1, -1], [-1, 0, 1]]
    assert part1.multiclass_perceptron(X_THREE, Y_THREE, 3, 1).tolist() == [[0, 0, 0]] * 3
    assert part1.multiclass_perceptron(X_THREE, Y_THREE, 3, 4).tolist() == final
    assert part1.multiclass_perceptron(X_THREE, Y_THREE, 3, 600).tolist() == final


def test_multiclass_perceptron_on_ten_digits_reaches_090_validation_accuracy(part1):
    ten = load_splits("digits")
    X_train, X_val = add_bias(ten.X_train), add_bias(ten.X_val)
    W = part1.multiclass_perceptron(X_train, ten.y_train, 10, 10 * len(ten.y_train))
    assert np.mean(np.argmax(X_val @ W, axis=1) == ten.y_val) >= 0.90


# ---------------------------------------------------------------- logistic_regression.ipynb

def test_sigmoid_equals_scipy_expit_in_any_shape(part2):
    z = np.linspace(-700.0, 700.0, 2 * 3 * 41).reshape(2, 3, 41)
    s = part2.sigmoid(z)
    assert s.shape == z.shape and s.dtype == np.float64
    assert np.allclose(s, expit(z), rtol=1e-14, atol=0)
    assert np.shape(part2.sigmoid(0.5)) == () and float(part2.sigmoid(0.5)) == pytest.approx(expit(0.5), rel=1e-15)
    assert part2.sigmoid([1.0, -1.0]).tolist() == pytest.approx(expit([1.0, -1.0]).tolist(), rel=1e-15)


def test_sigmoid_has_exact_limits_and_no_warning_up_to_1e3(part2):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = part2.sigmoid(np.array([-1000.0, -745.0, 745.0, 1000.0]))
    assert s[0] == 0.0 and s[3] == 1.0 and s[2] == 1.0
    assert 0.0 <= s[1] < 1e-300


def logistic_oracle(w, X, y, reg):
    """The mean cross-entropy of the labels (0/1) under probabilities expit(X @ w), plus the penalty."""
    p = expit(X @ w)
    labels = (y + 1) // 2
    return -np.mean(labels * np.log(p) + (1 - labels) * np.log1p(-p)) + reg * np.sum(w ** 2)


@pytest.mark.parametrize("reg", [0.0, 0.05])
def test_logistic_loss_is_the_binary_cross_entropy_and_its_gradient_the_derivative(part2, reg):
    w, X, y = random_binary_problem(9, N=40, D=6)
    loss, grad = part2.logistic_loss(w, X, y, reg)
    assert type(loss) is float and grad.dtype == np.float64 and grad.shape == (6,)
    assert loss == pytest.approx(logistic_oracle(w, X, y, reg), rel=1e-12)
    numerical = central_differences(lambda v: logistic_oracle(v, X, y, reg), w)
    assert np.allclose(grad, numerical, rtol=1e-7, atol=1e-9)


def test_logistic_loss_is_finite_and_exact_for_margins_of_1e3_without_warnings(part2):
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grad = part2.logistic_loss(np.array([1000.0, -1000.0]), X, y)
    assert loss == pytest.approx(500.0, rel=1e-12)
    assert np.allclose(grad, [0.0, -0.5])


def test_logistic_loss_reproduces_the_worked_example(part2):
    X = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    w = np.array([np.log(3.0), -np.log(3.0), 0.0])
    loss, grad = part2.logistic_loss(w, X, np.array([1, 1]))
    assert loss == pytest.approx(0.5 * np.log(16 / 3), rel=1e-12)
    assert np.allclose(grad, [-0.125, -0.375, -0.5])


def test_minimizing_the_regularized_logistic_loss_gives_sklearns_logistic_regression(part2, digits):
    reg = 1e-2
    X, y = digits.X_train, digits.y_train
    result = minimize(lambda w: part2.logistic_loss(w, X, y, reg), np.zeros(X.shape[1]), jac=True,
                      method="L-BFGS-B", options=dict(maxiter=5000, gtol=1e-10))
    # sklearn minimizes 0.5 |w|^2 + C * sum of the losses: the same minimizer for C = 1 / (2 reg N).
    oracle = LogisticRegression(C=1 / (2 * reg * len(y)), fit_intercept=False, tol=1e-12, max_iter=10000).fit(X, y)
    assert np.allclose(result.x, oracle.coef_[0], atol=1e-4)


def sgd_oracle(loss_fn, w0, X, y, learning_rate, num_iters, batch_size, seed):
    rng = np.random.default_rng(seed)
    w, history = np.array(w0, dtype=float), []
    for _ in range(num_iters):
        rows = rng.choice(len(y), batch_size)
        loss, grad = loss_fn(w, X[rows], y[rows])
        history.append(loss)
        w = w - learning_rate * grad
    return w, history


def test_sgd_replays_the_seeded_minibatch_contract(part2, digits):
    w0 = 0.01 * np.random.default_rng(10).standard_normal(digits.X_train.shape[1])
    w0_before = w0.copy()
    args = (part2.logistic_loss, w0, digits.X_train, digits.y_train)
    w, history = part2.sgd(*args, learning_rate=0.5, num_iters=40, batch_size=9, seed=4)
    w_expected, history_expected = sgd_oracle(*args, learning_rate=0.5, num_iters=40, batch_size=9, seed=4)
    assert np.array_equal(w0, w0_before)
    assert w.dtype == np.float64 and np.allclose(w, w_expected, rtol=0, atol=1e-12)
    assert isinstance(history, list) and all(type(value) is float for value in history)
    assert history == pytest.approx(history_expected, rel=1e-12)


def test_sgd_defaults_are_learning_rate_0_1_100_iterations_batches_of_32_and_seed_0(part2):
    X = np.arange(100.0)[:, None]
    batches = []

    def recorder(w, X_batch, y_batch):
        batches.append(y_batch.copy())
        return 1.0, np.ones_like(w)

    w, history = part2.sgd(recorder, np.array([5]), X, np.arange(100))
    rng = np.random.default_rng(0)
    assert len(batches) == 100 and all(np.array_equal(b, rng.choice(100, 32)) for b in batches)
    assert w.dtype == np.float64 and np.allclose(w, [5 - 100 * 0.1])
    assert history == [1.0] * 100


def test_default_sgd_stays_below_the_accuracy_target_and_the_notebooks_grid_reaches_it(part1, part2, digits):
    def val_accuracy(w):
        return np.mean(part1.predict_binary(w, digits.X_val) == digits.y_val)

    w_default, _ = part2.sgd(part2.logistic_loss, np.zeros(65), digits.X_train, digits.y_train)
    assert val_accuracy(w_default) < ACCURACY_TARGET
    # One cell of the tuning grid (learning rate 1, no penalty, 500 iterations).
    w_tuned, _ = part2.sgd(part2.logistic_loss, np.zeros(65), digits.X_train, digits.y_train,
                           learning_rate=1.0, num_iters=500)
    assert val_accuracy(w_tuned) >= ACCURACY_TARGET + 0.01
    oracle = LogisticRegression(C=10.0, max_iter=5000).fit(digits.X_train[:, :-1], digits.y_train)
    assert oracle.score(digits.X_val[:, :-1], digits.y_val) >= ACCURACY_TARGET


# ---------------------------------------------------------------- the notebooks' cells

@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_first_code_cells_are_the_locked_imports_then_locked_data(notebook):
    code = [c for c in cells(notebook) if c["cell_type"] == "code"]
    assert nbgrader(code[0]).get("grade_id") == "imports" and nbgrader(code[0])["locked"]
    data = cell_by_id(notebook, "data")
    assert nbgrader(data)["locked"] and not nbgrader(data)["solution"]
    assert "load_binary_digits()" in source(data)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_grade_ids_are_unique_and_every_target_has_a_solution_cell_and_a_grade_cell_with_points(notebook):
    ids = [nbgrader(c)["grade_id"] for c in cells(notebook) if nbgrader(c)]
    assert len(ids) == len(set(ids))
    suite = f"autograder/hidden_tests/assignment0/test_{notebook}.py"
    for definition, grade_id, points in TARGETS[notebook].values():
        solution = cell_by_id(notebook, definition)
        assert nbgrader(solution)["solution"] and not nbgrader(solution)["grade"]
        text = source(solution)
        assert "### BEGIN SOLUTION" in text and "### END SOLUTION" in text and "# TODO:" in text
        grade = cell_by_id(notebook, grade_id)
        assert nbgrader(grade)["grade"] and nbgrader(grade)["locked"] and nbgrader(grade)["points"] == points
        hidden = source(grade).split("### BEGIN HIDDEN TESTS")[1]
        assert suite in hidden and hidden.strip().endswith("### END HIDDEN TESTS")


def test_autograded_points_add_up_to_20_per_notebook():
    for notebook in NOTEBOOKS:
        total = sum(nbgrader(c).get("points", 0) for c in cells(notebook)
                    if nbgrader(c).get("grade") and c["cell_type"] == "code")
        assert total == 20, notebook


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_inline_questions_are_manually_graded_markdown_with_a_model_answer(notebook):
    for grade_id, points in QUESTIONS[notebook].items():
        cell = cell_by_id(notebook, grade_id)
        meta = nbgrader(cell)
        assert cell["cell_type"] == "markdown" and meta["solution"] and meta["grade"] and meta["points"] == points
        assert re.search(r"### BEGIN SOLUTION\n.{200,}\n### END SOLUTION", source(cell), re.DOTALL)


def test_the_tuning_cell_is_introduced_by_its_target_and_the_visible_check_uses_the_same_number():
    notebook = cells("logistic_regression")
    index = next(i for i, c in enumerate(notebook) if nbgrader(c).get("grade_id") == "tune_best_logistic_w")
    introduction = source(notebook[index - 1])
    assert f"at least {ACCURACY_TARGET}" in introduction and "one target that your own code trains" in introduction
    check = source(cell_by_id("logistic_regression", "test_best_logistic_w"))
    assert f"target = {ACCURACY_TARGET}" in check or 'accuracy_target("best_logistic_w"' in check


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_solution_notebook_runs_headless_in_seconds_and_reaches_its_headline_results(notebook):
    run = run_notebook(SOLUTIONS / f"{notebook}.ipynb", timeout=120)
    summary = run.summary
    assert summary["dataset"] == "digits" and summary["digits"] == "8 vs 9"
    assert run.seconds < 60
    if notebook == "perceptron":
        assert summary["perceptron_val_accuracy"] >= 0.95 and summary["blobs_train_accuracy"] == 1.0
        assert summary["moons_train_accuracy"] < 0.95
        assert summary["full_batch_loss_at_zero"] == 0.0 and summary["full_batch_step_sizes_scale"] == 1
        assert summary["multiclass_val_accuracy"] >= 0.90
    else:
        assert summary["logistic_val_accuracy"] >= ACCURACY_TARGET > summary["default_sgd_val_accuracy"]
        assert summary["blobs_logistic_min_margin"] > summary["blobs_perceptron_min_margin"]
        assert summary["moons_logistic_accuracy"] < 0.95 <= summary["moons_cubic_accuracy"]
