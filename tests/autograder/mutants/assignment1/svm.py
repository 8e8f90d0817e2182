"""Wrong and alternative implementations of svm.ipynb."""
from tests.autograder.mutants import Alternative, Mutant

NB = "svm"
NAIVE, VECTORIZED, CLASSIFIER, TUNING = "svm_loss_naive", "svm_loss_vectorized", "linear_classifier", "tune_best_svm"
TRAIN, PREDICT = "LinearClassifier.train", "LinearClassifier.predict"
# softmax.ipynb loads this notebook's LinearClassifier and tunes best_softmax with it: a mistake of train or
# predict that spoils the tuned SVM may spoil the tuned softmax classifier too.
TUNED_WITH_IT = ("best_svm", "best_softmax")

_LOOPING_VECTORIZED = '''import numpy as np

def svm_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    loss = 0.0
    dW = np.zeros(W.shape)
    scores = X.dot(W)
    for i in range(num_train):
        margins = np.maximum(0.0, scores[i] - scores[i, y[i]] + 1.0)
        margins[y[i]] = 0.0
        loss += margins.sum()
        violated = (margins > 0).astype(float)
        violated[y[i]] = -violated.sum()
        dW += np.outer(X[i], violated)
    loss = loss / num_train + reg * np.sum(W * W)
    dW = dW / num_train + 2 * reg * W
    return float(loss), dW
'''

_EINSUM_VECTORIZED = '''import numpy as np

def svm_loss_vectorized(W, X, y, reg):
    n = X.shape[0]
    scores = np.einsum("nd,dc->nc", X, W)
    correct = np.take_along_axis(scores, y[:, None], axis=1)
    margins = np.clip(scores - correct + 1.0, 0.0, None)
    np.put_along_axis(margins, y[:, None], 0.0, axis=1)
    loss = np.einsum("nc->", margins) / n + reg * np.einsum("dc,dc->", W, W)
    counts = (margins > 0).astype(float)
    np.put_along_axis(counts, y[:, None], -counts.sum(axis=1, keepdims=True), axis=1)
    dW = np.einsum("nd,nc->dc", X, counts) / n + 2.0 * reg * W
    return loss, dW
'''

_ONE_HOT_VECTORIZED = '''import numpy as np

def svm_loss_vectorized(W, X, y, reg):
    num_train, num_classes = X.shape[0], W.shape[1]
    is_correct = np.eye(num_classes, dtype=bool)[y]
    scores = X @ W
    correct = np.sum(scores * is_correct, axis=1, keepdims=True)
    margins = np.where(is_correct, 0.0, np.maximum(scores - correct + 1.0, 0.0))
    loss = np.mean(np.sum(margins, axis=1)) + reg * np.sum(W ** 2)
    violated = (margins > 0).astype(float)
    coefficients = violated - is_correct * violated.sum(axis=1, keepdims=True)
    dW = X.T @ coefficients / num_train + 2 * reg * W
    return np.float64(loss), dW
'''

_FLOAT32_VECTORIZED = '''import numpy as np

def svm_loss_vectorized(W, X, y, reg):
    # Single precision throughout: half the memory traffic, about 7 significant digits.
    W32, X32, reg32 = W.astype(np.float32), X.astype(np.float32), np.float32(reg)
    rows = np.arange(X.shape[0])
    scores = X32 @ W32
    margins = np.maximum(np.float32(0), scores - scores[rows, y][:, None] + np.float32(1))
    margins[rows, y] = 0
    loss = margins.sum(dtype=np.float32) / np.float32(X.shape[0]) + reg32 * np.sum(W32 * W32)
    coefficients = (margins > 0).astype(np.float32)
    coefficients[rows, y] = -coefficients.sum(axis=1)
    dW = X32.T @ coefficients / np.float32(X.shape[0]) + 2 * reg32 * W32
    return loss, dW
'''

_ADD_AT_VECTORIZED = '''import numpy as np

def svm_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    margins = np.maximum(0.0, scores - scores[rows, y][:, None] + 1.0)
    margins[rows, y] = 0.0
    loss = margins.sum() / num_train + reg * np.sum(W * W)
    violated = (margins > 0).astype(float)
    dW = X.T @ violated  # each violated margin adds X[i] to its column
    # ... and takes X[i] from the correct class's column, once per violation: scattered rows of dW.T.
    np.add.at(dW.T, y, -violated.sum(axis=1)[:, None] * X)
    return float(loss), dW / num_train + 2 * reg * W
'''

