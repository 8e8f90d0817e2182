"""Hidden suite of two_layer_net.ipynb: loss and gradients, SGD training, prediction, the tuned net.

Shapes: N examples, D features, H hidden units, C classes. Nets are built in
the worker with ``student.TwoLayerNet(D, H, C)`` and given known parameters by
setting ``net.params``; the reference gets the same parameters here.
Tolerances admit float32 arithmetic; every known mistake moves the values by
far more.

One mistake, one deduction: train's tests give the student's net trusted
stand-ins for ``self.loss`` and ``self.predict`` (called back from the worker),
and predict's tests one for ``self.loss``, so each test judges its own target;
only best_net is trained by the student's own code throughout.
"""
import numpy as np

from autograder.testing import (
    Mistake,
    StudentError,
    check_array,
    check_label_dtype,
    check_labels,
    check_number,
    check_scalar,
    check_tuned_accuracy,
    close,
    clusters,
    describe_type,
    diagnose,
    each_target,
    predict_two_layer,
    returned_pair,
    row_indices,
    scaled_atol,
    seeded,
    target,
    unchanged,
)

NOTEBOOK = "two_layer_net.ipynb"
PARAM_NAMES = ("W1", "b1", "W2", "b2")
RTOL = 1e-4


# -- building problems and nets ----------------------------------------------------
def _params(rng, D, H, C):
    """Random parameters; biases are non-zero so that a regularized bias shows."""
    return {
        "W1": rng.normal(scale=1 / np.sqrt(D), size=(D, H)),
        "b1": rng.normal(scale=0.5, size=H),
        "W2": rng.normal(scale=1 / np.sqrt(H), size=(H, C)),
        "b2": rng.normal(scale=0.5, size=C),
    }


def _problem(rng, N=7, D=6, H=5, C=4):
    """X (N, D), labels that never use the last class, and parameters (D, H, C all different)."""
    return rng.normal(size=(N, D)), rng.integers(0, C - 1, size=N), _params(rng, D, H, C)


def _blobs(rng, N, D, C):
    """An easy problem: C unit Gaussian clusters 4 apart on random axes (C <= D), classes balanced."""
    centers = 4.0 * np.eye(D)[rng.permutation(D)[:C]]
    y = rng.permutation(np.arange(N) % C)
    return clusters(rng, centers, y), y


def _net(module, params):
    """A TwoLayerNet of ``module`` (student or reference) holding copies of ``params``."""
    (D, H), C = params["W1"].shape, params["W2"].shape[1]
    net = module.TwoLayerNet(D, H, C, std=0.1)
    net.params = {name: value.copy() for name, value in params.items()}
    return net


# -- what the student's loss returned ------------------------------------------------
def _gradient_array(grads, name, shape):
    """grads[name] as an array of the parameter's shape, or a Mistake (naming a transposed one)."""
    if not isinstance(grads, dict) or name not in grads:
        raise Mistake(f"grads has no entry '{name}'")
    value = grads[name]
    if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape == shape[::-1] != shape:
        raise Mistake(f"grads['{name}'] is transposed; it must have the shape of params['{name}']")
    return check_array(value, shape, f"grads['{name}']")


def _gradient_mistakes(name, params, X, y, reg, wanted):
    """{known backprop mistake: the gradient of parameter ``name`` it gives}."""
    N, param = len(X), params[name]
    if name.startswith("W"):
        data_part = wanted - 2 * reg * param
        known = {
            "the regularization gradient 2 * reg * W is missing": data_part,
            "the regularization gradient lacks its factor 2 (it is 2 * reg * W)": data_part + reg * param,
            "the data gradient was not divided by N": N * data_part + 2 * reg * param,
        }
    else:
        known = {
            "the bias was regularized; biases get no regularization gradient": wanted + 2 * reg * param,
            "the bias was regularized (without the factor 2); biases get no regularization gradient":
                wanted + reg * param,
            "the data gradient was not divided by N": N * wanted,
        }
    if name in ("W1", "b1"):  # the gradient that reaches the first layer without the ReLU's mask
        W1, b1, W2, b2 = (params[key] for key in PARAM_NAMES)
        scores = np.maximum(0.0, X @ W1 + b1) @ W2 + b2
        probs = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        probs[np.arange(N), y] -= 1.0
        dhidden = probs / N @ W2.T
        unmasked = X.T @ dhidden + 2 * reg * W1 if name == "W1" else dhidden.sum(axis=0)
        known["the ReLU mask is missing in the backward pass (pass gradient only where the input was > 0)"] = unmasked
    return known


