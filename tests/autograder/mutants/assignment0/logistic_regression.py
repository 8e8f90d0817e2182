"""Wrong and alternative implementations of logistic_regression.ipynb (see the package's docstring)."""
from tests.autograder.mutants import Alternative, Mutant
from tests.autograder.mutants.assignment0 import TUNED

LOGISTIC = "logistic_regression"
TUNING = "tune_best_logistic_w"

# -- cells written whole ---------------------------------------------------------------------------------------
_SIGMOID_CHANGES_Z = '''def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    negative = z < 0
    z[negative] = -z[negative]  # |z|, written over the caller's array
    small = np.exp(-z)
    return np.where(negative, small / (1.0 + small), 1.0 / (1.0 + small))
'''

_SOFTPLUS_BOTH_BRANCHES = '''def logistic_loss(w, X, y, reg=0.0):
    m = y * (X @ w)
    per_example = np.where(m > 0, np.log1p(np.exp(-m)), -m + np.log1p(np.exp(m)))
    loss = float(np.mean(per_example) + reg * np.sum(w * w))
    grad = -(X.T @ (y * sigmoid(-m))) / X.shape[0] + 2 * reg * w
    return loss, grad
'''

_SGD_CHANGES_W0 = '''def sgd(loss_fn, w0, X, y, learning_rate=0.1, num_iters=100, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    w = w0
    loss_history = []
    for _ in range(num_iters):
        batch = rng.choice(X.shape[0], batch_size)
        loss, grad = loss_fn(w, X[batch], y[batch])
        loss_history.append(float(loss))
        w -= learning_rate * grad
    return w, loss_history
'''

# A correct cell written another way: in-place steps on a copy of w0.
_SGD_IN_PLACE_ON_A_COPY = '''def sgd(loss_fn, w0, X, y, learning_rate=0.1, num_iters=100, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    w = w0.astype(np.float64, copy=True)
    losses = []
    for _ in range(num_iters):
        rows = rng.choice(len(X), batch_size)
        loss, grad = loss_fn(w, X[rows], y[rows])
        losses.append(float(loss))
        w -= learning_rate * grad
    return w, losses
'''

