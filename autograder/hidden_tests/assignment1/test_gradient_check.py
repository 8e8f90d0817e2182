"""Hidden suite of gradient_check.ipynb: numerical gradients, relative error, backprop, SGD."""
import numpy as np

from autograder.testing import (
    Mistake,
    check_array,
    check_scalar,
    close,
    diagnose,
    student_raises,
    target,
    unchanged,
)

NOTEBOOK = "gradient_check.ipynb"


def _smooth(rng, shape):
    """A smooth scalar function of x with random coefficients, and a point."""
    a, b = rng.uniform(0.5, 2.0, size=shape), rng.uniform(0.5, 2.0, size=shape)
    x = rng.normal(size=shape)
    return (lambda v: float(np.sum(a * v ** 2 + np.sin(b * v)))), x


def _one_sided(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        bumped = x.copy()
        bumped[ix] += h
        grad[ix] = (f(bumped) - f(x)) / h
    return grad


# -- eval_numerical_gradient -----------------------------------------------------
@target("eval_numerical_gradient", weight=2)
def test_matches_centred_differences_on_a_smooth_function(student, reference, rng):
    """The numerical gradient of a smooth function matches centred differences."""
    f, x = _smooth(rng, (3, 4))
    expected = reference.eval_numerical_gradient(f, x.copy())
    grad = check_array(student.eval_numerical_gradient(f, x.copy()), x.shape, "the gradient")
    diagnose(grad, expected, {
        "one-sided differences (f(x+h) - f(x)) / h instead of centred ones": _one_sided(f, x),
        "a missing factor 2 in the denominator 2h": 2 * expected,
    }, "the numerical gradient", rtol=1e-6, atol=1e-9)


@target("eval_numerical_gradient")
def test_leaves_x_exactly_as_it_was(student, rng):
    """x is the same, bit for bit, after the numerical gradient."""
    f, x = _smooth(rng, (5,))
    _, (_, x_after, *_), _ = student.eval_numerical_gradient.inspect(f, x.copy())
    unchanged(x, x_after, "x")


@target("eval_numerical_gradient")
def test_works_for_any_array_shape(student, reference, rng):
    """Works for 1-D and 3-D inputs."""
    for shape in [(6,), (2, 2, 3)]:
        f, x = _smooth(rng, shape)
        grad = check_array(student.eval_numerical_gradient(f, x.copy()), shape, f"the gradient for shape {shape}")
        if not close(grad, reference.eval_numerical_gradient(f, x.copy()), rtol=1e-6, atol=1e-9):
            raise Mistake(f"the gradient is wrong for an input of shape {shape}")


# -- eval_numerical_gradient_array -----------------------------------------------------
@target("eval_numerical_gradient_array", weight=2)
def test_matches_the_gradient_of_the_weighted_sum(student, reference, rng):
    """The gradient of sum(f(x) * df) matches for a linear and a non-linear f."""
    A = rng.normal(size=(4, 3))
    for f in (lambda v: v @ A, np.tanh):
        x = rng.normal(size=(2, 4))
        df = rng.normal(size=np.shape(f(x)))
        expected = reference.eval_numerical_gradient_array(f, x.copy(), df)
        grad = check_array(student.eval_numerical_gradient_array(f, x.copy(), df), x.shape, "the gradient")
        diagnose(grad, expected, {"the upstream gradient df was ignored":
                                  reference.eval_numerical_gradient_array(f, x.copy(), np.ones_like(df))},
                 "the gradient", rtol=1e-6, atol=1e-9)


@target("eval_numerical_gradient_array")
def test_leaves_x_and_df_unchanged(student, rng):
    """x and df are unchanged afterwards."""
    x, df = rng.normal(size=(3,)), rng.normal(size=(3,))
    _, (_, x_after, df_after), _ = student.eval_numerical_gradient_array.inspect(np.tanh, x.copy(), df.copy())
    unchanged(x, x_after, "x")
    unchanged(df, df_after, "df")


# -- rel_error -----------------------------------------------------------------------
@target("rel_error", weight=2)
def test_is_the_largest_relative_error(student, reference, rng):
    """rel_error is the largest elementwise relative error, as a number."""
    x = rng.normal(size=(4, 5))
    y = x + rng.normal(scale=1e-3, size=x.shape)
    value = check_scalar(student.rel_error(x, y), "rel_error")
    expected = reference.rel_error(x, y)
    mean_error = float(np.mean(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
    diagnose(value, expected, {"the mean instead of the largest error": mean_error}, "rel_error", rtol=1e-9)


@target("rel_error")
def test_uses_the_floor_entry_by_entry(student, reference):
    """Entries where both values are zero count as zero error (the 1e-8 floor)."""
    x = np.array([0.0, 1.0, 1e-12])
    y = np.array([0.0, 1.0 + 1e-6, 0.0])
    value = check_scalar(student.rel_error(x, y), "rel_error")
    if not close(value, reference.rel_error(x, y), rtol=1e-9):
        raise Mistake("rel_error mishandles entries near zero; apply max(1e-8, |x| + |y|) to each entry")


# -- grad_check_sparse ------------------------------------------------------------------
@target("grad_check_sparse", weight=2)
def test_reports_the_same_relative_errors_as_the_documented_draws(student, reference, rng):
    """Relative errors at the documented random coordinates, for a right and a wrong gradient."""
    f, x = _smooth(rng, (4, 3))
    good = reference.eval_numerical_gradient(f, x.copy())
    bad = good + rng.normal(scale=0.5, size=good.shape)
    for analytic in (good, bad):
        seed = int(rng.integers(1000))
        errors = check_array(student.grad_check_sparse(f, x.copy(), analytic, num_checks=7, seed=seed),
                             (7,), "the relative errors")
        expected = reference.grad_check_sparse(f, x.copy(), analytic, num_checks=7, seed=seed)
        if not close(errors, expected, rtol=1e-4, atol=1e-7):
            raise Mistake("the relative errors differ; draw each coordinate with one rng.integers(n) "
                          "per dimension, in order, as the docstring says")


@target("grad_check_sparse")
def test_leaves_x_unchanged(student, rng):
    """x is unchanged afterwards."""
    f, x = _smooth(rng, (3, 3))
    _, (_, x_after, *_), _ = student.grad_check_sparse.inspect(f, x.copy(), np.zeros_like(x), num_checks=4)
    unchanged(x, x_after, "x")


# -- backprop_example ----------------------------------------------------------------------
@target("backprop_example", weight=2)
def test_value_and_gradients_match_at_random_points(student, reference, rng):
    """f and its four partial derivatives match at random points."""
    for _ in range(3):
        point = [float(v) for v in rng.uniform(-5, 5, size=4)]
        f, grads = student.backprop_example(*point)
        f_ref, grads_ref = reference.backprop_example(*point)
        if not close(check_scalar(f, "f"), f_ref):
            raise Mistake("the forward value f is wrong")
        if not (isinstance(grads, (tuple, list)) and len(grads) == 4):
            raise Mistake("return the gradients as a tuple (df_dx, df_dy, df_dz, df_dw)")
        diagnose([check_scalar(g, "a gradient") for g in grads], grads_ref, {
            "the factor 2 of f = 2(...) was left out of the gradients": np.array(grads_ref) / 2,
            "the max gate routes the gradient to the smaller input": np.array(grads_ref)[[0, 1, 3, 2]],
        }, "the gradients")


@target("backprop_example")
def test_a_tie_of_the_max_gate_routes_to_z(student, reference, rng):
    """At a tie z == w the gradient goes to z."""
    x, y, z = (float(v) for v in rng.uniform(-3, 3, size=3))
    _, grads = student.backprop_example(x, y, z, z)
    if not close(grads, reference.backprop_example(x, y, z, z)[1]):
        raise Mistake("at a tie z == w the max gate must route the whole gradient to z")


# -- sgd_step -------------------------------------------------------------------------------
@target("sgd_step", weight=2)
def test_steps_against_the_gradient(student, reference, rng):
    """The update is w - learning_rate * dw."""
    w, dw = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    lr = float(rng.uniform(1e-3, 1e-1))
    new_w = check_array(student.sgd_step(w, dw, lr), w.shape, "the new weights")
    diagnose(new_w, reference.sgd_step(w, dw, lr), {"a step along the gradient instead of against it": w + lr * dw},
             "the new weights")


@target("sgd_step")
def test_does_not_modify_w_or_dw(student, rng):
    """w and dw are unchanged."""
    w, dw = rng.normal(size=(4,)), rng.normal(size=(4,))
    _, (w_after, dw_after, _), _ = student.sgd_step.inspect(w.copy(), dw.copy(), 0.1)
    unchanged(w, w_after, "w")
    unchanged(dw, dw_after, "dw")


# -- sample_batch ----------------------------------------------------------------------------
@target("sample_batch", weight=2)
def test_draws_the_documented_rows_with_labels_aligned(student, reference, rng):
    """The batch holds the documented rows, labels aligned, with replacement."""
    X = rng.normal(size=(7, 3))
    y = np.arange(7) * 10
    for batch_size in (5, 12):  # 12 > N: only possible with replacement
        seed = int(rng.integers(1000))
        X_batch, y_batch = student.sample_batch(X, y, batch_size, np.random.default_rng(seed))
        check_array(X_batch, (batch_size, 3), "X_batch")
        check_array(y_batch, (batch_size,), "y_batch", "i")
        rows = [int(np.flatnonzero((X == row).all(axis=1))[0]) if (X == row).all(axis=1).any() else -1
                for row in X_batch]
        if rows != [int(label) // 10 for label in y_batch]:
            raise Mistake("the labels are not aligned with the rows of the batch")
        X_ref, _ = reference.sample_batch(X, y, batch_size, np.random.default_rng(seed))
        if not np.array_equal(X_batch, X_ref):
            raise Mistake("the rows drawn differ; use rng.integers(0, N, size=batch_size) once")


@target("sample_batch")
def test_rejects_mismatched_inputs(student, rng):
    """Mismatched X and y, and a batch size below 1, raise ValueError."""
    X, y = rng.normal(size=(4, 2)), np.arange(3)
    student_raises(lambda: student.sample_batch(X, y, 2, np.random.default_rng(0)), "ValueError",
                   "X with 4 rows and y with 3 labels")
    student_raises(lambda: student.sample_batch(X, np.arange(4), 0, np.random.default_rng(0)), "ValueError",
                   "batch_size 0")
