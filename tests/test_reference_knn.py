"""The kNN reference solution agrees with independent oracles and keeps its contract.

Oracles: scipy's ``cdist`` for the distances and scikit-learn's brute-force
``KNeighborsClassifier`` (uniform vote) for the predictions and the
cross-validation. Shapes: num_test test examples, num_train training
examples, D features.
"""
import ast
from pathlib import Path

import nbformat
import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.neighbors import KNeighborsClassifier

import utils
from tests.oracles import rel_error

SOLUTIONS = Path(__file__).parents[1] / "solutions" / "assignment1"
DISTANCE_METHODS = ("compute_distances_two_loops", "compute_distances_one_loop", "compute_distances_no_loops")
# (num_test, num_train, D): a single test point, more training than test points
# and the reverse, a small D and a wide one.
SHAPES = [(1, 9, 4), (13, 29, 3), (40, 25, 64), (5, 7, 300)]
LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@pytest.fixture(scope="module")
def knn():
    return utils.load_notebook("knn", directory=SOLUTIONS)



def random_points(seed, num_test, num_train, dim):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(num_test, dim)), rng.normal(size=(num_train, dim))


def trained(knn, X_train, y_train=None):
    classifier = knn.KNearestNeighbor()
    if y_train is None:
        y_train = np.zeros(len(X_train), dtype=np.int64)
    classifier.train(X_train, y_train)
    return classifier


