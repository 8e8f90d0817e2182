"""Tests of utils.plots: each function returns a Figure that renders, and draws what it claims."""
import io
import os

os.environ.setdefault("MPLBACKEND", "Agg")  # headless; must precede the pyplot import

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from utils import plots  # noqa: E402

DIGIT_SHAPE = (8, 8)
RGB_SHAPE = (32, 32, 3)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def renders(fig):
    """True when the figure draws to PNG bytes without error."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue().startswith(b"\x89PNG")


def unit(image):
    image = np.asarray(image, dtype=float)
    return (image - image.min()) / (image.max() - image.min())


def image_axes(fig):
    return [ax for ax in fig.axes if ax.get_images()]


def shown(ax):
    return np.asarray(ax.get_images()[0].get_array())


@pytest.fixture
def digits_like():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 10)
    X = rng.normal(size=(y.size, 64)) + 3.0 * y[:, None]
    return X, y, ["zero", "one", "two", "three"]


# ---------------------------------------------------------------- show_samples

def test_show_samples_draws_per_class_rows_by_class_columns_titled_by_class(digits_like):
    X, y, names = digits_like
    fig = plots.show_samples(X, y, names, DIGIT_SHAPE, per_class=3)
    assert isinstance(fig, Figure)
    assert renders(fig)
    assert len(fig.axes) == 3 * 4
    assert len(image_axes(fig)) == 3 * 4
    assert [ax.get_title() for ax in fig.axes[:4]] == names
    assert all(len(ax.get_xticks()) == 0 and len(ax.get_yticks()) == 0 for ax in fig.axes)


def test_show_samples_column_shows_rescaled_examples_of_its_own_class(digits_like):
    X, y, names = digits_like
    fig = plots.show_samples(X, y, names, DIGIT_SHAPE, per_class=3)
    grid = np.array(fig.axes).reshape(3, 4)
    for c in range(4):
        candidates = [unit(x.reshape(DIGIT_SHAPE)) for x in X[y == c]]
        for ax in grid[:, c]:
            image = shown(ax)
            assert image.shape == DIGIT_SHAPE
            assert any(np.allclose(image, candidate) for candidate in candidates)


def test_show_samples_same_seed_same_pictures_other_seed_other_pictures(digits_like):
    X, y, names = digits_like
    first = [shown(ax) for ax in plots.show_samples(X, y, names, DIGIT_SHAPE, seed=1).axes]
    again = [shown(ax) for ax in plots.show_samples(X, y, names, DIGIT_SHAPE, seed=1).axes]
    other = [shown(ax) for ax in plots.show_samples(X, y, names, DIGIT_SHAPE, seed=2).axes]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_show_samples_rgb_images_are_32x32x3_in_unit_range():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(6, 3072)) * 50.0  # mean-subtracted-like: negative values too
    y = np.array([0, 0, 0, 1, 1, 1])
    fig = plots.show_samples(X, y, ["cat", "car"], RGB_SHAPE, per_class=2)
    assert renders(fig)
    for ax in fig.axes:
        image = shown(ax)
        assert image.shape == RGB_SHAPE
        assert image.min() == pytest.approx(0.0) and image.max() == pytest.approx(1.0)


def test_show_samples_class_with_fewer_examples_leaves_cells_blank():
    X = np.arange(3 * 64, dtype=float).reshape(3, 64)
    y = np.array([0, 0, 1])
    fig = plots.show_samples(X, y, ["a", "b"], DIGIT_SHAPE, per_class=2)
    grid = np.array(fig.axes).reshape(2, 2)
    assert grid[1, 1].get_images() == [] and not grid[1, 1].axison
    assert grid[1, 0].get_images() != []


def test_show_samples_rejects_image_shape_that_does_not_match_width(digits_like):
    X, y, names = digits_like
    with pytest.raises(ValueError, match="image_shape"):
        plots.show_samples(X, y, names, (7, 7))


def test_show_samples_rejects_labels_outside_class_names(digits_like):
    X, y, names = digits_like
    with pytest.raises(ValueError, match="labels"):
        plots.show_samples(X, y, names[:2], DIGIT_SHAPE)


# ---------------------------------------------------------------- show_weights

def test_show_weights_draws_each_column_rescaled_to_unit_range_titled_by_class():
    rng = np.random.default_rng(2)
    W = rng.normal(size=(64, 3))
    fig = plots.show_weights(W, ["a", "b", "c"], DIGIT_SHAPE)
    assert isinstance(fig, Figure)
    assert renders(fig)
    axes = image_axes(fig)
    assert [ax.get_title() for ax in axes] == ["a", "b", "c"]
    for c, ax in enumerate(axes):
        np.testing.assert_allclose(shown(ax), unit(W[:, c].reshape(DIGIT_SHAPE)))


def test_show_weights_scaled_and_shifted_columns_give_identical_templates():
    # Column c is (c + 1) * ramp + c: per-template rescaling removes scale and offset.
    ramp = np.arange(64, dtype=float)
    W = np.stack([(c + 1) * ramp + c for c in range(4)], axis=1)
    images = [shown(ax) for ax in image_axes(plots.show_weights(W, None, DIGIT_SHAPE))]
    for image in images:
        np.testing.assert_allclose(image, (ramp / 63.0).reshape(DIGIT_SHAPE))


def test_show_weights_constant_column_is_mid_grey():
    W = np.full((64, 2), 7.0)
    for ax in image_axes(plots.show_weights(W, ["x", "y"], DIGIT_SHAPE)):
        np.testing.assert_allclose(shown(ax), 0.5)


def test_show_weights_drops_bias_row():
    rng = np.random.default_rng(3)
    W = rng.normal(size=(64, 3))
    with_bias = np.vstack([W, [1e6, -1e6, 5e5]])  # a bias this large would dominate the scale
    plain = [shown(ax) for ax in image_axes(plots.show_weights(W, None, DIGIT_SHAPE))]
    biased = [shown(ax) for ax in image_axes(plots.show_weights(with_bias, None, DIGIT_SHAPE))]
    for a, b in zip(plain, biased, strict=True):
        np.testing.assert_array_equal(a, b)


def test_show_weights_rgb_templates_are_32x32x3():
    rng = np.random.default_rng(4)
    W = rng.normal(size=(3072 + 1, 10))
    fig = plots.show_weights(W, [str(c) for c in range(10)], RGB_SHAPE)
    assert renders(fig)
    axes = image_axes(fig)
    assert len(axes) == 10
    assert all(shown(ax).shape == RGB_SHAPE for ax in axes)
    np.testing.assert_allclose(shown(axes[9]), unit(W[:-1, 9].reshape(RGB_SHAPE)))


def test_show_weights_many_hidden_units_shows_first_32_without_titles():
    rng = np.random.default_rng(5)
    W1 = rng.normal(size=(64, 50))
    fig = plots.show_weights(W1, None, DIGIT_SHAPE)
    assert renders(fig)
    axes = image_axes(fig)
    assert len(axes) == 32
    assert all(ax.get_title() == "" for ax in axes)
    np.testing.assert_allclose(shown(axes[31]), unit(W1[:, 31].reshape(DIGIT_SHAPE)))


def test_show_weights_up_to_20_columns_shows_all():
    W = np.random.default_rng(6).normal(size=(64, 20))
    assert len(image_axes(plots.show_weights(W, None, DIGIT_SHAPE))) == 20


def test_show_weights_rejects_row_count_that_is_neither_d_nor_d_plus_one():
    with pytest.raises(ValueError, match="66 rows"):
        plots.show_weights(np.zeros((66, 3)), None, DIGIT_SHAPE)


def test_show_weights_rejects_wrong_number_of_class_names():
    with pytest.raises(ValueError, match="class_names"):
        plots.show_weights(np.zeros((64, 3)), ["a", "b"], DIGIT_SHAPE)


# ---------------------------------------------------------------- plot_loss

def test_plot_loss_plots_loss_against_iteration_with_labels():
    loss = [2.3, 2.0, 1.7, 1.6]
    fig = plots.plot_loss(loss, title="SVM")
    assert isinstance(fig, Figure)
    assert renders(fig)
    ax = fig.axes[0]
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [0, 1, 2, 3])
    np.testing.assert_array_equal(line.get_ydata(), loss)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("iteration", "loss", "SVM")


def test_plot_loss_smooth_adds_moving_average_at_window_ends():
    fig = plots.plot_loss([0.0, 1.0, 2.0, 3.0, 4.0], smooth=2)
    raw, averaged = fig.axes[0].get_lines()
    np.testing.assert_array_equal(averaged.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_allclose(averaged.get_ydata(), [0.5, 1.5, 2.5, 3.5])


def test_plot_loss_rejects_empty_history_and_bad_window():
    with pytest.raises(ValueError, match="empty"):
        plots.plot_loss([])
    with pytest.raises(ValueError, match="smooth"):
        plots.plot_loss([1.0, 2.0], smooth=0)


# ---------------------------------------------------------------- plot_history

def test_plot_history_has_loss_panel_and_accuracy_panel_per_epoch():
    history = {"loss_history": [2.3, 2.1, 1.9, 1.8],
               "train_acc_history": [0.2, 0.5], "val_acc_history": [0.15, 0.4]}
    fig = plots.plot_history(history)
    assert isinstance(fig, Figure)
    assert renders(fig)
    ax_loss, ax_acc = fig.axes
    np.testing.assert_array_equal(ax_loss.get_lines()[0].get_ydata(), history["loss_history"])
    assert ax_loss.get_xlabel() == "iteration"
    train, val = ax_acc.get_lines()
    np.testing.assert_array_equal(train.get_ydata(), [0.2, 0.5])
    np.testing.assert_array_equal(val.get_ydata(), [0.15, 0.4])
    assert ax_acc.get_xlabel() == "epoch"
    assert [t.get_text() for t in ax_acc.get_legend().get_texts()] == ["train", "validation"]


def test_plot_history_rejects_missing_keys_and_empty_loss():
    with pytest.raises(ValueError, match="val_acc_history"):
        plots.plot_history({"loss_history": [1.0], "train_acc_history": []})
    with pytest.raises(ValueError, match="empty"):
        plots.plot_history({"loss_history": [], "train_acc_history": [], "val_acc_history": []})


# ---------------------------------------------------------------- plot_cross_validation

def test_plot_cross_validation_error_bars_are_mean_plus_minus_fold_std():
    k_to_acc = {5: [0.2, 0.4, 0.3], 1: [0.5, 0.5, 0.8]}
    fig = plots.plot_cross_validation(k_to_acc)
    assert isinstance(fig, Figure)
    assert renders(fig)
    ax = fig.axes[0]
    (container,) = ax.containers
    data_line, _, (bars,) = container.lines
    np.testing.assert_array_equal(data_line.get_xdata(), [1, 5])
    means = [np.mean(k_to_acc[1]), np.mean(k_to_acc[5])]
    stds = [np.std(k_to_acc[1]), np.std(k_to_acc[5])]
    np.testing.assert_allclose(data_line.get_ydata(), means)
    for segment, k, mean, std in zip(bars.get_segments(), [1, 5], means, stds):
        np.testing.assert_allclose(segment, [[k, mean - std], [k, mean + std]])
    assert ax.get_xlabel() == "k"


def test_plot_cross_validation_scatters_every_fold():
    k_to_acc = {1: [0.5, 0.6], 3: [0.7, 0.1]}
    ax = plots.plot_cross_validation(k_to_acc).axes[0]
    points = np.vstack([c.get_offsets() for c in ax.collections if c.get_offsets().shape[0] == 2])
    assert sorted(map(tuple, points)) == [(1, 0.5), (1, 0.6), (3, 0.1), (3, 0.7)]


def test_plot_cross_validation_rejects_empty_input():
    with pytest.raises(ValueError, match="empty"):
        plots.plot_cross_validation({})
    with pytest.raises(ValueError, match="k = \\[3\\]"):
        plots.plot_cross_validation({1: [0.5], 3: []})


# ---------------------------------------------------------------- plot_heatmap

@pytest.fixture
def sweep():
    # (learning rate, reg) -> val accuracy, one combination missing.
    return {(1e-6, 1e3): 0.31, (1e-7, 1e3): 0.25, (1e-7, 5e4): 0.20}


def test_plot_heatmap_grid_is_sorted_with_missing_cell_blank(sweep):
    fig = plots.plot_heatmap(sweep, "learning rate", "regularization", title="val")
    assert isinstance(fig, Figure)
    assert renders(fig)
    ax = fig.axes[0]
    grid = ax.get_images()[0].get_array()
    # rows: reg 1e3, 5e4; columns: lr 1e-7, 1e-6
    np.testing.assert_allclose(grid.data[0], [0.25, 0.31])
    assert grid[1, 0] == pytest.approx(0.20)
    assert np.ma.is_masked(grid[1, 1])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1.0e-07", "1.0e-06"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1.0e+03", "5.0e+04"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("learning rate", "regularization", "val")
    assert len(fig.axes) == 2  # the colour grid and its colorbar


def test_plot_heatmap_annotates_present_cells_only(sweep):
    ax = plots.plot_heatmap(sweep, "lr", "reg").axes[0]
    annotations = {t.get_position(): t.get_text() for t in ax.texts}
    assert annotations == {(1, 0): "0.310", (0, 0): "0.250", (0, 1): "0.200"}


def test_plot_heatmap_tuple_values_show_their_last_element():
    results = {(1e-7, 1e3): (0.9, 0.3), (1e-6, 1e3): (0.8, 0.4)}
    ax = plots.plot_heatmap(results, "lr", "reg").axes[0]
    np.testing.assert_allclose(ax.get_images()[0].get_array()[0], [0.3, 0.4])
    assert sorted(t.get_text() for t in ax.texts) == ["0.300", "0.400"]


def test_plot_heatmap_plain_tick_labels_without_log_axes():
    ax = plots.plot_heatmap({(50, 0.5): 0.4, (100, 0.25): 0.5}, "hidden", "lr", log_axes=False).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["50", "100"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0.25", "0.5"]


def test_plot_heatmap_rejects_empty_results_and_keys_that_are_not_pairs():
    with pytest.raises(ValueError, match="empty"):
        plots.plot_heatmap({}, "lr", "reg")
    with pytest.raises(ValueError, match="pairs"):
        plots.plot_heatmap({1e-7: 0.3}, "lr", "reg")


# ---------------------------------------------------------------- plot_distances

def test_plot_distances_shows_the_matrix_with_labelled_axes_and_colorbar():
    dists = np.random.default_rng(7).random((5, 12))
    fig = plots.plot_distances(dists)
    assert isinstance(fig, Figure)
    assert renders(fig)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), dists)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("training examples", "test examples")
    assert len(fig.axes) == 2


def test_plot_distances_rejects_non_matrix_input():
    with pytest.raises(ValueError, match="num_test, num_train"):
        plots.plot_distances(np.zeros(10))
    with pytest.raises(ValueError, match="num_test, num_train"):
        plots.plot_distances(np.zeros((0, 4)))


def test_importing_utils_does_not_import_pyplot():
    # utils/__init__ must stay free of plotting so the graded import cells stay cheap.
    import subprocess
    import sys

    code = "import sys, utils; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