MUTANTS = [
    # -- sigmoid -------------------------------------------------------------------------------------------------
    Mutant("sigmoid_overflows", LOGISTIC, "sigmoid",
           old="small = np.exp(-np.abs(z))  # in (0, 1]: never overflows\n"
               "    s = np.where(z >= 0, 1.0 / (1.0 + small), small / (1.0 + small))",
           new="s = 1.0 / (1.0 + np.exp(-z))",
           breaks=("sigmoid",), mistake="overflow warning"),
    Mutant("sigmoid_where_evaluates_both_branches", LOGISTIC, "sigmoid",
           old="s = np.where(z >= 0, 1.0 / (1.0 + small), small / (1.0 + small))",
           new="s = np.where(z >= 0, 1.0 / (1.0 + np.exp(-z)), np.exp(z) / (1.0 + np.exp(z)))",
           breaks=("sigmoid",), mistake="overflow warning"),
    Mutant("sigmoid_nan_for_large_scores", LOGISTIC, "sigmoid",
           old="s = np.where(z >= 0, 1.0 / (1.0 + small), small / (1.0 + small))",
           new="s = np.exp(z) / (1.0 + np.exp(z))",
           breaks=("sigmoid", TUNED), mistake="NaN"),
    Mutant("sigmoid_clips_the_scores", LOGISTIC, "sigmoid",
           old="small = np.exp(-np.abs(z))", new="small = np.exp(-np.abs(np.clip(z, -30.0, 30.0)))",
           breaks=("sigmoid", TUNED), mistake="not exact"),
    Mutant("sigmoid_sign_of_z", LOGISTIC, "sigmoid",
           old="s = np.where(z >= 0, 1.0 / (1.0 + small), small / (1.0 + small))",
           new="s = np.where(z >= 0, small / (1.0 + small), 1.0 / (1.0 + small))",
           breaks=("sigmoid", TUNED), mistake="sign of z"),
    Mutant("sigmoid_changes_z", LOGISTIC, "sigmoid", source=_SIGMOID_CHANGES_Z,
           breaks=("sigmoid",), mistake="z was modified"),
    # -- logistic_loss -------------------------------------------------------------------------------------------
    Mutant("logistic_loss_summed", LOGISTIC, "logistic_loss",
           old="np.mean(np.logaddexp(0.0, -margins))", new="np.sum(np.logaddexp(0.0, -margins))",
           breaks=("logistic_loss",), mistake="not divided by N"),
    Mutant("logistic_loss_overflows", LOGISTIC, "logistic_loss",
           old="np.logaddexp(0.0, -margins)", new="np.log(1.0 + np.exp(-margins))",
           breaks=("logistic_loss",), mistake="NaN or infinite"),
    Mutant("logistic_loss_where_evaluates_both_branches", LOGISTIC, "logistic_loss",
           source=_SOFTPLUS_BOTH_BRANCHES, breaks=("logistic_loss",), mistake="overflow warning"),
    Mutant("logistic_loss_array", LOGISTIC, "logistic_loss",
           old="loss = float(np.mean(", new="loss = np.asarray(np.mean(",
           breaks=("logistic_loss",), mistake="should be a number"),
    Mutant("logistic_gradient_without_mean", LOGISTIC, "logistic_loss",
           old="grad = -(X.T @ (y * sigmoid(-margins))) / num_train", new="grad = -(X.T @ (y * sigmoid(-margins)))",
           breaks=("logistic_loss", TUNED), mistake="not divided by N"),
    Mutant("logistic_gradient_sign", LOGISTIC, "logistic_loss",
           old="grad = -(X.T @", new="grad = (X.T @",
           breaks=("logistic_loss", TUNED), mistake="wrong sign"),
    Mutant("logistic_gradient_sigmoid_of_the_margin", LOGISTIC, "logistic_loss",
           old="sigmoid(-margins)", new="sigmoid(margins)",
           breaks=("logistic_loss", TUNED), mistake="sigmoid(m_i) instead of sigmoid(-m_i)"),
    Mutant("logistic_penalty_halved", LOGISTIC, "logistic_loss",
           old="reg * np.sum(w * w)", new="0.5 * reg * np.sum(w * w)",
           breaks=("logistic_loss",), mistake="factor 1/2"),
    Mutant("logistic_penalty_gradient_without_two", LOGISTIC, "logistic_loss",
           old="/ num_train + 2 * reg * w", new="/ num_train + reg * w",
           breaks=("logistic_loss", TUNED), mistake="lacks its factor 2"),
    Mutant("logistic_penalty_skips_the_bias", LOGISTIC, "logistic_loss",
           old="reg * np.sum(w * w)", new="reg * np.sum(w[:-1] ** 2)",
           breaks=("logistic_loss",), mistake="bias weight"),
    # -- sgd -----------------------------------------------------------------------------------------------------
    Mutant("sgd_without_replacement", LOGISTIC, "sgd",
           old="batch = rng.choice(num_train, batch_size)",
           new="batch = rng.choice(num_train, batch_size, replace=False)",
           breaks=("sgd", TUNED), mistake="without replacement"),
    Mutant("sgd_changes_w0", LOGISTIC, "sgd", source=_SGD_CHANGES_W0, breaks=("sgd",), mistake="w0 was modified"),
    Mutant("sgd_uphill", LOGISTIC, "sgd",
           old="w = w - learning_rate * grad", new="w = w + learning_rate * grad",
           breaks=("sgd", TUNED), mistake="along the gradient"),
    Mutant("sgd_ignores_the_learning_rate", LOGISTIC, "sgd",
           old="w = w - learning_rate * grad", new="w = w - grad",
           breaks=("sgd", TUNED), mistake="ignore the learning rate"),
    Mutant("sgd_new_generator_every_iteration", LOGISTIC, "sgd",
           old="batch = rng.choice(num_train, batch_size)",
           new="batch = np.random.default_rng(seed).choice(num_train, batch_size)",
           breaks=("sgd", TUNED), mistake="created anew"),
    Mutant("sgd_global_generator", LOGISTIC, "sgd",
           old="batch = rng.choice(num_train, batch_size)", new="batch = np.random.choice(num_train, batch_size)",
           breaks=("sgd", TUNED), mistake="not the documented ones"),
    Mutant("sgd_labels_not_aligned", LOGISTIC, "sgd",
           old="y[batch])", new="y[np.sort(batch)])",
           breaks=("sgd", TUNED), mistake="aligned"),
    Mutant("sgd_history_keeps_arrays", LOGISTIC, "sgd",
           old="loss_history.append(float(loss))", new="loss_history.append(loss)",
           breaks=("sgd",), mistake="should be a number"),
    # -- best_logistic_w -----------------------------------------------------------------------------------------
    Mutant("tuning_too_few_iterations", LOGISTIC, TUNING,
           old="num_iters = 500", new="num_iters = 3",
           breaks=(TUNED,), mistake="does not reach the target accuracy"),
    Mutant("tuning_keeps_a_list", LOGISTIC, TUNING,
           old="best_logistic_w, best_history = val_accuracy, w_candidate, history",
           new="best_logistic_w, best_history = val_accuracy, list(w_candidate), history",
           breaks=(TUNED,), mistake="should be a numpy array"),
]

