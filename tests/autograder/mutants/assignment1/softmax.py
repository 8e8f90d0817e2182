"""Wrong and alternative implementations of softmax.ipynb."""
from tests.autograder.mutants import Alternative, Mutant

NB = "softmax"
NAIVE = "softmax_loss_naive"
VEC = "softmax_loss_vectorized"
CLS = "Softmax"
BEST = "best_softmax"
VEC_CELL = "softmax_loss_vectorized"
CLS_CELL = "softmax_classifier"
TUNE_CELL = "tune_best_softmax"
# A wrong vectorized loss costs its own tests and may mislead the tuning; the Softmax tests put the
# reference in its place, so they never charge it to the classifier.
VEC_AND_TUNED = (VEC, BEST)

VEC_LOSS_LINES = """    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
"""
VEC_GRADIENT = "dW = X.T.dot(dscores) / num_train + 2 * reg * W"

# An entry edits one cell, so the classifier's cell itself redefines the loss function it calls wrongly:
# the mistake is the loss function's (its tests judge the module-level name), not the classifier's.
_SOFTMAX_CALLS_A_WRONG_NAIVE = '''_right_naive = softmax_loss_naive


def softmax_loss_naive(W, X, y, reg):
    loss, dW = _right_naive(W, X, y, reg)
    return loss, dW - 2 * reg * W  # without the regularization gradient


class Softmax(LinearClassifier):
    def loss(self, X_batch, y_batch, reg):
        return softmax_loss_naive(self.W, X_batch, y_batch, reg)
'''

# As above, and the classifier reaches the function through a class attribute, where no module-level
# name stands in for it: the Softmax tests see that it returns what the submission's function returns.
_SOFTMAX_HOLDS_A_WRONG_VECTORIZED = '''_right_vectorized = softmax_loss_vectorized


def softmax_loss_vectorized(W, X, y, reg):
    loss, dW = _right_vectorized(W, X, y, reg)
    return loss, (dW - 2 * reg * W) * X.shape[0] + 2 * reg * W  # the data gradient not divided by N


class Softmax(LinearClassifier):
    loss_function = staticmethod(softmax_loss_vectorized)

    def loss(self, X_batch, y_batch, reg):
        return self.loss_function(self.W, X_batch, y_batch, reg)
'''

_SOFTMAX_KEEPS_ITS_FIRST_W = '''class Softmax(LinearClassifier):
    def loss(self, X_batch, y_batch, reg):
        if getattr(self, "weights", None) is None:
            self.weights = self.W  # the same array while train() updates it in place, not once it is replaced
        return softmax_loss_vectorized(self.weights, X_batch, y_batch, reg)
'''

_FLOAT32_VECTORIZED = '''import numpy as np

def softmax_loss_vectorized(W, X, y, reg):
    # Single precision inside (half the memory traffic, about 7 significant digits); dW returned as float64.
    W32, X32, reg32 = W.astype(np.float32), X.astype(np.float32), np.float32(reg)
    N = X.shape[0]
    rows = np.arange(N)
    scores = X32 @ W32
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, y].mean() + reg32 * np.sum(W32 * W32)
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    dW = X32.T @ dscores / np.float32(N) + 2 * reg32 * W32
    return float(loss), dW.astype(np.float64)
'''

_FLOAT32_NAIVE = '''import numpy as np

def softmax_loss_naive(W, X, y, reg):
    W32, X32 = W.astype(np.float32), X.astype(np.float32)
    N, C = X.shape[0], W.shape[1]
    loss = np.float32(0)
    dW = np.zeros(W.shape, dtype=np.float32)
    for i in range(N):
        scores = X32[i] @ W32
        shifted = scores - scores.max()
        total = np.exp(shifted).sum()
        loss += np.log(total) - shifted[y[i]]
        for j in range(C):
            dW[:, j] += (np.exp(shifted[j]) / total - (j == y[i])) * X32[i]
    loss = loss / N + np.float32(reg) * np.sum(W32 * W32)
    dW = dW / N + 2 * np.float32(reg) * W32
    return float(loss), dW.astype(np.float64)
'''

_ADD_AT_VECTORIZED = '''import numpy as np

def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    scores = X @ W
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -np.mean(log_probs[np.arange(N), y]) + reg * np.sum(W * W)
    dW = X.T @ np.exp(log_probs)
    np.add.at(dW.T, y, -X)  # the one-hot part: each example takes X[i] from its own class's column
    return float(loss), dW / N + 2 * reg * W
'''

