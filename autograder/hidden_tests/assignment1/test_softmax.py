"""Hidden suite of softmax.ipynb: the naive and vectorized losses, the Softmax classifier, the tuned one.

Shapes: N examples, D features (the last one a bias column of ones), C classes.
Both loss versions face the same checks (one parameter per version, each marked
with its own target); the vectorized one also faces a source check for loops
and a speed check against the submission's own naive version. Tolerances admit
float32 arithmetic inside a loss (its error grows with the magnitude of the
scores); every known mistake moves the values by far more.

``Softmax`` subclasses the ``LinearClassifier`` of the submission's svm.ipynb and
adds only its loss, so its tests judge that alone: during each call of
``Softmax.loss`` the reference's loss functions stand in for the submission's
(``_replace``), SGD steps are taken here rather than by svm.ipynb's train(), and
a loss reached under another name counts as right when it returns what the
submission's own loss function returns (that function has tests of its own).
"""

import numpy as np

from autograder.testing import (
    Mistake,
    StudentError,
    StudentFault,
    check_array,
    check_loss_pair,
    check_scalar,
    check_tuned_accuracy,
    close,
    clusters,
    describe_type,
    diagnose,
    draws,
    each_target,
    find_function,
    imported_aliases,
    inputs_unchanged,
    loop_problem,
    names,
    parse_cell,
    predict_linear,
    reachable_functions,
    returned_pair,
    scaled_atol,
    target,
    unchanged,
)

NOTEBOOK = "softmax.ipynb"
LOSSES = ("softmax_loss_naive", "softmax_loss_vectorized")
VECTORIZED = "softmax_loss_vectorized"
# (N, D, C): the reference's naive loops take about 0.2 s of CPU time on it.
TIMED_SHAPE = (2500, 16, 25)
SPEEDUP = 3  # how many times less CPU time than the naive loops; the notebook's TODO banner says the same
LIBRARY_NAMES = {"scipy", "sklearn", "logsumexp", "torch"}
LN10 = float(np.log(10.0))
RTOL = 1e-5  # relative tolerance of every comparison with the reference (see _atol for the absolute one)
UNSTABLE = ("it is NaN or infinite for scores of magnitude 1e3: exp() overflows; subtract the row maximum "
            "from each row of scores before exponentiating")
UNDERFLOW = ("it is NaN or infinite when the correct class's probability underflows to 0; take the log-probabilities "
             "as shifted - log(sum(exp(shifted))) rather than log(probabilities)")


def _per_loss(weight, *names):
    """pytest parameters, one per loss version, each marked with its own target."""
    return each_target("loss_name", {name.rsplit("_", 1)[-1]: (name, weight, name) for name in names})


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
    return np.hstack([clusters(rng, centres, y), np.ones((N, 1))]), y


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


def _atol(expected, scores=None):
    """The absolute tolerance for values of the size of ``expected`` computed from ``scores`` (X @ W).

    float32 arithmetic is off by about 1e-7 times the largest score and the largest value.
    """
    return scaled_atol(expected, 1e-6, 1.0 if scores is None else max(1.0, float(np.max(np.abs(scores)))))


def _matches(loss, dW, expected, scores, rtol=RTOL):
    """Whether a returned loss and dW are the ``expected`` pair, within the tolerances for ``scores``."""
    expected_loss, expected_dW = expected
    return close(loss, expected_loss, rtol, _atol(expected_loss, scores)) and \
        close(dW, expected_dW, rtol, _atol(expected_dW, scores))


def _check_loss_and_gradient(student_value, reference, W, X, y, reg, what=""):
    """Loss and dW against the reference, naming the known mistakes of the data term and of the penalty."""
    loss, dW = returned_pair(student_value, "the function")
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
    scores = X @ W
    diagnose(check_scalar(loss, "the loss"), expected_loss, known_loss, f"the loss{what}",
             rtol=RTOL, atol=_atol(expected_loss, scores))
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
    diagnose(dW, expected_dW, known_dW, f"the gradient dW{what}", rtol=RTOL, atol=_atol(expected_dW, scores))


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
    loss, dW = returned_pair(value, "the function")
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
        if not close(check_scalar(loss, "the loss"), expected_loss, RTOL, _atol(expected_loss, X @ W)):
            raise Mistake("the loss is wrong when all scores are near +1000 or -1000")
        if not close(_gradient(dW, W, y), expected_dW, RTOL, _atol(expected_dW, X @ W)):
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
    if not close(_gradient(dW, W, y), expected_dW, RTOL, _atol(expected_dW, scores)):
        raise Mistake("dW is wrong for scores from -800 to +800")


