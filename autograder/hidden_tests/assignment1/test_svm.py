"""Hidden suite of svm.ipynb: the hinge loss (naive and vectorized), SGD training, prediction, the tuned SVM.

Shapes: N examples, D features, C classes. Losses are compared with the
reference and with the values each known mistake gives, computed here by
``_hinge``. Tolerances admit float32 arithmetic; every known mistake moves the
values by far more. A contract detail (a 0-d array for the loss, labels as floats
or in a list) costs its one contract check; the tests of values take it. The
training tests replace ``self.loss`` of the student's classifier by a function
of this suite (it runs here, called back from the worker), so they judge
``train`` alone, whatever the student's loss does.
"""

import numpy as np

import utils
from autograder.testing import (
    Mistake,
    StudentError,
    check_array,
    check_label_dtype,
    check_labels,
    check_loss_pair,
    check_scalar,
    check_tuned_accuracy,
    close,
    diagnose,
    draws,
    each_target,
    find_function,
    inputs_unchanged,
    loop_problem,
    parse_cell,
    predict_linear,
    returned_pair,
    row_indices,
    scaled_atol,
    seeded,
    target,
    unchanged,
)

NOTEBOOK = "svm.ipynb"
LOSS_FUNCTIONS = ("svm_loss_naive", "svm_loss_vectorized")
VECTORIZED_CELL = "svm_loss_vectorized"
# (N, D, C): many (i, j) pairs, so the reference's naive loops take about 0.2 s of CPU time; little data to send.
TIMED_SHAPE = (4000, 16, 25)
SPEEDUP = 3  # how many times less CPU time than the naive loops; the notebook's TODO banner says the same
RTOL = 1e-4
ATOL = 1e-5  # relative to the size of the values: scaled_atol


def _per_function(weight, *names):
    """pytest parameters, one per loss function, each marked with its own target."""
    return each_target("function", {name.rsplit("_", 1)[-1]: (name, weight, name) for name in names})


# -- problems and the hinge loss computed here ----------------------------------------------
def _problem(rng, N=20, D=12, C=5, labels=None, clear_of_kinks=True):
    """W (D, C), X (N, D), y (N,) with scores of order 1: some margins violated, some not.

    ``labels`` restricts y to those classes. With ``clear_of_kinks`` W is redrawn until no
    margin lies within 1e-3 of the hinge's kink, so float32 arithmetic cannot flip one.
    """
    X = rng.normal(size=(N, D))
    y = rng.choice(np.arange(C) if labels is None else np.asarray(labels), size=N)
    while True:
        W = rng.normal(scale=1.2 / np.sqrt(D), size=(D, C))
        scores = X @ W
        margins = scores - scores[np.arange(N), y][:, None] + 1.0
        margins[np.arange(N), y] = 1.0
        if not clear_of_kinks or np.min(np.abs(margins)) > 1e-3:
            return W, X, y


def _hinge(W, X, y, reg, delta=1.0, sign=1.0, correct_column=True):
    """(loss, dW) of the multiclass hinge loss, with the knobs that known mistakes turn."""
    N, rows = len(X), np.arange(len(X))
    scores = X @ W
    margins = sign * (scores - scores[rows, y][:, None]) + delta
    violated = margins > 0
    violated[rows, y] = False
    coefficients = sign * violated.astype(float)
    if correct_column:
        coefficients[rows, y] = -sign * violated.sum(axis=1)
    loss = np.sum(np.where(violated, margins, 0.0)) / N + reg * np.sum(W * W)
    return float(loss), X.T @ coefficients / N + 2 * reg * W


def _known_losses(W, X, y, reg):
    """{known mistake: the loss it gives}."""
    loss, _ = _hinge(W, X, y, reg)
    penalty = reg * np.sum(W * W)
    return {
        "the correct class was counted in the hinge sum (it runs over j != y_i only)": loss + 1.0,
        "the hinge sum was not divided by N (the loss is a mean over the examples)":
            len(X) * (loss - penalty) + penalty,
        "the margin is 0 instead of 1": _hinge(W, X, y, reg, delta=0.0)[0],
        "the margin has the wrong sign (it is s_j - s_{y_i} + 1)": _hinge(W, X, y, reg, sign=-1.0)[0],
    }


