"""Helpers the hidden suites share: parametrizing by target, problems, returned values, tuned objects."""
from __future__ import annotations

import numpy as np
import pytest

from autograder.testing.asserts import Mistake, check_array, check_number, describe_type, dtype_name, unchanged


def each_target(argname, cases):
    """Parametrize a test over ``cases``, each case marked with its own target and weight.

    Parameters
    ----------
    cases : dict
        Test id -> (target, weight, the argument's value), e.g.
        ``{"naive": ("svm_loss_naive", 2, "svm_loss_naive"), ...}``.
    """
    return pytest.mark.parametrize(argname, [
        pytest.param(value, id=case, marks=pytest.mark.target(target, weight=weight))
        for case, (target, weight, value) in cases.items()])


def draws(make):
    """``draw(k)``: the ``k``-th value ``make()`` returned, made on first use; the 0th is made now.

    For a speed check's inputs (``timing.SpeedCheck.ratio``): a measure taken again gets a new
    input, drawn from the suite's seeded rng after the first, so the first stays as it was.
    """
    made = [make()]

    def draw(k):
        while len(made) <= k:
            made.append(make())
        return made[k]
    return draw


def row_indices(X, X_batch):
    """Which rows of X (N, D) a minibatch (B, D) holds, as a list of B indices, or None if it holds other rows."""
    where = {row.tobytes(): i for i, row in enumerate(np.asarray(X, dtype=float))}
    indices = [where.get(np.asarray(row, dtype=float).tobytes()) for row in X_batch]
    return None if None in indices else indices


def clusters(rng, centres, y):
    """Points around ``centres`` (C, D): row i is centres[y[i]] plus unit Gaussian noise, shape (N, D)."""
    return centres[y] + rng.normal(size=(len(y), centres.shape[1]))


def returned_pair(value, what, pair="(loss, dW)"):
    """The two values a function returned as a pair, or a ``Mistake`` for any other structure."""
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise Mistake(f"{what} must return the pair {pair}")
    return value


def check_loss_pair(value, weights, what, gradient="the gradient", pair="(loss, grad)", dtype_kind="f",
                    float64=False):
    """The contract of a loss function's return: the pair (loss, gradient), or a ``Mistake``.

    Parameters
    ----------
    value : the student's return value
    weights : ndarray
        The weights the loss was computed at; the gradient must have their shape.
    what : str
        The function, for messages ("svm_loss_naive").
    gradient : str
        What messages call the gradient ("the gradient dW").
    dtype_kind : str
        The gradient's allowed dtype kinds (``check_array``).
    float64 : bool
        Whether the gradient must be float64 exactly.

    Returns
    -------
    loss : the student's loss, checked to be a number (not an array, even 0-d: ``check_number``)
    grad : ndarray, of the shape of ``weights``
    """
    loss, grad = returned_pair(value, what, pair)
    check_number(loss, "the loss")  # the one check of this detail: the tests of values take a 0-d array too
    grad = check_array(grad, weights.shape, gradient, dtype_kind=dtype_kind)
    if float64 and grad.dtype != np.float64:
        raise Mistake(f"{gradient} has dtype {dtype_name(grad.dtype)}; expected float64")
    return loss, grad


def inputs_unchanged(names, before, after):
    """A ``Mistake`` unless each input array came back from the call unchanged (``.inspect()``'s arguments).

    ``names`` are the inputs' names for messages ("W X y"), ``before`` the arrays sent, ``after`` as they came back.
    """
    for name, sent, returned in zip(names.split(), before, after):
        unchanged(sent, returned, name)


def scaled_atol(expected, relative, scale=1.0):
    """An absolute tolerance for values of the size of ``expected``: relative * scale * max(1, max |expected|).

    ``scale`` is the size of what they were computed from (the largest score, for float32 arithmetic
    whose error grows with it).
    """
    return relative * scale * max(1.0, float(np.max(np.abs(expected))))


