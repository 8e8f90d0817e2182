"""Wrong and alternative implementations of perceptron.ipynb (see the package's docstring)."""
from tests.autograder.mutants import Alternative, Mutant
from tests.autograder.mutants.assignment0 import TUNED

PERCEPTRON = "perceptron"

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

# A correct cell written another way: whole passes with a nested loop.
_PERCEPTRON_BY_EPOCHS = '''def perceptron(X, y, num_steps):
    w = np.zeros(X.shape[1])
    full_passes, rest = divmod(num_steps, X.shape[0])
    for n in [X.shape[0]] * full_passes + [rest]:
        for i in range(n):
            if y[i] * np.dot(X[i], w) <= 0:
                w += y[i] * X[i]
    return w
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
]
