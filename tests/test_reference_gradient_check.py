"""The reference solutions of gradient_check.ipynb against independent oracles.

Oracles: gradients derived by hand in this file (quadratic form, sum of sines,
log-sum-exp, matrix product, tanh), centred differences written here, and an
independent relative-error formula. Shapes: S is any array shape, N examples,
D features.
"""
from pathlib import Path

import nbformat
import numpy as np
import pytest

import utils

SOLUTIONS = Path(__file__).parents[1] / "solutions" / "assignment1"

# grade_id -> points of solutions/README.md
POINTS = {
    "test_eval_numerical_gradient": 4,
    "test_eval_numerical_gradient_array": 3,
    "test_rel_error": 2,
    "test_grad_check_sparse": 3,
    "test_backprop_example": 4,
    "test_sgd_step": 2,
    "test_sample_batch": 2,
}


@pytest.fixture(scope="module")
def ref():
    return utils.load_notebook("gradient_check", directory=SOLUTIONS)


def _rel(a, b):
    """Independent elementwise relative error with the 1e-8 floor, largest entry."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    worst = 0.0
    for u, v in zip(a.ravel(), b.ravel()):
        worst = max(worst, abs(u - v) / max(1e-8, abs(u) + abs(v)))
    return worst


def _centred(f, values, k, h=1e-5):
    """Centred difference of a Python function of a list of floats along coordinate k."""
    plus, minus = list(values), list(values)
    plus[k] += h
    minus[k] -= h
    return (f(*plus) - f(*minus)) / (2 * h)


# --- eval_numerical_gradient ------------------------------------------------

def test_numerical_gradient_of_a_quadratic_form_matches_its_analytic_gradient(ref):
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 6))  # not symmetric: the gradient of x^T A x is (A + A^T) x
    x = rng.normal(size=6)
    grad = ref.eval_numerical_gradient(lambda v: v @ A @ v, x)
    assert grad.shape == x.shape and grad.dtype == np.float64
    assert _rel(grad, (A + A.T) @ x) < 1e-7


def test_numerical_gradient_of_a_sum_of_sines_matches_cos_for_a_3d_array(ref):
    x = np.random.default_rng(1).uniform(-1.0, 1.0, size=(3, 4, 2))
    grad = ref.eval_numerical_gradient(lambda a: np.sum(np.sin(a)), x)
    assert grad.shape == (3, 4, 2)
    assert _rel(grad, np.cos(x)) < 1e-7


def test_numerical_gradient_of_log_sum_exp_matches_the_softmax(ref):
    x = np.random.default_rng(2).normal(size=(4, 5))
    softmax = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
    grad = ref.eval_numerical_gradient(lambda a: np.log(np.sum(np.exp(a))), x)
    assert _rel(grad, softmax) < 1e-7


def test_numerical_gradient_is_centred_not_one_sided(ref):
    # For sum(x**3) the centred difference is exactly 3x^2 + h^2; a one-sided one is off by about 3xh.
    x = np.array([0.5, -1.5, 2.0])
    h = 1e-2
    grad = ref.eval_numerical_gradient(lambda a: np.sum(a ** 3), x, h=h)
    np.testing.assert_allclose(grad, 3 * x ** 2 + h ** 2, rtol=0, atol=1e-9)


def _arithmetic_restores_change_bits(x, h=1e-5):
    # Undoing a nudge by arithmetic is not exact for these inputs, whichever way it is done.
    restored = [(x + h) - h, (x - h) + h, ((x + h) - 2 * h) + h]
    return all(not np.array_equal(r, x) for r in restored)


def test_numerical_gradient_leaves_x_bitwise_unchanged(ref):
    # Columns of different magnitudes, down to 1e-7, where x +- h loses bits.
    x = np.random.default_rng(3).normal(size=(5, 7)) * np.logspace(-7, 0, 7)
    h = 1e-5
    assert _arithmetic_restores_change_bits(x, h)
    before = x.copy()
    ref.eval_numerical_gradient(lambda a: np.sum(a ** 2), x, h=h)
    assert np.array_equal(x, before)
    assert x.tobytes() == before.tobytes()


def test_numerical_gradient_evaluates_f_on_x_itself(ref):
    # f reads the caller's array (as a loss closed over W does), so the nudges must happen in place.
    x = np.array([1.0, 2.0, 3.0])
    grad = ref.eval_numerical_gradient(lambda _ignored: np.sum(x ** 2), x)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-9)


# --- eval_numerical_gradient_array --------------------------------------------

def test_array_gradient_of_a_matrix_product_is_df_times_a_transposed(ref):
    rng = np.random.default_rng(4)
    x, A, df = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    grad = ref.eval_numerical_gradient_array(lambda a: a @ A, x, df)
    assert grad.shape == x.shape and grad.dtype == np.float64
    assert _rel(grad, df @ A.T) < 1e-7


def test_array_gradient_of_tanh_is_df_times_one_minus_tanh_squared(ref):
    rng = np.random.default_rng(5)
    x, df = rng.normal(size=(3, 6)), rng.normal(size=(3, 6))
    grad = ref.eval_numerical_gradient_array(np.tanh, x, df)
    assert _rel(grad, df * (1 - np.tanh(x) ** 2)) < 1e-7


def test_array_gradient_copies_outputs_that_alias_x(ref):
    rng = np.random.default_rng(6)
    x, df = rng.normal(size=(2, 3)), rng.normal(size=(3, 2))
    grad = ref.eval_numerical_gradient_array(lambda a: a.T, x, df)  # a view of x
    assert _rel(grad, df.T) < 1e-7


def test_array_gradient_leaves_x_bitwise_unchanged(ref):
    rng = np.random.default_rng(7)
    x, df = rng.normal(size=(4, 4)) * np.logspace(-7, 0, 4), rng.normal(size=(4, 4))
    assert _arithmetic_restores_change_bits(x)
    before = x.copy()
    ref.eval_numerical_gradient_array(np.sin, x, df)
    assert x.tobytes() == before.tobytes()


# --- rel_error -----------------------------------------------------------------

def test_rel_error_matches_an_independent_formula_including_the_floor(ref):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(6, 5))
    y = x + rng.normal(size=(6, 5)) * 1e-3
    x[0, :2] = y[0, :2] = 0.0           # both zero: error 0, not nan
    x[1, 0], y[1, 0] = 3e-10, -2e-9     # both tiny: the floor decides
    result = ref.rel_error(x, y)
    assert type(result) is float
    assert result == pytest.approx(_rel(x, y), rel=1e-12)


def test_rel_error_floor_gives_a_tenth_for_zero_against_1e_minus_9(ref):
    assert ref.rel_error(np.array([0.0]), np.array([1e-9])) == pytest.approx(0.1, rel=1e-12)


def test_rel_error_is_the_largest_entry_and_zero_for_equal_arrays(ref):
    assert ref.rel_error(np.array([1.0, 1.0, 2.0]), np.array([3.0, 1.0, 2.0])) == pytest.approx(0.5)
    assert ref.rel_error(np.arange(5.0), np.arange(5.0)) == 0.0
    assert ref.rel_error(np.zeros(3), np.zeros(3)) == 0.0


# --- grad_check_sparse ----------------------------------------------------------

def _sines(a):
    return np.sum(np.sin(a))


def test_sparse_check_returns_small_float64_errors_for_a_correct_gradient(ref):
    x = np.random.default_rng(9).normal(size=(5, 6))
    errors = ref.grad_check_sparse(_sines, x, np.cos(x), num_checks=7)
    assert isinstance(errors, np.ndarray) and errors.shape == (7,) and errors.dtype == np.float64
    assert np.all(errors < 1e-7)


def test_sparse_check_returns_large_errors_for_a_wrong_gradient(ref):
    x = np.random.default_rng(10).uniform(0.1, 1.0, size=(5, 6))
    errors = ref.grad_check_sparse(_sines, x, -np.cos(x), num_checks=6)
    assert np.all(errors > 0.5)


def test_sparse_check_draws_one_integer_per_dimension_in_order(ref):
    x = np.random.default_rng(11).uniform(0.5, 1.5, size=(3, 4, 2))
    factors = 1.0 + np.arange(x.size).reshape(x.shape) / x.size  # a distinct error per coordinate
    errors = ref.grad_check_sparse(lambda a: 0.5 * np.sum(a ** 2), x, x * factors, num_checks=8, seed=5)
    rng = np.random.default_rng(5)
    expected = []
    for _ in range(8):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        expected.append((factors[ix] - 1) / (factors[ix] + 1))
    np.testing.assert_allclose(errors, expected, rtol=0, atol=1e-8)


def test_sparse_check_is_deterministic_for_a_seed_and_varies_with_it(ref):
    x = np.random.default_rng(12).uniform(0.5, 1.5, size=(10, 10))
    wrong = x * (1.0 + np.arange(100).reshape(10, 10) / 100)
    gradient = lambda a: 0.5 * np.sum(a ** 2)  # noqa: E731
    first = ref.grad_check_sparse(gradient, x, wrong, num_checks=5, seed=3)
    again = ref.grad_check_sparse(gradient, x, wrong, num_checks=5, seed=3)
    other = ref.grad_check_sparse(gradient, x, wrong, num_checks=5, seed=4)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_sparse_check_uses_h(ref):
    # With analytic 3x^2 and h = 0.1 the centred difference is 3x^2 + h^2.
    x = np.array([1.0, 2.0])
    errors = ref.grad_check_sparse(lambda a: np.sum(a ** 3), x, 3 * x ** 2, num_checks=3, h=0.1, seed=0)
    rng = np.random.default_rng(0)
    picked = [x[int(rng.integers(2))] for _ in range(3)]
    expected = [0.01 / (6 * v ** 2 + 0.01) for v in picked]
    np.testing.assert_allclose(errors, expected, rtol=1e-6)


def test_sparse_check_leaves_x_bitwise_unchanged_and_prints_one_line_per_check(ref, capsys):
    x = np.random.default_rng(13).normal(size=(4, 3)) * 1e-6
    assert _arithmetic_restores_change_bits(x)
    before = x.copy()
    ref.grad_check_sparse(_sines, x, np.cos(x), num_checks=4)
    assert x.tobytes() == before.tobytes()
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    assert all(line.startswith("numerical ") and " analytic " in line and " relative error " in line for line in lines)


# --- backprop_example -----------------------------------------------------------

def _f(x, y, z, w):
    return 2 * (x * y + max(z, w))


def test_backprop_example_reproduces_the_lecture(ref):
    f, grads = ref.backprop_example(3, -4, 2, -1)
    assert f == -20.0
    assert tuple(grads) == (-8.0, 6.0, 2.0, 0.0)
    assert all(type(v) is float for v in (f, *grads))


def test_backprop_example_matches_the_formula_at_random_points(ref):
    rng = np.random.default_rng(14)
    for x, y, z, w in rng.normal(size=(20, 4)) * 3:
        f, grads = ref.backprop_example(x, y, z, w)
        assert f == pytest.approx(_f(x, y, z, w), rel=1e-12)
        z_wins = 1.0 if z >= w else 0.0
        assert grads == pytest.approx((2 * y, 2 * x, 2 * z_wins, 2 * (1 - z_wins)), rel=1e-12)
        assert all(type(v) is float for v in (f, *grads))


def test_backprop_example_matches_central_differences_away_from_the_kink(ref):
    rng = np.random.default_rng(15)
    checked = 0
    for values in rng.normal(size=(10, 4)) * 2:
        if abs(values[2] - values[3]) < 1e-3:
            continue  # the max gate's kink: no derivative to compare with
        values = [float(v) for v in values]
        numerical = [_centred(_f, values, k) for k in range(4)]
        assert _rel(numerical, ref.backprop_example(*values)[1]) < 1e-7
        checked += 1
    assert checked >= 8


def test_backprop_example_routes_a_tie_to_z(ref):
    f, grads = ref.backprop_example(-1.5, 2.0, 0.7, 0.7)
    assert f == pytest.approx(2 * (-3.0 + 0.7))
    assert tuple(grads) == (4.0, -3.0, 2.0, 0.0)


# --- sgd_step and sample_batch ---------------------------------------------------

def test_sgd_step_returns_w_minus_lr_dw_without_mutating_its_inputs(ref):
    rng = np.random.default_rng(16)
    w, dw = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    w_before, dw_before = w.copy(), dw.copy()
    new_w = ref.sgd_step(w, dw, 0.3)
    assert new_w.shape == (4, 3)
    np.testing.assert_array_equal(new_w, w_before - 0.3 * dw_before)
    assert new_w is not w
    assert np.array_equal(w, w_before) and np.array_equal(dw, dw_before)


def _indexed_data(n=7, d=3):
    X = np.arange(n * d, dtype=np.float64).reshape(n, d)
    return X, np.arange(n)  # y[i] == i names row i


def test_sample_batch_has_the_right_shapes_and_aligned_rows(ref):
    X, y = _indexed_data()
    X_batch, y_batch = ref.sample_batch(X, y, 5, np.random.default_rng(0))
    assert X_batch.shape == (5, 3) and y_batch.shape == (5,)
    assert X_batch.dtype == X.dtype and y_batch.dtype == y.dtype
    np.testing.assert_array_equal(X_batch, X[y_batch])


def test_sample_batch_draws_the_documented_indices(ref):
    X, y = _indexed_data()
    _, y_batch = ref.sample_batch(X, y, 9, np.random.default_rng(21))
    np.testing.assert_array_equal(y_batch, np.random.default_rng(21).integers(0, 7, size=9))


def test_sample_batch_samples_with_replacement_beyond_n(ref):
    X, y = _indexed_data()
    X_batch, y_batch = ref.sample_batch(X, y, 50, np.random.default_rng(1))
    assert X_batch.shape == (50, 3)
    assert len(np.unique(y_batch)) < 50
    np.testing.assert_array_equal(X_batch, X[y_batch])


def test_sample_batch_is_reproducible_for_a_seed_and_advances_the_generator(ref):
    X, y = _indexed_data(n=100)
    _, first = ref.sample_batch(X, y, 10, np.random.default_rng(2))
    _, again = ref.sample_batch(X, y, 10, np.random.default_rng(2))
    np.testing.assert_array_equal(first, again)
    rng = np.random.default_rng(2)
    _, one = ref.sample_batch(X, y, 10, rng)
    _, two = ref.sample_batch(X, y, 10, rng)
    assert not np.array_equal(one, two)


@pytest.mark.parametrize("n_labels, batch_size", [(6, 3), (7, 0), (7, -2)])
def test_sample_batch_rejects_mismatched_lengths_and_nonpositive_batch_sizes(ref, n_labels, batch_size):
    X, y = _indexed_data()
    with pytest.raises(ValueError, match="must"):
        ref.sample_batch(X, y[:n_labels], batch_size, np.random.default_rng(0))


# --- notebook structure ----------------------------------------------------------

def test_grade_cells_carry_the_points_of_the_readme():
    nb = nbformat.read(str(SOLUTIONS / "gradient_check.ipynb"), as_version=4)
    grades = {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"].get("points")
        for c in nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
    }
    assert grades == POINTS
    definitions = {
        c.metadata["nbgrader"]["grade_id"]
        for c in nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    }
    assert definitions == {name.removeprefix("test_") for name in POINTS}
