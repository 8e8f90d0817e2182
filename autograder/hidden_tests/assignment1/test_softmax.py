"""Hidden suite of softmax.ipynb: the naive and vectorized losses, the Softmax classifier, the tuned one.

Shapes: N examples, D features (the last one a bias column of ones), C classes.
Both loss versions face the same checks (one parameter per version, each marked
with its own target); the vectorized one also faces a source check for loops
and a speed check against the submission's own naive version. ``Softmax``
subclasses the ``LinearClassifier`` of the submission's svm.ipynb, so its
training test also relies on that notebook's train().
"""

import numpy as np
import pytest

from autograder.feedback import Mistake, check_array, check_scalar, close, diagnose, unchanged
from autograder.feedback import describe_type, dtype_name
from autograder.hidden_tests.checks import (
    check_tuned_accuracy,
    predict_linear,
    best_seconds,
    find_function,
    imported_aliases,
    loop_problem,
    names,
    parse_cell,
    reachable_functions,
)
from autograder.run import StudentError

NOTEBOOK = "softmax.ipynb"
GRADE_CELLS = {
    "softmax_loss_naive": "test_softmax_loss_naive",
    "softmax_loss_vectorized": "test_softmax_loss_vectorized",
    "Softmax": "test_softmax_classifier",
    "best_softmax": "test_best_softmax",
}
TARGET_ACCURACY = {"digits": 0.94, "cifar10": 0.35}  # as stated in the notebook's test_best_softmax cell
LOSSES = ("softmax_loss_naive", "softmax_loss_vectorized")
VECTORIZED = "softmax_loss_vectorized"
# Big enough that the naive double loop takes a few tens of milliseconds.
TIMED_SHAPE = (400, 16, 12)  # (N, D, C): the naive loops take ~20 ms
LIBRARY_NAMES = {"scipy", "sklearn", "logsumexp", "torch"}
LN10 = float(np.log(10.0))
UNSTABLE = ("it is NaN or infinite for scores of magnitude 1e3: exp() overflows; subtract the row maximum "
            "from each row of scores before exponentiating")
UNDERFLOW = ("it is NaN or infinite when the correct class's probability underflows to 0; take the log-probabilities "
             "as shifted - log(sum(exp(shifted))) rather than log(probabilities)")
target = pytest.mark.target


def _per_loss(weight, *names):
    """pytest parameters, one per loss version, each marked with its own target."""
    return pytest.mark.parametrize("loss_name", [
        pytest.param(name, id=name.rsplit("_", 1)[-1], marks=target(name, weight=weight)) for name in names])


# -- problems ---------------------------------------------------------------------------------
def _problem(rng, N=9, D=6, C=5, labels=None, scale=1.0):
    """W (D, C), X (N, D) with a bias column of ones, labels y (N,) in 0 .. labels-1 (default C)."""
    X = np.hstack([rng.normal(size=(N, D - 1)), np.ones((N, 1))])
    W = rng.normal(scale=scale, size=(D, C))
    y = rng.integers(C if labels is None else labels, size=N)
    return W, X, y


def _blobs(rng, N, D, C):
    """Well separated clusters with a bias column, classes balanced."""
    centres = rng.normal(scale=3.0, size=(C, D - 1))
    y = rng.permutation(np.arange(N) % C)
    X = centres[y] + rng.normal(size=(N, D - 1))
    return np.hstack([X, np.ones((N, 1))]), y


def _loss_pair(value, what="the function"):
    """(loss, dW) from what a loss returned, or a Mistake."""
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise Mistake(f"{what} must return the pair (loss, dW)")
    return value


def _gradient(dW, W, y, what="dW"):
    """dW checked as a float array of W's shape, naming the classes-from-labels mistake."""
    D, C = W.shape
    if isinstance(dW, np.ndarray) and dW.ndim == 2 and dW.shape[0] == D and dW.shape[1] == int(y.max()) + 1 != C:
        raise Mistake(f"{what} has fewer columns than W; take the number of classes from W.shape[1], "
                      "not from the labels (a class may be absent from a batch)")
    return check_array(dW, W.shape, what)


