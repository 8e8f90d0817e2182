"""Figures for the assignment notebooks: samples, weight templates, training curves, sweeps.

Every function draws one new figure and returns it (a ``matplotlib.figure.Figure``).
In a notebook, end the call with ``;`` or assign the result (``fig = ...``):
the inline backend already shows each new figure once, and a Figure left as
the cell's last value would be shown a second time.

Letters used for shapes: N examples, D features (pixels of one flattened
image), C classes, H hidden units.

Nothing here computes distances, losses or gradients; the notebooks do that.
"""
from __future__ import annotations

import math

import numpy as np

# Cap on the templates drawn for a first-layer weight matrix (one per hidden unit):
# beyond this the cells get too small to read.
MAX_TEMPLATES = 32
# A weight matrix with more columns than this is treated as hidden units, not classes.
MANY_COLUMNS = 20


def _pyplot():
    # Imported on first use so that `import utils` never picks a backend.
    import matplotlib.pyplot as plt

    return plt


def _check_image_shape(image_shape, width):
    """Return image_shape as a tuple after checking it fits rows of `width` values."""
    shape = tuple(int(s) for s in image_shape)
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] != 3):
        raise ValueError(
            f"image_shape must be (height, width) for grayscale or (height, width, 3) for RGB, "
            f"got {tuple(image_shape)}"
        )
    if math.prod(shape) != width:
        raise ValueError(
            f"image_shape {shape} has {math.prod(shape)} pixel values but each row has {width}; "
            f"pass the dataset's image_shape (e.g. data.image_shape)"
        )
    return shape


def _unit_range(image):
    """Rescale one image to [0, 1]; a constant image becomes mid-grey (0.5).

    Per-image rescaling shows the pattern whatever the offset and scale, so
    mean-subtracted data and weight templates display like ordinary pictures.
    """
    low, high = np.min(image), np.max(image)
    if high > low:
        return (image - low) / (high - low)
    return np.full(image.shape, 0.5)


