"""Hidden suite of perceptron.ipynb: the prediction rule, the perceptron, its loss, the multiclass perceptron.

Shapes: N examples, D features (the last one a bias column of ones), C classes.
Binary labels are +1 / -1, multiclass labels 0 .. C-1. The algorithms run on
problems with small whole-number entries, so every score is exact and scores of
exactly 0 occur: the conventions at 0 (a score of 0 counts as +1, a margin of 0
is a mistake, ties go to the smallest class) are tested as stated, and the
values each known mistake gives are replayed here by ``_perceptron`` and
``_multiclass``. Labels are judged apart from their dtype, which one test checks.
``perceptron`` may call ``predict_binary`` or ``perceptron_loss``: the reference
stands in for both during its calls (``_replace``), so their mistakes cost their
own tests only.
"""

import numpy as np

from autograder.testing import (
    Mistake,
    StudentError,
    check_array,
    check_label_dtype,
    check_labels,
    check_loss_pair,
    check_scalar,
    close,
    diagnose,
    dtype_name,
    inputs_unchanged,
    returned_pair,
    target,
    unchanged,
)

NOTEBOOK = "perceptron.ipynb"
NO_WRAP = ("step t visits example t without wrapping around; it visits example t % N, so num_steps may "
           "exceed N")


# -- problems -----------------------------------------------------------------------------------
def _whole_numbers(rng, N, D, low=-3, high=3):
    """X (N, D): whole numbers in low .. high, then the bias column of ones."""
    return np.column_stack([rng.integers(low, high + 1, size=(N, D - 1)), np.ones(N)]).astype(float)


def _binary_labels(rng, N, first=None):
    """y (N,) of +1 / -1 with both labels present; ``first`` fixes y[0]."""
    y = rng.permutation(np.where(np.arange(N) % 2 == 0, 1, -1))
    if first is not None:
        y[0] = first
    return y


def _continuous(rng, N=20, D=6):
    """w (D,), X (N, D) with the bias column, y (N,): every margin at least 1e-3 away from 0."""
    X = np.column_stack([rng.normal(size=(N, D - 1)), np.ones(N)])
    y = _binary_labels(rng, N)
    while True:
        w = rng.normal(size=D)
        if np.min(np.abs(X @ w)) > 1e-3:
            return w, X, y


# -- predict_binary ---------------------------------------------------------------------------------
def _with_zero_scores(rng, N=12, D=5):
    """w (D,) and X (N, D) of whole numbers where every third score is exactly 0 and the others are not."""
    w = rng.integers(-3, 4, size=D).astype(float)
    w[0] = rng.choice([-1.0, 1.0])
    X = _whole_numbers(rng, N, D)
    for i in range(N):
        rest = X[i, 1:] @ w[1:]
        if i % 3 == 0:
            X[i, 0] = -rest / w[0]  # w[0] is +1 or -1: a whole number again
        elif X[i] @ w == 0:
            X[i, 0] += 1.0
    return w, X


@target("predict_binary", weight=0.5)
def test_predict_binary_returns_integer_labels_of_shape_N(student, rng):
    """predict_binary returns a numpy array of integer labels of shape (N,), also for a single example."""
    for N in (9, 1):
        w, X, _ = _continuous(rng, N=N, D=4)
        # The one check of the type and dtype: the tests of the values take a list or whole floats too.
        check_label_dtype(student.predict_binary(w, X), (N,), f"predict_binary(w, X) on {N} example{'s' * (N > 1)}")


@target("predict_binary", weight=1.5)
def test_predict_binary_is_the_sign_of_the_scores(student, rng):
    """predict_binary gives +1 where X @ w is positive and -1 where it is negative, and leaves w and X unchanged."""
    w, X, _ = _continuous(rng, N=25, D=6)
    value, (w_after, X_after), _ = student.predict_binary.inspect(w.copy(), X.copy())
    labels = check_labels(value, (len(X),), "predict_binary(w, X)")
    expected = np.where(X @ w >= 0, 1, -1)
    diagnose(labels, expected, {
        "the labels are the wrong way round (+1 goes with a positive score X @ w)": -expected,
        "labels 1 and 0 instead of +1 and -1": (expected + 1) // 2,
    }, "predict_binary(w, X)", rtol=0, atol=0)
    unchanged(w, w_after, "w")
    unchanged(X, X_after, "X")