def _known_gradients(W, X, y, reg):
    """{known mistake: the gradient dW it gives}."""
    _, dW = _hinge(W, X, y, reg)
    data_part = dW - 2 * reg * W
    one_hot = np.eye(W.shape[1])[y]
    return {
        "the gradient was not divided by N (the loss is a mean over the examples)": len(X) * data_part + 2 * reg * W,
        "the column of the correct class is not updated (subtract X[i] from it once per violated margin)":
            _hinge(W, X, y, reg, correct_column=False)[1],
        "the correct class was counted in the hinge sum (it runs over j != y_i only)": dW - X.T @ one_hot / len(X),
        "the margin is 0 instead of 1": _hinge(W, X, y, reg, delta=0.0)[1],
        "the margin has the wrong sign (it is s_j - s_{y_i} + 1)": _hinge(W, X, y, reg, sign=-1.0)[1],
        "the gradient has the wrong sign": -data_part + 2 * reg * W,
    }


def _check_loss(loss, expected, W, X, y, reg, what="the loss"):
    diagnose(check_scalar(loss, what), expected, _known_losses(W, X, y, reg), what, rtol=RTOL,
             atol=scaled_atol(expected, ATOL))


def _check_gradient(dW, expected, W, X, y, reg, what="the gradient dW"):
    diagnose(check_array(dW, W.shape, what), expected, _known_gradients(W, X, y, reg), what,
             rtol=RTOL, atol=scaled_atol(expected, ATOL))


def _working_or_stop(student, reference, rng, function):
    """Fail unless ``function`` gets the loss or the gradient right (reg = 0) on a small input.

    The checks of form (structure, no loops, speed) need a version that does the work,
    but leave its remaining mistakes to the tests of values.
    """
    W, X, y = _problem(rng, N=15, D=9, C=4)
    loss, dW = returned_pair(getattr(student, function)(W, X, y, 0.0), function)
    expected_loss, expected_dW = reference.svm_loss_vectorized(W, X, y, 0.0)
    if not (close(check_scalar(loss, "the loss"), expected_loss, RTOL, scaled_atol(expected_loss, ATOL))
            or close(dW, expected_dW, RTOL, scaled_atol(expected_dW, ATOL))):
        raise Mistake(f"{function} gets neither the loss nor the gradient right yet, so this check cannot give credit")


# -- the loss, naive and vectorized ------------------------------------------------------------
@_per_function(1.5, *LOSS_FUNCTIONS)
def test_loss_value_without_regularization(student, reference, rng, function):
    """With reg = 0 the loss is the mean over the examples of the hinge sum with margin 1."""
    W, X, y = _problem(rng)
    loss, _ = returned_pair(getattr(student, function)(W, X, y, 0.0), function)
    _check_loss(loss, getattr(reference, function)(W, X, y, 0.0)[0], W, X, y, 0.0)


@_per_function(2, *LOSS_FUNCTIONS)
def test_gradient_without_regularization(student, reference, rng, function):
    """With reg = 0 the gradient dW of the mean hinge loss is right, column by column."""
    W, X, y = _problem(rng)
    _, dW = returned_pair(getattr(student, function)(W, X, y, 0.0), function)
    _check_gradient(dW, getattr(reference, function)(W, X, y, 0.0)[1], W, X, y, 0.0)


@_per_function(0.75, *LOSS_FUNCTIONS)
def test_regularization_term_of_the_loss(student, reference, rng, function):
    """A small and a large reg add reg * sum(W**2) to the loss."""
    W, X, y = _problem(rng)
    call = getattr(student, function)
    plain = check_scalar(returned_pair(call(W, X, y, 0.0), function)[0], "the loss")
    for reg in (0.05, 20.0):
        term = check_scalar(returned_pair(call(W, X, y, reg), function)[0], "the loss") - plain
        expected = getattr(reference, function)(W, X, y, reg)[0] - getattr(reference, function)(W, X, y, 0.0)[0]
        diagnose(term, expected, {
            "it is missing": 0.0,
            "it has a factor 1/2 (the convention here is reg * sum(W**2), no one-half)": expected / 2,
            "it was divided by N": expected / len(X),
        }, "the regularization term of the loss", rtol=RTOL, atol=1e-5 * max(1.0, abs(plain)))


