"""Hidden suite of logistic_regression.ipynb: the sigmoid, the logistic loss, mini-batch SGD, the tuned weights.

Shapes: N examples, D features (the last one a bias column of ones), B = batch_size.
Labels are +1 / -1. Values are compared with the reference and with the values
each known mistake gives, computed here.

One mistake, one deduction: ``logistic_loss`` is called with the reference's
``sigmoid`` in place of the submission's (``_replace``); ``sgd`` trains a loss
function of this suite (``_RecordingLoss``, called back from the worker), which
records every batch and the w it was evaluated at, so the SGD tests judge the
batches and the steps alone. The notebook loads ``predict_binary`` from
perceptron.ipynb; only the tuning cell uses it, and ``best_logistic_w`` is judged
here from its weights, on the validation split of ``utils.load_binary_digits``.

Overflow warnings: the call that looks for them runs with ``_warnings="error"``
(``_warned``), so in the worker numpy raises where it would warn, and a warning
is a named mistake rather than a silent stderr line.
"""
import numpy as np

from autograder.testing import (
    ACCURACY_BAND,
    Mistake,
    StudentError,
    check_array,
    check_loss_pair,
    check_number,
    check_scalar,
    close,
    describe_type,
    diagnose,
    dtype_name,
    inputs_unchanged,
    returned_pair,
    row_indices,
    target,
    unchanged,
)
from utils import load_binary_digits

NOTEBOOK = "logistic_regression.ipynb"
RTOL, ATOL = 1e-7, 1e-10
LARGE = 1000.0  # the magnitude of scores and margins that must give exact, finite results without warnings


def _warned(function, *args, **kwargs):
    """Whether the student's ``function(*args, **kwargs)`` makes numpy warn (overflow, invalid, divide by zero).

    Called with ``_warnings="error"``: in the worker, for this call only, a warning raises instead.
    """
    try:
        function(*args, _warnings="error", **kwargs)
    except StudentError as exc:
        if exc.type_name in ("FloatingPointError", "RuntimeWarning"):
            return True
        raise
    return False


# -- sigmoid ------------------------------------------------------------------------------------------
def _expit(z):
    """The logistic function, written here: exp(-|z|) never overflows."""
    small = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + small), small / (1.0 + small))


@target("sigmoid", weight=1.5)
def test_sigmoid_of_moderate_scores(student, rng):
    """sigmoid(z) is 1 / (1 + exp(-z)), entry by entry, for scores between -8 and 8."""
    z = rng.uniform(-8.0, 8.0, size=(4, 5))
    s = check_array(student.sigmoid(z.copy()), z.shape, "sigmoid(z)")
    diagnose(s, _expit(z), {
        "the sign of z is wrong: sigmoid(z) = 1 / (1 + exp(-z)), which is above 1/2 for z > 0": _expit(-z),
        "it is the derivative sigmoid(z) * (1 - sigmoid(z)), not sigmoid(z)": _expit(z) * _expit(-z),
    }, "sigmoid(z)", rtol=RTOL, atol=ATOL)


@target("sigmoid", weight=0.5)
def test_sigmoid_keeps_the_shape_of_z(student, rng):
    """sigmoid works entry by entry on a number and on arrays of 1 and 3 dimensions, keeping their shape."""
    number = float(rng.uniform(-4.0, 4.0))
    if not close(check_scalar(student.sigmoid(number), "sigmoid of a number"), _expit(number), RTOL, ATOL):
        raise Mistake("sigmoid of a single number is wrong")
    for shape in [(7,), (2, 3, 2)]:
        z = rng.uniform(-6.0, 6.0, size=shape)
        s = check_array(student.sigmoid(z.copy()), shape, f"sigmoid(z) for z of shape {shape}")
        if not close(s, _expit(z), RTOL, ATOL):
            raise Mistake(f"sigmoid(z) is wrong for z of shape {shape}")