_FLOAT32_NAIVE = '''import numpy as np

def svm_loss_naive(W, X, y, reg):
    W32, X32 = W.astype(np.float32), X.astype(np.float32)
    num_train, num_classes = X.shape[0], W.shape[1]
    loss = np.float32(0)
    dW = np.zeros(W.shape, dtype=np.float32)
    for i in range(num_train):
        scores = X32[i] @ W32
        for j in range(num_classes):
            margin = scores[j] - scores[y[i]] + np.float32(1)
            if j != y[i] and margin > 0:
                loss += margin
                dW[:, j] += X32[i]
                dW[:, y[i]] -= X32[i]
    loss = loss / num_train + np.float32(reg) * np.sum(W32 * W32)
    return float(loss), dW / num_train + 2 * np.float32(reg) * W32
'''

_PER_EXAMPLE_NAIVE = '''import numpy as np

def svm_loss_naive(W, X, y, reg):
    num_train, num_classes = X.shape[0], W.shape[1]
    loss = 0.0
    dW = np.zeros_like(W, dtype=float)
    for i in range(num_train):
        scores = X[i] @ W
        violations = 0
        for j in range(num_classes):
            if j != y[i] and scores[j] - scores[y[i]] + 1 > 0:
                loss += scores[j] - scores[y[i]] + 1
                dW[:, j] += X[i] / num_train
                violations += 1
        dW[:, y[i]] -= violations * X[i] / num_train
    return loss / num_train + reg * (W ** 2).sum(), dW + 2 * reg * W
'''

_COMPACT_CLASSIFIER = '''import numpy as np

class LinearClassifier:
    def __init__(self):
        self.W = None

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False):
        n, d = X.shape
        if self.W is None:
            self.W = 0.001 * np.random.randn(d, int(y.max()) + 1)
        history = []
        for _ in range(num_iters):
            picked = np.random.randint(n, size=batch_size)  # the same draws as np.random.choice(n, batch_size)
            loss, grad = self.loss(X[picked], y[picked], reg)
            history.append(loss)
            self.W = self.W - learning_rate * grad
        return history

    def predict(self, X):
        return (X @ self.W).argmax(axis=1)

    def loss(self, X_batch, y_batch, reg):
        raise NotImplementedError


class LinearSVM(LinearClassifier):
    def loss(self, X_batch, y_batch, reg):
        return svm_loss_vectorized(self.W, X_batch, y_batch, reg)
'''