@_per_loss(0.5, *LOSSES)
def test_leaves_W_X_and_y_unchanged(student, rng, loss_name):
    """W, X and y are unchanged after the call."""
    W, X, y = _problem(rng, N=6, D=5, C=3)
    _, after, _ = getattr(student, loss_name).inspect(W.copy(), X.copy(), y.copy(), 0.4)
    inputs_unchanged("W X y", (W, X, y), after)


@_per_loss(0.5, *LOSSES)
def test_returns_a_float_and_a_float64_gradient(student, rng, loss_name):
    """Returns (loss, dW): the loss a float, dW a float64 array of W's shape."""
    W, X, y = _problem(rng, N=5, D=4, C=3)
    loss, _ = check_loss_pair(getattr(student, loss_name)(W, X, y, 0.2), W, loss_name, gradient="dW",
                              pair="(loss, dW)", float64=True)
    if not isinstance(loss, (float, np.floating)):
        raise Mistake(f"the loss should be a float (e.g. float(loss)), not {describe_type(loss)}")


# -- vectorized only ---------------------------------------------------------------------------------
def _vectorized_correct_or_stop(student, reference, W, X, y):
    """Fail unless the vectorized data term (reg = 0) is right: loops and speed earn credit only then."""
    loss, dW = returned_pair(student.softmax_loss_vectorized(W, X, y, 0.0), "the function")
    if not _matches(loss, dW, reference.softmax_loss_vectorized(W, X, y, 0.0), X @ W):
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
def test_vectorized_is_faster_than_naive(student, reference, speed, rng):
    """softmax_loss_vectorized needs at most 1/3 of the CPU time of a naive version with loops."""
    N, D, C = TIMED_SHAPE
    problem = draws(lambda: _problem(rng, N=2 * N, D=D, C=C, scale=0.1))
    W, X, y = problem(0)
    _vectorized_correct_or_stop(student, reference, W, X[:N], y[:N])

    def inputs(scale, draw):  # scale 2: twice the examples, for the fallback that compares growth
        W, X, y = problem(draw)
        return (W, X[:scale * N], y[:scale * N], 0.0), {}

    ratio, _ = speed.ratio(VECTORIZED, "softmax_loss_naive", inputs, needed=SPEEDUP)
    if ratio < SPEEDUP:
        raise Mistake(f"the vectorized version needs more than 1/{SPEEDUP} of the CPU time of a naive version with "
                      f"loops (the reference's) on the same input; expected at most 1/{SPEEDUP}: one matrix "
                      "product for the scores, one for dW")


# -- Softmax ---------------------------------------------------------------------------------------
SGD_STEPS = 5  # steps taken here, each changing self.W, in the test that the loss follows W


def _svm_loss(W, X, y, reg):
    """The multiclass SVM loss and gradient (the classifier's known mix-up), written here."""
    N = len(X)
    scores = X @ W
    margins = np.maximum(0.0, scores - scores[np.arange(N), y][:, None] + 1.0)
    margins[np.arange(N), y] = 0.0
    indicator = (margins > 0).astype(float)
    indicator[np.arange(N), y] = -indicator.sum(axis=1)
    return margins.sum() / N + reg * np.sum(W * W), X.T @ indicator / N + 2 * reg * W


def _classifier_loss(classifier, reference, X, y, reg):
    """(loss, dW) of the student's ``classifier.loss(X, y, reg)``, the reference's loss functions in place of
    the submission's during the call: a mistake of those costs their own tests, not Softmax's."""
    stand_ins = {name: getattr(reference, name) for name in LOSSES}
    return returned_pair(classifier.loss(X, y, reg, _replace=stand_ins), "Softmax.loss")


def _same_as_own_loss(student, W, X, y, reg, loss, dW):
    """Whether ``loss`` and ``dW`` are what one of the submission's own loss functions returns at W.

    A Softmax.loss that reaches its loss function under another name (an alias, a default argument)
    escapes the stand-in; it does its part when it returns what that function returns.
    """
    for name in LOSSES:
        try:
            own_loss, own_dW = returned_pair(getattr(student, name)(W, X, y, reg), name)
            if close(loss, own_loss, rtol=1e-9, atol=1e-12) and close(dW, own_dW, rtol=1e-9, atol=1e-12):
                return True
        except (StudentFault, Mistake, TypeError, ValueError):
            continue
    return False