def _data_part(reference, W, X, y):
    """(loss, dW) of the reference without regularization, and the probabilities (N, C)."""
    loss, dW = reference.softmax_loss_vectorized(W, X, y, 0.0)
    scores = X @ W
    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    return loss, dW, probs / probs.sum(axis=1, keepdims=True)


def _atol(expected):
    return 1e-7 * max(1.0, float(np.max(np.abs(expected))))


def _check_loss_and_gradient(student_value, reference, W, X, y, reg, what=""):
    """Loss and dW against the reference, naming the known mistakes of the data term and of the penalty."""
    loss, dW = _loss_pair(student_value)
    N = len(X)
    data_loss, data_dW, probs = _data_part(reference, W, X, y)
    penalty, penalty_dW = reg * float(np.sum(W * W)), 2 * reg * W
    expected_loss, expected_dW = data_loss + penalty, data_dW + penalty_dW
    known_loss = {
        "the base-10 logarithm was used; the softmax loss uses the natural log (np.log)": data_loss / LN10 + penalty,
        "the loss is summed over the examples instead of averaged (divide by N)": N * data_loss + penalty,
        "the loss has the wrong sign (it is minus the log-probability of the correct class)": -data_loss + penalty,
    }
    if reg:
        known_loss.update({
            "the regularization term reg * np.sum(W * W) is missing from the loss": data_loss,
            "the regularization term has a factor 0.5 (the convention here is reg * np.sum(W * W))":
                data_loss + penalty / 2,
            "the regularization term was divided by N": data_loss + penalty / N,
        })
    diagnose(check_scalar(loss, "the loss"), expected_loss, known_loss, f"the loss{what}",
             rtol=1e-6, atol=1e-8)
    dW = _gradient(dW, W, y)
    without_one_hot = X.T @ probs / N
    known_dW = {
        "the gradient was not divided by N": N * data_dW + penalty_dW,
        "the one-hot labels were not subtracted: the gradient of the scores is p - 1[y], not p":
            without_one_hot + penalty_dW,
        "the gradient has the wrong sign (d loss / d scores is p - 1[y])": -data_dW + penalty_dW,
        "the gradient has the wrong sign (d loss / d W is X.T (p - 1[y]) / N + 2 reg W)": -expected_dW,
        "the gradient is that of a base-10 log; the softmax loss uses the natural log": data_dW / LN10 + penalty_dW,
    }
    present = int(y.max()) + 1
    if present < W.shape[1]:
        only_present = data_dW.copy()
        only_present[:, present:] = 0.0
        known_dW["the gradient of the classes absent from y is missing: loop over all C = W.shape[1] classes, "
                 "not over the labels that occur"] = only_present + penalty_dW
    if reg:
        known_dW.update({
            "the regularization gradient 2 * reg * W is missing": data_dW,
            "the regularization gradient lacks its factor 2 (the gradient of reg * sum(W**2) is 2 * reg * W)":
                data_dW + reg * W,
            "the regularization gradient was divided by N": data_dW + penalty_dW / N,
        })
    diagnose(dW, expected_dW, known_dW, f"the gradient dW{what}", rtol=1e-6, atol=_atol(expected_dW))


# -- both loss versions ------------------------------------------------------------------------------
@_per_loss(2, *LOSSES)
def test_loss_and_gradient_without_regularization(student, reference, rng, loss_name):
    """With reg = 0 the loss (mean cross-entropy, natural log) and dW match on random inputs."""
    W, X, y = _problem(rng, N=11, D=7, C=4)
    _check_loss_and_gradient(getattr(student, loss_name)(W, X, y, 0.0), reference, W, X, y, 0.0)