MUTANTS = [
    # -- naive
    Mutant("naive_unstable", NB, NAIVE,
           old="shifted = scores - np.max(scores)", new="shifted = scores",
           breaks=(NAIVE,), mistake="subtract the row maximum"),
    Mutant("naive_log10", NB, NAIVE,
           old="loss += np.log(normalizer) - shifted[y[i]]",
           new="loss -= np.log10(exp_scores[y[i]] / normalizer)",
           breaks=(NAIVE,), mistake="natural log"),
    Mutant("naive_not_divided_by_N", NB, NAIVE,
           old="    loss /= num_train\n    dW /= num_train\n", new="",
           breaks=(NAIVE,), mistake="divide by N"),
    Mutant("naive_loss_summed", NB, NAIVE,
           old="    loss /= num_train\n", new="",
           breaks=(NAIVE,), mistake="summed over the examples instead of averaged"),
    Mutant("naive_reg_gradient_without_factor_two", NB, NAIVE,
           old="dW += 2 * reg * W", new="dW += reg * W",
           breaks=(NAIVE,), mistake="lacks its factor 2"),
    Mutant("naive_missing_reg_gradient", NB, NAIVE,
           old="    dW += 2 * reg * W\n", new="",
           breaks=(NAIVE,), mistake="regularization gradient 2 * reg * W is missing"),
    Mutant("naive_no_one_hot", NB, NAIVE,
           old="(probability - (j == y[i])) * X[i]", new="probability * X[i]",
           breaks=(NAIVE,), mistake="one-hot"),
    Mutant("naive_gradient_wrong_sign", NB, NAIVE,
           old="dW[:, j] += (probability", new="dW[:, j] -= (probability",
           breaks=(NAIVE,), mistake="wrong sign"),
    Mutant("naive_classes_from_labels", NB, NAIVE,
           old="    num_classes = W.shape[1]\n", new="    num_classes = int(np.max(y)) + 1\n",
           breaks=(NAIVE,), mistake="W.shape[1]"),
    # -- vectorized
    Mutant("vectorized_unstable", NB, VEC_CELL,
           old=VEC_LOSS_LINES,
           new="    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)\n"
               "    log_probs = np.log(probs)\n",
           breaks=VEC_AND_TUNED, mistake="subtract the row maximum"),
    Mutant("vectorized_log_of_underflowing_probabilities", NB, VEC_CELL,
           old=VEC_LOSS_LINES,
           new="    shifted = scores - scores.max(axis=1, keepdims=True)\n"
               "    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)\n"
               "    log_probs = np.log(probs)\n",
           breaks=(VEC,), mistake="probability underflows"),
    Mutant("vectorized_log10", NB, VEC_CELL,
           old="loss = -log_probs[rows, y].mean()", new="loss = -np.log10(np.exp(log_probs[rows, y])).mean()",
           breaks=(VEC,), mistake="natural log"),
    Mutant("vectorized_loss_summed", NB, VEC_CELL,
           old="-log_probs[rows, y].mean()", new="-log_probs[rows, y].sum()",
           breaks=(VEC,), mistake="summed over the examples instead of averaged"),
    Mutant("vectorized_gradient_not_divided_by_N", NB, VEC_CELL,
           old=VEC_GRADIENT, new="dW = X.T.dot(dscores) + 2 * reg * W",
           breaks=VEC_AND_TUNED, mistake="not divided by N"),
    Mutant("vectorized_no_one_hot", NB, VEC_CELL,
           old="    dscores[rows, y] -= 1.0\n", new="",
           breaks=VEC_AND_TUNED, mistake="one-hot"),
    Mutant("vectorized_reg_loss_halved", NB, VEC_CELL,
           old="+ reg * np.sum(W * W)", new="+ 0.5 * reg * np.sum(W * W)",
           breaks=(VEC,), mistake="factor 0.5"),
    Mutant("vectorized_missing_reg_gradient", NB, VEC_CELL,
           old=VEC_GRADIENT, new="dW = X.T.dot(dscores) / num_train",
           breaks=VEC_AND_TUNED, mistake="regularization gradient 2 * reg * W is missing"),
    Mutant("vectorized_gradient_wrong_sign", NB, VEC_CELL,
           old=VEC_GRADIENT, new="dW = -X.T.dot(dscores) / num_train + 2 * reg * W",
           breaks=VEC_AND_TUNED, mistake="wrong sign"),
    Mutant("vectorized_loop_over_rows", NB, VEC_CELL,
           old="    loss = -log_probs[rows, y].mean() + reg * np.sum(W * W)\n",
           new="    loss = 0.0\n"
               "    for i in range(num_train):\n"
               "        loss -= log_probs[i, y[i]]\n"
               "    loss = loss / num_train + reg * np.sum(W * W)\n",
           breaks=(VEC,), mistake="loop or comprehension (For)"),
    Mutant("vectorized_gradient_comprehension", NB, VEC_CELL,
           old=VEC_GRADIENT,
           new="dW = sum(np.outer(X[i], dscores[i]) for i in range(num_train)) / num_train + 2 * reg * W",
           breaks=(VEC,), mistake="GeneratorExp"),
    Mutant("vectorized_scipy_logsumexp", NB, VEC_CELL,
           old=VEC_LOSS_LINES,
           new="    from scipy.special import logsumexp\n"
               "    log_probs = scores - logsumexp(scores, axis=1, keepdims=True)\n",
           breaks=(VEC,), mistake="logsumexp"),
    Mutant("vectorized_calls_naive", NB, VEC_CELL,
           old="    rows = np.arange(num_train)\n",
           new="    if num_train > 500:  # big batches through the loops\n"
               "        return softmax_loss_naive(W, X, y, reg)\n"
               "    rows = np.arange(num_train)\n",
           breaks=(VEC,), mistake="calls softmax_loss_naive"),
    Mutant("vectorized_returns_a_0d_loss", NB, VEC_CELL,
           old="return float(loss), dW", new="return np.array(loss), dW",
           breaks=(VEC,), mistake="not a numpy array, even of one value"),
    Mutant("vectorized_modifies_W", NB, VEC_CELL,
           old=VEC_GRADIENT,
           new="W *= 2 * reg  # reuses W's memory for the penalty gradient\n"
               "    dW = X.T.dot(dscores) / num_train + W",
           breaks=VEC_AND_TUNED, mistake="W was modified"),
    # Disguised loops: loss and gradient are right, only the no-loop check refuses them.
    Mutant("disguised_loop_lambda_in_apply_along_axis", NB, VEC_CELL, old=VEC_LOSS_LINES,
           new="    shifted = scores - scores.max(axis=1, keepdims=True)\n"
               "    log_probs = np.apply_along_axis(lambda row: row - np.log(np.exp(row).sum()), 1, shifted)\n",
           breaks=(VEC,), mistake="uses a lambda"),
    Mutant("disguised_loop_starmap_through_an_alias", NB, VEC_CELL,
           old="    loss = -log_probs[rows, y].mean() + reg * np.sum(W * W)\n",
           new="    import itertools as it\n"
               "    loss = -np.mean([*it.starmap(log_probs.item, zip(rows, y))]) + reg * np.sum(W * W)\n",
           breaks=(VEC,), mistake="it.starmap (itertools.starmap)"),
    Mutant("disguised_loop_builtin_sum_over_classes", NB, VEC_CELL, old=VEC_LOSS_LINES,
           new="    shifted = scores - scores.max(axis=1, keepdims=True)\n"
               "    log_probs = shifted - np.log(sum(np.exp(shifted).T))[:, np.newaxis]\n",
           breaks=(VEC,), mistake="calls sum, a builtin"),
    Mutant("disguised_loop_recursion_over_halves", NB, VEC_CELL,
           old="    rows = np.arange(num_train)\n",
           new="    if num_train > 64:  # each half of the batch through this function again, then their mean\n"
               "        half = num_train // 2\n"
               "        loss_a, dW_a = softmax_loss_vectorized(W, X[:half], y[:half], 0.0)\n"
               "        loss_b, dW_b = softmax_loss_vectorized(W, X[half:], y[half:], 0.0)\n"
               "        loss = (half * loss_a + (num_train - half) * loss_b) / num_train + reg * np.sum(W * W)\n"
               "        dW = (half * dW_a + (num_train - half) * dW_b) / num_train + 2 * reg * W\n"
               "        return float(loss), dW\n"
               "    rows = np.arange(num_train)\n",
           breaks=(VEC,), mistake="is recursive"),
    # -- the classifier
    Mutant("softmax_uses_the_svm_loss", NB, CLS_CELL,
           old="return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)",
           new='return load_notebook("svm").svm_loss_vectorized(self.W, X_batch, y_batch, reg)',
           breaks=(CLS, BEST), mistake="SVM (hinge)"),
    Mutant("softmax_drops_reg", NB, CLS_CELL,
           old="return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)",
           new="return softmax_loss_vectorized(self.W, X_batch, y_batch, 0.0)",
           breaks=(CLS, BEST), mistake="reg is not passed"),
    Mutant("softmax_keeps_its_first_W", NB, CLS_CELL, source=_SOFTMAX_KEEPS_ITS_FIRST_W,
           breaks=(CLS,), mistake="kept the weights of its first call"),
    Mutant("softmax_is_not_a_linear_classifier", NB, CLS_CELL,
           old="class Softmax(LinearClassifier):", new="class Softmax:",
           breaks=(CLS, BEST), mistake="subclass the LinearClassifier"),
    Mutant("softmax_returns_only_the_loss", NB, CLS_CELL,
           old="return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)",
           new="return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)[0]",
           breaks=(CLS, BEST), mistake="must return the pair (loss, dW)"),
    # The classifier's loss functions are wrong, the classifier is not: only the functions pay.
    Mutant("softmax_calls_a_wrong_naive_loss", NB, CLS_CELL, source=_SOFTMAX_CALLS_A_WRONG_NAIVE,
           breaks=(NAIVE, BEST), mistake="regularization gradient 2 * reg * W is missing"),
    Mutant("softmax_holds_a_wrong_vectorized_loss", NB, CLS_CELL, source=_SOFTMAX_HOLDS_A_WRONG_VECTORIZED,
           breaks=VEC_AND_TUNED, mistake="not divided by N"),
    # -- tuning
    Mutant("tuning_never_keeps_the_best", NB, TUNE_CELL,
           old="best_val, best_softmax = val_accuracy, candidate", new="best_val = val_accuracy",
           breaks=(BEST,), mistake="best_softmax is None"),
    Mutant("tuning_trains_one_iteration", NB, TUNE_CELL,
           old="reg=reg, num_iters=num_iters)", new="reg=reg, num_iters=1)",
           breaks=(BEST,), mistake="the target is"),
]

