"""The reference TwoLayerNet (solutions/assignment1/two_layer_net.ipynb) against independent oracles.

Oracles: a forward pass written here with einsum, the loss from
scipy.special.logsumexp, centred-difference gradients computed here, a
hand-written SGD loop with the documented schedule, and scikit-learn's
MLPClassifier for the accuracy a net of the same size should reach.

Shapes: N examples, D features, H hidden units, C classes.
"""
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.special import logsumexp

import utils
from tests.oracles import rel_error

SOLUTIONS = Path(__file__).parents[1] / "solutions" / "assignment1"
PARAM_NAMES = ("W1", "b1", "W2", "b2")


@pytest.fixture(scope="module")
def nb():
    return utils.load_notebook("two_layer_net", directory=SOLUTIONS)


@pytest.fixture(scope="module")
def digits():
    splits = utils.load_splits("digits")
    X_train, X_val, X_dev = utils.subtract_mean(splits.X_train, splits.X_val, splits.X_dev)
    return dict(X_train=X_train, y_train=splits.y_train, X_val=X_val, y_val=splits.y_val,
                X_dev=X_dev, y_dev=splits.y_dev)


# ------------------------------------------------------------------ oracles

def forward(params, X):
    """Scores (N, C) of affine - ReLU - affine, written independently of the notebook."""
    pre = np.einsum("nd,dh->nh", X, params["W1"]) + params["b1"]
    hidden = np.where(pre > 0, pre, 0.0)
    return np.einsum("nh,hc->nc", hidden, params["W2"]) + params["b2"]


def pre_activations(params, X):
    return X @ params["W1"] + params["b1"]


def oracle_loss(params, X, y, reg):
    """Mean softmax cross-entropy via logsumexp plus reg * (sum W1^2 + sum W2^2)."""
    scores = forward(params, X)
    data_loss = np.mean(logsumexp(scores, axis=1) - scores[np.arange(len(y)), y])
    return data_loss + reg * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))


