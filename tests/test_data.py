"""utils.data on the embedded digits dataset: splits, dataset choice, preprocessing.

The CIFAR-10 path of ``load_splits`` is tested in test_cifar10.py with tiny files.
"""
from collections import Counter

import numpy as np
import pytest
from sklearn.datasets import load_digits

from utils import data
from utils.data import SPLIT_SIZES, Splits, add_bias, dataset_name, load_splits, subtract_mean


@pytest.fixture(autouse=True)
def _no_dataset_env(monkeypatch):
    # The developer's own KIT_DATASET must not change what these tests see.
    monkeypatch.delenv(data.ENV_VAR, raising=False)


@pytest.fixture(scope="module")
def digits():
    return load_splits("digits", seed=0)


def _rows(X, y):
    """Each example as a hashable (pixels, label) pair."""
    return [(row.tobytes(), int(label)) for row, label in zip(X, y)]


# ---------------------------------------------------------------- splits


def test_digits_splits_have_documented_sizes_shapes_and_dtypes(digits):
    sizes = SPLIT_SIZES[("digits", None)]
    for split, size in (("train", sizes["num_train"]), ("val", sizes["num_val"]),
                        ("test", sizes["num_test"]), ("dev", sizes["num_dev"])):
        X, y = getattr(digits, "X_" + split), getattr(digits, "y_" + split)
        assert X.shape == (size, 64), split
        assert y.shape == (size,), split
        assert X.dtype == np.float64, split
        assert y.dtype == np.int64, split
    assert (sizes["num_train"], sizes["num_val"], sizes["num_test"], sizes["num_dev"]) == (1297, 200, 300, 100)


def test_digits_splits_describe_the_dataset(digits):
    assert isinstance(digits, Splits)
    assert digits.name == "digits"
    assert digits.image_shape == (8, 8)
    assert digits.class_names == tuple(str(c) for c in range(10))
    assert digits.X_train.min() == 0 and digits.X_train.max() == 16
    assert set(np.unique(digits.y_train)) == set(range(10))


def test_digits_train_val_test_partition_the_whole_dataset(digits):
    # 1297 + 200 + 300 = 1797: every example lands in exactly one split. Rows
    # are compared as a multiset because the dataset may hold duplicate images.
    everything = load_digits()
    full = _rows(everything.data.astype(np.float64), everything.target)
    pieces = (_rows(digits.X_train, digits.y_train) + _rows(digits.X_val, digits.y_val)
              + _rows(digits.X_test, digits.y_test))
    assert Counter(pieces) == Counter(full)


def test_digits_dev_split_is_drawn_from_train_without_repeats(digits):
    train = Counter(_rows(digits.X_train, digits.y_train))
    dev = Counter(_rows(digits.X_dev, digits.y_dev))
    assert all(train[row] >= count for row, count in dev.items())


def test_same_seed_gives_identical_splits():
    first, second = load_splits("digits", seed=3), load_splits("digits", seed=3)
    for field in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test", "X_dev", "y_dev"):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field), err_msg=field)


def test_another_seed_gives_different_splits():
    first, second = load_splits("digits", seed=0), load_splits("digits", seed=1)
    for field in ("y_train", "y_val", "y_test", "y_dev"):
        assert not np.array_equal(getattr(first, field), getattr(second, field)), field


def test_size_overrides_are_honoured():
    splits = load_splits("digits", num_train=100, num_val=50, num_test=40, num_dev=10)
    assert splits.X_train.shape == (100, 64)
    assert splits.X_val.shape == (50, 64)
    assert splits.X_test.shape == (40, 64)
    assert splits.X_dev.shape == (10, 64)


def test_zero_sized_splits_are_empty_with_the_right_width():
    splits = load_splits("digits", num_val=0, num_dev=0)
    assert splits.X_val.shape == (0, 64) and splits.y_val.shape == (0,)
    assert splits.X_dev.shape == (0, 64)


def test_knn_purpose_works_for_digits():
    splits = load_splits("digits", purpose="knn")
    assert splits.X_train.shape == (SPLIT_SIZES[("digits", "knn")]["num_train"], 64)


def test_sizes_larger_than_the_dataset_raise_a_clear_error():
    with pytest.raises(ValueError, match=r"digits has 1797 examples.*= 1800.*smaller sizes"):
        load_splits("digits", num_train=1500, num_val=0, num_test=300)


def test_dev_larger_than_train_raises():
    with pytest.raises(ValueError, match="num_dev .* cannot exceed num_train"):
        load_splits("digits", num_train=50, num_dev=51)


@pytest.mark.parametrize("bad", [-1, 2.5, "10", True])
def test_non_integer_or_negative_size_raises(bad):
    with pytest.raises(ValueError, match="num_val must be a non-negative integer"):
        load_splits("digits", num_val=bad)