def _large_scores(rng):
    """Scores of magnitude up to 1e3 (both ends included), mixed with moderate ones, in random order."""
    extremes = np.array([-LARGE, LARGE, -0.8 * LARGE, 0.8 * LARGE])
    return rng.permutation(np.concatenate([extremes, rng.uniform(-LARGE, LARGE, size=6),
                                           rng.uniform(-30.0, 30.0, size=6)]))


@target("sigmoid", weight=2)
def test_sigmoid_is_exact_at_scores_of_magnitude_1e3_without_overflow_warnings(student, rng):
    """sigmoid(1000) is exactly 1 and sigmoid(-1000) exactly 0, with no NaN and no overflow warning on the way."""
    z = _large_scores(rng)
    s = student.sigmoid(z.copy())
    if isinstance(s, np.ndarray) and s.shape == z.shape and s.dtype.kind == "f" and np.isnan(s).any():
        raise Mistake("sigmoid is NaN for large scores: exp(z) / (1 + exp(z)) is inf / inf for z near 1000; "
                      "use exp(-|z|), which never overflows")
    s = check_array(s, z.shape, "sigmoid(z) for large scores")
    saturated = np.abs(z) >= 0.8 * LARGE  # where float64 holds exactly 0.0 or 1.0
    if not np.array_equal(s[saturated], (z[saturated] > 0).astype(float)):
        raise Mistake("sigmoid is not exact at scores of magnitude 1e3: in float64, sigmoid(1000) is exactly 1.0 "
                      "and sigmoid(-1000) exactly 0.0 (clipping z, or adding a small constant, changes that)")
    if not close(s, _expit(z), RTOL, ATOL):
        raise Mistake("sigmoid(z) is wrong for scores between -1000 and 1000")
    if _warned(student.sigmoid, z.copy()):
        raise Mistake("sigmoid makes an overflow warning for large scores: np.exp of a large positive number "
                      "overflows (and np.where evaluates both of its branches on every entry); compute both "
                      "forms from exp(-|z|)")


@target("sigmoid", weight=0.5)
def test_sigmoid_returns_float64_and_leaves_z_unchanged(student, rng):
    """sigmoid returns float64 values, also for integer scores, and leaves z unchanged."""
    z = rng.uniform(-5.0, 5.0, size=(3, 4))
    s, (z_after,), _ = student.sigmoid.inspect(z.copy())
    unchanged(z, z_after, "z")
    for what, value, shape in (("sigmoid(z)", s, z.shape), ("sigmoid(z) for integer z",
                                                          student.sigmoid(np.arange(-3, 4)), (7,))):
        value = check_array(value, shape, what)
        if value.dtype != np.float64:
            raise Mistake(f"{what} has dtype {dtype_name(value.dtype)}; expected float64")


# -- logistic_loss ----------------------------------------------------------------------------------
def _problem(rng, N=20, D=6, scale=0.6):
    """w (D,), X (N, D) with the bias column, y (N,) of +1 / -1 (both present)."""
    X = np.column_stack([rng.normal(size=(N, D - 1)), np.ones(N)])
    y = rng.permutation(np.where(np.arange(N) % 2 == 0, 1, -1))
    return rng.normal(scale=scale, size=D), X, y


def _logistic(w, X, y, margin_sign=1.0):
    """(loss, grad) of the mean logistic loss without the penalty; margin_sign -1 gives the known sign slip."""
    margins = margin_sign * y * (X @ w)
    loss = float(np.mean(np.logaddexp(0.0, -margins)))
    return loss, -(X.T @ (margin_sign * y * _expit(-margins))) / len(X)


def _loss_call(student, reference, w, X, y, *reg, inspect=False):
    """The student's logistic_loss, with the reference's sigmoid in place of the submission's during the call."""
    call = student.logistic_loss.inspect if inspect else student.logistic_loss
    value = call(w, X, y, *reg, _replace={"sigmoid": reference.sigmoid})
    pair = value[0] if inspect else value
    returned_pair(pair, "logistic_loss", pair="(loss, grad)")
    return value