@_per_loss(1, *LOSSES)
def test_regularization_in_loss_and_gradient(student, reference, rng, loss_name):
    """With small and with large reg the loss adds reg * sum(W**2) and dW adds 2 * reg * W."""
    W, X, y = _problem(rng, N=8, D=5, C=6, scale=0.5)
    for reg in (float(rng.uniform(0.01, 0.05)), float(rng.uniform(5.0, 20.0))):
        _check_loss_and_gradient(getattr(student, loss_name)(W, X, y, reg), reference, W, X, y, reg)


@_per_loss(1, *LOSSES)
def test_absent_classes_and_a_single_example(student, reference, rng, loss_name):
    """Correct when some classes are absent from the labels, and for a single example."""
    function = getattr(student, loss_name)
    W, X, y = _problem(rng, N=10, D=6, C=7, labels=3)
    _check_loss_and_gradient(function(W, X, y, 0.3), reference, W, X, y, 0.3, " (classes absent from y)")
    W, X, y = _problem(rng, N=1, D=4, C=5)
    _check_loss_and_gradient(function(W, X, y, 0.1), reference, W, X, y, 0.1, " (a single example)")


def _finite_or_unstable(value, problem):
    """(loss, dW) of a call on large scores; a Mistake naming the ``problem`` if anything is not finite."""
    loss, dW = _loss_pair(value)
    try:
        finite = bool(np.all(np.isfinite(np.asarray(loss, dtype=float))))
        finite = finite and bool(np.all(np.isfinite(np.asarray(dW, dtype=float))))
    except (TypeError, ValueError):
        finite = True  # not numbers at all: the shape and type checks say so
    if not finite:
        raise Mistake(f"the loss or dW is wrong; {problem}")
    return loss, dW


@_per_loss(1, *LOSSES)
def test_stable_for_scores_of_magnitude_1e3(student, reference, rng, loss_name):
    """Scores of magnitude 1e3 give a finite loss and the right gradient (numerical stability)."""
    function = getattr(student, loss_name)
    # Every score of a row near +1000 or -1000 (a large bias), with moderate differences between classes.
    for offset in (1000.0, -1000.0):
        W, X, y = _problem(rng, N=8, D=5, C=4)
        W[-1] += offset
        loss, dW = _finite_or_unstable(function(W, X, y, 0.0), UNSTABLE)
        expected_loss, expected_dW = reference.softmax_loss_naive(W, X, y, 0.0)
        if not close(check_scalar(loss, "the loss"), expected_loss, rtol=1e-6, atol=1e-8):
            raise Mistake("the loss is wrong when all scores are near +1000 or -1000")
        if not close(_gradient(dW, W, y), expected_dW, rtol=1e-6, atol=_atol(expected_dW)):
            raise Mistake("dW is wrong when all scores are near +1000 or -1000")
    # Scores from about -800 to +800 in every row, rows labelled alternately with their lowest and highest
    # score: the lowest class's probability underflows to 0 (exp(-1600)), yet the loss must stay finite.
    W, X, _ = _problem(rng, N=8, D=5, C=4)
    W[-1] += rng.permutation([800.0, -800.0, 300.0, -300.0])
    scores = X @ W
    y = np.where(np.arange(len(X)) % 2 == 0, np.argmin(scores, axis=1), np.argmax(scores, axis=1))
    loss, dW = _finite_or_unstable(function(W, X, y, 0.0), UNDERFLOW)
    check_scalar(loss, "the loss")
    expected_dW = reference.softmax_loss_naive(W, X, y, 0.0)[1]
    if not close(_gradient(dW, W, y), expected_dW, rtol=1e-6, atol=_atol(expected_dW)):
        raise Mistake("dW is wrong for scores from -800 to +800")


@_per_loss(0.5, *LOSSES)
def test_leaves_W_X_and_y_unchanged(student, rng, loss_name):
    """W, X and y are unchanged after the call."""
    W, X, y = _problem(rng, N=6, D=5, C=3)
    _, (W_after, X_after, y_after, _), _ = getattr(student, loss_name).inspect(W.copy(), X.copy(), y.copy(), 0.4)
    unchanged(W, W_after, "W")
    unchanged(X, X_after, "X")
    unchanged(y, y_after, "y")


