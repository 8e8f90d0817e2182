"""Wrong and alternative implementations of assignment 0's notebooks, perceptron.ipynb and logistic_regression.ipynb.

Each entry edits one definition or tuning cell of the reference submission
(``tests.autograder.mutants.Edit``). A mutant's ``breaks`` is its own target and,
where the student's own training is affected, the tuned ``best_logistic_w``: the
logistic notebook's tuning cell trains with the submission's sigmoid,
logistic_loss and sgd, and measures accuracy with perceptron.ipynb's
predict_binary. Entries graded on both notebooks prove that perceptron.ipynb's
mistakes cost the logistic notebook nothing else.
"""
from tests.autograder.mutants import Alternative, Mutant

PERCEPTRON, LOGISTIC = "perceptron", "logistic_regression"
TUNED = "best_logistic_w"
TUNING = "tune_best_logistic_w"

# -- cells written whole ---------------------------------------------------------------------------------------
# The perceptron_loss cell also redefines predict_binary (labels the wrong way round) and a perceptron that
# relies on it; the suite puts the reference's predict_binary in its place while judging perceptron.
_FLIPPED_PREDICT_USED_BY_PERCEPTRON = '''def perceptron_loss(w, X, y):
    margins = y * (X @ w)
    loss = float(np.mean(np.maximum(0.0, -margins)))
    grad = -(X.T @ (y * (margins <= 0))) / X.shape[0]
    return loss, grad


def predict_binary(w, X):
    return np.where(X @ w >= 0, -1, 1).astype(np.int64)


def perceptron(X, y, num_steps):
    w = np.zeros(X.shape[1])
    for t in range(num_steps):
        i = t % X.shape[0]
        if predict_binary(w, X[i:i + 1])[0] != y[i] or w @ X[i] == 0:
            w = w + y[i] * X[i]
    return w
'''

# The multiclass cell also redefines perceptron_loss (its gradient with the wrong sign) and a perceptron that
# takes SGD steps of size 1 on it, one example at a time.
_UPHILL_LOSS_USED_BY_PERCEPTRON = '''def multiclass_perceptron(X, y, num_classes, num_steps):
    W = np.zeros((X.shape[1], num_classes))
    for t in range(num_steps):
        i = t % X.shape[0]
        guess = int(np.argmax(X[i] @ W))
        if guess != y[i]:
            W[:, y[i]] += X[i]
            W[:, guess] -= X[i]
    return W


def perceptron_loss(w, X, y):
    margins = y * (X @ w)
    loss = float(np.mean(np.maximum(0.0, -margins)))
    grad = (X.T @ (y * (margins <= 0))) / X.shape[0]
    return loss, grad


def perceptron(X, y, num_steps):
    w = np.zeros(X.shape[1])
    for t in range(num_steps):
        i = t % X.shape[0]
        _, grad = perceptron_loss(w, X[i:i + 1], y[i:i + 1])
        w = w - grad
    return w
'''

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