def numerical_gradient(f, x, h=1e-5):
    """Centred differences of f() with respect to every entry of x (nudged in place, then restored)."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        f_plus = f()
        x[index] = saved - h
        f_minus = f()
        x[index] = saved
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad



def small_problem(nb, seed, N=6, D=5, H=7, C=4, std=0.6):
    """A tiny random net and data, with fixed seeds."""
    rng = np.random.default_rng(100 + seed)
    net = nb.TwoLayerNet(D, H, C, std=std, seed=seed)
    net.params["b1"] = 0.3 * rng.standard_normal(H)
    net.params["b2"] = 0.3 * rng.standard_normal(C)
    X = rng.standard_normal((N, D))
    y = rng.integers(0, C, size=N)
    return net, X, y


# ------------------------------------------------------------------ construction

def test_init_draws_W1_then_W2_from_the_seeded_generator_and_zero_biases(nb):
    net = nb.TwoLayerNet(5, 4, 3, std=0.01, seed=7)
    rng = np.random.default_rng(7)
    expected_W1 = 0.01 * rng.standard_normal((5, 4))
    expected_W2 = 0.01 * rng.standard_normal((4, 3))
    assert set(net.params) == set(PARAM_NAMES)
    np.testing.assert_array_equal(net.params["W1"], expected_W1)
    np.testing.assert_array_equal(net.params["W2"], expected_W2)
    np.testing.assert_array_equal(net.params["b1"], np.zeros(4))
    np.testing.assert_array_equal(net.params["b2"], np.zeros(3))


def test_init_leaves_the_global_numpy_generator_alone(nb):
    np.random.seed(3)
    expected = np.random.rand(3)
    np.random.seed(3)
    nb.TwoLayerNet(5, 4, 3, seed=1)
    np.testing.assert_array_equal(np.random.rand(3), expected)


# ------------------------------------------------------------------ loss

def test_scores_match_an_independent_forward_pass(nb):
    net, X, _ = small_problem(nb, seed=1, N=9)
    scores = net.loss(X)
    assert scores.shape == (9, 4)
    np.testing.assert_allclose(scores, forward(net.params, X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reg", [0.0, 0.05])
def test_loss_matches_the_logsumexp_formula(nb, reg):
    net, X, y = small_problem(nb, seed=2, N=8)
    loss, _ = net.loss(X, y, reg=reg)
    assert loss == pytest.approx(oracle_loss(net.params, X, y, reg), rel=1e-12, abs=1e-12)


def test_loss_is_a_python_float(nb):
    net, X, y = small_problem(nb, seed=3)
    loss, _ = net.loss(X, y, reg=0.1)
    assert type(loss) is float


def test_loss_is_close_to_log_C_with_tiny_weights(nb):
    rng = np.random.default_rng(4)
    net = nb.TwoLayerNet(20, 30, 10, std=1e-4, seed=4)
    X = rng.standard_normal((50, 20))
    y = rng.integers(0, 10, size=50)
    loss, _ = net.loss(X, y)
    assert loss == pytest.approx(np.log(10), abs=1e-6)


def test_loss_is_finite_and_exact_for_scores_of_magnitude_1e3(nb):
    net, X, y = small_problem(nb, seed=5, N=10)
    net.params["W2"] *= 2000.0
    net.params["b2"] *= 2000.0
    scores = net.loss(X)
    assert np.abs(scores).max() > 500  # the case really has large scores
    loss, grads = net.loss(X, y, reg=0.01)
    assert np.isfinite(loss)
    assert all(np.all(np.isfinite(g)) for g in grads.values())
    assert loss == pytest.approx(oracle_loss(net.params, X, y, 0.01), rel=1e-12)


def test_gradients_have_the_parameters_keys_and_shapes(nb):
    net, X, y = small_problem(nb, seed=6)
    _, grads = net.loss(X, y, reg=0.1)
    assert set(grads) == set(PARAM_NAMES)
    for name in PARAM_NAMES:
        assert grads[name].shape == net.params[name].shape, name


@pytest.mark.parametrize("reg", [0.0, 0.05])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_gradient_matches_centred_differences(nb, seed, reg):
    net, X, y = small_problem(nb, seed=seed)
    # Away from the ReLU kinks the loss is smooth, so the numerical gradient is exact to ~1e-10.
    assert np.abs(pre_activations(net.params, X)).min() > 1e-3, "test inputs sit on a ReLU kink"
    _, grads = net.loss(X, y, reg=reg)
    for name in PARAM_NAMES:
        numeric = numerical_gradient(lambda: oracle_loss(net.params, X, y, reg), net.params[name])
        assert rel_error(numeric, grads[name]) < 1e-7, name


def test_regularization_adds_2_reg_W_to_the_weights_and_nothing_to_the_biases(nb):
    net, X, y = small_problem(nb, seed=7)
    loss0, grads0 = net.loss(X, y, reg=0.0)
    loss1, grads1 = net.loss(X, y, reg=0.3)
    penalty = 0.3 * (np.sum(net.params["W1"] ** 2) + np.sum(net.params["W2"] ** 2))
    assert loss1 - loss0 == pytest.approx(penalty, rel=1e-10)
    for name in ("W1", "W2"):
        np.testing.assert_allclose(grads1[name] - grads0[name], 0.6 * net.params[name], rtol=1e-10, atol=1e-14)
    for name in ("b1", "b2"):
        np.testing.assert_array_equal(grads1[name], grads0[name])


def test_loss_does_not_change_its_inputs_or_the_parameters(nb):
    net, X, y = small_problem(nb, seed=8)
    X_before, y_before = X.copy(), y.copy()
    params_before = {name: value.copy() for name, value in net.params.items()}
    net.loss(X)
    net.loss(X, y, reg=0.2)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(net.params[name], params_before[name])


# ------------------------------------------------------------------ predict

def test_predict_is_the_int64_argmax_of_independent_scores(nb):
    net, X, _ = small_problem(nb, seed=9, N=40)
    y_pred = net.predict(X)
    assert y_pred.dtype == np.int64
    assert y_pred.shape == (40,)
    np.testing.assert_array_equal(y_pred, np.argmax(forward(net.params, X), axis=1))


# ------------------------------------------------------------------ train

def _train_problem(nb, N=120, D=6, C=3, seed=0):
    rng = np.random.default_rng(200 + seed)
    X = rng.standard_normal((N, D))
    y = rng.integers(0, C, size=N)
    X_val = rng.standard_normal((30, D))
    y_val = rng.integers(0, C, size=30)
    net = nb.TwoLayerNet(D, 8, C, std=0.3, seed=seed)
    return net, X, y, X_val, y_val


def test_train_history_has_one_loss_per_iteration_and_one_accuracy_per_epoch(nb):
    net, X, y, X_val, y_val = _train_problem(nb, N=120)
    np.random.seed(0)
    history = net.train(X, y, X_val, y_val, num_iters=9, batch_size=50)  # 2 iterations per epoch
    assert set(history) >= {"loss_history", "train_acc_history", "val_acc_history"}
    assert len(history["loss_history"]) == 9
    assert len(history["train_acc_history"]) == 4
    assert len(history["val_acc_history"]) == 4
    assert all(type(v) is float for v in history["loss_history"])
    accuracies = history["train_acc_history"] + history["val_acc_history"]
    assert all(0.0 <= a <= 1.0 for a in accuracies)


def test_an_epoch_is_at_least_one_iteration_when_the_batch_exceeds_the_data(nb):
    net, X, y, X_val, y_val = _train_problem(nb, N=30)
    np.random.seed(0)
    history = net.train(X, y, X_val, y_val, num_iters=5, batch_size=200)
    assert len(history["train_acc_history"]) == 5
    assert len(history["val_acc_history"]) == 5


def test_the_last_validation_accuracy_is_that_of_the_trained_net(nb):
    net, X, y, X_val, y_val = _train_problem(nb, N=120)
    np.random.seed(1)
    history = net.train(X, y, X_val, y_val, learning_rate=0.1, num_iters=10, batch_size=50)
    assert history["val_acc_history"][-1] == pytest.approx(np.mean(net.predict(X_val) == y_val))


def test_train_matches_a_hand_written_sgd_loop_with_per_epoch_decay(nb):
    net, X, y, X_val, y_val = _train_problem(nb, N=100, seed=3)
    oracle_params = {name: value.copy() for name, value in net.params.items()}
    settings = dict(learning_rate=0.2, learning_rate_decay=0.5, reg=0.01, num_iters=13, batch_size=30)
    np.random.seed(11)
    history = net.train(X, y, X_val, y_val, **settings)

    # The documented algorithm: minibatches with replacement from the global generator,
    # one SGD step per iteration, the rate halved after every epoch of 100 // 30 = 3 iterations.
    np.random.seed(11)
    learning_rate, losses = settings["learning_rate"], []
    for it in range(settings["num_iters"]):
        idx = np.random.choice(len(X), settings["batch_size"])
        loss = oracle_loss(oracle_params, X[idx], y[idx], settings["reg"])
        losses.append(loss)
        # Every gradient at the current point first, then one simultaneous step.
        grads = {name: numerical_gradient(lambda: oracle_loss(oracle_params, X[idx], y[idx], settings["reg"]),
                                          oracle_params[name])
                 for name in PARAM_NAMES}
        for name in PARAM_NAMES:
            oracle_params[name] -= learning_rate * grads[name]
        if (it + 1) % 3 == 0:
            learning_rate *= settings["learning_rate_decay"]

    np.testing.assert_allclose(history["loss_history"], losses, rtol=1e-6)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(net.params[name], oracle_params[name], rtol=1e-6, atol=1e-8)


def test_a_decay_of_zero_freezes_the_parameters_after_the_first_epoch(nb):
    net_one, X, y, X_val, y_val = _train_problem(nb, N=100, seed=4)
    net_three = nb.TwoLayerNet(6, 8, 3, std=0.3, seed=4)
    np.random.seed(5)
    net_one.train(X, y, X_val, y_val, learning_rate=0.1, learning_rate_decay=0.0, num_iters=4, batch_size=25)
    np.random.seed(5)
    net_three.train(X, y, X_val, y_val, learning_rate=0.1, learning_rate_decay=0.0, num_iters=12, batch_size=25)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(net_three.params[name], net_one.params[name])
    assert not np.array_equal(net_one.params["W1"], nb.TwoLayerNet(6, 8, 3, std=0.3, seed=4).params["W1"])


def test_training_is_reproducible_with_np_random_seed(nb):
    runs = []
    for global_seed in (0, 0, 1):
        net, X, y, X_val, y_val = _train_problem(nb, N=120)
        np.random.seed(global_seed)
        history = net.train(X, y, X_val, y_val, learning_rate=0.05, num_iters=20, batch_size=40)
        runs.append((history["loss_history"], net.params["W1"].copy()))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][0] != runs[2][0]


def test_train_does_not_change_the_data(nb):
    net, X, y, X_val, y_val = _train_problem(nb)
    copies = [a.copy() for a in (X, y, X_val, y_val)]
    np.random.seed(0)
    net.train(X, y, X_val, y_val, num_iters=5, batch_size=40)
    for before, after in zip(copies, (X, y, X_val, y_val)):
        np.testing.assert_array_equal(after, before)


def test_training_on_the_digits_dev_split_lowers_the_loss(nb, digits):
    net = nb.TwoLayerNet(64, 30, 10)
    np.random.seed(0)
    history = net.train(digits["X_dev"], digits["y_dev"], digits["X_val"], digits["y_val"],
                        learning_rate=0.1, learning_rate_decay=0.99, reg=1e-3, num_iters=200, batch_size=50)
    losses = np.asarray(history["loss_history"])
    assert losses[0] == pytest.approx(np.log(10), abs=0.01)
    assert losses[-20:].mean() < 0.3 * losses[:20].mean()


def test_a_trained_net_is_as_accurate_as_sklearn_mlp_of_the_same_size(nb, digits):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    hidden = 50
    net = nb.TwoLayerNet(64, hidden, 10)
    np.random.seed(0)
    net.train(digits["X_train"], digits["y_train"], digits["X_val"], digits["y_val"],
              learning_rate=0.1, learning_rate_decay=0.99, reg=1e-3, num_iters=600)
    net_acc = np.mean(net.predict(digits["X_val"]) == digits["y_val"])

    mlp = MLPClassifier(hidden_layer_sizes=(hidden,), activation="relu", alpha=1e-3, max_iter=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(digits["X_train"] / 16.0, digits["y_train"])
    mlp_acc = mlp.score(digits["X_val"] / 16.0, digits["y_val"])

    assert mlp_acc > 0.9  # the oracle itself learned the task
    assert abs(net_acc - mlp_acc) <= 0.05, f"TwoLayerNet {net_acc:.3f} vs MLPClassifier {mlp_acc:.3f}"