@_per_loss(0.5, *LOSSES)
def test_returns_a_float_and_a_float64_gradient(student, rng, loss_name):
    """Returns (loss, dW): the loss a float, dW a float64 array of W's shape."""
    W, X, y = _problem(rng, N=5, D=4, C=3)
    loss, dW = _loss_pair(getattr(student, loss_name)(W, X, y, 0.2))
    if isinstance(loss, np.ndarray) or not isinstance(loss, (float, np.floating)):
        raise Mistake(f"the loss should be a float (e.g. float(loss)), not {describe_type(loss)}")
    check_array(dW, W.shape, "dW")
    if dW.dtype != np.float64:
        raise Mistake(f"dW has dtype {dtype_name(dW.dtype)}; expected float64")


# -- vectorized only ---------------------------------------------------------------------------------
def _vectorized_correct_or_stop(student, reference, W, X, y):
    """Fail unless the vectorized data term (reg = 0) is right: loops and speed earn credit only then."""
    loss, dW = _loss_pair(student.softmax_loss_vectorized(W, X, y, 0.0))
    expected_loss, expected_dW = reference.softmax_loss_vectorized(W, X, y, 0.0)
    if not (close(loss, expected_loss, rtol=1e-6, atol=1e-8) and close(dW, expected_dW, rtol=1e-6,
                                                                       atol=_atol(expected_dW))):
        raise Mistake("softmax_loss_vectorized does not compute the right loss and gradient yet (even with "
                      "reg = 0), so this check cannot give credit")


@target(VECTORIZED, weight=1.5)
def test_vectorized_source_has_no_loops(student, student_code, reference, rng):
    """softmax_loss_vectorized has no Python loops or comprehensions and uses no scipy."""
    _vectorized_correct_or_stop(student, reference, *_problem(rng, N=7, D=5, C=4))
    tree = parse_cell(student_code, VECTORIZED)
    function, _ = find_function(tree, VECTORIZED)
    if "softmax_loss_naive" in {n for f in reachable_functions(function, tree) for n in names(f)}:
        raise Mistake(f"{VECTORIZED} calls softmax_loss_naive, which loops; compute the loss without it")
    banned = LIBRARY_NAMES | imported_aliases(tree, LIBRARY_NAMES, LIBRARY_NAMES)
    problem = loop_problem(function, tree, banned=banned, banned_hint="; write the log-sum-exp yourself with numpy")
    if problem:
        raise Mistake(problem if "log-sum-exp" in problem else f"{problem}; compute all rows at once with "
                      "whole-array operations")


@target(VECTORIZED, weight=1.5)
def test_vectorized_is_faster_than_naive(student, reference, rng):
    """softmax_loss_vectorized is at least 3 times as fast as the naive version."""
    N, D, C = TIMED_SHAPE
    W, X, y = _problem(rng, N=N, D=D, C=C, scale=0.1)
    _vectorized_correct_or_stop(student, reference, W, X, y)
    vectorized = best_seconds(lambda: student.softmax_loss_vectorized(W, X, y, 0.0, _timeout=60), 3)[0]
    try:
        naive = best_seconds(lambda: student.softmax_loss_naive(W, X, y, 0.0, _timeout=60), 2)[0]
    except StudentError:
        naive = 0.0  # a broken naive version: the reference's time below is the yardstick
    # A naive version that is itself vectorized is no yardstick: then the reference's loops (timed here,
    # without the worker's overhead, so a lower bound) set the pace.
    naive = max(naive, best_seconds(lambda: reference.softmax_loss_naive(W, X, y, 0.0), 1)[0])
    if naive < 3 * vectorized:
        raise Mistake("the vectorized version is less than 3 times as fast as the naive one; "
                      "expected at least 3 times: one matrix product for the scores, one for dW")