@target("predict_binary")
def test_a_score_of_exactly_zero_counts_as_plus_one(student, rng):
    """A score of exactly 0 gives +1, so w = 0 predicts +1 for every example."""
    w, X = _with_zero_scores(rng)
    scores = X @ w
    cases = [("when some scores are exactly 0", w, scores),
             ("for w = 0", np.zeros_like(w), np.zeros(len(X)))]
    for where, weights, scores in cases:
        labels = check_labels(student.predict_binary(weights, X), (len(X),), f"predict_binary(w, X) {where}")
        diagnose(labels, np.where(scores >= 0, 1, -1), {
            "a score of exactly 0 was counted as -1; it counts as +1": np.where(scores > 0, 1, -1),
            "np.sign gives 0 for a score of exactly 0, which is not a label; count it as +1": np.sign(scores),
        }, f"predict_binary(w, X) {where}", rtol=0, atol=0)


# -- perceptron -------------------------------------------------------------------------------------
def _perceptron(X, y, num_steps, rule="<=", sign=1.0, with_label=True, wrap=True, epochs=False):
    """The weights after num_steps steps of the algorithm, with the knobs that known mistakes turn.

    ``rule``: when to update, "<=" (margin <= 0, the algorithm), "<" (margin < 0), or "predicted"
    (the prediction with 0 counted as +1 differs from the label).
    """
    N, D = X.shape
    w = np.zeros(D)
    steps = num_steps * N if epochs else num_steps if wrap else min(num_steps, N)
    for t in range(steps):
        i = t % N
        score = w @ X[i]
        margin = y[i] * score
        if {"<=": margin <= 0, "<": margin < 0, "predicted": (1 if score >= 0 else -1) != y[i]}[rule]:
            w = w + sign * (y[i] if with_label else 1) * X[i]
    return w


def _known_perceptrons(X, y, num_steps):
    """{known mistake: the weights it gives}."""
    return {  # "predicted" first: one step from w = 0 with y[0] = +1 leaves w = 0 under both rules
        "a margin of exactly 0 was not always taken as a mistake (the test is y[i] * w @ X[i] <= 0)":
            _perceptron(X, y, num_steps, rule="predicted"),
        "the update test is < 0 instead of <= 0: from w = 0 every margin is 0, so nothing is ever updated":
            _perceptron(X, y, num_steps, rule="<"),
        NO_WRAP: _perceptron(X, y, num_steps, wrap=False),
        "num_steps was taken as a number of epochs; it counts steps, one example each":
            _perceptron(X, y, num_steps, epochs=True),
        "the update has the wrong sign (it is w + y[i] * X[i])": _perceptron(X, y, num_steps, sign=-1.0),
        "the update leaves out the label (it is w + y[i] * X[i])": _perceptron(X, y, num_steps, with_label=False),
    }


def _run_perceptron(student, reference, X, y, num_steps, what):
    """The student's perceptron(X, y, num_steps), with the reference in place of the other graded functions."""
    stand_ins = {"predict_binary": reference.predict_binary, "perceptron_loss": reference.perceptron_loss}
    try:
        w = student.perceptron(X, y, num_steps, _replace=stand_ins)
    except StudentError as exc:
        if exc.type_name == "IndexError" and num_steps > len(X):
            raise Mistake(f"{what}: perceptron raised IndexError with num_steps > N; {NO_WRAP}") from None
        raise
    return check_array(w, (X.shape[1],), what, dtype_kind="fi")


@target("perceptron", weight=3)
def test_perceptron_weights_after_num_steps(student, reference, rng):
    """w after num_steps steps is the algorithm's, for fewer steps than examples and for several passes."""
    N, D = 15, 5
    X, y = _whole_numbers(rng, N, D), _binary_labels(rng, N)
    for num_steps in (N - 4, N, 3 * N + 2):
        what = f"w after {num_steps} steps on {N} examples"
        w = _run_perceptron(student, reference, X, y, num_steps, what)
        diagnose(w, reference.perceptron(X, y, num_steps), _known_perceptrons(X, y, num_steps), what,
                 rtol=1e-12, atol=1e-12)


