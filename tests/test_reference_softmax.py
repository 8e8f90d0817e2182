"""The reference softmax.ipynb checked against independent oracles.

Oracles: the cross-entropy written here with scipy's logsumexp, central-difference
gradients written here, the lecture's cat example (natural log: 2.04), and
scikit-learn's LogisticRegression on the digits split. Shapes: N examples,
D features, C classes.
"""
import ast

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.linear_model import LogisticRegression

from utils import add_bias, load_notebook, load_splits, subtract_mean
from tests.notebooks import SOLUTIONS
from utils.manifest import load_manifest
from tests.oracles import cell_source, central_differences, random_problem, rel_error

LOSS_FUNCTIONS = ("softmax_loss_naive", "softmax_loss_vectorized")
LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@pytest.fixture(scope="module")
def softmax():
    # Its imports cell loads svm.ipynb, which the loader finds next to it.
    return load_notebook("softmax", directory=SOLUTIONS)


@pytest.fixture(scope="module")
def digits():
    """Digits splits preprocessed as in the notebook: centred, with the bias column."""
    data = load_splits("digits")
    X_train, X_val, X_dev = (add_bias(X) for X in subtract_mean(data.X_train, data.X_val, data.X_dev))
    return dict(X_train=X_train, y_train=data.y_train, X_val=X_val, y_val=data.y_val, X_dev=X_dev, y_dev=data.y_dev)