# Correct cells written another way: whole passes with a nested loop, and in-place steps on a copy of w0.
_PERCEPTRON_BY_EPOCHS = '''def perceptron(X, y, num_steps):
    w = np.zeros(X.shape[1])
    full_passes, rest = divmod(num_steps, X.shape[0])
    for n in [X.shape[0]] * full_passes + [rest]:
        for i in range(n):
            if y[i] * np.dot(X[i], w) <= 0:
                w += y[i] * X[i]
    return w
'''

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
    # -- predict_binary ------------------------------------------------------------------------------------------
    Mutant("predict_binary_zero_is_minus_one", PERCEPTRON, "predict_binary",
           old="np.where(scores >= 0, 1, -1)", new="np.where(scores > 0, 1, -1)",
           breaks=("predict_binary", TUNED), mistake="counted as -1"),
    Mutant("predict_binary_np_sign", PERCEPTRON, "predict_binary",
           old="y_pred = np.where(scores >= 0, 1, -1).astype(np.int64)",
           new="y_pred = np.sign(scores).astype(np.int64)",
           breaks=("predict_binary", TUNED), mistake="np.sign"),
    Mutant("predict_binary_float_labels", PERCEPTRON, "predict_binary",
           old="np.where(scores >= 0, 1, -1).astype(np.int64)", new="np.where(scores >= 0, 1.0, -1.0)",
           breaks=("predict_binary",), mistake="floating-point dtype"),
    Mutant("predict_binary_flipped", PERCEPTRON, "predict_binary",
           old="np.where(scores >= 0, 1, -1)", new="np.where(scores >= 0, -1, 1)",
           breaks=("predict_binary", TUNED), mistake="wrong way round"),
    Mutant("predict_binary_zero_one_labels", PERCEPTRON, "predict_binary",
           old="np.where(scores >= 0, 1, -1)", new="np.where(scores >= 0, 1, 0)",
           breaks=("predict_binary", TUNED), mistake="1 and 0"),
    Mutant("flipped_predict_binary_used_by_perceptron", PERCEPTRON, "perceptron_loss",
           source=_FLIPPED_PREDICT_USED_BY_PERCEPTRON, breaks=("predict_binary", TUNED), mistake="wrong way round"),
    # -- perceptron ----------------------------------------------------------------------------------------------
    Mutant("perceptron_update_on_negative_margins_only", PERCEPTRON, "perceptron",
           old="if y[i] * (w @ X[i]) <= 0:", new="if y[i] * (w @ X[i]) < 0:",
           breaks=("perceptron",), mistake="< 0 instead of <= 0"),
    Mutant("perceptron_no_wrap_around", PERCEPTRON, "perceptron",
           old="        i = t % num_train", new="        i = t",
           breaks=("perceptron",), mistake="wrapping around"),
    Mutant("perceptron_stops_after_one_pass", PERCEPTRON, "perceptron",
           old="for t in range(num_steps):", new="for t in range(min(num_steps, num_train)):",
           breaks=("perceptron",), mistake="wrapping around"),
    Mutant("perceptron_update_sign", PERCEPTRON, "perceptron",
           old="w = w + y[i] * X[i]", new="w = w - y[i] * X[i]",
           breaks=("perceptron",), mistake="wrong sign"),
    Mutant("perceptron_update_without_label", PERCEPTRON, "perceptron",
           old="w = w + y[i] * X[i]", new="w = w + X[i]",
           breaks=("perceptron",), mistake="leaves out the label"),
    Mutant("perceptron_counts_epochs", PERCEPTRON, "perceptron",
           old="for t in range(num_steps):", new="for t in range(num_steps * num_train):",
           breaks=("perceptron",), mistake="epochs"),
    Mutant("perceptron_boundary_by_prediction", PERCEPTRON, "perceptron",
           old="if y[i] * (w @ X[i]) <= 0:", new="if (1 if w @ X[i] >= 0 else -1) != y[i]:",
           breaks=("perceptron",), mistake="margin of exactly 0"),
    # -- perceptron_loss -----------------------------------------------------------------------------------------
    Mutant("perceptron_loss_summed", PERCEPTRON, "perceptron_loss",
           old="float(np.mean(np.maximum(0.0, -margins)))", new="float(np.sum(np.maximum(0.0, -margins)))",
           breaks=("perceptron_loss",), mistake="not divided by N"),
    Mutant("perceptron_loss_margin_sign", PERCEPTRON, "perceptron_loss",
           old="np.maximum(0.0, -margins)", new="np.maximum(0.0, margins)",
           breaks=("perceptron_loss",), mistake="the margin has the wrong sign"),
    Mutant("perceptron_loss_array", PERCEPTRON, "perceptron_loss",
           old="loss = float(np.mean(np.maximum(0.0, -margins)))",
           new="loss = np.maximum(0.0, -margins).mean(keepdims=True)",
           breaks=("perceptron_loss",), mistake="should be a number"),
    Mutant("perceptron_gradient_without_mean", PERCEPTRON, "perceptron_loss",
           old="grad = -(X.T @ (y * mistakes)) / num_train", new="grad = -(X.T @ (y * mistakes))",
           breaks=("perceptron_loss",), mistake="gradient was not divided by N"),
    Mutant("perceptron_gradient_sign", PERCEPTRON, "perceptron_loss",
           old="grad = -(X.T @ (y * mistakes))", new="grad = (X.T @ (y * mistakes))",
           breaks=("perceptron_loss",), mistake="wrong sign"),
    Mutant("perceptron_gradient_skips_the_boundary", PERCEPTRON, "perceptron_loss",
           old="mistakes = margins <= 0", new="mistakes = margins < 0",
           breaks=("perceptron_loss",), mistake="margin of exactly 0 were left out"),
    Mutant("perceptron_gradient_over_mistakes", PERCEPTRON, "perceptron_loss",
           old="/ num_train", new="/ max(1, int(mistakes.sum()))",
           breaks=("perceptron_loss",), mistake="number of mistakes"),
    Mutant("uphill_perceptron_loss_used_by_perceptron", PERCEPTRON, "multiclass_perceptron",
           source=_UPHILL_LOSS_USED_BY_PERCEPTRON, breaks=("perceptron_loss",), mistake="wrong sign"),
    # -- multiclass_perceptron -----------------------------------------------------------------------------------
    Mutant("multiclass_ties_to_the_largest_class", PERCEPTRON, "multiclass_perceptron",
           old="predicted_class = int(np.argmax(X[i] @ W))",
           new="scores = X[i] @ W\n        predicted_class = num_classes - 1 - int(np.argmax(scores[::-1]))",
           breaks=("multiclass_perceptron",), mistake="ties"),
    Mutant("multiclass_predicted_column_kept", PERCEPTRON, "multiclass_perceptron",
           old="            W[:, predicted_class] -= X[i]\n", new="",
           breaks=("multiclass_perceptron",), mistake="predicted class's column"),
    Mutant("multiclass_signs_swapped", PERCEPTRON, "multiclass_perceptron",
           old="W[:, y[i]] += X[i]\n            W[:, predicted_class] -= X[i]",
           new="W[:, y[i]] -= X[i]\n            W[:, predicted_class] += X[i]",
           breaks=("multiclass_perceptron",), mistake="wrong signs"),
    Mutant("multiclass_columns_from_the_labels", PERCEPTRON, "multiclass_perceptron",
           old="W = np.zeros((dim, num_classes))", new="W = np.zeros((dim, int(y.max()) + 1))",
           breaks=("multiclass_perceptron",), mistake="num_classes columns"),
    Mutant("multiclass_no_wrap_around", PERCEPTRON, "multiclass_perceptron",
           old="        i = t % num_train", new="        i = t",
           breaks=("multiclass_perceptron",), mistake="wrapping around"),
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
    Alternative("predict_binary_sign_with_zeros_set", PERCEPTRON, "predict_binary",
                old="y_pred = np.where(scores >= 0, 1, -1).astype(np.int64)",
                new="signs = np.sign(scores)\n    signs[signs == 0] = 1\n    y_pred = signs.astype(np.int64)"),
    Alternative("predict_binary_from_booleans", PERCEPTRON, "predict_binary",
                old="y_pred = np.where(scores >= 0, 1, -1).astype(np.int64)",
                new="y_pred = 2 * (scores >= 0).astype(np.int64) - 1"),
    Alternative("perceptron_in_place_update", PERCEPTRON, "perceptron",
                old="w = w + y[i] * X[i]", new="w += y[i] * X[i]"),
    Alternative("perceptron_by_epochs_and_a_remainder", PERCEPTRON, "perceptron", source=_PERCEPTRON_BY_EPOCHS),
    Alternative("perceptron_as_sgd_on_its_loss", PERCEPTRON, "perceptron",
                old="        if y[i] * (w @ X[i]) <= 0:\n            w = w + y[i] * X[i]",
                new="        _, grad = perceptron_loss(w, X[i:i + 1], y[i:i + 1])\n        w = w - grad"),
    Alternative("perceptron_through_predict_binary", PERCEPTRON, "perceptron",
                old="if y[i] * (w @ X[i]) <= 0:",
                new="if predict_binary(w, X[i:i + 1])[0] != y[i] or w @ X[i] == 0:"),
    Alternative("perceptron_loss_with_boolean_rows", PERCEPTRON, "perceptron_loss",
                old="    loss = float(np.mean(np.maximum(0.0, -margins)))\n"
                    "    grad = -(X.T @ (y * mistakes)) / num_train",
                new="    loss = float(-np.sum(margins[mistakes]) / num_train)\n"
                    "    grad = -(y[mistakes] @ X[mistakes]) / num_train"),
    Alternative("perceptron_loss_with_where", PERCEPTRON, "perceptron_loss",
                old="grad = -(X.T @ (y * mistakes)) / num_train",
                new="grad = -np.where(mistakes, y, 0) @ X / num_train"),
    Alternative("multiclass_first_of_the_highest_scores", PERCEPTRON, "multiclass_perceptron",
                old="predicted_class = int(np.argmax(X[i] @ W))",
                new="scores = X[i] @ W\n        predicted_class = int(np.flatnonzero(scores == scores.max())[0])"),
    Alternative("multiclass_updates_unconditionally", PERCEPTRON, "multiclass_perceptron",
                old="        if predicted_class != y[i]:\n            W[:, y[i]] += X[i]\n"
                    "            W[:, predicted_class] -= X[i]",
                new="        W[:, y[i]] += X[i]  # cancels out when the prediction is right\n"
                    "        W[:, predicted_class] -= X[i]"),
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