@target("perceptron", weight=1.5)
def test_a_margin_of_exactly_zero_is_a_mistake(student, reference, rng):
    """An example with a margin of exactly 0 is updated: the first step from w = 0 always is, whatever its label."""
    N, D = 8, 4
    X = _whole_numbers(rng, N, D)
    for first in (-1, 1):  # y[0] = -1 first: there only "< 0" leaves w = 0 after one step
        y = _binary_labels(rng, N, first=first)
        for num_steps in (1, 2 * N + 1):
            what = f"w after {num_steps} step{'s' * (num_steps > 1)} with y[0] = {first:+d}"
            w = _run_perceptron(student, reference, X, y, num_steps, what)
            diagnose(w, reference.perceptron(X, y, num_steps), _known_perceptrons(X, y, num_steps), what,
                     rtol=1e-12, atol=1e-12)


@target("perceptron")
def test_perceptron_returns_float64_weights_and_leaves_X_and_y_unchanged(student, reference, rng):
    """perceptron returns float64 weights of shape (D,), zeros for 0 steps, and leaves X and y unchanged."""
    N, D = 7, 4
    X, y = _whole_numbers(rng, N, D), _binary_labels(rng, N)
    w = _run_perceptron(student, reference, X, y, 0, "w after 0 steps")
    if w.dtype != np.float64:
        raise Mistake(f"w has dtype {dtype_name(w.dtype)}; expected float64 (start from np.zeros(D))")
    if not close(w, np.zeros(D), rtol=0, atol=0):
        raise Mistake("with num_steps = 0 the weights should be the starting w = 0")
    stand_ins = {"predict_binary": reference.predict_binary, "perceptron_loss": reference.perceptron_loss}
    # N - 1 steps: wrapping around is a detail of the tests of values, not of this one.
    _, (X_after, y_after, _), _ = student.perceptron.inspect(X.copy(), y.copy(), N - 1, _replace=stand_ins)
    unchanged(X, X_after, "X")
    unchanged(y, y_after, "y")


# -- perceptron_loss --------------------------------------------------------------------------------
def _perceptron_gradient(w, X, y, counted="<="):
    """-(1/N) sum of y_i x_i over the examples whose margin is <= 0 (or < 0, or > 0)."""
    margins = y * (X @ w)
    chosen = {"<=": margins <= 0, "<": margins < 0, ">": margins > 0}[counted]
    return -(X.T @ (y * chosen)) / len(X)


def _known_losses(w, X, y):
    """{known mistake: the loss it gives}."""
    margins = y * (X @ w)
    total = float(np.sum(np.maximum(0.0, -margins)))
    return {
        "the loss was not divided by N (it is a mean over all N examples)": total,
        "the mean was taken over the mistakes only; divide by N, the number of all examples":
            total / max(1, int(np.sum(margins <= 0))),
        "the margin has the wrong sign (the loss is max(0, -y_i w.x_i))": float(np.mean(np.maximum(0.0, margins))),
        "it is the hinge loss max(0, 1 - y_i w.x_i), not the perceptron loss max(0, -y_i w.x_i)":
            float(np.mean(np.maximum(0.0, 1.0 - margins))),
    }


def _known_gradients(w, X, y):
    """{known mistake: the gradient it gives}."""
    grad, N = _perceptron_gradient(w, X, y), len(X)
    mistakes = int(np.sum(y * (X @ w) <= 0))
    return {
        "the gradient was not divided by N (the loss is a mean over all N examples)": N * grad,
        "the gradient has the wrong sign (it is -(1/N) times the sum of y_i x_i over the mistakes)": -grad,
        "the gradient was divided by the number of mistakes; divide by N, the number of all examples":
            N * grad / max(1, mistakes),
        "the gradient sums over every example, not only over those with margin <= 0": -(X.T @ y) / N,
        "the gradient sums over the correctly classified examples instead of the mistakes":
            _perceptron_gradient(w, X, y, counted=">"),
        "the label was left out of the gradient (each mistake adds -y_i x_i)":
            -(X.T @ (y * (X @ w) <= 0).astype(float)) / N,
    }