def _finite(value):
    """False for a number or array holding NaN or infinity; True otherwise (other checks judge its type)."""
    try:
        return bool(np.all(np.isfinite(np.asarray(value, dtype=float))))
    except (TypeError, ValueError):
        return True


@target("logistic_loss", weight=1.5)
def test_logistic_loss_value(student, reference, rng):
    """With the default reg the loss is the mean over the N examples of log(1 + exp(-y_i w.x_i))."""
    w, X, y = _problem(rng)
    loss, _ = _loss_call(student, reference, w, X, y)
    expected, _ = _logistic(w, X, y)
    diagnose(check_scalar(loss, "the loss"), expected, {
        "the loss was not divided by N (it is a mean over the examples)": len(X) * expected,
        "the margin has the wrong sign (the loss is log(1 + exp(-y_i w.x_i)))": _logistic(w, X, y, -1.0)[0],
        "the loss has the wrong sign (it is minus the mean log-likelihood)": -expected,
        "the labels were left out of the margin (it is y_i w.x_i)": float(np.mean(np.logaddexp(0.0, -(X @ w)))),
    }, "the loss", rtol=RTOL, atol=ATOL)


@target("logistic_loss", weight=2)
def test_logistic_loss_gradient(student, reference, rng):
    """With the default reg the gradient is -(1/N) X.T @ (y * sigmoid(-y * (X @ w)))."""
    w, X, y = _problem(rng)
    _, grad = _loss_call(student, reference, w, X, y)
    _, expected = _logistic(w, X, y)
    margins = y * (X @ w)
    diagnose(check_array(grad, w.shape, "the gradient", dtype_kind="fi"), expected, {
        "the gradient was not divided by N (the loss is a mean over the examples)": len(X) * expected,
        "the gradient has the wrong sign": -expected,
        "each example is weighted by sigmoid(m_i) instead of sigmoid(-m_i)": -(X.T @ (y * _expit(margins))) / len(X),
        "the labels were left out (it is -(1/N) X.T @ (y * sigmoid(-m)))": -(X.T @ _expit(-margins)) / len(X),
        "the margin has the wrong sign (m_i = y_i w.x_i)": _logistic(w, X, y, -1.0)[1],
    }, "the gradient", rtol=RTOL, atol=ATOL)


@target("logistic_loss", weight=1.5)
def test_penalty_adds_reg_times_sum_of_squares_and_its_gradient(student, reference, rng):
    """A small and a large reg add reg * sum(w**2) to the loss and 2 * reg * w to the gradient."""
    w, X, y = _problem(rng)
    plain_loss, plain_grad = _loss_call(student, reference, w, X, y, 0.0)
    plain_loss = check_scalar(plain_loss, "the loss")
    plain_grad = check_array(plain_grad, w.shape, "the gradient", dtype_kind="fi")
    N, no_bias = len(X), np.append(w[:-1], 0.0)
    for reg in (0.05, 3.0):
        loss, grad = _loss_call(student, reference, w, X, y, reg)
        term = reg * np.sum(w * w)
        diagnose(check_scalar(loss, "the loss") - plain_loss, term, {
            "it is missing": 0.0,
            "it has a factor 1/2 (the convention here is reg * sum(w**2), no one-half)": term / 2,
            "it was divided by N": term / N,
            "the bias weight was left out of it (here it is penalized with the rest)": reg * np.sum(no_bias ** 2),
        }, "the penalty's part of the loss", rtol=RTOL, atol=ATOL * max(1.0, abs(plain_loss)))
        expected = 2 * reg * w
        diagnose(check_array(grad, w.shape, "the gradient", dtype_kind="fi") - plain_grad, expected, {
            "the penalty's gradient 2 * reg * w is missing": np.zeros_like(w),
            "the penalty's gradient lacks its factor 2 (it is 2 * reg * w)": expected / 2,
            "the penalty's gradient was divided by N": expected / N,
            "the bias weight was left out of the penalty's gradient (here it is penalized with the rest)":
                2 * reg * no_bias,
        }, "the penalty's part of the gradient", rtol=RTOL, atol=ATOL)