ALTERNATIVES = [
    Alternative("sigmoid_from_scipy", LOGISTIC, "sigmoid",
                old="small = np.exp(-np.abs(z))  # in (0, 1]: never overflows\n"
                    "    s = np.where(z >= 0, 1.0 / (1.0 + small), small / (1.0 + small))",
                new="from scipy.special import expit\n\n    s = expit(z)"),
    Alternative("sigmoid_from_tanh", LOGISTIC, "sigmoid",
                old="small = np.exp(-np.abs(z))  # in (0, 1]: never overflows\n"
                    "    s = np.where(z >= 0, 1.0 / (1.0 + small), small / (1.0 + small))",
                new="s = 0.5 * (1.0 + np.tanh(0.5 * z))"),
    Alternative("sigmoid_with_masks", LOGISTIC, "sigmoid",
                old="small = np.exp(-np.abs(z))  # in (0, 1]: never overflows\n"
                    "    s = np.where(z >= 0, 1.0 / (1.0 + small), small / (1.0 + small))",
                new="s = np.empty_like(z)\n    up = z >= 0\n    s[up] = 1.0 / (1.0 + np.exp(-z[up]))\n"
                    "    e = np.exp(z[~up])\n    s[~up] = e / (1.0 + e)"),
    Alternative("logistic_loss_stable_softplus", LOGISTIC, "logistic_loss",
                old="np.mean(np.logaddexp(0.0, -margins))",
                new="np.mean(np.maximum(-margins, 0.0) + np.log1p(np.exp(-np.abs(margins))))"),
    Alternative("logistic_gradient_without_sigmoid", LOGISTIC, "logistic_loss",
                old="sigmoid(-margins)", new="np.exp(-np.logaddexp(0.0, margins))"),
    Alternative("sgd_batches_from_integers", LOGISTIC, "sgd",
                old="batch = rng.choice(num_train, batch_size)",
                new="batch = rng.integers(0, num_train, size=batch_size)"),
    Alternative("sgd_in_place_on_a_copy", LOGISTIC, "sgd", source=_SGD_IN_PLACE_ON_A_COPY),
    Alternative("tuning_on_another_grid", LOGISTIC, TUNING,
                old="learning_rates = [0.1, 1.0, 3.0]", new="learning_rates = [0.5, 2.0]"),
]
