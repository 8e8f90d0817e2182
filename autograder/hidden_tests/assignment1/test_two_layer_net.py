"""Hidden suite of two_layer_net.ipynb: loss and gradients, SGD training, prediction, the tuned net.

Shapes: N examples, D features, H hidden units, C classes. Nets are built in
the worker with ``student.TwoLayerNet(D, H, C)`` and given known parameters by
setting ``net.params``; the reference gets the same parameters here.
Tolerances admit float32 arithmetic; every known mistake moves the values by
far more.
"""
import numpy as np
import pytest

from autograder.feedback import Mistake, check_array, check_scalar, close, describe_type, diagnose, unchanged
from autograder.hidden_tests.checks import check_tuned_accuracy, predict_two_layer, seeded
from autograder.run import StudentError

NOTEBOOK = "two_layer_net.ipynb"
GRADE_CELLS = {
    "TwoLayerNet.loss": "test_two_layer_net_loss",
    "TwoLayerNet.train": "test_two_layer_net_train",
    "TwoLayerNet.predict": "test_two_layer_net_predict",
    "best_net": "test_best_net",
}
TARGET_ACCURACY = {"digits": 0.96, "cifar10": 0.48}  # as stated in the notebook's test_best_net cell
PARAM_NAMES = ("W1", "b1", "W2", "b2")
RTOL = 1e-4
target = pytest.mark.target


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
    return centers[y] + rng.normal(size=(N, D)), y


def _net(module, params):
    """A TwoLayerNet of ``module`` (student or reference) holding copies of ``params``."""
    (D, H), C = params["W1"].shape, params["W2"].shape[1]
    net = module.TwoLayerNet(D, H, C, std=0.1)
    net.params = {name: value.copy() for name, value in params.items()}
    return net


def _atol(expected, relative=1e-6):
    return relative * max(1.0, float(np.max(np.abs(expected))))


# -- what the student's loss returned ------------------------------------------------
def _loss_and_grads(value):
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise Mistake("with labels, loss must return the pair (loss, grads)")
    return value


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
    _, grads = _loss_and_grads(_net(student, params).loss(X, y, reg=reg))
    wanted = _net(reference, params).loss(X, y, reg=reg)[1][name]
    diagnose(_gradient_array(grads, name, wanted.shape), wanted, _gradient_mistakes(name, params, X, y, reg, wanted),
             f"grads['{name}']", rtol=RTOL, atol=_atol(wanted))