@_per_function(0.75, *LOSS_FUNCTIONS)
def test_regularization_gradient(student, reference, rng, function):
    """A small and a large reg add 2 * reg * W to the gradient."""
    W, X, y = _problem(rng)
    call = getattr(student, function)
    _, plain = returned_pair(call(W, X, y, 0.0), function)
    plain = check_array(plain, W.shape, "the gradient dW")
    for reg in (0.05, 20.0):
        _, dW = returned_pair(call(W, X, y, reg), function)
        term = check_array(dW, W.shape, "the gradient dW") - plain
        expected = getattr(reference, function)(W, X, y, reg)[1] - getattr(reference, function)(W, X, y, 0.0)[1]
        diagnose(term, expected, {
            "the regularization gradient 2 * reg * W is missing": np.zeros_like(W),
            "the regularization gradient lacks its factor 2 (it is 2 * reg * W)": expected / 2,
            "the regularization gradient was divided by N": expected / len(X),
        }, "the regularization part of dW", rtol=RTOL, atol=scaled_atol(plain, ATOL))


@_per_function(1, *LOSS_FUNCTIONS)
def test_classes_absent_from_y_and_a_single_example(student, reference, rng, function):
    """Right when some classes (the last among them) never occur in y, and for a single example."""
    cases = [("when some classes do not occur in y", _problem(rng, N=14, D=8, C=6, labels=[0, 2, 3])),
             ("for a single example", _problem(rng, N=1, D=10, C=7))]
    for where, (W, X, y) in cases:
        loss, dW = returned_pair(getattr(student, function)(W, X, y, 0.0), function)
        expected_loss, expected_dW = getattr(reference, function)(W, X, y, 0.0)
        _check_loss(loss, expected_loss, W, X, y, 0.0, f"the loss {where}")
        _check_gradient(dW, expected_dW, W, X, y, 0.0, f"the gradient dW {where}")


@_per_function(0.5, *LOSS_FUNCTIONS)
def test_returns_a_number_and_a_D_by_C_array_and_leaves_inputs_unchanged(student, reference, rng, function):
    """Returns (loss as a number, dW of shape (D, C)) and leaves W, X and y unchanged."""
    _working_or_stop(student, reference, rng, function)
    W, X, y = _problem(rng, N=11, D=7, C=4)
    value, after, _ = getattr(student, function).inspect(W.copy(), X.copy(), y.copy(), 0.3)
    check_loss_pair(value, W, function, gradient="the gradient dW", pair="(loss, dW)")
    inputs_unchanged("W X y", (W, X, y), after)


# -- vectorized only: no loops, and fast -------------------------------------------------------
@target("svm_loss_vectorized", weight=1.5)
def test_vectorized_has_no_python_loops(student, student_code, reference, rng):
    """svm_loss_vectorized (and any helper of its cell it calls) has no Python loops or comprehensions."""
    _working_or_stop(student, reference, rng, "svm_loss_vectorized")
    tree = parse_cell(student_code, VECTORIZED_CELL)
    function, _ = find_function(tree, "svm_loss_vectorized")
    problem = loop_problem(function, tree, banned={"svm_loss_naive"}, banned_hint=", which loops in Python")
    if problem:
        raise Mistake(f"{problem}; compute the loss and gradient with whole-array operations")


@target("svm_loss_vectorized")
def test_vectorized_is_much_faster_than_naive(student, reference, speed, rng):
    """svm_loss_vectorized needs at most 1/3 of the CPU time of a naive version with loops on a large minibatch."""
    _working_or_stop(student, reference, rng, "svm_loss_vectorized")
    N, D, C = TIMED_SHAPE
    problem = draws(lambda: _problem(rng, 2 * N, D, C, clear_of_kinks=False))

    def inputs(scale, draw):  # scale 2: twice the examples, for the fallback that compares growth
        W, X, y = problem(draw)
        return (W, X[:scale * N], y[:scale * N], 1e-3), {}

    ratio, _ = speed.ratio("svm_loss_vectorized", "svm_loss_naive", inputs, timeout=10, needed=SPEEDUP)
    if ratio < SPEEDUP:
        raise Mistake(f"svm_loss_vectorized needs more than 1/{SPEEDUP} of the CPU time of a naive version with "
                      f"loops (the reference's) on the same input; expected at most 1/{SPEEDUP}: compute all "
                      "margins at once and the gradient as one matrix product")