ALTERNATIVES = [
    Alternative("vectorized_log_sum_exp_by_hand", NB, VEC_CELL, source='''import numpy as np

def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    scores = X @ W
    top = np.max(scores, axis=1)
    log_normalizer = top + np.log(np.sum(np.exp(scores - top[:, None]), axis=1))
    correct = np.take_along_axis(scores, y[:, None], axis=1).ravel()
    loss = float(np.mean(log_normalizer - correct) + reg * (W ** 2).sum())
    probs = np.exp(scores - log_normalizer[:, None])
    probs[np.arange(N), y] -= 1
    dW = X.T @ probs / N + 2 * reg * W
    return loss, dW
'''),
    Alternative("vectorized_einsum_one_hot", NB, VEC_CELL, source='''import numpy as np

def softmax_loss_vectorized(W, X, y, reg):
    N, C = X.shape[0], W.shape[1]
    one_hot = np.eye(C)[y]
    scores = np.einsum("nd,dc->nc", X, W)
    scores = scores - scores.max(axis=1, keepdims=True)
    exp_scores = np.exp(scores)
    sums = exp_scores.sum(axis=1, keepdims=True)
    loss = -np.sum(one_hot * (scores - np.log(sums))) / N + reg * np.sum(W * W)
    dW = np.einsum("nd,nc->dc", X, exp_scores / sums - one_hot) / N + 2 * reg * W
    return float(loss), dW
'''),
    Alternative("vectorized_clipped_probabilities", NB, VEC_CELL, source='''import numpy as np

def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    scores = X.dot(W)
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    # Clip so that an underflowing probability gives a large, finite loss.
    correct = np.clip(probs[np.arange(N), y], 1e-12, 1.0)
    loss = -np.mean(np.log(correct)) + reg * np.sum(W * W)
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dW = X.T.dot(dscores) / N + 2 * reg * W
    return float(loss), dW
'''),
    Alternative("naive_loops_over_classes_everywhere", NB, NAIVE, source='''import math

import numpy as np

def softmax_loss_naive(W, X, y, reg):
    N, C = X.shape[0], W.shape[1]
    loss = 0.0
    dW = np.zeros_like(W, dtype=float)
    for i in range(N):
        scores = [float(X[i] @ W[:, j]) for j in range(C)]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        loss += math.log(total) - (scores[y[i]] - top)
        for j in range(C):
            dW[:, j] += exps[j] / total * X[i]
        dW[:, y[i]] -= X[i]
    loss = loss / N + reg * float(np.sum(W ** 2))
    dW = dW / N + 2 * reg * W
    return loss, dW
'''),
    Alternative("vectorized_in_float32", NB, VEC_CELL, source=_FLOAT32_VECTORIZED),
    Alternative("naive_in_float32", NB, NAIVE, source=_FLOAT32_NAIVE),
    Alternative("vectorized_with_np_add_at", NB, VEC_CELL, source=_ADD_AT_VECTORIZED),
    Alternative("softmax_loss_calls_the_naive_version", NB, CLS_CELL,
                old="return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)",
                new="return softmax_loss_naive(self.W, X_batch, y_batch, reg)"),
    Alternative("softmax_loss_with_keywords", NB, CLS_CELL,
                old="return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)",
                new="loss, dW = softmax_loss_vectorized(W=self.W, X=X_batch, y=y_batch, reg=reg)\n"
                    "        return loss, dW"),
]