MUTANTS = [
    # -- svm_loss_naive --------------------------------------------------------------------
    Mutant("naive_counts_correct_class", NB, NAIVE,
           old="            if j == y[i]:\n                continue\n", new="",
           breaks=(NAIVE,), mistake="correct class was counted"),
    Mutant("naive_not_divided_by_n", NB, NAIVE,
           old="    loss /= num_train\n    dW /= num_train\n", new="",
           breaks=(NAIVE,), mistake="not divided by N"),
    Mutant("naive_reg_gradient_without_factor_two", NB, NAIVE,
           old="    dW += 2 * reg * W", new="    dW += reg * W",
           breaks=(NAIVE,), mistake="factor 2"),
    Mutant("naive_margin_zero", NB, NAIVE,
           old="margin = scores[j] - correct_class_score + 1.0", new="margin = scores[j] - correct_class_score",
           breaks=(NAIVE,), mistake="margin is 0 instead of 1"),
    Mutant("naive_correct_column_not_updated", NB, NAIVE,
           old="                dW[:, y[i]] -= X[i]\n", new="",
           breaks=(NAIVE,), mistake="column of the correct class"),
    Mutant("naive_loss_without_regularization", NB, NAIVE,
           old="    loss += reg * np.sum(W * W)\n", new="",
           breaks=(NAIVE,), mistake="regularization term of the loss is wrong; it looks like it is missing"),
    Mutant("naive_gradient_sign_flipped", NB, NAIVE,
           old="                dW[:, j] += X[i]\n                dW[:, y[i]] -= X[i]",
           new="                dW[:, j] -= X[i]\n                dW[:, y[i]] += X[i]",
           breaks=(NAIVE,), mistake="gradient has the wrong sign"),
    # -- svm_loss_vectorized -----------------------------------------------------------------
    Mutant("vectorized_missing_reg_gradient", NB, VECTORIZED,
           old="dW = X.T.dot(coefficients) / num_train + 2 * reg * W", new="dW = X.T.dot(coefficients) / num_train",
           breaks=(VECTORIZED, "best_svm"), mistake="regularization gradient 2 * reg * W is missing"),
    Mutant("vectorized_counts_correct_class", NB, VECTORIZED,
           old="    margins[rows, y] = 0.0\n", new="",
           breaks=(VECTORIZED, "best_svm"), mistake="correct class was counted"),
    Mutant("vectorized_gradient_not_divided_by_n", NB, VECTORIZED,
           old="dW = X.T.dot(coefficients) / num_train", new="dW = X.T.dot(coefficients)",
           breaks=(VECTORIZED, "best_svm"), mistake="not divided by N"),
    Mutant("vectorized_margin_wrong_sign", NB, VECTORIZED,
           old="scores - correct_class_scores + 1.0", new="correct_class_scores - scores + 1.0",
           breaks=(VECTORIZED, "best_svm"), mistake="margin has the wrong sign"),
    Mutant("vectorized_python_loop", NB, VECTORIZED, source=_LOOPING_VECTORIZED,
           breaks=(VECTORIZED,), mistake="uses a Python loop"),
    Mutant("vectorized_calls_naive", NB, VECTORIZED,
           source="def svm_loss_vectorized(W, X, y, reg):\n    return svm_loss_naive(W, X, y, reg)\n",
           breaks=(VECTORIZED,), mistake="svm_loss_naive"),
    # Disguised loops: loss and gradient are right, only the no-loop check refuses them.
    Mutant("disguised_loop_sum_over_a_generator", NB, VECTORIZED,
           old="loss = margins.sum() / num_train", new="loss = sum(row.sum() for row in margins) / num_train",
           breaks=(VECTORIZED,), mistake="(GeneratorExp)"),
    Mutant("disguised_loop_map_over_rows", NB, VECTORIZED,
           old="coefficients[rows, y] = -coefficients.sum(axis=1)",
           new="coefficients[rows, y] = -np.array([*map(np.sum, coefficients)])",
           breaks=(VECTORIZED,), mistake="calls map"),
    Mutant("disguised_loop_itertools_starmap", NB, VECTORIZED,
           old="    dW = X.T.dot(coefficients) / num_train + 2 * reg * W\n",
           new="    import itertools\n"
               "    outer_products = [*itertools.starmap(np.outer, zip(X, coefficients))]  # one per example\n"
               "    dW = np.sum(outer_products, axis=0) / num_train + 2 * reg * W\n",
           breaks=(VECTORIZED,), mistake="calls itertools.starmap"),
    Mutant("disguised_loop_reduce_imported_by_name", NB, VECTORIZED,
           old="    loss = margins.sum() / num_train + reg * np.sum(W * W)\n",
           new="    from functools import reduce\n"
               "    loss = reduce(np.add, margins.sum(axis=1)) / num_train + reg * np.sum(W * W)\n",
           breaks=(VECTORIZED,), mistake="calls reduce (functools.reduce)"),
    # -- LinearClassifier.train ----------------------------------------------------------------
    Mutant("train_without_replacement", NB, CLASSIFIER,
           old="batch_indices = np.random.choice(num_train, batch_size)",
           new="batch_indices = np.random.choice(num_train, batch_size, replace=False)",
           breaks=(TRAIN, *TUNED_WITH_IT), mistake="without replacement"),
    Mutant("train_never_updates_W", NB, CLASSIFIER,
           old="            self.W -= learning_rate * grad\n", new="            pass\n",
           breaks=(TRAIN, *TUNED_WITH_IT), mistake="W did not change"),
    Mutant("train_steps_uphill", NB, CLASSIFIER,
           old="self.W -= learning_rate * grad", new="self.W += learning_rate * grad",
           breaks=(TRAIN, *TUNED_WITH_IT), mistake="along the gradient"),
    Mutant("train_ignores_reg", NB, CLASSIFIER,
           old="loss, grad = self.loss(X_batch, y_batch, reg)", new="loss, grad = self.loss(X_batch, y_batch, 0.0)",
           breaks=(TRAIN, *TUNED_WITH_IT), mistake="does not pass its reg"),
    Mutant("train_misaligned_labels", NB, CLASSIFIER,
           old="y_batch = y[batch_indices]", new="y_batch = y[np.sort(batch_indices)]",
           breaks=(TRAIN, *TUNED_WITH_IT), mistake="not aligned"),
    Mutant("train_always_draws_new_W", NB, CLASSIFIER,
           old="        if self.W is None:\n", new="        if True:\n",
           breaks=(TRAIN, *TUNED_WITH_IT), mistake="new random weights"),
    # -- LinearClassifier.predict ---------------------------------------------------------------
    Mutant("predict_returns_scores", NB, CLASSIFIER,
           old="        y_pred = np.argmax(X.dot(self.W), axis=1)\n        return y_pred.astype(np.int64)",
           new="        y_pred = X.dot(self.W)\n        return y_pred",
           breaks=(PREDICT, *TUNED_WITH_IT), mistake="returned the scores"),
    # Contract details: each costs the one check of the type and dtype, never the test of the values.
    Mutant("predict_returns_floats", NB, CLASSIFIER,
           old="return y_pred.astype(np.int64)", new="return y_pred.astype(np.float64)",
           breaks=(PREDICT,), mistake="has a floating-point dtype"),
    Mutant("predict_returns_a_list", NB, CLASSIFIER,
           old="return y_pred.astype(np.int64)", new="return y_pred.astype(np.int64).tolist()",
           breaks=(PREDICT,), mistake="should be a numpy array, not a list"),
    Mutant("predict_argmin", NB, CLASSIFIER,
           old="np.argmax(X.dot(self.W), axis=1)", new="np.argmin(X.dot(self.W), axis=1)",
           breaks=(PREDICT, *TUNED_WITH_IT), mistake="argmin"),
    # -- tuning ------------------------------------------------------------------------------------
    Mutant("tuning_keeps_no_classifier", NB, TUNING,
           old="best_val, best_svm = val_accuracy, candidate", new="best_val = val_accuracy",
           breaks=("best_svm",), mistake="best_svm is None"),
    Mutant("tuning_trains_too_briefly", NB, TUNING,
           old="reg=reg, num_iters=num_iters)", new="reg=reg, num_iters=2)",
           breaks=("best_svm",), mistake="the target is"),
    Mutant("tuning_cell_raises", NB, TUNING,
           old="candidate = LinearSVM()", new="candidate = LinearSVM(learning_rate)",
           breaks=("best_svm",), mistake="tune_best_svm"),
]

ALTERNATIVES = [
    Alternative("vectorized_with_einsum", NB, VECTORIZED, source=_EINSUM_VECTORIZED),
    Alternative("vectorized_with_a_one_hot_mask", NB, VECTORIZED, source=_ONE_HOT_VECTORIZED),
    Alternative("vectorized_in_float32", NB, VECTORIZED, source=_FLOAT32_VECTORIZED),
    Alternative("vectorized_with_np_add_at", NB, VECTORIZED, source=_ADD_AT_VECTORIZED),
    Alternative("naive_updates_the_correct_column_once_per_example", NB, NAIVE, source=_PER_EXAMPLE_NAIVE),
    Alternative("naive_in_float32", NB, NAIVE, source=_FLOAT32_NAIVE),
    Alternative("classifier_with_randint_and_a_new_W_array", NB, CLASSIFIER, source=_COMPACT_CLASSIFIER),
    Alternative("predict_with_the_argmax_method", NB, CLASSIFIER,
                old="        y_pred = np.argmax(X.dot(self.W), axis=1)\n        return y_pred.astype(np.int64)",
                new="        scores = X @ self.W\n        return scores.argmax(1)"),
]