# -- LinearClassifier.train ---------------------------------------------------------------------
class _RecordingLoss:
    """Stands in for ``self.loss``: records every minibatch; its gradient depends on the batch and reg only."""

    def __init__(self, direction, pull):
        self.direction, self.pull = direction, pull  # (D,) and (D, C)
        self.calls, self.returned = [], []

    def copy(self):
        """The same function, with empty records."""
        return _RecordingLoss(self.direction, self.pull)

    def evaluate(self, X_batch, y_batch, reg):
        """(loss, gradient) for a minibatch, recording nothing."""
        D, C = self.pull.shape
        grad, loss = reg * self.pull, float(reg)
        if X_batch.ndim == 2 and X_batch.shape[1] == D and y_batch.shape == (len(X_batch),) and len(X_batch):
            targets = np.eye(C)[np.clip(y_batch.astype(int), 0, C - 1)] - 1.0 / C
            grad = grad - X_batch.T @ targets / len(X_batch)
            loss += float(np.mean(X_batch @ self.direction) + 0.1 * np.mean(y_batch))
        return loss, grad

    def __call__(self, X_batch, y_batch, reg):
        X_batch, y_batch, reg = np.asarray(X_batch, dtype=float), np.asarray(y_batch), float(reg)
        self.calls.append((X_batch, y_batch, reg))
        loss, grad = self.evaluate(X_batch, y_batch, reg)
        self.returned.append(loss)
        return loss, grad

    def steps(self, learning_rate):
        """The sum of learning_rate * gradient over the recorded calls."""
        return sum(learning_rate * self.evaluate(*call)[1] for call in self.calls)


def _toy_data(rng, N=24, D=5, C=3):
    """Continuous random rows (all distinct) and labels 0 .. C-1, each used."""
    return rng.normal(size=(N, D)), rng.permutation(np.arange(N) % C)


def _draws(seed, N, B, iters, replace=True, new_W=None):
    """The row indices np.random.choice draws under ``seed`` (after drawing a W of shape ``new_W``)."""
    def draw():
        if new_W:
            np.random.randn(*new_W)
        return [list(np.random.choice(N, B, replace=replace)) for _ in range(iters)]
    return seeded(seed, draw)


def _check_batches(calls, X, y, settings, seed):
    """The student's minibatches, training from a given W: one per iteration, rows of X with their labels,
    as np.random.choice draws them."""
    N, B = len(X), settings["batch_size"]
    if not calls:
        raise Mistake("train never called self.loss; get each minibatch's loss and gradient from "
                      "self.loss(X_batch, y_batch, reg)")
    if len(calls) != settings["num_iters"]:
        raise Mistake("train should call self.loss exactly once per iteration (num_iters times)")
    drawn = []
    for X_batch, y_batch, reg in calls:
        if X_batch.shape != (B, X.shape[1]) or y_batch.shape != (B,):
            raise Mistake("each minibatch should hold batch_size rows of X, shape (batch_size, D), "
                          "and their labels, shape (batch_size,)")
        rows = row_indices(X, X_batch)
        if rows is None:
            raise Mistake("the minibatch holds rows that are not rows of X")
        if not np.array_equal(y_batch, y[rows]):
            raise Mistake("the labels y_batch are not aligned with the rows of X_batch")
        if not close(reg, settings["reg"], rtol=1e-12, atol=0):
            raise Mistake("train does not pass its reg to self.loss")
        drawn.append(rows)
    iters = settings["num_iters"]
    if drawn != _draws(seed, N, B, iters):
        if B <= N and drawn == _draws(seed, N, B, iters, replace=False):
            raise Mistake("the minibatches are drawn without replacement; draw them with replacement")
        if drawn == _draws(seed, N, B, iters, new_W=(X.shape[1], int(y.max()) + 1)):
            raise Mistake("train drew new random weights although self.W was already set; initialise W only "
                          "when it is None, so that a second call continues from the current W")
        raise Mistake("the minibatches are not the documented ones; draw each with "
                      "np.random.choice(num_train, batch_size), once per iteration")


def _check_final_W(W_final, W0, expected, steps, what="W after training"):
    """Compare the trained W with the reference's; ``steps`` is the sum of learning_rate * gradient."""
    W_final = check_array(W_final, expected.shape, what)
    diagnose(W_final, expected, {
        "W did not change during training (update self.W in place or assign it)": W0,
        "each step goes along the gradient instead of against it (W -= learning_rate * grad)": W0 + steps,
    }, what, rtol=1e-9, atol=1e-12)


