"""Datasets by name, split into train / validation / test / dev with a fixed seed.

The default dataset is scikit-learn's bundled 8x8 digits, which needs no
network. ``KIT_DATASET=cifar10`` (or ``name="cifar10"``) moves every notebook
to CIFAR-10, which must first be downloaded with
``python -m utils.data download cifar10``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

DATASETS = ("digits", "cifar10")
DEFAULT_DATASET = "digits"
ENV_VAR = "KIT_DATASET"

# Split sizes per dataset and per purpose. kNN keeps every test point's
# distance to every training point in memory, so it gets a smaller subset.
SPLIT_SIZES = {
    ("digits", None): dict(num_train=1297, num_val=200, num_test=300, num_dev=100),
    ("digits", "knn"): dict(num_train=1297, num_val=200, num_test=300, num_dev=100),
    ("cifar10", None): dict(num_train=49000, num_val=1000, num_test=1000, num_dev=500),
    ("cifar10", "knn"): dict(num_train=5000, num_val=0, num_test=500, num_dev=0),
}


@dataclass(frozen=True, repr=False)
class Splits:
    """A dataset split into train / validation / test / dev.

    ``X_*`` are float64 arrays of shape (N, D), one flattened image per row
    (D = 64 for digits, 3072 for CIFAR-10); ``y_*`` are int64 labels of shape
    (N,) in ``0 .. C-1``. The dev split is a small random subset of the
    training split, for fast experiments.
    """

    name: str
    class_names: tuple
    image_shape: tuple
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_dev: np.ndarray
    y_dev: np.ndarray

    def __repr__(self):
        parts = ", ".join(
            f"{split}={getattr(self, 'X_' + split).shape}" for split in ("train", "val", "test", "dev")
        )
        return f"Splits({self.name!r}, {len(self.class_names)} classes, {parts})"


def dataset_name(name=None):
    """Resolve which dataset to use: the argument, else ``$KIT_DATASET``, else digits.

    Raises
    ------
    ValueError
        If the name is not one of ``DATASETS``.
    """
    chosen = name or os.environ.get(ENV_VAR) or DEFAULT_DATASET
    chosen = chosen.strip().lower()
    if chosen not in DATASETS:
        source = "argument" if name else f"environment variable {ENV_VAR}"
        raise ValueError(f"unknown dataset {chosen!r} (from the {source}); choose one of {', '.join(DATASETS)}")
    return chosen


def _load_digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = digits.images.reshape(len(digits.images), -1).astype(np.float64)
    y = digits.target.astype(np.int64)
    return X, y, None, None, tuple(str(c) for c in range(10)), (8, 8)


def load_splits(name=None, *, purpose=None, seed=0, data_dir=None, **sizes):
    """Load a dataset by name and split it with a fixed seed.

    Parameters
    ----------
    name : str, optional
        ``"digits"`` or ``"cifar10"``; default ``$KIT_DATASET`` or ``"digits"``.
    purpose : {None, "knn"}
        Picks the default split sizes; ``"knn"`` uses a smaller CIFAR-10 subset.
    seed : int
        Seed of the shuffle, so the splits are the same on every machine.
    data_dir : path, optional
        Where downloaded datasets live (CIFAR-10 only).
    **sizes
        ``num_train``, ``num_val``, ``num_test``, ``num_dev`` override the defaults.

    Returns
    -------
    Splits
    """
    name = dataset_name(name)
    key = (name, purpose)
    if key not in SPLIT_SIZES:
        raise ValueError(f"unknown purpose {purpose!r}; choose None or 'knn'")
    wanted = dict(SPLIT_SIZES[key])
    unknown = set(sizes) - set(wanted)
    if unknown:
        raise TypeError(f"unexpected split size(s): {', '.join(sorted(unknown))}")
    wanted.update(sizes)
    if name == "digits":
        X, y, X_test, y_test, class_names, image_shape = _load_digits()
    else:
        from utils import cifar10

        X, y, X_test, y_test, class_names, image_shape = cifar10.load(data_dir)
    return _split(name, X, y, X_test, y_test, class_names, image_shape, seed, **wanted)


def _split(name, X, y, X_test, y_test, class_names, image_shape, seed, num_train, num_val, num_test, num_dev):
    rng = np.random.default_rng(seed)
    if X_test is None:
        # One pool (digits): carve the test split out of the shuffled pool first.
        order = rng.permutation(len(X))
        if num_test + num_train + num_val > len(X):
            raise ValueError(f"{name} has {len(X)} examples; asked for {num_train + num_val + num_test}")
        test_idx, order = order[:num_test], order[num_test:]
        X_test, y_test = X[test_idx], y[test_idx]
    else:
        # Given test split (CIFAR-10): keep its first num_test examples.
        if num_test > len(X_test) or num_train + num_val > len(X):
            raise ValueError(f"{name} is too small for the requested split sizes")
        X_test, y_test = X_test[:num_test], y_test[:num_test]
        order = np.arange(len(X))
    train_idx = order[:num_train]
    val_idx = order[num_train:num_train + num_val]
    dev_idx = rng.choice(train_idx, size=num_dev, replace=False) if num_dev else train_idx[:0]
    return Splits(
        name=name,
        class_names=class_names,
        image_shape=image_shape,
        X_train=X[train_idx], y_train=y[train_idx],
        X_val=X[val_idx], y_val=y[val_idx],
        X_test=X_test, y_test=y_test,
        X_dev=X[dev_idx], y_dev=y[dev_idx],
    )


def subtract_mean(X_train, *others):
    """Subtract the mean training image from every split.

    Parameters
    ----------
    X_train : ndarray, shape (N, D)
    *others : ndarray, shape (M, D)
        Further splits, centred with the same (training) mean.

    Returns
    -------
    tuple of ndarray
        The centred ``X_train`` followed by the centred ``others``, as new arrays.
    """
    mean_image = X_train.mean(axis=0)
    return tuple(X - mean_image for X in (X_train, *others))


def add_bias(X):
    """Append a column of ones (the bias trick), shape (N, D) -> (N, D + 1)."""
    return np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])