def test_unknown_size_name_raises_type_error():
    with pytest.raises(TypeError, match="num_training"):
        load_splits("digits", num_training=10)


def test_unknown_purpose_raises():
    with pytest.raises(ValueError, match="unknown purpose 'svm'"):
        load_splits("digits", purpose="svm")


def test_splits_repr_names_the_dataset_and_shapes(digits):
    text = repr(digits)
    assert "'digits'" in text and "10 classes" in text and "train=(1297, 64)" in text


# ---------------------------------------------------------------- dataset choice


def test_dataset_name_defaults_to_digits():
    assert dataset_name() == "digits"


def test_dataset_name_reads_environment_variable(monkeypatch):
    monkeypatch.setenv("KIT_DATASET", "cifar10")
    assert dataset_name() == "cifar10"


def test_dataset_name_argument_beats_environment_variable(monkeypatch):
    monkeypatch.setenv("KIT_DATASET", "cifar10")
    assert dataset_name("digits") == "digits"


def test_dataset_name_ignores_case_and_spaces():
    assert dataset_name(" CIFAR10 ") == "cifar10"


def test_unknown_dataset_argument_raises_naming_the_choices():
    with pytest.raises(ValueError, match=r"unknown dataset 'mnist' \(from the argument\); choose one of digits, cifar10"):
        dataset_name("mnist")


def test_unknown_dataset_in_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("KIT_DATASET", "imagenet")
    with pytest.raises(ValueError, match="environment variable KIT_DATASET.*digits, cifar10"):
        load_splits()


# ---------------------------------------------------------------- preprocessing


def test_subtract_mean_centres_every_split_with_the_training_mean():
    rng = np.random.default_rng(0)
    X_train = rng.normal(3.0, 1.0, size=(20, 5))
    X_val = rng.normal(-2.0, 1.0, size=(7, 5))
    train_mean = X_train.sum(axis=0) / len(X_train)
    centred_train, centred_val = subtract_mean(X_train, X_val)
    np.testing.assert_allclose(centred_train, X_train - train_mean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(centred_val, X_val - train_mean, rtol=0, atol=1e-12)
    # The validation split keeps its own offset: it was not centred with its own mean.
    assert abs(centred_val.mean() - (-5.0)) < 1.0


def test_subtract_mean_returns_a_tuple_and_leaves_inputs_unchanged():
    rng = np.random.default_rng(1)
    X_train, X_test = rng.normal(size=(6, 3)), rng.normal(size=(4, 3))
    before_train, before_test = X_train.copy(), X_test.copy()
    result = subtract_mean(X_train, X_test)
    assert isinstance(result, tuple) and len(result) == 2
    assert len(subtract_mean(X_train)) == 1
    np.testing.assert_array_equal(X_train, before_train)
    np.testing.assert_array_equal(X_test, before_test)


def test_subtract_mean_with_bias_centres_and_appends_ones_in_one_copy():
    import tracemalloc

    rng = np.random.default_rng(2)
    X_train, X_val = rng.normal(size=(2000, 300)).astype(np.float32), rng.normal(size=(10, 300)).astype(np.float32)
    tracemalloc.start()
    centred_train, centred_val = subtract_mean(X_train, X_val, bias=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    expected_train, expected_val = (add_bias(X) for X in subtract_mean(X_train, X_val))
    for got, expected in ((centred_train, expected_train), (centred_val, expected_val)):
        assert got.dtype == np.float32 and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
    # The outputs and nothing of their size besides: no centred copy before the bias column.
    assert peak < 1.2 * (centred_train.nbytes + centred_val.nbytes)


def test_compact_digits_are_the_default_float64_splits():
    wide, compact = load_splits("digits"), load_splits("digits", compact=True)
    for split in ("train", "val", "test", "dev"):
        X = getattr(compact, "X_" + split)
        assert X.dtype == np.float64
        np.testing.assert_array_equal(X, getattr(wide, "X_" + split))


def test_add_bias_appends_a_column_of_ones():
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    with_bias = add_bias(X)
    assert with_bias.shape == (4, 4)
    assert with_bias.dtype == np.float64
    np.testing.assert_array_equal(with_bias[:, :3], X)
    np.testing.assert_array_equal(with_bias[:, 3], np.ones(4))
    np.testing.assert_array_equal(X, np.arange(12).reshape(4, 3))


def test_digits_are_exactly_scikit_learns_bundled_digits():
    X, y = data._digits_arrays()
    digits = load_digits()
    assert np.array_equal(X, digits.data) and np.array_equal(y, digits.target)


def test_splits_are_writable_copies_of_the_cached_digits():
    first = load_splits()
    first.X_train[0, 0] = -1.0
    assert load_splits().X_train[0, 0] != -1.0