@target("logistic_loss")
def test_logistic_loss_is_finite_for_margins_of_magnitude_1e3_without_overflow_warnings(student, reference, rng):
    """Margins of magnitude 1e3 give the right finite loss and gradient, with no overflow warning."""
    w, X, y = _problem(rng, N=10, D=4)
    margins = y * (X @ w)
    w = w * LARGE / np.max(np.abs(margins))  # the largest margin is +1000 or -1000, the others up to it
    loss, grad = _loss_call(student, reference, w, X, y)
    if not (_finite(loss) and _finite(grad)):
        raise Mistake("the loss or its gradient is NaN or infinite for margins of magnitude 1e3: "
                      "log(1 + exp(-m)) overflows; use np.logaddexp(0, -m), and sigmoid for the gradient")
    expected_loss, expected_grad = _logistic(w, X, y)
    if not close(check_scalar(loss, "the loss"), expected_loss, RTOL, ATOL):
        raise Mistake("the loss is wrong for margins of magnitude 1e3")
    if not close(check_array(grad, w.shape, "the gradient", dtype_kind="fi"), expected_grad, RTOL, ATOL):
        raise Mistake("the gradient is wrong for margins of magnitude 1e3")
    if _warned(student.logistic_loss, w, X, y, _replace={"sigmoid": reference.sigmoid}):
        raise Mistake("logistic_loss makes an overflow warning for margins of magnitude 1e3: np.exp of a large "
                      "positive number overflows; use np.logaddexp(0, -m) for the loss and sigmoid for the "
                      "gradient")


@target("logistic_loss", weight=0.5)
def test_logistic_loss_returns_a_number_and_a_float64_gradient(student, reference, rng):
    """Returns (loss as a number, grad a float64 array of shape (D,)) and leaves w, X and y unchanged."""
    w, X, y = _problem(rng, N=9, D=4)
    value, after, _ = _loss_call(student, reference, w.copy(), X.copy(), y.copy(), 0.2, inspect=True)
    check_loss_pair(value, w, "logistic_loss", dtype_kind="fi", float64=True)
    inputs_unchanged("w X y", (w, X, y), after)


# -- sgd ----------------------------------------------------------------------------------------------
class _RecordingLoss:
    """Stands in for loss_fn: records each call; loss and gradient depend on w and the batch only.

    The loss is a bowl around a centre set by the batch, 0.5 * |w - centre|^2, with gradient w - centre,
    so every step depends on the batch drawn and on the w it was taken from.
    """

    def __init__(self, pull, as_array=False):
        self.pull, self.as_array = pull, as_array  # (D,); whether the loss is returned as a 0-d array
        self.calls, self.returned = [], []

    def evaluate(self, w, X_batch, y_batch):
        """(loss, grad) at w for a batch, recording nothing; (0, 0) for a batch of the wrong shape."""
        D = len(self.pull)
        if w.shape != (D,) or X_batch.ndim != 2 or X_batch.shape[1] != D or y_batch.shape != (len(X_batch),) \
                or not len(X_batch):
            return 0.0, np.zeros(D)
        centre = X_batch.mean(axis=0) + self.pull * float(np.mean(y_batch))
        difference = w - centre
        return 0.5 * float(difference @ difference), difference

    def __call__(self, w, X_batch, y_batch):
        try:
            w, X_batch, y_batch = (np.asarray(v, dtype=float) for v in (w, X_batch, y_batch))
        except (TypeError, ValueError):  # not numbers: recorded as empty, for the checks to name
            w, X_batch, y_batch = np.zeros(0), np.zeros((0, 0)), np.zeros(0)
        self.calls.append((w.copy(), X_batch.copy(), y_batch.copy()))
        loss, grad = self.evaluate(w, X_batch, y_batch)
        self.returned.append(loss)
        return (np.array(loss) if self.as_array else loss), grad

    def trajectory(self, w0, learning_rate, sign=-1.0):
        """w0 and the w after each step w <- w + sign * learning_rate * grad, over the recorded batches."""
        ws = [np.asarray(w0, dtype=float)]
        for _, X_batch, y_batch in self.calls:
            ws.append(ws[-1] + sign * learning_rate * self.evaluate(ws[-1], X_batch, y_batch)[1])
        return ws