@target("Softmax")
def test_softmax_loss_at_the_classifiers_weights(student, reference, rng):
    """Softmax().loss gives the softmax loss and gradient at self.W, and leaves self.W unchanged."""
    W, X, y = _problem(rng, N=12, D=6, C=4)
    reg = float(rng.uniform(0.1, 1.0))
    classifier = student.Softmax()
    classifier.W = W.copy()
    loss, dW = _classifier_loss(classifier, reference, X, y, reg)
    loss, dW = check_scalar(loss, "the loss of Softmax.loss"), _gradient(dW, W, y, "the gradient of Softmax.loss")
    unchanged(W, np.asarray(classifier.W), "self.W")
    expected_loss, expected_dW = reference.softmax_loss_vectorized(W, X, y, reg)
    scores = X @ W
    if _matches(loss, dW, (expected_loss, expected_dW), scores) or _same_as_own_loss(student, W, X, y, reg, loss, dW):
        return
    svm_loss, svm_dW = _svm_loss(W, X, y, reg)
    no_reg_loss, no_reg_dW = reference.softmax_loss_vectorized(W, X, y, 0.0)
    diagnose(loss, expected_loss, {
        "Softmax.loss returns the SVM (hinge) loss; use the softmax loss": svm_loss,
        "reg is not passed on to the loss function": no_reg_loss,
    }, "the loss of Softmax.loss", rtol=RTOL, atol=_atol(expected_loss, scores))
    diagnose(dW, expected_dW, {
        "Softmax.loss returns the SVM (hinge) gradient; use the softmax loss": svm_dW,
        "reg is not passed on to the loss function": no_reg_dW,
    }, "the gradient of Softmax.loss", rtol=RTOL, atol=_atol(expected_dW, scores))


def _check_inherits_train_and_predict(student, classifier):
    """A Mistake unless the Softmax instance has the methods a LinearClassifier of the submission has."""
    try:
        base = student.LinearClassifier()
    except StudentFault:
        return  # svm.ipynb's own tests say what is wrong with it
    for method in ("train", "predict"):
        try:
            getattr(base, method)
        except StudentFault:
            continue  # not Softmax's to provide
        try:
            getattr(classifier, method)
        except StudentError:
            raise Mistake(f"a Softmax has no {method}; subclass the LinearClassifier of svm.ipynb, "
                          "class Softmax(LinearClassifier), and define only loss") from None


@target("Softmax")
def test_softmax_inherits_train_and_its_loss_follows_W_during_sgd(student, reference, rng):
    """Softmax subclasses LinearClassifier, and as SGD steps change self.W, its loss is taken at the current W."""
    X, y = _blobs(rng, N=60, D=6, C=3)
    classifier = student.Softmax()
    _check_inherits_train_and_predict(student, classifier)
    reg, learning_rate = 1e-3, 0.5
    W = first_W = rng.normal(scale=0.01, size=(X.shape[1], 3))
    # The steps are taken here, with the reference's gradient: svm.ipynb's train() is graded there.
    for step in range(SGD_STEPS):
        batch = rng.choice(len(X), size=20)
        X_batch, y_batch = X[batch], y[batch]
        classifier.W = W  # a new array at every step, as an update self.W = self.W - ... leaves it
        loss, dW = _classifier_loss(classifier, reference, X_batch, y_batch, reg)
        expected = reference.softmax_loss_vectorized(W, X_batch, y_batch, reg)
        if not (_matches(loss, dW, expected, X_batch @ W)
                or _same_as_own_loss(student, W, X_batch, y_batch, reg, loss, dW)):
            if step == 0:
                raise Mistake("Softmax.loss does not give the loss and gradient at self.W (see the test of the "
                              "loss at the classifier's weights)")
            if _matches(loss, dW, reference.softmax_loss_vectorized(first_W, X_batch, y_batch, reg),
                        X_batch @ first_W):
                raise Mistake("Softmax.loss kept the weights of its first call; take the loss at the current "
                              "self.W at every call, since each SGD step changes it")
            raise Mistake("Softmax.loss does not follow self.W: once an SGD step has changed self.W, its loss "
                          "and gradient are not those at the new weights")
        W = W - learning_rate * expected[1]


# -- best_softmax --------------------------------------------------------------------------------------
@target("best_softmax")
def test_best_softmax_reaches_the_target_validation_accuracy(tuned, manifest):
    """best_softmax, left by the tuning cell, reaches the notebook's target accuracy on the validation set."""
    check_tuned_accuracy(tuned, manifest, "best_softmax", "the best trained Softmax", with_bias=True,
                         predict=predict_linear)
