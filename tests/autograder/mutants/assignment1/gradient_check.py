"""Wrong and alternative implementations of gradient_check.ipynb."""
from tests.autograder.mutants import Alternative, Mutant

NB = "gradient_check"

MUTANTS = [
    Mutant("one_sided_differences", NB, "eval_numerical_gradient", source='''import numpy as np

def eval_numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    fx = float(f(x))
    for ix in np.ndindex(x.shape):
        old_value = x[ix]
        x[ix] = old_value + h
        grad[ix] = (float(f(x)) - fx) / h
        x[ix] = old_value
    return grad
''', breaks=("eval_numerical_gradient",), mistake="one-sided"),
    Mutant("gradient_not_halved", NB, "eval_numerical_gradient",
           old="        grad[ix] = (f_plus - f_minus) / (2 * h)",
           new="        grad[ix] = (f_plus - f_minus) / h",
           breaks=("eval_numerical_gradient",), mistake="factor 2"),
    Mutant("x_not_restored", NB, "eval_numerical_gradient",
           old="        x[ix] = old_value\n        grad[ix]",
           new="        grad[ix]",
           breaks=("eval_numerical_gradient",)),
    Mutant("array_gradient_ignores_df", NB, "eval_numerical_gradient_array",
           old="np.sum((out_plus - out_minus) * df)", new="np.sum(out_plus - out_minus)",
           breaks=("eval_numerical_gradient_array",), mistake="upstream gradient"),
    Mutant("rel_error_mean", NB, "rel_error",
           old="worst = float(np.max(errors))", new="worst = float(np.mean(errors))",
           breaks=("rel_error",), mistake="mean"),
    Mutant("rel_error_global_floor", NB, "rel_error",
           old="np.maximum(1e-8, np.abs(x) + np.abs(y))", new="max(1e-8, float(np.max(np.abs(x) + np.abs(y))))",
           breaks=("rel_error",)),
    Mutant("sparse_check_other_draws", NB, "grad_check_sparse",
           old="        ix = tuple(int(rng.integers(n)) for n in x.shape)\n",
           new="        ix = tuple(int(rng.integers(n)) for n in reversed(x.shape))[::-1]\n",
           breaks=("grad_check_sparse",)),
    Mutant("backprop_missing_factor_two", NB, "backprop_example",
           old="df_dv = 2.0                       # scale gate", new="df_dv = 1.0",
           breaks=("backprop_example",), mistake="factor 2"),
    Mutant("backprop_max_routes_to_smaller", NB, "backprop_example",
           old="z_wins = 1.0 if z >= w else 0.0", new="z_wins = 0.0 if z >= w else 1.0",
           breaks=("backprop_example",)),
    Mutant("backprop_tie_goes_to_w", NB, "backprop_example",
           old="z_wins = 1.0 if z >= w else 0.0", new="z_wins = 1.0 if z > w else 0.0",
           breaks=("backprop_example",)),
    Mutant("sgd_step_in_place", NB, "sgd_step",
           old="new_w = w - learning_rate * dw", new="w -= learning_rate * dw\n    new_w = w",
           breaks=("sgd_step",)),
    Mutant("sgd_step_uphill", NB, "sgd_step",
           old="new_w = w - learning_rate * dw", new="new_w = w + learning_rate * dw",
           breaks=("sgd_step",), mistake="along the gradient"),
    Mutant("sample_batch_misaligned_labels", NB, "sample_batch",
           old="y_batch = y[indices]", new="y_batch = y[np.sort(indices)]",
           breaks=("sample_batch",), mistake="aligned"),
    Mutant("sample_batch_no_length_check", NB, "sample_batch",
           old="    if len(X) != len(y):\n", new="    if False:\n",
           breaks=("sample_batch",)),
]

ALTERNATIVES = [
    Alternative("nditer_loop", NB, "eval_numerical_gradient", source='''import numpy as np

def eval_numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        saved = x[ix]
        x[ix] = saved + h
        plus = f(x)
        x[ix] = saved - h
        minus = f(x)
        x[ix] = saved
        grad[ix] = (plus - minus) / (2 * h)
        it.iternext()
    return grad
'''),
    Alternative("rel_error_with_where", NB, "rel_error", source='''import numpy as np

def rel_error(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    denominator = np.abs(x) + np.abs(y)
    denominator = np.where(denominator > 1e-8, denominator, 1e-8)
    return float((np.abs(x - y) / denominator).max())
'''),
    Alternative("sgd_step_numpy_subtract", NB, "sgd_step", source='''import numpy as np

def sgd_step(w, dw, learning_rate):
    return np.subtract(w, np.multiply(learning_rate, dw))
'''),
]