def _rows(rng, N=9, D=3):
    """X (N, D) with distinct rows, y (N,) of +1 / -1 (both present), and a starting w0 (D,)."""
    X = rng.normal(size=(N, D))
    y = rng.permutation(np.where(np.arange(N) % 2 == 0, 1, -1))
    return X, y, rng.normal(size=D)


def _draws(seed, N, B, iters, replace=True, once=True):
    """The row indices rng.choice(N, B) draws from rng = np.random.default_rng(seed), one call per iteration."""
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(iters):
        if not once:
            rng = np.random.default_rng(seed)
        draws.append([int(i) for i in rng.choice(N, B, replace=replace)])
    return draws


def _run_sgd(student, recorder, w0, X, y, **settings):
    """The student's sgd on the recorder; ValueError for a batch larger than N is the known mistake."""
    try:
        return returned_pair(student.sgd(recorder, w0, X, y, **settings), "sgd", pair="(w, loss_history)")
    except StudentError as exc:
        if exc.type_name == "ValueError" and settings.get("batch_size", 32) > len(X):
            raise Mistake("sgd raised ValueError for a batch larger than the training set: the batches are drawn "
                          "without replacement; draw them with rng.choice(N, batch_size), with replacement") from None
        raise


def _check_batches(calls, X, y, num_iters, batch_size, seed):
    """The batches loss_fn saw: num_iters of them, rows of X with their labels, as rng.choice draws them."""
    N = len(X)
    if not calls:
        raise Mistake("sgd never called loss_fn; evaluate loss_fn(w, X_batch, y_batch) once per iteration")
    if len(calls) != num_iters:
        raise Mistake("sgd should call loss_fn exactly once per iteration (num_iters times)")
    drawn = []
    for _, X_batch, y_batch in calls:
        if X_batch.shape != (batch_size, X.shape[1]) or y_batch.shape != (batch_size,):
            raise Mistake("each batch should hold batch_size rows of X, shape (B, D), and their labels, shape (B,)")
        rows = row_indices(X, X_batch)
        if rows is None:
            raise Mistake("a batch holds rows that are not rows of X")
        if not np.array_equal(y_batch, y[rows]):
            raise Mistake("the labels y_batch are not aligned with the rows of X_batch (index X and y alike)")
        drawn.append(rows)
    if drawn == _draws(seed, N, batch_size, num_iters):
        return
    if batch_size <= N and drawn == _draws(seed, N, batch_size, num_iters, replace=False):
        raise Mistake("the batches are drawn without replacement; draw them with rng.choice(N, batch_size), "
                      "with replacement")
    if drawn == _draws(seed, N, batch_size, num_iters, once=False):
        raise Mistake("the generator was created anew in every iteration, so every batch is the same; create "
                      "rng = np.random.default_rng(seed) once, before the loop")
    raise Mistake("the batches are not the documented ones; draw each with rng.choice(N, batch_size) from "
                  "rng = np.random.default_rng(seed), one call per iteration and nothing else drawn from rng")