def _loss_pair(student, w, X, y):
    return returned_pair(student.perceptron_loss(w, X, y), "perceptron_loss", pair="(loss, grad)")


@target("perceptron_loss", weight=1.5)
def test_perceptron_loss_value(student, reference, rng):
    """The loss is the mean over all N examples of max(0, -y_i w.x_i)."""
    w, X, y = _continuous(rng)
    loss, _ = _loss_pair(student, w, X, y)
    expected, _ = reference.perceptron_loss(w, X, y)
    diagnose(check_scalar(loss, "the loss"), expected, _known_losses(w, X, y), "the loss", rtol=1e-9, atol=1e-12)


@target("perceptron_loss", weight=2)
def test_perceptron_loss_gradient(student, reference, rng):
    """The gradient is -(1/N) times the sum of y_i x_i over the examples with y_i w.x_i <= 0."""
    w, X, y = _continuous(rng)
    _, grad = _loss_pair(student, w, X, y)
    _, expected = reference.perceptron_loss(w, X, y)
    diagnose(check_array(grad, w.shape, "the gradient", dtype_kind="fi"), expected, _known_gradients(w, X, y),
             "the gradient", rtol=1e-9, atol=1e-12)


@target("perceptron_loss", weight=1.5)
def test_examples_on_the_boundary_count_in_the_gradient(student, reference, rng):
    """Examples with a margin of exactly 0 count in the gradient, as in the algorithm: at w = 0 all of them do."""
    w, X = _with_zero_scores(rng, N=12, D=5)
    y = _binary_labels(rng, len(X))
    for where, weights in (("when some margins are exactly 0", w), ("at w = 0", np.zeros_like(w))):
        _, grad = _loss_pair(student, weights, X, y)
        what = f"the gradient {where}"
        diagnose(check_array(grad, w.shape, what, dtype_kind="fi"), reference.perceptron_loss(weights, X, y)[1], {
            "the examples with a margin of exactly 0 were left out (they count, as in the algorithm; "
            "otherwise SGD could never leave w = 0)": _perceptron_gradient(weights, X, y, counted="<"),
            **_known_gradients(weights, X, y),
        }, what, rtol=1e-12, atol=1e-12)


@target("perceptron_loss", weight=0.5)
def test_perceptron_loss_returns_a_number_and_a_float64_gradient(student, rng):
    """Returns (loss as a number, grad a float64 array of shape (D,)) and leaves w, X and y unchanged."""
    w, X, y = _continuous(rng, N=9, D=4)
    value, after, _ = student.perceptron_loss.inspect(w.copy(), X.copy(), y.copy())
    check_loss_pair(value, w, "perceptron_loss", dtype_kind="fi", float64=True)
    inputs_unchanged("w X y", (w, X, y), after)


# -- multiclass_perceptron ---------------------------------------------------------------------------
def _multiclass(X, y, C, num_steps, ties="smallest", subtract=True, sign=1.0, wrap=True, epochs=False):
    """W (D, C) after num_steps steps of the multiclass perceptron, with the knobs of known mistakes."""
    N, D = X.shape
    W = np.zeros((D, C))
    steps = num_steps * N if epochs else num_steps if wrap else min(num_steps, N)
    for t in range(steps):
        i = t % N
        scores = X[i] @ W
        predicted = int(np.argmax(scores)) if ties == "smallest" else C - 1 - int(np.argmax(scores[::-1]))
        if predicted != y[i]:
            W[:, y[i]] += sign * X[i]
            if subtract:
                W[:, predicted] -= sign * X[i]
    return W


def _known_multiclass(X, y, C, num_steps):
    """{known mistake: the W it gives}."""
    return {
        "ties in the argmax went to the largest class; they go to the smallest (as np.argmax returns)":
            _multiclass(X, y, C, num_steps, ties="largest"),
        "the predicted class's column was not updated (subtract X[i] from it)":
            _multiclass(X, y, C, num_steps, subtract=False),
        "the updates have the wrong signs (add X[i] to the correct class's column, subtract it from the "
        "predicted class's)": _multiclass(X, y, C, num_steps, sign=-1.0),
        NO_WRAP: _multiclass(X, y, C, num_steps, wrap=False),
        "num_steps was taken as a number of epochs; it counts steps, one example each":
            _multiclass(X, y, C, num_steps, epochs=True),
    }