def blobs(seed, num_points, num_classes=4, dim=5):
    """Overlapping Gaussian clusters: continuous (tie-free) distances, accuracies strictly between 0 and 1."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=1.5, size=(num_classes, dim))
    y = rng.integers(0, num_classes, size=num_points)
    return centres[y] + rng.normal(size=(num_points, dim)), y


# ---------------------------------------------------------------- train


def test_train_stores_the_training_data_under_its_contract_names(knn):
    X, y = np.arange(12.0).reshape(4, 3), np.array([1, 0, 1, 2])
    classifier = trained(knn, X, y)
    assert np.array_equal(classifier.X_train, X)
    assert np.array_equal(classifier.y_train, y)


def test_training_again_replaces_the_stored_data(knn):
    X_test, X_first = random_points(0, 3, 5, 2)
    _, X_second = random_points(1, 3, 8, 2)
    classifier = trained(knn, X_first)
    classifier.train(X_second, np.ones(8, dtype=np.int64))
    np.testing.assert_allclose(classifier.compute_distances_no_loops(X_test), cdist(X_test, X_second), rtol=1e-9)


# ---------------------------------------------------------------- distances


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("method", DISTANCE_METHODS)
def test_distances_match_scipy_cdist(knn, method, shape):
    X_test, X_train = random_points(sum(shape), *shape)
    dists = getattr(trained(knn, X_train), method)(X_test)
    assert isinstance(dists, np.ndarray)
    assert dists.dtype == np.float64
    assert dists.shape == shape[:2]
    assert rel_error(dists, cdist(X_test, X_train)) < 1e-9


@pytest.mark.parametrize("method", DISTANCE_METHODS)
def test_distances_on_cifar_sized_pixel_rows_match_cdist(knn, method):
    # D = 3072 integer pixel values 0..255, as CIFAR-10 images arrive.
    rng = np.random.default_rng(7)
    X_test = rng.integers(0, 256, size=(3, 3072)).astype(np.float64)
    X_train = rng.integers(0, 256, size=(6, 3072)).astype(np.float64)
    assert rel_error(getattr(trained(knn, X_train), method)(X_test), cdist(X_test, X_train)) < 1e-9


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_the_three_distance_versions_agree(knn, shape):
    X_test, X_train = random_points(100 + sum(shape), *shape)
    classifier = trained(knn, X_train)
    two, one, none = (getattr(classifier, method)(X_test) for method in DISTANCE_METHODS)
    assert rel_error(one, two) < 1e-9
    assert rel_error(none, two) < 1e-9


def test_no_loop_distances_stay_finite_and_zero_between_identical_points(knn):
    # Far from the origin the expanded square cancels badly; for this data some
    # squared self-distances round to small negative numbers (nan without the clip).
    X = np.random.default_rng(1).normal(size=(40, 8)) + 100.0
    dists = trained(knn, X).compute_distances_no_loops(X)
    assert np.all(np.isfinite(dists))
    assert np.all(dists >= 0.0)
    assert np.max(np.abs(np.diag(dists))) < 1e-4
    off_diagonal = ~np.eye(len(X), dtype=bool)
    np.testing.assert_allclose(dists[off_diagonal], cdist(X, X)[off_diagonal], rtol=1e-9)


@pytest.mark.parametrize("method", DISTANCE_METHODS)
def test_distance_methods_leave_the_test_data_and_the_stored_training_data_unchanged(knn, method):
    X_test, X_train = random_points(3, 6, 10, 4)
    y_train = np.arange(10) % 3
    copies = X_test.copy(), X_train.copy(), y_train.copy()
    classifier = trained(knn, X_train, y_train)
    getattr(classifier, method)(X_test)
    assert np.array_equal(X_test, copies[0])
    assert np.array_equal(classifier.X_train, copies[1])
    assert np.array_equal(classifier.y_train, copies[2])


def _method_source_tree(class_name, method_name):
    """AST of a method as written in the knn notebook's definition cell.

    Read from the notebook itself: functions loaded with utils.load_notebook
    have no source file, so inspect.getsource cannot find them.
    """
    nb = nbformat.read(str(SOLUTIONS / "knn.ipynb"), as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "knn_class"]
    for node in ast.walk(ast.parse(cell.source)):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == method_name:
                    return item
    raise AssertionError(f"{class_name}.{method_name} not found in the knn_class cell")


def test_no_loop_distances_use_no_python_loop_and_no_library_distance():
    tree = _method_source_tree("KNearestNeighbor", "compute_distances_no_loops")
    assert [type(node).__name__ for node in ast.walk(tree) if isinstance(node, LOOP_NODES)] == []
    names = {getattr(node, "attr", getattr(node, "id", None)) for node in ast.walk(tree)}
    assert names.isdisjoint({"norm", "scipy", "sklearn", "cdist", "pdist", "euclidean_distances"})


def test_the_loop_checker_sees_the_loops_of_the_one_loop_version():
    # Guards the check above: it must be able to fail.
    tree = _method_source_tree("KNearestNeighbor", "compute_distances_one_loop")
    assert any(isinstance(node, LOOP_NODES) for node in ast.walk(tree))


# ---------------------------------------------------------------- predict_labels


@pytest.mark.parametrize("k", [1, 3, 5])
def test_predict_labels_matches_sklearn_brute_force(knn, k):
    rng = np.random.default_rng(k)
    X_train, X_test = rng.normal(size=(150, 6)), rng.normal(size=(60, 6))
    # Random labels from a gappy label set: many tied votes, and absent labels.
    y_train = rng.choice(np.array([0, 2, 3, 7, 9]), size=150)
    sklearn_pred = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(X_train, y_train).predict(X_test)
    pred = trained(knn, X_train, y_train).predict_labels(cdist(X_test, X_train), k=k)
    assert np.array_equal(pred, sklearn_pred)


# Training points at x = 1..6 and one test point at x = 0: the neighbours come
# in index order, so the votes of each k can be read off the labels.
TIE_LABELS = np.array([3, 1, 3, 1, 0, 0])
TIE_EXPECTED = {1: 3, 2: 1, 3: 3, 4: 1, 6: 0}  # k=2, 4: 3 and 1 tie; k=6: 3, 1 and 0 tie


@pytest.mark.parametrize("k", sorted(TIE_EXPECTED))
def test_predict_labels_gives_a_tied_vote_to_the_smallest_label(knn, k):
    X_train, X_test = np.arange(1.0, 7.0).reshape(6, 1), np.zeros((1, 1))
    pred = trained(knn, X_train, TIE_LABELS).predict_labels(cdist(X_test, X_train), k=k)
    assert pred.tolist() == [TIE_EXPECTED[k]]


@pytest.mark.parametrize("k", sorted(TIE_EXPECTED))
def test_sklearn_oracle_follows_the_same_tie_rule(k):
    # The sklearn comparisons above are only a valid oracle if sklearn breaks ties the same way.
    X_train, X_test = np.arange(1.0, 7.0).reshape(6, 1), np.zeros((1, 1))
    clf = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(X_train, TIE_LABELS)
    assert clf.predict(X_test).tolist() == [TIE_EXPECTED[k]]


def stable_sort_vote(dists, y_train, k):
    """The vote by its definition: a stable full sort of each row, then the most common label (smallest on a tie)."""
    labels = y_train[np.argsort(dists, axis=1, kind="stable")[:, :k]]
    return np.array([np.argmax(np.bincount(row, minlength=y_train.max() + 1)) for row in labels], dtype=np.int64)


@pytest.mark.parametrize("seed", range(6))
def test_predict_labels_picks_the_k_a_stable_sort_picks_among_many_equal_distances(knn, seed):
    # Few distinct distances: many training examples as far as the k-th nearest, in every row.
    # nan where a student's distances have one: farther than any distance, as a sort puts it.
    # A student's distances may be integers too.
    rng = np.random.default_rng(seed)
    for _ in range(40):
        num_test, num_train = rng.integers(1, 12), rng.integers(1, 90)
        k = int(rng.integers(1, num_train + 1))
        dists = rng.integers(0, rng.integers(1, 12), size=(num_test, num_train)).astype(float)
        if seed % 3 == 1:
            dists[rng.random(dists.shape) < 0.3] = np.nan
        elif seed % 3 == 2:  # integers a float64 cannot tell apart: compared as they are
            dists = dists.astype(np.int64) + 2**53
        y_train = rng.integers(0, 5, size=num_train)
        pred = trained(knn, np.zeros((num_train, 1)), y_train).predict_labels(dists, k=k)
        assert np.array_equal(pred, stable_sort_vote(dists, y_train, k)), (num_test, num_train, k)


def test_predict_labels_of_no_test_examples_is_empty(knn):
    pred = trained(knn, np.zeros((5, 1)), np.arange(5)).predict_labels(np.zeros((0, 5)), k=3)
    assert pred.shape == (0,) and pred.dtype == np.int64


def test_predict_labels_returns_int64_labels_one_per_test_row(knn):
    X_test, X_train = random_points(4, 7, 12, 3)
    pred = trained(knn, X_train, np.arange(12) % 4).predict_labels(cdist(X_test, X_train), k=3)
    assert pred.dtype == np.int64
    assert pred.shape == (7,)


def test_predict_labels_leaves_dists_unchanged(knn):
    X_test, X_train = random_points(5, 7, 12, 3)
    dists = cdist(X_test, X_train)
    copy = dists.copy()
    trained(knn, X_train, np.arange(12) % 4).predict_labels(dists, k=5)
    assert np.array_equal(dists, copy)


# ---------------------------------------------------------------- predict


@pytest.mark.parametrize("num_loops", [0, 1, 2])
def test_predict_with_any_distance_version_matches_sklearn(knn, num_loops):
    X_train, y_train = blobs(11, 80)
    X_test, _ = blobs(12, 30)
    expected = KNeighborsClassifier(n_neighbors=3, algorithm="brute").fit(X_train, y_train).predict(X_test)
    assert np.array_equal(trained(knn, X_train, y_train).predict(X_test, k=3, num_loops=num_loops), expected)


def test_predict_rejects_an_unknown_number_of_loops(knn):
    X_test, X_train = random_points(6, 2, 4, 3)
    with pytest.raises(ValueError, match="num_loops"):
        trained(knn, X_train).predict(X_test, num_loops=3)


# ---------------------------------------------------------------- cross_validate_knn


def sklearn_cross_validation(X, y, k_choices, num_folds):
    """Fold accuracies recomputed with sklearn on the same np.array_split folds."""
    folds = np.array_split(np.arange(len(X)), num_folds)
    result = {k: [] for k in k_choices}
    for i, val_idx in enumerate(folds):
        train_idx = np.concatenate(folds[:i] + folds[i + 1:])
        for k in k_choices:
            clf = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(X[train_idx], y[train_idx])
            result[k].append(clf.score(X[val_idx], y[val_idx]))
    return result


@pytest.mark.parametrize("num_points, num_folds", [(53, 5), (40, 3), (31, 4)])
def test_cross_validate_matches_sklearn_on_the_same_folds(knn, num_points, num_folds):
    # 53 and 31 points do not split evenly, so fold sizes differ as np.array_split makes them.
    X, y = blobs(num_points, num_points)
    k_choices = [1, 3, 5, 8]
    result = knn.cross_validate_knn(X, y, k_choices, num_folds=num_folds)
    expected = sklearn_cross_validation(X, y, k_choices, num_folds)
    assert sorted(result) == k_choices
    for k in k_choices:
        assert result[k] == pytest.approx(expected[k], abs=1e-12), f"k={k}"


def test_cross_validate_gives_num_folds_python_floats_per_k(knn):
    X, y = blobs(2, 30)
    result = knn.cross_validate_knn(X, y, [1, 4], num_folds=6)
    assert list(result) == [1, 4]
    for accuracies in result.values():
        assert len(accuracies) == 6
        assert all(type(a) is float and 0.0 <= a <= 1.0 for a in accuracies)


def test_cross_validate_holds_out_consecutive_folds_in_order(knn):
    # Ten points on a line; with k = 1 the fold accuracies can be worked out by hand.
    X, y = np.arange(10.0).reshape(10, 1), np.array([0, 0, 0, 0, 1, 1, 0, 0, 0, 0])
    assert knn.cross_validate_knn(X, y, [1], num_folds=5)[1] == [1.0, 0.5, 0.0, 0.5, 1.0]


def test_cross_validate_leaves_its_inputs_unchanged(knn):
    X, y = blobs(3, 25)
    copies = X.copy(), y.copy()
    knn.cross_validate_knn(X, y, [1, 3], num_folds=5)
    assert np.array_equal(X, copies[0])
    assert np.array_equal(y, copies[1])
