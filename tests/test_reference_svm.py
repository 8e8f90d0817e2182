"""The reference svm.ipynb checked against independent oracles.

Oracles: the hinge loss written here with a one-hot mask, central-difference
gradients written here, the lecture's cat/car/frog numbers, and scikit-learn's
LinearSVC on the digits split. Shapes: N examples, D features, C classes.
"""
import ast

import numpy as np
import pytest
from sklearn.svm import LinearSVC

from utils import add_bias, load_notebook, load_splits, subtract_mean
from tests.notebooks import SOLUTIONS
from utils.manifest import load_manifest
from tests.oracles import cell_source, central_differences, random_problem, rel_error

LOSS_FUNCTIONS = ("svm_loss_naive", "svm_loss_vectorized")
LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

# The lecture's example: one row of scores per image (cat, car, frog), as one-hot images.
LECTURE_SCORES = np.array([[3.2, 5.1, -1.7],
                           [1.3, 4.9, 2.0],
                           [2.2, 2.5, -3.1]])
LECTURE_LABELS = np.array([0, 1, 2])


@pytest.fixture(scope="module")
def svm():
    return load_notebook("svm", directory=SOLUTIONS)


@pytest.fixture(scope="module")
def digits():
    """Digits splits preprocessed as in the notebook: centred, with the bias column."""
    data = load_splits("digits")
    X_train, X_val, X_dev = (add_bias(X) for X in subtract_mean(data.X_train, data.X_val, data.X_dev))
    return dict(X_train=X_train, y_train=data.y_train, X_val=X_val, y_val=data.y_val, X_dev=X_dev, y_dev=data.y_dev)


def hinge_oracle(W, X, y, reg):
    """Mean multiclass hinge loss (margin 1) plus reg * sum(W**2), via a one-hot mask."""
    scores = X @ W
    one_hot = np.eye(W.shape[1], dtype=bool)[y]
    correct = np.sum(np.where(one_hot, scores, 0.0), axis=1, keepdims=True)
    margins = np.where(one_hot, 0.0, np.maximum(0.0, scores - correct + 1.0))
    return margins.sum() / X.shape[0] + reg * np.sum(W ** 2)


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_loss_equals_the_one_hot_hinge_formula(svm, name, reg):
    W, X, y = random_problem(seed=1)
    loss, _ = getattr(svm, name)(W, X, y, reg)
    assert loss == pytest.approx(hinge_oracle(W, X, y, reg), rel=1e-12)


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
def test_lecture_example_gives_losses_2_9_0_12_9_and_mean_5_27(svm, name):
    loss_function = getattr(svm, name)
    X = np.eye(3)
    per_image = [loss_function(LECTURE_SCORES, X[i:i + 1], LECTURE_LABELS[i:i + 1], 0.0)[0] for i in range(3)]
    assert per_image == pytest.approx([2.9, 0.0, 12.9], abs=1e-12)
    mean_loss, _ = loss_function(LECTURE_SCORES, X, LECTURE_LABELS, 0.0)
    assert round(mean_loss, 2) == 5.27


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_gradient_matches_central_differences_away_from_kinks(svm, name, reg):
    W, X, y = random_problem(seed=2)
    margins = X @ W - (X @ W)[np.arange(len(y)), y][:, None] + 1.0
    margins[np.arange(len(y)), y] = 1.0
    # A perturbation of h = 1e-5 moves a margin by at most 2 * h * max|x|: stay clear of 0.
    assert np.min(np.abs(margins)) > 1e-3, "test setup: pick a seed without margins near the kink"
    assert np.any(margins > 0) and np.any(margins < 0), "test setup: both sides of the hinge should occur"
    _, dW = getattr(svm, name)(W, X, y, reg)
    numerical = central_differences(lambda w: hinge_oracle(w, X, y, reg), W)
    assert rel_error(dW, numerical) < 1e-7


@pytest.mark.parametrize("reg", [0.0, 0.1, 10.0])
def test_naive_and_vectorized_agree_to_1e_9_on_digits(svm, digits, reg):
    W = 0.01 * np.random.default_rng(3).standard_normal((digits["X_dev"].shape[1], 10))
    loss_naive, dW_naive = svm.svm_loss_naive(W, digits["X_dev"], digits["y_dev"], reg)
    loss_vectorized, dW_vectorized = svm.svm_loss_vectorized(W, digits["X_dev"], digits["y_dev"], reg)
    assert abs(loss_naive - loss_vectorized) / abs(loss_naive) < 1e-9
    assert rel_error(dW_naive, dW_vectorized) < 1e-9


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
def test_loss_at_tiny_weights_is_about_c_minus_1(svm, digits, name):
    W = 1e-6 * np.random.default_rng(4).standard_normal((digits["X_dev"].shape[1], 10))
    loss, _ = getattr(svm, name)(W, digits["X_dev"], digits["y_dev"], 0.0)
    assert loss == pytest.approx(9.0, abs=0.01)


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
def test_returns_a_python_float_and_a_float64_gradient_shaped_like_w(svm, name):
    W, X, y = random_problem(seed=5, N=7, D=4, C=3)
    loss, dW = getattr(svm, name)(W, X, y, 0.1)
    assert type(loss) is float
    assert isinstance(dW, np.ndarray) and dW.dtype == np.float64 and dW.shape == (4, 3)


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
def test_inputs_are_not_modified(svm, name):
    W, X, y = random_problem(seed=6)
    copies = W.copy(), X.copy(), y.copy()
    getattr(svm, name)(W, X, y, 0.1)
    for original, copy in zip((W, X, y), copies):
        assert np.array_equal(original, copy)