def _check_steps(w, recorder, w0, learning_rate, unexplained=None):
    """The w loss_fn saw at each iteration and the w returned follow w <- w - learning_rate * grad.

    ``unexplained``: the message when the steps match no known mistake (default: they do not match).
    """
    expected = recorder.trajectory(w0, learning_rate)
    known = {
        "each step goes along the gradient instead of against it (w = w - learning_rate * grad)":
            recorder.trajectory(w0, learning_rate, sign=1.0),
        "the steps ignore the learning rate (w = w - learning_rate * grad)": recorder.trajectory(w0, 1.0),
        "w never changes: every step must update w": [np.asarray(w0, dtype=float)] * len(expected),
    }
    w = check_array(w, expected[-1].shape, "the returned w", dtype_kind="fi")
    # The w of each call (all but the last of a trajectory), then the w returned (its last).
    for what, actual, part in (("the w that loss_fn was evaluated at", [call[0] for call in recorder.calls],
                                slice(None, -1)), ("the returned w", w, -1)):
        if close(actual, expected[part], rtol=1e-9, atol=1e-12):
            continue
        for mistake, ws in known.items():
            if close(actual, ws[part], rtol=1e-9, atol=1e-12):
                raise Mistake(f"{what} is wrong; it looks like {mistake}")
        raise Mistake(unexplained or f"{what} does not match the expected values")


@target("sgd", weight=1.5)
def test_sgd_draws_the_documented_batches(student, rng):
    """Each iteration evaluates loss_fn once, on rows of X drawn by rng.choice(N, batch_size) with labels aligned."""
    X, y, w0 = _rows(rng)
    for num_iters, batch_size in ((6, 5), (3, 2 * len(X))):  # a batch larger than N: only with replacement
        seed = int(rng.integers(1000))
        recorder = _RecordingLoss(rng.normal(size=X.shape[1]))
        _run_sgd(student, recorder, w0, X, y, learning_rate=0.05, num_iters=num_iters, batch_size=batch_size,
                 seed=seed)
        _check_batches(recorder.calls, X, y, num_iters, batch_size, seed)


@target("sgd", weight=1.5)
def test_sgd_steps_against_the_gradient(student, rng):
    """Each iteration evaluates loss_fn at the current w and steps to w - learning_rate * grad."""
    X, y, w0 = _rows(rng)
    recorder = _RecordingLoss(rng.normal(size=X.shape[1]))
    learning_rate = float(rng.uniform(0.2, 0.4))
    w, _ = _run_sgd(student, recorder, w0.copy(), X, y, learning_rate=learning_rate, num_iters=5, batch_size=4,
                    seed=int(rng.integers(1000)))
    if not recorder.calls:
        raise Mistake("sgd never called loss_fn; evaluate loss_fn(w, X_batch, y_batch) once per iteration")
    _check_steps(w, recorder, w0, learning_rate)


@target("sgd")
def test_sgd_records_the_loss_of_every_iteration(student, rng):
    """loss_history holds, in order, the loss that loss_fn returned at each iteration, before its step."""
    X, y, w0 = _rows(rng)
    recorder = _RecordingLoss(rng.normal(size=X.shape[1]))
    num_iters = 7
    _, history = _run_sgd(student, recorder, w0, X, y, learning_rate=0.3, num_iters=num_iters, batch_size=3,
                          seed=int(rng.integers(1000)))
    if not isinstance(history, (list, tuple, np.ndarray)) or getattr(history, "ndim", 1) == 0 \
            or len(history) != num_iters:
        raise Mistake("loss_history should hold one loss per iteration (num_iters values)")
    values = [check_scalar(value, "each entry of loss_history") for value in history]
    if not close(values, recorder.returned[:num_iters], rtol=1e-12, atol=0) or len(recorder.returned) != num_iters:
        raise Mistake("loss_history should hold, in order, the loss that loss_fn returned at each iteration "
                      "(evaluated once per iteration, before the step)")