def _train_both(student, reference, rng, X, y, W0, settings):
    """Train a student's and a reference classifier, each with a recording loss, under one seed.

    Returns (seed, the student's classifier, its recorder, the reference classifier).
    """
    seed = int(rng.integers(1000))
    recorder = _RecordingLoss(rng.normal(size=X.shape[1]), rng.normal(size=(X.shape[1], int(y.max()) + 1)))
    classifier, trusted = student.LinearSVM(), reference.LinearClassifier()
    classifier.loss = recorder  # called back from the worker
    trusted.loss = recorder.copy()
    if W0 is not None:
        classifier.W, trusted.W = W0.copy(), W0.copy()
    classifier.train(X, y, **settings, _seed=seed)
    seeded(seed, lambda: trusted.train(X, y, **settings))
    return seed, classifier, recorder, trusted


@target("LinearClassifier.train", weight=0.75)
def test_train_returns_the_loss_of_every_iteration(student, rng):
    """train returns a list with the loss self.loss gave at each iteration, and leaves X and y unchanged."""
    X, y = _toy_data(rng)
    recorder = _RecordingLoss(rng.normal(size=X.shape[1]), rng.normal(size=(X.shape[1], 3)))
    classifier = student.LinearSVM()
    classifier.W = rng.normal(scale=0.01, size=(X.shape[1], 3))
    classifier.loss = recorder
    settings = dict(learning_rate=0.05, reg=0.1, num_iters=6, batch_size=8)
    history, (X_after, y_after), _ = classifier.train.inspect(X.copy(), y.copy(), **settings)
    if not isinstance(history, (list, tuple, np.ndarray)) or len(history) != settings["num_iters"]:
        raise Mistake("train should return a list with one loss per iteration (num_iters values)")
    values = [check_scalar(value, "each entry of the loss history") for value in history]
    if not close(values, recorder.returned, rtol=1e-12, atol=0):
        raise Mistake("the loss history should hold, in order, the loss self.loss returned at each iteration")
    unchanged(X, X_after, "X")
    unchanged(y, y_after, "y")


@target("LinearClassifier.train", weight=1.5)
def test_train_follows_the_documented_sgd_under_a_seed(student, reference, rng):
    """Starting from a given W and a seed: the documented minibatches, then W -= learning_rate * grad each step."""
    X, y = _toy_data(rng)
    W0 = rng.normal(scale=0.01, size=(X.shape[1], 3))
    settings = dict(learning_rate=0.2, reg=0.05, num_iters=9, batch_size=7)
    seed, classifier, recorder, trusted = _train_both(student, reference, rng, X, y, W0, settings)
    _check_batches(recorder.calls, X, y, settings, seed)
    _check_final_W(classifier.W, W0, trusted.W, recorder.steps(settings["learning_rate"]))


@target("LinearClassifier.train", weight=0.5)
def test_train_initialises_W_as_small_random_D_by_C_weights_when_None(student, reference, rng):
    """A new classifier starts from 0.001 * np.random.randn(D, C), C = max(y) + 1, drawn before the first minibatch."""
    X, y = _toy_data(rng, N=30, D=6, C=4)
    settings = dict(learning_rate=0.0, reg=0.0, num_iters=2, batch_size=10)  # W stays where it started
    try:
        _, classifier, _, trusted = _train_both(student, reference, rng, X, y, None, settings)
    except StudentError as exc:
        if exc.type_name == "ValueError":  # the gradient (D, C) did not fit the W that train made
            raise Mistake("train failed on a new classifier (W None); initialise self.W with shape (D, C), "
                          "C = max(y) + 1, before the first minibatch") from None
        raise
    W = check_array(classifier.W, trusted.W.shape, "W after training a new classifier")
    if not close(W, trusted.W, rtol=1e-9, atol=1e-12):
        raise Mistake("a new classifier should start from W = 0.001 * np.random.randn(D, C), drawn once "
                      "before the first minibatch")


@target("LinearClassifier.train", weight=0.5)
def test_train_with_a_batch_larger_than_the_training_set(student, reference, rng):
    """A batch larger than the training set works: minibatches are drawn with replacement."""
    X, y = _toy_data(rng, N=6)
    W0 = rng.normal(scale=0.01, size=(X.shape[1], 3))
    settings = dict(learning_rate=0.1, reg=0.0, num_iters=4, batch_size=15)
    try:
        seed, classifier, recorder, trusted = _train_both(student, reference, rng, X, y, W0, settings)
    except StudentError as exc:
        if exc.type_name == "ValueError":
            raise Mistake("a batch larger than the training set raised ValueError; draw the minibatch with "
                          "replacement, np.random.choice(num_train, batch_size)") from None
        raise
    _check_batches(recorder.calls, X, y, settings, seed)
    _check_final_W(classifier.W, W0, trusted.W, recorder.steps(settings["learning_rate"]))