# -- TwoLayerNet.loss -----------------------------------------------------------------------
@target("TwoLayerNet.loss")
def test_scores_without_labels(student, reference, rng):
    """Without y, loss returns the class scores of affine - ReLU - affine."""
    X, _, params = _problem(rng)
    expected = _net(reference, params).loss(X)
    scores = check_array(_net(student, params).loss(X), expected.shape, "the scores returned without y")
    no_relu = (X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
    diagnose(scores, expected, {"the ReLU was left out of the forward pass": no_relu}, "the score matrix",
             rtol=RTOL, atol=_atol(expected))


@target("TwoLayerNet.loss")
def test_loss_value_without_regularization(student, reference, rng):
    """With reg = 0 the loss is the mean softmax cross-entropy."""
    X, y, params = _problem(rng)
    loss, _ = _loss_and_grads(_net(student, params).loss(X, y, reg=0.0))
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
    net = _net(student, params)
    plain, _ = _loss_and_grads(net.loss(X, y, reg=0.0))
    regularized, _ = _loss_and_grads(net.loss(X, y, reg=reg))
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


@target("TwoLayerNet.loss", weight=1.5)
def test_gradient_of_W1(student, reference, rng):
    """grads['W1'] is the gradient of the loss (with regularization) with respect to W1."""
    _gradient_test(student, reference, rng, "W1")


@target("TwoLayerNet.loss")
def test_gradient_of_b1(student, reference, rng):
    """grads['b1'] is the gradient of the loss with respect to b1."""
    _gradient_test(student, reference, rng, "b1")


@target("TwoLayerNet.loss", weight=1.5)
def test_gradient_of_W2(student, reference, rng):
    """grads['W2'] is the gradient of the loss (with regularization) with respect to W2."""
    _gradient_test(student, reference, rng, "W2")


@target("TwoLayerNet.loss")
def test_gradient_of_b2(student, reference, rng):
    """grads['b2'] is the gradient of the loss with respect to b2."""
    _gradient_test(student, reference, rng, "b2")


@target("TwoLayerNet.loss", weight=0.5)
def test_grads_has_one_array_per_parameter(student, rng):
    """grads has exactly the keys W1, b1, W2, b2, each an array of its parameter's shape."""
    X, y, params = _problem(rng)
    _, grads = _loss_and_grads(_net(student, params).loss(X, y, reg=0.0))
    if not isinstance(grads, dict) or set(grads) != set(PARAM_NAMES):
        raise Mistake("grads must be a dict with exactly the keys W1, b1, W2, b2")
    for name in PARAM_NAMES:
        _gradient_array(grads, name, params[name].shape)


def _large_score_loss(net, reference_net, X, y, if_not_finite):
    """The student's (loss, grads) for large scores, with the loss checked; the reference's grads."""
    loss, grads = _loss_and_grads(net.loss(X, y, reg=0.0))
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
        if not close(_gradient_array(grads, name, wanted.shape), wanted, rtol=1e-3, atol=_atol(wanted, 1e-3)):
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


def _history(value):
    if not isinstance(value, dict):
        raise Mistake(f"train must return the history as a dict, not {describe_type(value)}")
    for key in ("loss_history", "train_acc_history", "val_acc_history"):
        if key not in value:
            raise Mistake(f"the history has no key '{key}'")
    return value


def _simulated_params(reference, params, X, y, settings, seed, *, decay_every_iteration=False, replace=True):
    """Final parameters of SGD as the contract says, or with one known mistake (reference gradients)."""
    net = _net(reference, params)
    learning_rate = settings["learning_rate"]
    per_epoch = max(len(X) // settings["batch_size"], 1)
    rs = np.random.RandomState(seed)
    for it in range(settings["num_iters"]):
        batch = rs.choice(len(X), settings["batch_size"], replace=replace)
        _, grads = net.loss(X[batch], y[batch], reg=settings["reg"])
        net.params = {name: net.params[name] - learning_rate * grads[name] for name in PARAM_NAMES}
        if decay_every_iteration or (it + 1) % per_epoch == 0:
            learning_rate *= settings["learning_rate_decay"]
    return net.params


def _same_params(actual, expected):
    return isinstance(actual, dict) and all(
        close(actual.get(name), expected[name], rtol=RTOL, atol=_atol(expected[name])) for name in PARAM_NAMES)


@target("TwoLayerNet.train")
def test_history_has_one_loss_per_iteration_and_one_accuracy_per_epoch(student, rng):
    """train returns the history (a loss per iteration, accuracies per epoch) and leaves the data unchanged."""
    N, D, H, C = 40, 5, 6, 3
    X, y = _blobs(rng, N, D, C)
    X_val, y_val = _blobs(rng, 15, D, C)
    settings = dict(learning_rate=1e-2, learning_rate_decay=0.95, reg=1e-3, num_iters=18, batch_size=10)
    epochs = settings["num_iters"] // max(N // settings["batch_size"], 1)
    net = _net(student, _params(rng, D, H, C))
    history, args_after, _ = net.train.inspect(X.copy(), y.copy(), X_val.copy(), y_val.copy(), **settings)
    history = _history(history)
    _as_floats(history, "loss_history", settings["num_iters"])
    for key in ("train_acc_history", "val_acc_history"):
        accuracies = _as_floats(history, key, epochs)
        if not np.all((accuracies >= 0) & (accuracies <= 1)):
            raise Mistake(f"history['{key}'] holds values outside [0, 1]; record accuracies, the fraction correct")
    for name, before, after in zip(("X", "y", "X_val", "y_val"), (X, y, X_val, y_val), args_after):
        unchanged(before, after, name)


@target("TwoLayerNet.train")
def test_loss_decreases_on_an_easy_problem(student, rng):
    """On well separated clusters the training loss falls by more than half and the parameters change."""
    N, D, H, C = 60, 5, 10, 3
    X, y = _blobs(rng, N, D, C)
    params = _params(rng, D, H, C)
    net = _net(student, params)
    settings = dict(learning_rate=0.3, learning_rate_decay=0.95, reg=1e-3, num_iters=60, batch_size=20)
    history = _history(net.train(X, y, X, y, **settings, _seed=int(rng.integers(1000))))
    losses = _as_floats(history, "loss_history", settings["num_iters"])
    after = net.params
    if not isinstance(after, dict) or all(close(after.get(name), params[name], rtol=0, atol=0) for name in PARAM_NAMES):
        raise Mistake("the parameters did not change during training; update self.params in place or assign them")
    if not (np.all(np.isfinite(losses)) and losses[-10:].mean() < 0.5 * losses[:10].mean()):
        raise Mistake("the training loss did not fall by half on an easy problem; check the update "
                      "(params -= learning_rate * grads) and the minibatch sampling")


@target("TwoLayerNet.train", weight=1.25)
def test_matches_the_reference_under_the_same_seed(student, reference, rng):
    """With the same global seed, training takes the documented minibatches and steps (parameters, history)."""
    N, D, H, C = 30, 5, 8, 3
    X, y = _blobs(rng, N, D, C)
    X_val, y_val = _blobs(rng, 12, D, C)
    params = _params(rng, D, H, C)
    settings = dict(learning_rate=0.3, learning_rate_decay=0.5, reg=0.0, num_iters=14, batch_size=8)
    seed = int(rng.integers(1000))
    net = _net(student, params)
    history = _history(net.train(X, y, X_val, y_val, **settings, _seed=seed))
    reference_net = _net(reference, params)
    expected = seeded(seed, lambda: reference_net.train(X, y, X_val, y_val, **settings))
    final = net.params
    if not _same_params(final, reference_net.params):
        for description, options in [
            ("the learning rate decays every iteration; decay it once per epoch", dict(decay_every_iteration=True)),
            ("the minibatches are drawn without replacement; draw them with replacement", dict(replace=False)),
        ]:
            if _same_params(final, _simulated_params(reference, params, X, y, settings, seed, **options)):
                raise Mistake(f"training ends at other parameters: {description}")
        raise Mistake("training ends at other parameters than the documented SGD: sample each minibatch with "
                      "np.random.choice(num_train, batch_size), step params -= learning_rate * grads, and "
                      "decay the learning rate at the end of every epoch")
    for key in ("train_acc_history", "val_acc_history"):
        if not close(_as_floats(history, key, len(expected[key])), expected[key], rtol=0, atol=1e-9):
            raise Mistake(f"history['{key}'] differs: record it at the end of every epoch, after the update "
                          "(train accuracy on the current minibatch, validation accuracy on X_val)")
    # The first recorded loss is the student's own loss of the first minibatch at the initial parameters.
    first_batch = seeded(seed, lambda: np.random.choice(N, settings["batch_size"]))
    first_loss, _ = _loss_and_grads(_net(student, params).loss(X[first_batch], y[first_batch], reg=0.0))
    recorded = _as_floats(history, "loss_history", settings["num_iters"])[0]
    if not close(recorded, check_scalar(first_loss, "the loss"), rtol=1e-6, atol=1e-9):
        raise Mistake("loss_history[0] is not the loss of the first minibatch before the first update")


@target("TwoLayerNet.train", weight=0.5)
def test_draws_minibatches_with_replacement(student, reference, rng):
    """A batch larger than the training set works: minibatches are drawn with replacement."""
    N, D, H, C = 6, 4, 5, 3
    X, y = _blobs(rng, N, D, C)
    params = _params(rng, D, H, C)
    settings = dict(learning_rate=0.1, learning_rate_decay=0.9, reg=0.0, num_iters=4, batch_size=10)
    seed = int(rng.integers(1000))
    net = _net(student, params)
    try:
        net.train(X, y, X, y, **settings, _seed=seed)
    except StudentError as exc:
        if exc.type_name == "ValueError":
            raise Mistake("a batch larger than the training set raised ValueError; draw the minibatch with "
                          "replacement, np.random.choice(num_train, batch_size)") from None
        raise
    reference_net = _net(reference, params)
    seeded(seed, lambda: reference_net.train(X, y, X, y, **settings))
    if not _same_params(net.params, reference_net.params):
        raise Mistake("with a batch larger than the training set, training ends at other parameters; draw the "
                      "minibatch with np.random.choice(num_train, batch_size)")


@target("TwoLayerNet.train", weight=0.5)
def test_passes_reg_to_the_loss(student, rng):
    """Training with reg > 0 differs from training with reg = 0 (reg reaches the loss)."""
    N, D, H, C = 20, 4, 5, 3
    X, y = _blobs(rng, N, D, C)
    params = _params(rng, D, H, C)
    settings = dict(learning_rate=0.1, learning_rate_decay=0.95, num_iters=8, batch_size=10)
    seed = int(rng.integers(1000))
    runs = []
    for reg in (0.0, 0.5):
        net = _net(student, params)
        history = _history(net.train(X, y, X, y, reg=reg, **settings, _seed=seed))
        runs.append((_as_floats(history, "loss_history", settings["num_iters"]), net.params))
    (losses_0, params_0), (losses_reg, params_reg) = runs
    if close(losses_reg, losses_0, rtol=1e-9, atol=0) and _same_params(params_reg, params_0):
        raise Mistake("reg has no effect on training; pass reg to self.loss")


# -- TwoLayerNet.predict -------------------------------------------------------------------------
@target("TwoLayerNet.predict")
def test_predict_returns_integer_labels_of_shape_N(student, rng):
    """predict returns an integer array of shape (N,), also for a single example."""
    _, _, params = _problem(rng)
    net = _net(student, params)
    C = params["W2"].shape[1]
    for N in (9, 1):
        X = rng.normal(size=(N, params["W1"].shape[0]))
        y_pred = net.predict(X)
        if isinstance(y_pred, np.ndarray) and y_pred.shape == (N, C):
            raise Mistake("predict returned the scores (N, C); return the label of the highest score of each row")
        y_pred = check_array(y_pred, (N,), f"the predictions for {N} example{'s' if N > 1 else ''}", "fi")
        if y_pred.dtype.kind == "f":
            raise Mistake("predict returned floating-point values; return integer labels (e.g. int64)")


@target("TwoLayerNet.predict")
def test_predict_is_the_argmax_of_the_scores(student, reference, rng):
    """predict gives, for each example, the class of its highest score."""
    X, _, params = _problem(rng, N=12)
    net = _net(student, params)
    scores = net.loss(X)
    if not (isinstance(scores, np.ndarray) and scores.shape == (len(X), params["W2"].shape[1])):
        scores = _net(reference, params).loss(X)  # judge predict alone when the scores themselves are broken
    y_pred = check_array(net.predict(X), (len(X),), "the predictions", "fi")
    if not np.array_equal(y_pred, np.argmax(scores, axis=1)):
        raise Mistake("the predictions are not the argmax of the scores from loss(X)")


# -- best_net ----------------------------------------------------------------------------------------
@target("best_net")
def test_best_net_reaches_the_target_validation_accuracy(tuned):
    """best_net, left by the tuning cell, reaches the notebook's target accuracy on the validation set."""
    check_tuned_accuracy(tuned, "best_net", "the best trained TwoLayerNet", TARGET_ACCURACY, with_bias=False,
                         predict=predict_two_layer)