# -- Softmax ---------------------------------------------------------------------------------------
def _svm_loss(W, X, y, reg):
    """The multiclass SVM loss and gradient (the classifier's known mix-up), written here."""
    N = len(X)
    scores = X @ W
    margins = np.maximum(0.0, scores - scores[np.arange(N), y][:, None] + 1.0)
    margins[np.arange(N), y] = 0.0
    indicator = (margins > 0).astype(float)
    indicator[np.arange(N), y] = -indicator.sum(axis=1)
    return margins.sum() / N + reg * np.sum(W * W), X.T @ indicator / N + 2 * reg * W


@target("Softmax")
def test_softmax_loss_at_the_classifiers_weights(student, reference, rng):
    """Softmax().loss gives the softmax loss and gradient at self.W, and leaves self.W unchanged."""
    W, X, y = _problem(rng, N=12, D=6, C=4)
    reg = float(rng.uniform(0.1, 1.0))
    classifier = student.Softmax()
    classifier.W = W.copy()
    loss, dW = _loss_pair(classifier.loss(X, y, reg), "Softmax.loss")
    loss, dW = check_scalar(loss, "the loss"), _gradient(dW, W, y)
    expected_loss, expected_dW = reference.softmax_loss_vectorized(W, X, y, reg)
    if not (close(loss, expected_loss, rtol=1e-6, atol=1e-8)
            and close(dW, expected_dW, rtol=1e-6, atol=_atol(expected_dW))):
        # Name the likely cause; the submission's own vectorized loss first (its own tests say more).
        own = "Softmax.loss returns what your softmax_loss_vectorized returns, and that is wrong (see its tests)"
        try:
            own_loss, own_dW = _loss_pair(student.softmax_loss_vectorized(W, X, y, reg))
        except StudentError:
            own_loss, own_dW = np.nan, np.nan
        svm_loss, svm_dW = _svm_loss(W, X, y, reg)
        no_reg_loss, no_reg_dW = reference.softmax_loss_vectorized(W, X, y, 0.0)
        diagnose(loss, expected_loss, {
            own: own_loss,
            "Softmax.loss returns the SVM (hinge) loss; use the softmax loss": svm_loss,
            "reg is not passed on to the loss function": no_reg_loss,
        }, "the loss of Softmax.loss", rtol=1e-6, atol=1e-8)
        diagnose(dW, expected_dW, {
            own: own_dW,
            "Softmax.loss returns the SVM (hinge) gradient; use the softmax loss": svm_dW,
            "reg is not passed on to the loss function": no_reg_dW,
        }, "the gradient of Softmax.loss", rtol=1e-6, atol=_atol(expected_dW))
    unchanged(W, np.asarray(classifier.W), "self.W")


@target("Softmax")
def test_training_a_softmax_lowers_the_loss(student, rng):
    """Training a Softmax on an easy problem lowers the loss and changes W."""
    X, y = _blobs(rng, N=90, D=6, C=3)
    classifier = student.Softmax()
    history = classifier.train(X, y, learning_rate=0.05, reg=1e-3, num_iters=60, batch_size=30,
                               _seed=int(rng.integers(1000)))
    try:
        losses = np.asarray(history, dtype=float)
    except (TypeError, ValueError):
        raise Mistake("train did not return a list of losses") from None
    if losses.shape != (60,) or not np.all(np.isfinite(losses)):
        raise Mistake("train did not return one finite loss per iteration")
    check_array(classifier.W, (X.shape[1], 3), "the trained weights self.W")
    if not losses[-10:].mean() < 0.5 * losses[:10].mean():
        raise Mistake("the training loss did not fall by half on an easy problem; Softmax.loss must return "
                      "the loss and gradient at the current self.W")


# -- best_softmax --------------------------------------------------------------------------------------
@target("best_softmax")
def test_best_softmax_reaches_the_target_validation_accuracy(tuned):
    """best_softmax, left by the tuning cell, reaches the notebook's target accuracy on the validation set."""
    check_tuned_accuracy(tuned, "best_softmax", "the best trained Softmax", TARGET_ACCURACY, with_bias=True,
                         predict=predict_linear)