class _TrackedHinge:
    """Stands in for ``self.loss``: the reference hinge loss at the W that correct SGD steps would reach."""

    def __init__(self, reference, W0, learning_rate):
        self.reference, self.W, self.learning_rate = reference, W0.copy(), learning_rate

    def __call__(self, X_batch, y_batch, reg):
        loss, grad = self.reference.svm_loss_vectorized(self.W, np.asarray(X_batch, float), np.asarray(y_batch), reg)
        self.W = self.W - self.learning_rate * grad
        return loss, grad


@target("LinearClassifier.train")
def test_train_lowers_the_loss_on_a_separable_problem(student, reference, rng):
    """On three well separated clusters, training lowers the SVM loss of W on the whole training set by far."""
    N, D, C = 90, 4, 3
    centres = 5.0 * np.linalg.qr(rng.normal(size=(D, C)))[0].T  # orthogonal, about 7 apart
    y = rng.permutation(np.arange(N) % C)
    X = utils.add_bias(centres[y] + rng.normal(size=(N, D)))
    W0 = rng.normal(scale=1e-3, size=(D + 1, C))
    settings = dict(learning_rate=0.05, reg=1e-3, num_iters=40, batch_size=30)
    classifier = student.LinearSVM()
    classifier.W = W0.copy()
    classifier.loss = _TrackedHinge(reference, W0, settings["learning_rate"])
    classifier.train(X, y, **settings, _seed=int(rng.integers(1000)))
    W = check_array(classifier.W, W0.shape, "W after training")
    before, _ = reference.svm_loss_vectorized(W0, X, y, 0.0)
    after, _ = reference.svm_loss_vectorized(W, X, y, 0.0)
    if close(W, W0, rtol=0, atol=0):
        raise Mistake("W did not change during training (update self.W in place or assign it)")
    if not after < 0.25 * before:
        raise Mistake("training did not lower the loss on an easy problem; step against the gradient, "
                      "W -= learning_rate * grad, at every iteration")


# -- LinearClassifier.predict ----------------------------------------------------------------------
def _not_scores(y_pred, N, C):
    """A Mistake if predict returned the (N, C) scores rather than one label per row."""
    if isinstance(y_pred, np.ndarray) and y_pred.shape == (N, C):
        raise Mistake("predict returned the scores (N, C); return the label of the highest score of each row")


@target("LinearClassifier.predict")
def test_predict_returns_integer_labels_of_shape_N(student, rng):
    """predict returns a numpy array of integer labels of shape (N,), also for a single example."""
    D, C = 6, 4
    classifier = student.LinearSVM()
    classifier.W = rng.normal(size=(D, C))
    for N in (11, 1):
        y_pred = classifier.predict(rng.normal(size=(N, D)))
        _not_scores(y_pred, N, C)
        # The one check of the type and dtype: the test of the values takes a list or whole floats too.
        check_label_dtype(y_pred, (N,), f"predict(X) on {N} example{'s' if N > 1 else ''}")


@target("LinearClassifier.predict")
def test_predict_is_the_argmax_of_the_scores(student, rng):
    """predict gives each row of X the class of its highest score X @ W, and leaves X and W unchanged."""
    D, C, N = 7, 5, 25
    W0, X = rng.normal(size=(D, C)), rng.normal(size=(N, D))
    classifier = student.LinearSVM()
    classifier.W = W0.copy()
    y_pred, (X_after,), _ = classifier.predict.inspect(X.copy())
    _not_scores(y_pred, N, C)
    y_pred = check_labels(y_pred, (N,), "predict(X)")
    scores = X @ W0
    diagnose(y_pred, np.argmax(scores, axis=1), {
        "the class of the lowest score (argmin instead of argmax)": np.argmin(scores, axis=1),
    }, "predict(X)", rtol=0, atol=0)
    unchanged(X, X_after, "X")
    unchanged(W0, classifier.W, "self.W")


# -- best_svm -----------------------------------------------------------------------------------------
@target("best_svm")
def test_best_svm_reaches_the_target_validation_accuracy(tuned, manifest):
    """best_svm, left by the tuning cell, reaches the notebook's target accuracy on the validation set."""
    check_tuned_accuracy(tuned, manifest, "best_svm", "the best trained LinearSVM", with_bias=True,
                         predict=predict_linear)