@target("sgd")
def test_sgd_defaults(student, rng):
    """With its defaults sgd takes 100 steps of size 0.1 on batches of 32 drawn under seed 0, even from fewer rows."""
    X, y, w0 = _rows(rng, N=20, D=3)
    recorder = _RecordingLoss(rng.normal(size=X.shape[1]))
    w, _ = _run_sgd(student, recorder, w0, X, y)
    if len(recorder.calls) != 100 or any(call[1].shape != (32, X.shape[1]) for call in recorder.calls):
        raise Mistake("the defaults are num_iters=100 and batch_size=32 (see the signature)")
    _check_batches(recorder.calls, X, y, 100, 32, 0)
    _check_steps(w, recorder, w0, 0.1, unexplained="the steps are not those of the default learning rate 0.1 "
                                                   "(see the signature)")


@target("sgd", weight=0.5)
def test_sgd_leaves_w0_X_and_y_unchanged(student, rng):
    """w0, X and y are unchanged after training: sgd works on a copy of w0."""
    X, y, w0 = _rows(rng)
    recorder = _RecordingLoss(rng.normal(size=X.shape[1]))
    _, (_, w0_after, X_after, y_after), _ = student.sgd.inspect(recorder, w0.copy(), X.copy(), y.copy(),
                                                                learning_rate=0.2, num_iters=4, batch_size=3)
    unchanged(w0, w0_after, "w0")
    unchanged(X, X_after, "X")
    unchanged(y, y_after, "y")


@target("sgd", weight=0.5)
def test_sgd_returns_float64_weights_and_a_list_of_numbers(student, rng):
    """Returns (w, a float64 array of shape (D,); loss_history, a list of numbers, even when loss_fn gives arrays)."""
    X, y, w0 = _rows(rng)
    recorder = _RecordingLoss(rng.normal(size=X.shape[1]), as_array=True)  # the loss as a 0-d array
    w, history = _run_sgd(student, recorder, w0, X, y, learning_rate=0.2, num_iters=4, batch_size=3)
    w = check_array(w, w0.shape, "the returned w", dtype_kind="fi")
    if w.dtype != np.float64:
        raise Mistake(f"the returned w has dtype {dtype_name(w.dtype)}; expected float64")
    if not isinstance(history, list):
        raise Mistake(f"loss_history should be a list, not {describe_type(history)}")
    for value in history:
        check_number(value, "each entry of loss_history (record float(loss))")


# -- best_logistic_w ------------------------------------------------------------------------------------
@target("best_logistic_w")
def test_best_logistic_w_reaches_the_target_validation_accuracy(tuned, manifest):
    """best_logistic_w, left by the tuning cell, reaches the notebook's target accuracy on the validation split."""
    data = load_binary_digits()  # the split the notebook's data cell loads
    best = tuned("best_logistic_w")
    if best is None:
        raise Mistake("best_logistic_w is None; the tuning cell must leave the weights it chose in best_logistic_w")
    if not isinstance(best, np.ndarray):
        raise Mistake(f"best_logistic_w should be a numpy array of weights, not {describe_type(best)}")
    D = data.X_val.shape[1]
    w = check_array(best, (D,), "best_logistic_w", dtype_kind="fi", expected_text=f"(D,) = ({D},)")
    # Computed here from the weights, never from predictions of the student's code.
    accuracy = float(np.mean(np.where(data.X_val @ w >= 0, 1, -1) == data.y_val))
    goal = manifest.accuracy_target("best_logistic_w", "digits")
    if not accuracy >= goal:
        # The accuracy comes from the student's weights, so it is tainted: only two coarse bands are shown.
        gap = "by at most" if accuracy >= goal - ACCURACY_BAND else "by more than"
        raise Mistake(f"best_logistic_w does not reach the target accuracy on the validation set: the target is "
                      f"{goal}, and its accuracy is below it {gap} {ACCURACY_BAND}; tune the hyperparameters further")
