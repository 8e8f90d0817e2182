"""Datasets by name, split into train / validation / test / dev with a fixed seed.

The default dataset is scikit-learn's bundled 8x8 digits, which needs no
network. ``KIT_DATASET=cifar10`` (or ``name="cifar10"``) moves every notebook
to CIFAR-10, which must first be downloaded with
``python -m utils.data download cifar10`` (``--help`` for the options).
"""
from __future__ import annotations

import argparse
import functools
import importlib.util
import os
import sys
from dataclasses import dataclass

from pathlib import Path

import numpy as np

DATASETS = ("digits", "cifar10")
DEFAULT_DATASET = "digits"
ENV_VAR = "KIT_DATASET"

# The dtype of the X arrays of compact splits, per dataset: CIFAR-10's training split takes
# 1.2 GB in float64 and 0.6 GB in float32; digits are small, so they stay float64 (and their
# results stay exactly what they are on the default splits).
COMPACT_DTYPES = {"digits": np.float64, "cifar10": np.float32}

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

    ``X_*`` are float arrays of shape (N, D), one flattened image per row
    (D = 64 for digits, 3072 for CIFAR-10): float64, or float32 where a notebook
    asked for compact splits (``load_splits(compact=True)``); ``y_*`` are int64 labels of shape
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


@functools.lru_cache(maxsize=1)
def _digits_arrays():
    """scikit-learn's bundled digits file, read directly: importing sklearn takes longer than the data."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the digits dataset ships with scikit-learn: pip install scikit-learn")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "digits.csv.gz"
    table = np.loadtxt(path, delimiter=",")  # 1797 rows: 64 pixel values, then the label
    X, y = table[:, :-1].astype(np.float64), table[:, -1].astype(np.int64)
    X.flags.writeable = y.flags.writeable = False  # shared by every call: splits copy them
    return X, y


def _load_digits():
    X, y = _digits_arrays()
    return X, y, None, None, tuple(str(c) for c in range(10)), (8, 8)


def load_splits(name=None, *, purpose=None, seed=0, data_dir=None, compact=False, **sizes):
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
    compact : bool
        X arrays in the dataset's ``COMPACT_DTYPES`` entry (float32 for CIFAR-10) instead of
        float64: for notebooks that keep the whole training split, and copies of it, in memory.
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
    for size_name, size in wanted.items():
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
            raise ValueError(f"{size_name} must be a non-negative integer, got {size!r}")
    if wanted["num_dev"] > wanted["num_train"]:
        raise ValueError(f"num_dev ({wanted['num_dev']}) cannot exceed num_train ({wanted['num_train']}): "
                         "the dev split is drawn from the training split")
    if name == "digits":
        X, y, X_test, y_test, class_names, image_shape = _load_digits()
    else:
        from utils import cifar10

        X, y, X_test, y_test, class_names, image_shape = cifar10.load(data_dir)
    dtype = COMPACT_DTYPES[name] if compact else np.float64
    return _split(name, X, y, X_test, y_test, class_names, image_shape, seed, dtype, **wanted)


def _split(name, X, y, X_test, y_test, class_names, image_shape, seed, dtype,
           num_train, num_val, num_test, num_dev):
    rng = np.random.default_rng(seed)
    if X_test is None:
        # One pool (digits): shuffle it, carve out the test split, keep the rest in order.
        needed = num_train + num_val + num_test
        if needed > len(X):
            raise ValueError(f"{name} has {len(X)} examples, but num_train + num_val + num_test = {needed}; "
                             "pass smaller sizes")
        order = rng.permutation(len(X))
        X_test, y_test = X[order[:num_test]], y[order[:num_test]]
        X, y = X[order[num_test:]], y[order[num_test:]]
    else:
        # Given test split (CIFAR-10): keep the files' order, as is customary.
        if num_train + num_val > len(X) or num_test > len(X_test):
            raise ValueError(f"{name} has {len(X)} training and {len(X_test)} test examples, but "
                             f"num_train + num_val = {num_train + num_val} and num_test = {num_test}; "
                             "pass smaller sizes")
        X_test, y_test = X_test[:num_test], y_test[:num_test]
    # Each split is widened on its own from the stored pixels (uint8 for CIFAR-10), so no float copy of
    # the whole dataset is ever made; digits, already float64, stay views (astype copies nothing then).
    X_train, y_train = X[:num_train].astype(dtype, copy=False), y[:num_train]
    X_val, y_val = X[num_train:num_train + num_val].astype(dtype, copy=False), y[num_train:num_train + num_val]
    X_test = X_test.astype(dtype, copy=False)
    dev_idx = rng.choice(num_train, size=num_dev, replace=False)
    return Splits(
        name=name,
        class_names=class_names,
        image_shape=image_shape,
        X_train=X_train, y_train=y_train,
        X_val=X_val, y_val=y_val,
        X_test=X_test, y_test=y_test,
        X_dev=X_train[dev_idx], y_dev=y_train[dev_idx],
    )


def subtract_mean(X_train, *others, bias=False):
    """Subtract the mean training image from every split, and append the bias column if asked.

    Parameters
    ----------
    X_train : ndarray, shape (N, D)
    *others : ndarray, shape (M, D)
        Further splits, centred with the same (training) mean.
    bias : bool
        Also append a column of ones (the bias trick), in the same new array: one copy of each
        split, not two (CIFAR-10's training split is 0.6 GB even in float32).

    Returns
    -------
    tuple of ndarray
        The centred ``X_train`` followed by the centred ``others``, as new arrays of their dtype,
        shape (N, D), or (N, D + 1) with ``bias``.
    """
    mean_image = X_train.mean(axis=0)
    return tuple(_centred(X, mean_image, bias) for X in (X_train, *others))


def _centred(X, mean_image, bias):
    n, d = X.shape
    out = np.empty((n, d + 1 if bias else d), dtype=np.result_type(X, mean_image))
    np.subtract(X, mean_image, out=out[:, :d])  # written in place: no temporary of X's size
    if bias:
        out[:, d] = 1
    return out


def add_bias(X):
    """Append a column of ones (the bias trick), shape (N, D) -> (N, D + 1)."""
    return np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])


def main(argv=None):
    """Command line: ``python -m utils.data download cifar10 [--data-dir DIR] [--url URL]``.

    Returns the exit status: 0 on success, 1 on failure (after a one-line
    ``error: ...`` message on stderr, no traceback).
    """
    args = _parser().parse_args(argv)
    if args.dataset == "digits":
        print("digits ships with scikit-learn; there is nothing to download.")
        return 0
    from utils import cifar10

    try:
        cifar10.download(data_dir=args.data_dir, url=args.url)
    except (cifar10.CifarError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; no partial download was kept", file=sys.stderr)
        return 1
    return 0


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m utils.data",
        description="Manage the datasets of the course kit. The default dataset (digits) needs no download.",
        epilog="example: python -m utils.data download cifar10   (then run the notebooks with KIT_DATASET=cifar10; "
        "see `python -m utils.data download --help`)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    download = commands.add_parser(
        "download",
        help="download, verify (MD5) and extract a dataset",
        description="Download a dataset, check its MD5 before unpacking, and extract it. "
        "Does nothing if it is already present and verified.",
        epilog="environment: KIT_DATA_DIR (data directory), KIT_CIFAR10_URL (archive URL), "
        "KIT_CIFAR10_MD5 (expected MD5; only for testing mirrors). Use the data with KIT_DATASET=cifar10.",
    )
    download.add_argument("dataset", choices=DATASETS, help="which dataset (digits needs no download)")
    download.add_argument("--data-dir", metavar="DIR",
                          help="where to store it (default: $KIT_DATA_DIR, else ~/.cache/nn-course-kit)")
    download.add_argument("--url", help="where to fetch the archive (default: $KIT_CIFAR10_URL, else the official URL)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