def seeded(seed, call):
    """Run ``call()`` here with numpy's global generator seeded as the worker seeds it, then restore it."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        return call()
    finally:
        np.random.set_state(state)


ACCURACY_BAND = 0.05  # a tuned object's shortfall is shown only as "at most" or "more than" this


def check_tuned_accuracy(tuned, manifest, name, what, with_bias, predict):
    """Run the tuning cell that leaves ``name`` and check its validation accuracy.

    The accuracy is computed here from the weights the object holds (``predict``), never
    from predictions the student's code returns: a lookup table of the validation labels,
    which the tuning cell can see, earns nothing.

    Parameters
    ----------
    tuned : the ``tuned`` fixture
    name : str
        The object the tuning cell must leave (``best_svm``).
    what : str
        What it should be, for messages ("the best trained LinearSVM").
    manifest : the ``manifest`` fixture
        Declares the accuracy ``name`` must reach on each dataset (the notebook's check reads it too).
    with_bias : bool
        Whether the notebook's data cell appends the bias column.
    predict : callable
        ``predict(best, X, num_classes)`` -> labels (N,), computed here from ``best``'s weights.
    """
    import utils  # the shipped helpers prepare the split exactly as the notebook's data cell does

    dataset = utils.dataset_name()
    data = utils.load_splits(dataset, compact=True)
    X_val = _validation_split(data, with_bias)
    best = tuned(name)
    if best is None:
        raise Mistake(f"{name} is None; the tuning cell must leave {what} in {name}")
    if isinstance(best, (int, float, str, list, tuple, dict, np.ndarray)):
        raise Mistake(f"{name} should be {what}, not {describe_type(best)}")
    accuracy = float(np.mean(predict(best, X_val, len(data.class_names)) == data.y_val))
    target = manifest.accuracy_target(name, dataset)
    if not accuracy >= target:
        # The accuracy comes from the student's weights, so it is tainted: only two coarse bands are shown.
        gap = "by at most" if accuracy >= target - ACCURACY_BAND else "by more than"
        raise Mistake(f"{name} does not reach the target accuracy on the validation set: the target is {target}, "
                      f"and its accuracy is below it {gap} {ACCURACY_BAND}; tune the hyperparameters further")


def _validation_split(data, with_bias):
    """The validation split as the notebooks' data cells prepare it, without centring the training split."""
    import utils

    # subtract_mean centres with the mean of its first argument: a one-row "training split" holding that
    # mean gives the same numbers without a copy of the 49000 training images.
    mean_image = data.X_train.mean(axis=0, keepdims=True)
    return utils.subtract_mean(mean_image, data.X_val, bias=with_bias)[1]


def predict_linear(classifier, X, num_classes):
    """Labels of a linear classifier, from its weights ``W`` (D, C)."""
    W = check_array(classifier.W, (X.shape[1], num_classes), "its weights W")
    return np.argmax(X @ W, axis=1)


def predict_two_layer(net, X, num_classes):
    """Labels of a two-layer net, from its ``params`` (affine - ReLU - affine)."""
    params = net.params
    if not isinstance(params, dict) or not {"W1", "b1", "W2", "b2"} <= set(params):
        raise Mistake("its params should be a dict with W1, b1, W2 and b2")
    # The hidden size H is the student's: messages write it as H, never as a number.
    W1 = params["W1"]
    hidden_size = W1.shape[1] if isinstance(W1, np.ndarray) and W1.ndim == 2 else -1
    W1 = check_array(W1, (X.shape[1], hidden_size), "params['W1']",
                     expected_text=f"({X.shape[1]}, H) for {X.shape[1]} features and H hidden units")
    b1 = check_array(params["b1"], (hidden_size,), "params['b1']", expected_text="(H,), H = the columns of W1")
    W2 = check_array(params["W2"], (hidden_size, num_classes), "params['W2']",
                     expected_text=f"(H, {num_classes}), H = the columns of W1")
    b2 = check_array(params["b2"], (num_classes,), "params['b2']")
    return np.argmax(np.maximum(0.0, X @ W1 + b1) @ W2 + b2, axis=1)
