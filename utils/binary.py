"""Data and a figure for assignment 0, binary classification with labels +1 and -1.

- ``load_binary_digits``: two digit classes of the embedded 8x8 digits, split
  into train / validation / test, scaled, centred, with the bias column.
- ``toy_dataset``: 2-D toy problems for pictures, linearly separable blobs and
  two moons that no line separates, with the bias column.
- ``plot_decision_boundary``: the regions a 2-D classifier assigns to +1 and -1.

Letters used for shapes: N examples, D features (bias column included), M grid points.

Nothing here predicts, trains or computes a loss: the plot takes the
classifier as a function, which the notebooks build from their own code.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from utils.data import add_bias, load_splits, subtract_mean

# The digits pair of the notebooks: an 8 and a 9 share their upper loop, so a
# linear model makes a few mistakes on them and tuning has something to do.
DEFAULT_DIGITS = (8, 9)
# The 10-class split sizes from which the two classes are taken. The test split
# (300 images, seed 0) is the one assignment 1 uses; the validation split is
# larger than assignment 1's, so that two digits still get about 90 validation images.
SPLIT_SIZES = dict(num_train=997, num_val=500, num_test=300, num_dev=0)
PIXEL_MAX = 16.0  # digits pixels are integers 0 .. 16
TOY_DATASETS = ("blobs", "moons")


@dataclass(frozen=True, repr=False)
class BinaryDigits:
    """Two digit classes split into train / validation / test.

    ``X_*`` are float64 arrays of shape (N, D) with D = 65: the 64 pixels of an
    8x8 image scaled to [0, 1] and centred on the mean training image, then a
    last column of ones (the bias trick). ``y_*`` are int64 labels of shape
    (N,): +1 for the digit ``positive``, -1 for the digit ``negative``.
    ``mean_image`` (64,) is the mean training image that was subtracted, so
    ``X[:, :-1] + mean_image`` gives back the scaled images (for display).
    """

    positive: int
    negative: int
    image_shape: tuple
    mean_image: np.ndarray
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def class_names(self):
        """Names of the classes -1 and +1, in that order (index 0 is -1)."""
        return (str(self.negative), str(self.positive))

    def __repr__(self):
        parts = ", ".join(
            f"{split}={getattr(self, 'X_' + split).shape}" for split in ("train", "val", "test")
        )
        return f"BinaryDigits(+1: digit {self.positive}, -1: digit {self.negative}, {parts})"


def load_binary_digits(positive=DEFAULT_DIGITS[0], negative=DEFAULT_DIGITS[1], *, seed=0):
    """Two classes of the embedded digits as a binary problem with labels +1 / -1.

    Always the digits dataset, whatever ``$KIT_DATASET`` says: assignment 0 is
    a warm-up on the embedded data. The images are those of the ten-class
    splits of ``utils.load_splits("digits", seed=seed)`` (sizes ``SPLIT_SIZES``)
    that show one of the two digits, in the same order.

    Parameters
    ----------
    positive, negative : int
        The digits (0 .. 9) labelled +1 and -1; they must differ.
    seed : int
        Seed of the ten-class shuffle.

    Returns
    -------
    BinaryDigits

    Raises
    ------
    ValueError
        If a digit is not in 0 .. 9, or both are the same.
    """
    for digit in (positive, negative):
        if isinstance(digit, bool) or not isinstance(digit, (int, np.integer)) or not 0 <= digit <= 9:
            raise ValueError(f"digits are integers 0 .. 9, got {digit!r}")
    if positive == negative:
        raise ValueError(f"the two classes must be different digits, got {positive} twice")
    data = load_splits("digits", seed=seed, **SPLIT_SIZES)
    splits = {}
    for split in ("train", "val", "test"):
        X, y = getattr(data, "X_" + split), getattr(data, "y_" + split)
        keep = (y == positive) | (y == negative)
        splits[split] = (X[keep] / PIXEL_MAX, np.where(y[keep] == positive, 1, -1).astype(np.int64))
    centred = subtract_mean(*(splits[split][0] for split in ("train", "val", "test")))
    X_train, X_val, X_test = (add_bias(X) for X in centred)
    return BinaryDigits(
        positive=int(positive), negative=int(negative), image_shape=data.image_shape,
        mean_image=splits["train"][0].mean(axis=0),
        X_train=X_train, y_train=splits["train"][1],
        X_val=X_val, y_val=splits["val"][1],
        X_test=X_test, y_test=splits["test"][1],
    )


def toy_dataset(name, num_examples=200, *, seed=0):
    """A 2-D binary toy problem with labels +1 / -1 and the bias column.

    Parameters
    ----------
    name : {"blobs", "moons"}
        ``"blobs"``: two well separated Gaussian clusters, which a line
        separates without a mistake. ``"moons"``: two interleaved half circles
        (with a little noise), which no line separates.
    num_examples : int
        N, split evenly between the two classes.
    seed : int
        Seed of the generator, so the points are the same on every machine.

    Returns
    -------
    X : ndarray of float64, shape (N, 3)
        Columns: the two coordinates, then ones.
    y : ndarray of int64, shape (N,)
        +1 or -1.

    Raises
    ------
    ValueError
        If the name is unknown or num_examples < 2.
    """
    if name not in TOY_DATASETS:
        raise ValueError(f"unknown toy dataset {name!r}; choose one of {', '.join(TOY_DATASETS)}")
    if isinstance(num_examples, bool) or not isinstance(num_examples, (int, np.integer)) or num_examples < 2:
        raise ValueError(f"num_examples must be an integer of at least 2, got {num_examples!r}")
    # Imported here: scikit-learn takes a second to import, and only the toy data needs it.
    from sklearn.datasets import make_blobs, make_moons

    if name == "blobs":
        points, labels = make_blobs(n_samples=num_examples, centers=[(-1.5, -1.0), (1.5, 1.0)],
                                    cluster_std=0.5, random_state=seed)
    else:
        points, labels = make_moons(n_samples=num_examples, noise=0.15, random_state=seed)
    return add_bias(points.astype(np.float64)), np.where(labels == 1, 1, -1).astype(np.int64)


def plot_decision_boundary(decision, X, y, title=None, ax=None, resolution=200):
    """Colour the plane by the side a 2-D classifier puts each point on, and draw the data.

    Parameters
    ----------
    decision : callable
        Maps an array of M grid points, shape (M, 3) (two coordinates, then
        ones) or (M, 2) if ``X`` has no bias column, to M numbers whose sign
        is the prediction: labels +1 / -1 (0 counts as +1), or real scores.
        For example ``lambda G: predict_binary(w, G)`` with the notebook's own
        function.
    X : ndarray, shape (N, 3) or (N, 2)
        The data: two coordinates, optionally followed by the bias column.
    y : ndarray, shape (N,)
        Labels +1 / -1 of the rows of X.
    title : str, optional
        Axes title.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.
    resolution : int
        Grid points per axis (at least 2).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of ``ax``.

    Raises
    ------
    ValueError
        If the shapes do not fit, or ``decision`` does not return M values.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if X.ndim != 2 or X.shape[1] not in (2, 3) or X.shape[0] == 0:
        raise ValueError(f"X must have shape (N, 2) or (N, 3) with N >= 1, got {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    grid_x, grid_y = _grid(X[:, :2], resolution)
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    if X.shape[1] == 3:
        points = add_bias(points)
    values = np.asarray(decision(points), dtype=float).reshape(-1)
    if values.size != points.shape[0]:
        raise ValueError(f"decision returned {values.size} values for {points.shape[0]} grid points; "
                         "it should return one number per row")
    positive = (values >= 0).reshape(grid_x.shape)  # the +1 side, boundary included

    import matplotlib.pyplot as plt  # on first use, so that `import utils` never picks a backend

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.2))
    ax.contourf(grid_x, grid_y, positive.astype(float), levels=[-0.5, 0.5, 1.5],
                colors=["#c6dbef", "#fdd0a2"], alpha=0.8)
    if positive.any() and not positive.all():
        ax.contour(grid_x, grid_y, positive.astype(float), levels=[0.5], colors="k", linewidths=1.5)
    for label, colour, marker in ((-1, "tab:blue", "o"), (1, "tab:orange", "s")):
        mine = y == label
        ax.scatter(X[mine, 0], X[mine, 1], s=16, c=colour, marker=marker, edgecolors="k", linewidths=0.4,
                   label=f"y = {label:+d}")
    ax.set_xlim(grid_x.min(), grid_x.max())
    ax.set_ylim(grid_y.min(), grid_y.max())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="upper left", fontsize=8)
    if title is not None:
        ax.set_title(title)
    return ax.figure


def _grid(points, resolution):
    """A resolution x resolution grid covering the points with a 10% border."""
    low, high = points.min(axis=0), points.max(axis=0)
    border = 0.1 * np.maximum(high - low, 1e-3)
    xs = np.linspace(low[0] - border[0], high[0] + border[0], resolution)
    ys = np.linspace(low[1] - border[1], high[1] + border[1], resolution)
    return np.meshgrid(xs, ys)