def _run_multiclass(student, X, y, C, num_steps, what):
    try:
        W = student.multiclass_perceptron(X, y, C, num_steps)
    except StudentError as exc:
        if exc.type_name == "IndexError" and num_steps > len(X):
            raise Mistake(f"{what}: multiclass_perceptron raised IndexError with num_steps > N; {NO_WRAP}") from None
        raise
    if isinstance(W, np.ndarray) and W.ndim == 2 and W.shape[0] == X.shape[1] and W.shape[1] != C:
        raise Mistake(f"{what}: W should have num_classes columns, one per class, also for classes that do not "
                      "occur in y")
    return check_array(W, (X.shape[1], C), what, dtype_kind="fi", expected_text=f"(D, C) = ({X.shape[1]}, {C})")


@target("multiclass_perceptron", weight=3)
def test_multiclass_weights_after_num_steps(student, reference, rng):
    """W after num_steps steps is the algorithm's, for fewer steps than examples and for several passes."""
    N, D, C = 14, 4, 4
    X, y = _whole_numbers(rng, N, D), rng.permutation(np.arange(N) % C)
    for num_steps in (N - 3, 3 * N + 1):
        what = f"W after {num_steps} steps on {N} examples"
        W = _run_multiclass(student, X, y, C, num_steps, what)
        diagnose(W, reference.multiclass_perceptron(X, y, C, num_steps), _known_multiclass(X, y, C, num_steps),
                 what, rtol=1e-12, atol=1e-12)


@target("multiclass_perceptron", weight=1.5)
def test_ties_in_the_argmax_go_to_the_smallest_class(student, reference, rng):
    """From W = 0 every score ties, so the first prediction is class 0; later ties also go to the smallest class."""
    N, D, C = 9, 3, 3
    X = _whole_numbers(rng, N, D, low=-1, high=1)
    for first in (0, 2):
        y = rng.integers(C, size=N)
        y[0] = first
        for num_steps in (1, 2 * N):
            what = f"W after {num_steps} step{'s' * (num_steps > 1)} with y[0] = {first}"
            W = _run_multiclass(student, X, y, C, num_steps, what)
            diagnose(W, reference.multiclass_perceptron(X, y, C, num_steps), _known_multiclass(X, y, C, num_steps),
                     what, rtol=1e-12, atol=1e-12)


@target("multiclass_perceptron")
def test_classes_absent_from_y_keep_their_columns(student, reference, rng):
    """W has num_classes columns even when some classes (the last among them) never occur in y."""
    N, D, C = 12, 4, 6
    X, y = _whole_numbers(rng, N, D), rng.choice([0, 2, 3], size=N)
    what = f"W for {C} classes, some absent from y"
    W = _run_multiclass(student, X, y, C, 2 * N, what)
    diagnose(W, reference.multiclass_perceptron(X, y, C, 2 * N), _known_multiclass(X, y, C, 2 * N), what,
             rtol=1e-12, atol=1e-12)


@target("multiclass_perceptron", weight=0.5)
def test_multiclass_returns_float64_weights_and_leaves_X_and_y_unchanged(student, rng):
    """multiclass_perceptron returns float64 W of shape (D, C), zeros for 0 steps, and leaves X and y unchanged."""
    N, D, C = 8, 3, 4
    X, y = _whole_numbers(rng, N, D), rng.integers(C, size=N)
    W = _run_multiclass(student, X, y, C, 0, "W after 0 steps")
    if W.dtype != np.float64:
        raise Mistake(f"W has dtype {dtype_name(W.dtype)}; expected float64 (start from np.zeros((D, C)))")
    if not close(W, np.zeros((D, C)), rtol=0, atol=0):
        raise Mistake("with num_steps = 0, W should be the starting W = 0")
    # N - 1 steps: wrapping around is a detail of the tests of values, not of this one.
    _, (X_after, y_after, _, _), _ = student.multiclass_perceptron.inspect(X.copy(), y.copy(), C, N - 1)
    unchanged(X, X_after, "X")
    unchanged(y, y_after, "y")