def _gradient_test(student, reference, rng, name):
    X, y, params = _problem(rng)
    reg = float(rng.uniform(0.1, 0.5))
    _, grads = returned_pair(_net(student, params).loss(X, y, reg=reg), "with labels, loss", "(loss, grads)")
    wanted = _net(reference, params).loss(X, y, reg=reg)[1][name]
    diagnose(_gradient_array(grads, name, wanted.shape), wanted, _gradient_mistakes(name, params, X, y, reg, wanted),
             f"grads['{name}']", rtol=RTOL, atol=scaled_atol(wanted, 1e-6))


# -- TwoLayerNet.loss -----------------------------------------------------------------------
@target("TwoLayerNet.loss")
def test_scores_without_labels(student, reference, rng):
    """Without y, loss returns the class scores of affine - ReLU - affine."""
    X, _, params = _problem(rng)
    expected = _net(reference, params).loss(X)
    scores = check_array(_net(student, params).loss(X), expected.shape, "the scores returned without y")
    no_relu = (X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
    diagnose(scores, expected, {"the ReLU was left out of the forward pass": no_relu}, "the score matrix",
             rtol=RTOL, atol=scaled_atol(expected, 1e-6))


@target("TwoLayerNet.loss")
def test_loss_value_without_regularization(student, reference, rng):
    """With reg = 0 the loss is the mean softmax cross-entropy."""
    X, y, params = _problem(rng)
    loss, _ = returned_pair(_net(student, params).loss(X, y, reg=0.0), "with labels, loss", "(loss, grads)")
    expected, _ = _net(reference, params).loss(X, y, reg=0.0)
    diagnose(check_scalar(loss, "the loss"), expected, {
        "the loss is summed over the examples instead of averaged (divide by N)": len(X) * expected,
        "the loss has the wrong sign": -expected,
    }, "the loss", rtol=RTOL, atol=1e-6)


@target("TwoLayerNet.loss")
def test_regularization_term_of_the_loss(student, reference, rng):
    """With reg > 0 the loss grows by reg * (sum(W1**2) + sum(W2**2))."""
    X, y, params = _problem(rng)
    reg = float(rng.uniform(0.1, 0.5))
    # A net for each call, so that a loss that changes the parameters costs only the test that says so.
    plain, _ = returned_pair(_net(student, params).loss(X, y, reg=0.0), "with labels, loss", "(loss, grads)")
    regularized, _ = returned_pair(_net(student, params).loss(X, y, reg=reg), "with labels, loss", "(loss, grads)")
    term = check_scalar(regularized, "the loss") - check_scalar(plain, "the loss")
    reference_net = _net(reference, params)
    expected = reference_net.loss(X, y, reg=reg)[0] - reference_net.loss(X, y, reg=0.0)[0]
    squares = {name: float(np.sum(value ** 2)) for name, value in params.items()}
    diagnose(term, expected, {
        "the biases were regularized too (only W1 and W2 are)": expected + reg * (squares["b1"] + squares["b2"]),
        "it has a factor 0.5 (the convention here is reg * sum(W**2), no one-half)": expected / 2,
        "it was divided by N": expected / len(X),
        "only W1 is regularized (W2 must be too)": reg * squares["W1"],
        "only W2 is regularized (W1 must be too)": reg * squares["W2"],
    }, "the regularization term", rtol=RTOL, atol=1e-6)


@each_target("name", {name: ("TwoLayerNet.loss", weight, name)
                        for name, weight in (("W1", 1.5), ("b1", 1), ("W2", 1.5), ("b2", 1))})
def test_gradient_of_each_parameter(student, reference, rng, name):
    """grads[name] is the gradient of the loss (with regularization, for W1 and W2) with respect to that parameter."""
    _gradient_test(student, reference, rng, name)


@target("TwoLayerNet.loss", weight=0.5)
def test_loss_is_returned_as_a_number(student, rng):
    """With labels, the loss comes back as a number (a Python float), not as an array."""
    X, y, params = _problem(rng)
    loss, _ = returned_pair(_net(student, params).loss(X, y, reg=0.1), "with labels, loss", "(loss, grads)")
    check_number(loss, "the loss")


@target("TwoLayerNet.loss", weight=0.5)
def test_grads_has_one_array_per_parameter(student, rng):
    """grads has exactly the keys W1, b1, W2, b2, each an array of its parameter's shape."""
    X, y, params = _problem(rng)
    _, grads = returned_pair(_net(student, params).loss(X, y, reg=0.0), "with labels, loss", "(loss, grads)")
    if not isinstance(grads, dict) or set(grads) != set(PARAM_NAMES):
        raise Mistake("grads must be a dict with exactly the keys W1, b1, W2, b2")
    for name in PARAM_NAMES:
        _gradient_array(grads, name, params[name].shape)


def _large_score_loss(net, reference_net, X, y, if_not_finite):
    """The student's (loss, grads) for large scores, with the loss checked; the reference's grads."""
    loss, grads = returned_pair(net.loss(X, y, reg=0.0), "with labels, loss", "(loss, grads)")
    try:
        finite = bool(np.all(np.isfinite(np.asarray(loss, dtype=float))))
    except (TypeError, ValueError):
        finite = True  # not a number at all: check_scalar says so
    if not finite:
        raise Mistake(if_not_finite)
    expected, expected_grads = reference_net.loss(X, y, reg=0.0)
    # Scores near 1e3 in float32 carry errors of about 1e-4; every known mistake is far off.
    if not close(check_scalar(loss, "the loss"), expected, rtol=1e-5, atol=1e-3):
        raise Mistake("the loss is wrong for large scores")
    return grads, expected_grads


@target("TwoLayerNet.loss")
def test_stable_for_scores_of_magnitude_1e3(student, reference, rng):
    """The loss and gradients stay finite and correct when the scores are of magnitude 1e3."""
    X, _, params = _problem(rng)
    # Scale the output layer so that some row spans 3000 between its lowest and highest score,
    # then lift every score so that each row's highest is at least 1000 (exp overflows).
    scores = _net(reference, params).loss(X)
    scale = 3000.0 / np.max(np.ptp(scores, axis=1))
    lift = 1000.0 - scale * np.min(np.max(scores, axis=1))
    params["W2"], params["b2"] = params["W2"] * scale, params["b2"] * scale + max(lift, 0.0)
    reference_net, net = _net(reference, params), _net(student, params)
    scores = reference_net.loss(X)
    # Correct class = highest score: exp overflows without the max shift, yet no probability underflows.
    _large_score_loss(net, reference_net, X, np.argmax(scores, axis=1),
                      "the loss is NaN or infinite for large scores; it looks like the softmax is not shifted: "
                      "subtract each row's maximum score before exponentiating")
    # Correct class = lowest score: its probability underflows to 0, and log(0) is -inf.
    grads, expected_grads = _large_score_loss(
        net, reference_net, X, np.argmin(scores, axis=1),
        "the loss is infinite when a correct class's probability underflows to 0; take the log of the softmax "
        "as shifted - log(sum(exp(shifted))) instead of log(probabilities)")
    for name in PARAM_NAMES:
        wanted = expected_grads[name]
        if not close(_gradient_array(grads, name, wanted.shape), wanted, rtol=1e-3, atol=scaled_atol(wanted, 1e-3)):
            raise Mistake(f"grads['{name}'] is wrong for large scores")


@target("TwoLayerNet.loss", weight=0.5)
def test_leaves_X_y_and_params_unchanged(student, rng):
    """X, y and the net's parameters are unchanged by a call to loss."""
    X, y, params = _problem(rng)
    net = _net(student, params)
    _, (X_after, y_after), _ = net.loss.inspect(X.copy(), y.copy(), reg=0.2)
    unchanged(X, X_after, "X")
    unchanged(y, y_after, "y")
    after = net.params
    for name in PARAM_NAMES:
        if not (isinstance(after, dict) and np.array_equal(after.get(name), params[name])):
            raise Mistake(f"loss changed self.params['{name}']; computing the loss must leave the parameters "
                          "unchanged")


# -- TwoLayerNet.train ------------------------------------------------------------------------
# train is judged alone: self.loss and self.predict of the student's net are trusted stand-ins,
# called back from the worker, so a mistake in the student's loss or predict never costs train.
class _Call:
    """One call of the stand-in loss with labels: what train passed and what it got back."""

    def __init__(self, X_batch, y_batch, reg, loss, grads):
        self.X, self.y, self.reg, self.loss, self.grads = X_batch, y_batch, reg, loss, grads


def _floats(value, ndim):
    """A student's argument as a float array of ``ndim`` dimensions, or None."""
    if not isinstance(value, (np.ndarray, np.generic, list, tuple)):
        return None
    try:
        value = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return value if value.ndim == ndim else None


class _StandIns:
    """Stand in for ``self.loss`` and ``self.predict`` during train, and record what train asks.

    The gradient of a minibatch depends on its rows, its labels and reg only, never on the
    parameters, so the final parameters follow from the recorded calls. The scores, and the
    labels predict gives, depend on the rows and on how many minibatches train has taken, so
    each recorded accuracy tells on which examples and after which iteration it was measured.
    """

    def __init__(self, parts):
        self.parts = parts
        self.calls = []

    @classmethod
    def drawn(cls, rng, params):
        (D, H), C = params["W1"].shape, params["W2"].shape[1]
        parts = {f"offset_{name}": rng.normal(size=value.shape) for name, value in params.items()}
        parts.update({f"pull_{name}": rng.normal(size=value.shape) for name, value in params.items()})
        parts.update(mix=rng.normal(size=(C, H)), project=rng.normal(size=(D, H)), direction=rng.normal(size=D),
                     scores_a=rng.normal(size=(D, C)), scores_b=rng.normal(size=(D, C)))
        return cls(parts)

    def copy(self):
        """The same functions, with empty records."""
        return _StandIns(self.parts)

    def gradients(self, X_batch, y_batch, reg):
        """(loss, grads) of a minibatch; the data part is left out if the batch does not fit."""
        parts = self.parts
        grads = {name: parts[f"offset_{name}"] + reg * parts[f"pull_{name}"] for name in PARAM_NAMES}
        loss = float(reg)
        D, C = parts["scores_a"].shape
        if X_batch is not None and y_batch is not None and X_batch.shape[1:] == (D,) \
                and y_batch.shape == (len(X_batch),) and len(X_batch):
            targets = np.eye(C)[np.clip(y_batch.astype(int), 0, C - 1)] - 1.0 / C  # (B, C)
            hidden = targets @ parts["mix"]  # (B, H)
            grads["W1"] = grads["W1"] + X_batch.T @ hidden / len(X_batch)
            grads["b1"] = grads["b1"] + hidden.mean(axis=0)
            grads["W2"] = grads["W2"] + (X_batch @ parts["project"]).T @ targets / len(X_batch)
            grads["b2"] = grads["b2"] + targets.mean(axis=0)
            loss += float(np.mean(X_batch @ parts["direction"]) + 0.1 * np.mean(y_batch))
        return loss, grads

    def scores_at(self, X, iteration):
        """Scores (N, C) after ``iteration`` minibatches; they turn a little with every minibatch."""
        W = np.cos(iteration) * self.parts["scores_a"] + np.sin(iteration) * self.parts["scores_b"]
        return X @ W

    def labels_at(self, X, iteration):
        return np.argmax(self.scores_at(X, iteration), axis=1).astype(np.int64)

    def accuracy_at(self, X, y, iteration):
        return float(np.mean(self.labels_at(X, iteration) == y))

    # -- what the worker calls back ------------------------------------------------------------
    def loss(self, X, y=None, reg=0.0):
        X = _floats(X, 2)
        if y is None:
            return self.scores_at(X, len(self.calls))
        y, reg = _floats(y, 1), float(reg)
        loss, grads = self.gradients(X, y, reg)
        self.calls.append(_Call(X, y, reg, loss, grads))
        return loss, grads

    def predict(self, X):
        return self.labels_at(_floats(X, 2), len(self.calls))


def _train_alone(student, rng, data, params, settings, inspect=False):
    """Train a student's net whose loss and predict are stand-ins, under a seed.

    Returns (history, the student's net, the stand-ins, the seed), and with ``inspect`` also
    the arguments as train left them.
    """
    seed = int(rng.integers(1000))
    standins = _StandIns.drawn(rng, params)
    net = _net(student, params)
    net.loss, net.predict = standins.loss, standins.predict  # called back from the worker
    call = net.train.inspect if inspect else net.train
    outcome = call(*data, **settings, _seed=seed)
    return outcome, net, standins, seed


def _reference_rows(reference, standins, data, params, settings, seed):
    """The rows of X the reference's minibatches hold under ``seed``, one list per iteration."""
    trusted, copy = _net(reference, params), standins.copy()
    trusted.loss, trusted.predict = copy.loss, copy.predict
    seeded(seed, lambda: trusted.train(*data, **settings))
    return [row_indices(data[0], call.X) for call in copy.calls]


def _draws(seed, N, B, iters, replace=True):
    """The row indices np.random.choice draws under ``seed``, one list per iteration."""
    return seeded(seed, lambda: [list(np.random.choice(N, B, replace=replace)) for _ in range(iters)])


def _once_per_iteration(calls, settings):
    if not calls:
        raise Mistake("train never called self.loss with labels; get each minibatch's loss and gradients from "
                      "self.loss(X_batch, y=y_batch, reg=reg)")
    if len(calls) != settings["num_iters"]:
        raise Mistake("train should call self.loss with labels exactly once per iteration (num_iters times)")


def _check_batches(calls, X, y, settings, seed, expected):
    """The student's minibatches: one per iteration, rows of X with their labels, the documented draws."""
    _once_per_iteration(calls, settings)
    N, B = len(X), settings["batch_size"]
    drawn = []
    for call in calls:
        if call.X is None or call.y is None or call.X.shape != (B, X.shape[1]) or call.y.shape != (B,):
            raise Mistake("each minibatch should hold batch_size rows of X, shape (batch_size, D), "
                          "and their labels, shape (batch_size,)")
        rows = row_indices(X, call.X)
        if rows is None:
            raise Mistake("the minibatch holds rows that are not rows of X")
        if not np.array_equal(call.y, y[rows]):
            raise Mistake("the labels y_batch are not aligned with the rows of X_batch")
        drawn.append(rows)
    if drawn != expected:
        if B <= N and drawn == _draws(seed, N, B, settings["num_iters"], replace=False):
            raise Mistake("the minibatches are drawn without replacement; draw them with replacement")
        raise Mistake("the minibatches are not the documented ones; draw each with "
                      "np.random.choice(num_train, batch_size), once per iteration")


def _documented_schedule(t, per_epoch):
    """How many times the learning rate has decayed before step t: once at the end of every epoch."""
    return t // per_epoch


# Known mistakes of the schedule, each as the number of decays before step t.
_WRONG_SCHEDULES = {
    "the learning rate decays every iteration; decay it once per epoch": lambda t, e: t,
    "the learning rate never decays; multiply it by learning_rate_decay at the end of every epoch": lambda t, e: 0,
    "the learning rate decays at the start of every epoch; decay it at the end, after the epoch's last step":
        lambda t, e: t // e + 1,
}


def _steps(calls, settings, per_epoch, name, schedule):
    """The sum over the recorded calls of learning_rate * grads[name], with the learning rate of ``schedule``."""
    rate, decay = settings["learning_rate"], settings["learning_rate_decay"]
    return sum(rate * decay ** schedule(t, per_epoch) * call.grads[name] for t, call in enumerate(calls))


def _history(value):
    if not isinstance(value, dict):
        raise Mistake(f"train must return the history as a dict, not {describe_type(value)}")
    for key in ("loss_history", "train_acc_history", "val_acc_history"):
        if key not in value:
            raise Mistake(f"the history has no key '{key}'")
    return value


def _as_floats(history, key, length):
    values = history.get(key)
    try:
        values = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise Mistake(f"history['{key}'] must be a list of numbers") from None
    if values.shape != (length,):
        raise Mistake(f"history['{key}'] should hold {length} values, and it does not; "
                      + ("record one loss per iteration" if key == "loss_history" else
                         "record one accuracy at the end of every epoch, i.e. every "
                         "max(N // batch_size, 1) iterations"))
    return values


def _final_params(net, params):
    """The student's parameters after training, each checked against the shape it started with."""
    after = net.params
    if not isinstance(after, dict) or not set(PARAM_NAMES) <= set(after):
        raise Mistake("after training, self.params should still be a dict with W1, b1, W2 and b2")
    return {name: check_array(after[name], params[name].shape, f"params['{name}'] after training")
            for name in PARAM_NAMES}


@target("TwoLayerNet.train", weight=0.75)
def test_history_has_one_loss_per_iteration_and_one_accuracy_per_epoch(student, rng):
    """train returns the history: the loss self.loss gave at each iteration, one accuracy per epoch; data unchanged."""
    N, D, H, C = 40, 5, 6, 3
    X, y = _blobs(rng, N, D, C)
    X_val, y_val = _blobs(rng, 15, D, C)
    settings = dict(learning_rate=1e-2, learning_rate_decay=0.95, reg=1e-3, num_iters=18, batch_size=10)
    epochs = settings["num_iters"] // max(N // settings["batch_size"], 1)
    data = (X.copy(), y.copy(), X_val.copy(), y_val.copy())
    (history, args_after, _), _, standins, _ = _train_alone(student, rng, data, _params(rng, D, H, C), settings,
                                                            inspect=True)
    history = _history(history)
    losses = _as_floats(history, "loss_history", settings["num_iters"])
    if not close(losses, [call.loss for call in standins.calls], rtol=1e-12, atol=0):
        raise Mistake("history['loss_history'] should hold, in order, the loss self.loss returned at each iteration")
    for key in ("train_acc_history", "val_acc_history"):
        accuracies = _as_floats(history, key, epochs)
        if not np.all((accuracies >= 0) & (accuracies <= 1)):
            raise Mistake(f"history['{key}'] holds values outside [0, 1]; record accuracies, the fraction correct")
    for name, before, after in zip(("X", "y", "X_val", "y_val"), (X, y, X_val, y_val), args_after):
        unchanged(before, after, name)


@target("TwoLayerNet.train", weight=1.25)
def test_draws_the_documented_minibatches(student, reference, rng):
    """Under a global seed, each iteration takes the minibatch np.random.choice(num_train, batch_size) draws."""
    N, D, H, C = 30, 5, 8, 3
    X, y = _blobs(rng, N, D, C)
    X_val, y_val = _blobs(rng, 12, D, C)
    params = _params(rng, D, H, C)
    settings = dict(learning_rate=0.3, learning_rate_decay=0.5, reg=0.1, num_iters=14, batch_size=8)
    data = (X, y, X_val, y_val)
    _, _, standins, seed = _train_alone(student, rng, data, params, settings)
    expected = _reference_rows(reference, standins, data, params, settings, seed)
    _check_batches(standins.calls, X, y, settings, seed, expected)


@target("TwoLayerNet.train", weight=1.25)
def test_steps_every_parameter_against_its_gradient_with_the_decay_once_per_epoch(student, rng):
    """Each step is params[name] -= learning_rate * grads[name]; the learning rate decays at the end of every epoch."""
    N, D, H, C = 30, 5, 8, 3
    X, y = _blobs(rng, N, D, C)
    params = _params(rng, D, H, C)
    settings = dict(learning_rate=0.2, learning_rate_decay=0.6, reg=0.1, num_iters=11, batch_size=10)
    per_epoch = max(N // settings["batch_size"], 1)
    _, net, standins, _ = _train_alone(student, rng, (X, y, X, y), params, settings)
    calls = standins.calls
    if not calls:
        raise Mistake("train never called self.loss with labels; get each minibatch's loss and gradients from "
                      "self.loss(X_batch, y=y_batch, reg=reg)")
    final = _final_params(net, params)
    for name in PARAM_NAMES:
        start, steps = params[name], _steps(calls, settings, per_epoch, name, _documented_schedule)
        known = {
            f"params['{name}'] did not change during training; update every parameter in self.params": start,
            "each step goes along the gradient instead of against it (params -= learning_rate * grads)":
                start + steps,
        }
        known.update({description: start - _steps(calls, settings, per_epoch, name, schedule)
                      for description, schedule in _WRONG_SCHEDULES.items()})
        diagnose(final[name], start - steps, known, f"params['{name}'] after training", rtol=1e-9, atol=1e-12)


@target("TwoLayerNet.train", weight=0.75)
def test_records_the_accuracies_at_the_end_of_every_epoch(student, rng):
    """At the end of every epoch the history gains predict's accuracy on the current minibatch and on X_val."""
    N, D, H, C = 30, 5, 6, 3
    X, y = _blobs(rng, N, D, C)
    X_val, y_val = _blobs(rng, 20, D, C)
    settings = dict(learning_rate=0.1, learning_rate_decay=0.9, reg=0.0, num_iters=14, batch_size=8)
    per_epoch = max(N // settings["batch_size"], 1)
    epochs = settings["num_iters"] // per_epoch
    history, _, standins, _ = _train_alone(student, rng, (X, y, X_val, y_val), _params(rng, D, H, C), settings)
    history = _history(history)
    _once_per_iteration(standins.calls, settings)
    ends = [(epoch + 1) * per_epoch for epoch in range(epochs)]  # minibatches taken when each epoch ends
    last_batches = [standins.calls[end - 1] for end in ends]
    on_batch = [standins.accuracy_at(call.X, call.y, end) for call, end in zip(last_batches, ends)]
    on_val = [standins.accuracy_at(X_val, y_val, end) for end in ends]
    on_train = [standins.accuracy_at(X, y, end) for end in ends]
    diagnose(_as_floats(history, "train_acc_history", epochs), on_batch, {
        "it was measured on the whole training set; measure it on the current minibatch (X_batch, y_batch)": on_train,
        "it was measured on the validation set; measure it on the current minibatch (X_batch, y_batch)": on_val,
    }, "history['train_acc_history']", rtol=0, atol=1e-9)
    diagnose(_as_floats(history, "val_acc_history", epochs), on_val, {
        "it was measured on the current minibatch; measure it on (X_val, y_val)": on_batch,
        "it was measured on the training set; measure it on (X_val, y_val)": on_train,
    }, "history['val_acc_history']", rtol=0, atol=1e-9)


class _TrackedNet:
    """Stands in for ``self.loss`` and ``self.predict``: the reference net at the parameters that correct
    SGD steps (a constant learning rate) would reach."""

    def __init__(self, reference, params, learning_rate):
        self.net, self.learning_rate = _net(reference, params), learning_rate

    def loss(self, X, y=None, reg=0.0):
        if y is None:
            return self.net.loss(_floats(X, 2))
        loss, grads = self.net.loss(_floats(X, 2), np.asarray(y).astype(int), reg=float(reg))
        self.net.params = {name: self.net.params[name] - self.learning_rate * grads[name] for name in PARAM_NAMES}
        return loss, grads

    def predict(self, X):
        return np.argmax(self.net.loss(_floats(X, 2)), axis=1)


@target("TwoLayerNet.train")
def test_loss_decreases_on_an_easy_problem(student, reference, rng):
    """On well separated clusters training lowers the loss on the whole training set by more than half."""
    N, D, H, C = 60, 5, 10, 3
    X, y = _blobs(rng, N, D, C)
    params = _params(rng, D, H, C)
    settings = dict(learning_rate=0.3, learning_rate_decay=1.0, reg=1e-3, num_iters=40, batch_size=20)
    tracked = _TrackedNet(reference, params, settings["learning_rate"])
    net = _net(student, params)
    net.loss, net.predict = tracked.loss, tracked.predict  # called back from the worker
    net.train(X, y, X, y, **settings, _seed=int(rng.integers(1000)))
    final = _final_params(net, params)
    if all(np.array_equal(final[name], params[name]) for name in PARAM_NAMES):
        raise Mistake("the parameters did not change during training; update self.params in place or assign them")
    reference_net = _net(reference, params)
    before = reference_net.loss(X, y, reg=0.0)[0]
    reference_net.params = final
    after = reference_net.loss(X, y, reg=0.0)[0]
    if not after < 0.5 * before:
        raise Mistake("training did not lower the loss by half on an easy problem; step against the gradient, "
                      "params -= learning_rate * grads, at every iteration")


@target("TwoLayerNet.train", weight=0.5)
def test_draws_minibatches_with_replacement(student, reference, rng):
    """A batch larger than the training set works: minibatches are drawn with replacement."""
    N, D, H, C = 6, 4, 5, 3
    X, y = _blobs(rng, N, D, C)
    params = _params(rng, D, H, C)
    settings = dict(learning_rate=0.1, learning_rate_decay=0.9, reg=0.0, num_iters=4, batch_size=10)
    data = (X, y, X, y)
    try:
        _, _, standins, seed = _train_alone(student, rng, data, params, settings)
    except StudentError as exc:
        if exc.type_name == "ValueError":
            raise Mistake("a batch larger than the training set raised ValueError; draw the minibatch with "
                          "replacement, np.random.choice(num_train, batch_size)") from None
        raise
    expected = _reference_rows(reference, standins, data, params, settings, seed)
    _check_batches(standins.calls, X, y, settings, seed, expected)


@target("TwoLayerNet.train", weight=0.5)
def test_passes_reg_to_the_loss(student, rng):
    """train passes its reg to self.loss at every iteration."""
    N, D, H, C = 20, 4, 5, 3
    X, y = _blobs(rng, N, D, C)
    settings = dict(learning_rate=0.1, learning_rate_decay=0.95, reg=0.37, num_iters=5, batch_size=10)
    _, _, standins, _ = _train_alone(student, rng, (X, y, X, y), _params(rng, D, H, C), settings)
    _once_per_iteration(standins.calls, settings)
    if not all(close(call.reg, settings["reg"], rtol=1e-12, atol=0) for call in standins.calls):
        raise Mistake("reg does not reach the loss: pass reg to self.loss, self.loss(X_batch, y=y_batch, reg=reg)")


# -- TwoLayerNet.predict -------------------------------------------------------------------------
# predict is judged alone: self.loss of the student's net is a trusted stand-in (the reference's
# scores of the same parameters), so a mistake in the student's loss never costs predict.
class _TrustedScores:
    """Stands in for ``self.loss`` while predict is judged: the reference net of the same parameters."""

    def __init__(self, reference, params):
        self.net = _net(reference, params)

    def __call__(self, X, y=None, reg=0.0):
        X = _floats(X, 2)
        return self.net.loss(X) if y is None else self.net.loss(X, np.asarray(y).astype(int), reg=float(reg))


def _net_for_predict(student, reference, params):
    net = _net(student, params)
    net.loss = _TrustedScores(reference, params)  # called back from the worker
    return net


def _not_scores(y_pred, N, C):
    if isinstance(y_pred, np.ndarray) and y_pred.shape == (N, C):
        raise Mistake("predict returned the scores (N, C); return the label of the highest score of each row")
    return y_pred


@target("TwoLayerNet.predict", weight=0.5)
def test_predict_returns_integer_labels_of_shape_N(student, reference, rng):
    """predict returns a numpy array of integer labels, shape (N,), also for a single example."""
    _, _, params = _problem(rng)
    net = _net_for_predict(student, reference, params)
    D, C = params["W1"].shape[0], params["W2"].shape[1]
    for N in (9, 1):
        y_pred = _not_scores(net.predict(rng.normal(size=(N, D))), N, C)
        check_label_dtype(y_pred, (N,), "predict(X)" if N > 1 else "predict(X) for a single example")


@target("TwoLayerNet.predict", weight=1.5)
def test_predict_is_the_argmax_of_the_scores(student, reference, rng):
    """predict gives, for each example, the class of its highest score, and leaves X unchanged."""
    X, _, params = _problem(rng, N=12)
    net = _net_for_predict(student, reference, params)
    C = params["W2"].shape[1]
    y_pred, (X_after,), _ = net.predict.inspect(X.copy())
    y_pred = check_labels(_not_scores(y_pred, len(X), C), (len(X),), "predict(X)")
    scores = _net(reference, params).loss(X)
    diagnose(y_pred, np.argmax(scores, axis=1), {
        "the class of the lowest score (argmin instead of argmax)": np.argmin(scores, axis=1),
    }, "the predictions", rtol=0, atol=0)
    unchanged(X, X_after, "X")


# -- best_net ----------------------------------------------------------------------------------------
@target("best_net")
def test_best_net_reaches_the_target_validation_accuracy(tuned, manifest):
    """best_net, left by the tuning cell, reaches the notebook's target accuracy on the validation set."""
    check_tuned_accuracy(tuned, manifest, "best_net", "the best trained TwoLayerNet", with_bias=False,
                         predict=predict_two_layer)