def test_vectorized_loss_has_no_loops_or_comprehensions():
    tree = ast.parse(cell_source("svm", "svm_loss_vectorized"))
    assert [type(node).__name__ for node in ast.walk(tree) if isinstance(node, LOOP_NODES)] == []


def test_naive_loss_loops_over_examples_and_classes_inside_each_other():
    tree = ast.parse(cell_source("svm", "svm_loss_naive"))
    outer = [node for node in ast.walk(tree) if isinstance(node, ast.For)]
    assert any(isinstance(inner, ast.For) and inner is not loop for loop in outer for inner in ast.walk(loop))


def test_base_class_leaves_the_loss_to_subclasses(svm):
    classifier = svm.LinearClassifier()
    classifier.W = np.zeros((3, 2))
    with pytest.raises(NotImplementedError):
        classifier.loss(np.zeros((1, 3)), np.array([0]), 0.0)


def test_linear_svm_loss_is_the_vectorized_svm_loss_at_its_weights(svm):
    W, X, y = random_problem(seed=7)
    classifier = svm.LinearSVM()
    classifier.W = W
    assert isinstance(classifier, svm.LinearClassifier)
    loss, dW = classifier.loss(X, y, 0.1)
    assert loss == pytest.approx(hinge_oracle(W, X, y, 0.1), rel=1e-12)
    assert np.array_equal(dW, svm.svm_loss_vectorized(W, X, y, 0.1)[1])


def blobs(seed, per_class=60):
    """Three well separated 2-D Gaussian clusters, with the bias column."""
    rng = np.random.default_rng(seed)
    centres = np.array([[4.0, 0.0], [-2.0, 3.5], [-2.0, -3.5]])
    X = np.vstack([centre + 0.5 * rng.standard_normal((per_class, 2)) for centre in centres])
    return add_bias(X), np.repeat(np.arange(3), per_class)


def test_train_returns_num_iters_python_floats_and_initializes_w_as_d_by_c(svm):
    X, y = blobs(seed=0)
    np.random.seed(0)
    classifier = svm.LinearSVM()
    history = classifier.train(X, y, learning_rate=1e-2, reg=1e-3, num_iters=37, batch_size=16)
    assert isinstance(history, list) and len(history) == 37
    assert all(type(value) is float for value in history)
    assert classifier.W.shape == (3, 3)


def test_train_decreases_the_loss_and_separates_a_separable_toy_problem(svm):
    X, y = blobs(seed=1)
    np.random.seed(0)
    classifier = svm.LinearSVM()
    history = classifier.train(X, y, learning_rate=1e-2, reg=1e-3, num_iters=300, batch_size=32)
    assert np.mean(history[-20:]) < 0.25 * np.mean(history[:20])
    assert np.mean(classifier.predict(X) == y) == 1.0


def test_train_is_seeded_minibatch_sgd_with_replacement_from_the_global_generator(svm):
    # Replays the contract by hand: W = 0.001 * randn(D, C), then per step a batch
    # from np.random.choice(N, batch_size) and W -= learning_rate * gradient.
    X, y = blobs(seed=2, per_class=10)
    learning_rate, reg, batch_size = 1e-2, 0.05, 8
    np.random.seed(3)
    expected_W = 0.001 * np.random.randn(3, 3)
    expected_losses = []
    for _ in range(25):
        batch = np.random.choice(len(y), batch_size)
        expected_losses.append(hinge_oracle(expected_W, X[batch], y[batch], reg))
        _, grad = svm.svm_loss_vectorized(expected_W, X[batch], y[batch], reg)
        expected_W = expected_W - learning_rate * grad

    np.random.seed(3)
    classifier = svm.LinearSVM()
    history = classifier.train(X, y, learning_rate=learning_rate, reg=reg, num_iters=25, batch_size=batch_size)
    assert history == pytest.approx(expected_losses, rel=1e-12)
    assert np.allclose(classifier.W, expected_W, rtol=0, atol=1e-12)


def test_train_continues_from_existing_weights_instead_of_reinitializing(svm):
    X, y = blobs(seed=3)
    classifier = svm.LinearSVM()
    classifier.W = np.arange(9.0).reshape(3, 3)
    classifier.train(X, y, learning_rate=0.0, num_iters=2)
    assert np.array_equal(classifier.W, np.arange(9.0).reshape(3, 3))


def test_predict_returns_int64_argmax_of_the_scores(svm):
    rng = np.random.default_rng(8)
    classifier = svm.LinearSVM()
    classifier.W = rng.standard_normal((6, 4))
    X = rng.standard_normal((11, 6))
    predicted = classifier.predict(X)
    assert predicted.dtype == np.int64 and predicted.shape == (11,)
    assert np.array_equal(predicted, np.argmax(X @ classifier.W, axis=1))


def test_trained_svm_is_as_accurate_as_sklearn_linear_svc_on_digits(svm, digits):
    np.random.seed(0)
    classifier = svm.LinearSVM()
    classifier.train(digits["X_train"], digits["y_train"], learning_rate=1e-3, reg=1e-2, num_iters=500)
    ours = np.mean(classifier.predict(digits["X_val"]) == digits["y_val"])
    # LinearSVC fits its own intercept, so it gets the features without the bias column.
    oracle = LinearSVC(C=0.01, max_iter=5000, random_state=0).fit(digits["X_train"][:, :-1], digits["y_train"])
    theirs = oracle.score(digits["X_val"][:, :-1], digits["y_val"])
    assert ours >= load_manifest(SOLUTIONS).accuracy_target("best_svm", "digits")
    assert abs(ours - theirs) <= 0.05