def cross_entropy_oracle(W, X, y, reg):
    """Mean of logsumexp(scores) - correct score, plus reg * sum(W**2)."""
    scores = X @ W
    correct = np.take_along_axis(scores, y[:, None], axis=1)[:, 0]
    return np.mean(logsumexp(scores, axis=1) - correct) + reg * np.sum(W ** 2)


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_loss_equals_the_logsumexp_cross_entropy(softmax, name, reg):
    W, X, y = random_problem(seed=1)
    loss, _ = getattr(softmax, name)(W, X, y, reg)
    assert loss == pytest.approx(cross_entropy_oracle(W, X, y, reg), rel=1e-12)


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
def test_lecture_cat_example_gives_natural_log_loss_2_04(softmax, name):
    loss, dW = getattr(softmax, name)(np.array([[3.2, 5.1, -1.7]]), np.array([[1.0]]), np.array([0]), 0.0)
    assert round(loss, 2) == 2.04
    probabilities = np.exp([3.2, 5.1, -1.7]) / np.exp([3.2, 5.1, -1.7]).sum()
    assert np.allclose(dW, [probabilities - [1.0, 0.0, 0.0]], rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_gradient_matches_central_differences(softmax, name, reg):
    W, X, y = random_problem(seed=2)
    _, dW = getattr(softmax, name)(W, X, y, reg)
    numerical = central_differences(lambda w: cross_entropy_oracle(w, X, y, reg), W)
    assert rel_error(dW, numerical) < 1e-7


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
def test_scores_of_magnitude_1e3_give_finite_exact_values(softmax, name):
    rng = np.random.default_rng(3)
    W = 1e3 * rng.standard_normal((4, 6))
    X = rng.standard_normal((9, 4))
    y = rng.integers(0, 6, size=9)
    loss, dW = getattr(softmax, name)(W, X, y, 0.0)
    assert np.isfinite(loss) and np.all(np.isfinite(dW))
    assert np.abs(X @ W).max() > 1e3
    assert loss == pytest.approx(cross_entropy_oracle(W, X, y, 0.0), rel=1e-12)


@pytest.mark.parametrize("reg", [0.0, 0.1, 10.0])
def test_naive_and_vectorized_agree_to_1e_9_on_digits(softmax, digits, reg):
    W = 0.01 * np.random.default_rng(4).standard_normal((digits["X_dev"].shape[1], 10))
    loss_naive, dW_naive = softmax.softmax_loss_naive(W, digits["X_dev"], digits["y_dev"], reg)
    loss_vectorized, dW_vectorized = softmax.softmax_loss_vectorized(W, digits["X_dev"], digits["y_dev"], reg)
    assert abs(loss_naive - loss_vectorized) / abs(loss_naive) < 1e-9
    assert rel_error(dW_naive, dW_vectorized) < 1e-9


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
def test_loss_at_tiny_weights_is_about_log_c(softmax, digits, name):
    W = 1e-6 * np.random.default_rng(5).standard_normal((digits["X_dev"].shape[1], 10))
    loss, _ = getattr(softmax, name)(W, digits["X_dev"], digits["y_dev"], 0.0)
    assert loss == pytest.approx(np.log(10), abs=1e-3)


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
def test_returns_a_python_float_and_a_float64_gradient_shaped_like_w(softmax, name):
    W, X, y = random_problem(seed=6, N=7, D=4, C=3)
    loss, dW = getattr(softmax, name)(W, X, y, 0.1)
    assert type(loss) is float
    assert isinstance(dW, np.ndarray) and dW.dtype == np.float64 and dW.shape == (4, 3)


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
def test_inputs_are_not_modified(softmax, name):
    W, X, y = random_problem(seed=7)
    copies = W.copy(), X.copy(), y.copy()
    getattr(softmax, name)(W, X, y, 0.1)
    for original, copy in zip((W, X, y), copies):
        assert np.array_equal(original, copy)


def test_vectorized_loss_has_no_loops_or_comprehensions():
    tree = ast.parse(cell_source("softmax", "softmax_loss_vectorized"))
    assert [type(node).__name__ for node in ast.walk(tree) if isinstance(node, LOOP_NODES)] == []


def test_naive_loss_loops_over_the_examples():
    tree = ast.parse(cell_source("softmax", "softmax_loss_naive"))
    assert any(isinstance(node, ast.For) for node in ast.walk(tree))


def test_softmax_subclasses_the_svm_notebooks_linear_classifier(softmax):
    assert issubclass(softmax.Softmax, softmax.LinearClassifier)
    assert softmax.LinearClassifier.__module__ == "notebook_svm"


def test_softmax_loss_method_is_the_cross_entropy_at_its_weights(softmax):
    W, X, y = random_problem(seed=8)
    classifier = softmax.Softmax()
    classifier.W = W
    loss, dW = classifier.loss(X, y, 0.1)
    assert loss == pytest.approx(cross_entropy_oracle(W, X, y, 0.1), rel=1e-12)
    assert np.array_equal(dW, softmax.softmax_loss_vectorized(W, X, y, 0.1)[1])


def test_softmax_training_decreases_the_loss_and_separates_a_separable_toy_problem(softmax):
    rng = np.random.default_rng(9)
    centres = np.array([[4.0, 0.0], [-2.0, 3.5], [-2.0, -3.5]])
    X = add_bias(np.vstack([centre + 0.5 * rng.standard_normal((60, 2)) for centre in centres]))
    y = np.repeat(np.arange(3), 60)
    np.random.seed(0)
    classifier = softmax.Softmax()
    history = classifier.train(X, y, learning_rate=5e-2, reg=1e-3, num_iters=300, batch_size=32)
    assert len(history) == 300
    assert np.mean(history[-20:]) < 0.25 * np.mean(history[:20])
    predicted = classifier.predict(X)
    assert predicted.dtype == np.int64 and predicted.shape == (180,)
    assert np.mean(predicted == y) == 1.0


def test_trained_softmax_is_as_accurate_as_sklearn_logistic_regression_on_digits(softmax, digits):
    np.random.seed(0)
    classifier = softmax.Softmax()
    classifier.train(digits["X_train"], digits["y_train"], learning_rate=1e-2, reg=1e-2, num_iters=500)
    ours = np.mean(classifier.predict(digits["X_val"]) == digits["y_val"])
    # LogisticRegression fits its own intercept, so it gets the features without the bias column.
    oracle = LogisticRegression(C=0.01, max_iter=2000).fit(digits["X_train"][:, :-1], digits["y_train"])
    theirs = oracle.score(digits["X_val"][:, :-1], digits["y_val"])
    assert ours >= load_manifest(SOLUTIONS).accuracy_target("best_softmax", "digits")
    assert abs(ours - theirs) <= 0.05