def _draw_image(ax, image):
    """Show one [0, 1] image without ticks: grayscale for 2-D, RGB for (H, W, 3)."""
    if image.ndim == 2:
        ax.imshow(image, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(image, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def _as_1d(values, what):
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size == 0:
        raise ValueError(f"{what} is empty; train for at least one iteration first")
    return arr


def show_samples(X, y, class_names, image_shape, per_class=7, seed=0):
    """Show random examples of each class, one column per class.

    Parameters
    ----------
    X : array of shape (N, D)
        Flattened images, raw or mean-subtracted; each is rescaled to [0, 1] for display.
    y : int array of shape (N,)
        Labels in ``0 .. C-1``.
    class_names : sequence of C str
        Column titles; its length sets the number of columns.
    image_shape : tuple
        (height, width) for grayscale or (height, width, 3) for RGB, e.g. (8, 8) or (32, 32, 3).
    per_class : int, optional
        Examples drawn per class (fewer if a class has fewer).
    seed : int, optional
        Seed of the random choice, so the same call shows the same pictures.

    Returns
    -------
    matplotlib.figure.Figure
        A grid of ``per_class`` rows by C columns.

    Raises
    ------
    ValueError
        If X is not 2-D, y does not match X, a label is outside ``0 .. C-1``,
        image_shape does not fit D, or per_class < 1.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (N, D) (one flattened image per row), got {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    shape = _check_image_shape(image_shape, X.shape[1])
    num_classes = len(class_names)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1} for {num_classes} class names, "
                         f"got values from {y.min()} to {y.max()}")
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")

    rng = np.random.default_rng(seed)
    cell = min(1.0, 12.0 / num_classes)  # keep wide class lists within a notebook's width
    fig, axes = _pyplot().subplots(per_class, num_classes, squeeze=False,
                                   figsize=(cell * num_classes, cell * per_class + 0.4))
    for c, name in enumerate(class_names):
        members = np.flatnonzero(y == c)
        chosen = rng.choice(members, size=min(per_class, members.size), replace=False)
        for row in range(per_class):
            ax = axes[row, c]
            if row < chosen.size:
                _draw_image(ax, _unit_range(X[chosen[row]].reshape(shape)))
            else:
                ax.set_axis_off()  # this class has fewer examples than per_class
        axes[0, c].set_title(str(name), fontsize=10)
    fig.tight_layout(pad=0.3)
    return fig


def show_weights(W, class_names, image_shape):
    """Show each column of a weight matrix as an image (a learned template).

    Parameters
    ----------
    W : array of shape (D, C) or (D + 1, C)
        Weights of a linear classifier; with D + 1 rows the last row is the
        bias and is dropped. A two-layer net's W1 of shape (D, H) also works:
        with more than 20 columns, the first 32 are drawn in a grid.
    class_names : sequence of str, or None
        One title per column; None for no titles (e.g. hidden units).
    image_shape : tuple
        (height, width) or (height, width, 3) with height * width (* 3) = D.

    Returns
    -------
    matplotlib.figure.Figure
        One image per drawn column, each rescaled to [0, 1].

    Raises
    ------
    ValueError
        If W is not 2-D, its row count is neither D nor D + 1, or class_names
        does not have one name per column.
    """
    W = np.asarray(W, dtype=float)
    if W.ndim != 2:
        raise ValueError(f"W must have shape (D, C) or (D + 1, C), got {W.shape}")
    shape = tuple(int(s) for s in image_shape)
    num_pixels = math.prod(shape)
    if W.shape[0] == num_pixels + 1:
        W = W[:-1]  # the bias row carries no picture
    elif W.shape[0] != num_pixels:
        raise ValueError(
            f"W has {W.shape[0]} rows but image_shape {shape} needs {num_pixels} "
            f"(or {num_pixels + 1} with a bias row)"
        )
    shape = _check_image_shape(shape, num_pixels)
    num_columns = W.shape[1]
    if class_names is not None and len(class_names) != num_columns:
        raise ValueError(f"class_names has {len(class_names)} names but W has {num_columns} columns")

    if num_columns > MANY_COLUMNS:
        shown, ncols = min(num_columns, MAX_TEMPLATES), 8
    else:
        shown, ncols = num_columns, min(num_columns, 10)
    nrows = math.ceil(shown / ncols)
    cell = 1.2 if ncols <= 8 else 1.1
    fig, axes = _pyplot().subplots(nrows, ncols, squeeze=False,
                                   figsize=(cell * ncols, cell * nrows + 0.5))
    for j, ax in enumerate(axes.ravel()):
        if j >= shown:
            ax.set_axis_off()
            continue
        _draw_image(ax, _unit_range(W[:, j].reshape(shape)))
        if class_names is not None:
            ax.set_title(str(class_names[j]), fontsize=10)
    if shown < num_columns:
        fig.suptitle(f"First {shown} of {num_columns} weight columns")
    fig.tight_layout(pad=0.3)
    return fig


def plot_loss(loss_history, title=None, smooth=None):
    """Plot the training loss against the iteration.

    Parameters
    ----------
    loss_history : sequence of float
        One loss per iteration (minibatch step).
    title : str, optional
        Figure title (default "Training loss").
    smooth : int, optional
        Window of a moving average drawn over the raw curve, which is noisy
        because each value comes from one minibatch. Clipped to the history length.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If loss_history is empty or smooth < 1.
    """
    loss = _as_1d(loss_history, "loss_history")
    fig, ax = _pyplot().subplots(figsize=(7, 4))
    if smooth is None:
        ax.plot(loss, lw=1)
    else:
        if smooth < 1:
            raise ValueError(f"smooth must be a window of at least 1 iteration, got {smooth}")
        window = min(int(smooth), loss.size)
        averaged = np.convolve(loss, np.ones(window) / window, mode="valid")
        ax.plot(loss, lw=1, alpha=0.4, label="per iteration")
        # Each average sits at the last iteration of its window.
        ax.plot(np.arange(window - 1, loss.size), averaged, lw=2, label=f"moving average ({window})")
        ax.legend()
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title(title if title is not None else "Training loss")
    fig.tight_layout()
    return fig


def plot_history(history):
    """Plot a two-layer net's training history: loss per iteration and accuracies per epoch.

    Parameters
    ----------
    history : dict
        With keys ``loss_history`` (one loss per iteration), ``train_acc_history``
        and ``val_acc_history`` (one accuracy per epoch each), as returned by
        ``TwoLayerNet.train``.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels: loss (left), training and validation accuracy (right).

    Raises
    ------
    ValueError
        If a key is missing or the loss history is empty.
    """
    needed = ("loss_history", "train_acc_history", "val_acc_history")
    missing = [key for key in needed if key not in history]
    if missing:
        raise ValueError(f"history is missing {', '.join(missing)}; pass the dict TwoLayerNet.train returns")
    loss = _as_1d(history["loss_history"], "history['loss_history']")
    train_acc = np.asarray(history["train_acc_history"], dtype=float).ravel()
    val_acc = np.asarray(history["val_acc_history"], dtype=float).ravel()

    fig, (ax_loss, ax_acc) = _pyplot().subplots(1, 2, figsize=(12, 4))
    ax_loss.plot(loss, lw=1)
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title("Training loss")

    ax_acc.plot(np.arange(train_acc.size), train_acc, "o-", label="train")
    ax_acc.plot(np.arange(val_acc.size), val_acc, "o-", label="validation")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_title("Classification accuracy")
    if train_acc.size or val_acc.size:
        ax_acc.legend()
    else:
        ax_acc.text(0.5, 0.5, "no epoch completed", ha="center", va="center", transform=ax_acc.transAxes)
    fig.tight_layout()
    return fig


def plot_cross_validation(k_to_accuracies):
    """Plot cross-validation accuracy against k: every fold, and the mean with std error bars.

    Parameters
    ----------
    k_to_accuracies : dict
        k -> sequence of fold accuracies (num_folds values each).

    Returns
    -------
    matplotlib.figure.Figure
        One dot per fold and a line through the means; the error bars are the
        standard deviation over folds (``np.std``, ddof=0).

    Raises
    ------
    ValueError
        If the dict, or the accuracies for some k, are empty.
    """
    if not k_to_accuracies:
        raise ValueError("k_to_accuracies is empty; run the cross-validation first")
    ks = sorted(k_to_accuracies)
    folds = [np.asarray(k_to_accuracies[k], dtype=float).ravel() for k in ks]
    empty = [k for k, accs in zip(ks, folds) if accs.size == 0]
    if empty:
        raise ValueError(f"no fold accuracies for k = {empty}")

    fig, ax = _pyplot().subplots(figsize=(7, 4.5))
    for k, accs in zip(ks, folds):
        ax.scatter(np.full(accs.size, k), accs, s=16, color="tab:blue", alpha=0.6)
    means = np.array([accs.mean() for accs in folds])
    stds = np.array([accs.std() for accs in folds])
    ax.errorbar(np.asarray(ks), means, yerr=stds, fmt="-o", color="tab:orange", capsize=4, label="mean ± std")
    ax.set_xlabel("k")
    ax.set_ylabel("cross-validation accuracy")
    ax.set_title("Cross-validation on k")
    ax.legend()
    fig.tight_layout()
    return fig


def _tick_label(value, scientific):
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{value:.1e}" if scientific else f"{value:g}"
    return str(value)


def plot_heatmap(results, x_label, y_label, title=None, log_axes=True):
    """Show a hyperparameter sweep as a colour grid annotated with each value.

    Parameters
    ----------
    results : dict
        (x, y) -> value, e.g. (learning_rate, reg) -> validation accuracy.
        A value that is a tuple or list stands for its last element, so a dict
        (lr, reg) -> (train_acc, val_acc) shows the validation accuracy.
    x_label, y_label : str
        Names of the two hyperparameters (first and second key element).
    title : str, optional
        Figure title.
    log_axes : bool, optional
        Write the tick labels in scientific notation (1.0e-07), which suits
        values spaced on a log scale. Either way there is one evenly sized
        cell per distinct value, sorted.

    Returns
    -------
    matplotlib.figure.Figure
        Columns are the distinct x values, rows the distinct y values; a
        combination missing from results stays blank.

    Raises
    ------
    ValueError
        If results is empty or a key is not an (x, y) pair.
    """
    if not results:
        raise ValueError("results is empty; run the sweep first")
    for key in results:
        if not isinstance(key, tuple) or len(key) != 2:
            raise ValueError(f"results keys must be (x, y) pairs, got {key!r}")
    xs = sorted({x for x, _ in results})
    ys = sorted({y for _, y in results})
    grid = np.full((len(ys), len(xs)), np.nan)
    for (x, y), value in results.items():
        if isinstance(value, (tuple, list)):
            value = value[-1]
        grid[ys.index(y), xs.index(x)] = float(value)

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(5.0, 1.0 * len(xs) + 2.5), max(3.5, 0.6 * len(ys) + 1.5)))
    # Missing combinations are masked and drawn transparent, so they show the blank background.
    cmap = plt.get_cmap("viridis").with_extremes(bad=(0.0, 0.0, 0.0, 0.0))
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, origin="lower", aspect="auto")
    fig.colorbar(image, ax=ax)

    # Annotate in a colour that stays readable on the cell underneath.
    low, high = image.norm.vmin, image.norm.vmax
    for (x, y), value in results.items():
        row, col = ys.index(y), xs.index(x)
        value = grid[row, col]
        dark = np.isfinite(value) and (high <= low or (value - low) / (high - low) < 0.6)
        ax.text(col, row, f"{value:.3f}", ha="center", va="center", fontsize=9,
                color="white" if dark else "black")

    ax.set_xticks(range(len(xs)), [_tick_label(x, log_axes) for x in xs], rotation=45, ha="right")
    ax.set_yticks(range(len(ys)), [_tick_label(y, log_axes) for y in ys])
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    if title is not None:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_distances(dists):
    """Show a distance matrix as an image: dark is near, light is far.

    Parameters
    ----------
    dists : array of shape (num_test, num_train)
        ``dists[i, j]`` is the distance between test example i and training example j.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If dists is not a non-empty 2-D array.
    """
    dists = np.asarray(dists, dtype=float)
    if dists.ndim != 2 or dists.size == 0:
        raise ValueError(f"dists must be a non-empty (num_test, num_train) array, got shape {dists.shape}")
    fig, ax = _pyplot().subplots(figsize=(10, 4))
    image = ax.imshow(dists, cmap="gray", aspect="auto", interpolation="nearest")
    fig.colorbar(image, ax=ax, label="distance")
    ax.set_xlabel("training examples")
    ax.set_ylabel("test examples")
    ax.set_title("Distance from each test example (row) to each training example (column)")
    fig.tight_layout()
    return fig
