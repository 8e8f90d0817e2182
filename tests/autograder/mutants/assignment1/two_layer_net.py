"""Wrong and alternative implementations of two_layer_net.ipynb (all in the cell ``two_layer_net``)."""
from tests.autograder.mutants import Alternative, Mutant

NB = "two_layer_net"
CELL = "two_layer_net"
LOSS, TRAIN, PREDICT, BEST = "TwoLayerNet.loss", "TwoLayerNet.train", "TwoLayerNet.predict", "best_net"

_REG_GRADIENTS = ('        grads["W2"] = hidden.T @ dscores + 2.0 * reg * W2   # (H, C)\n',
                  '        grads["W1"] = X.T @ dhidden_in + 2.0 * reg * W1     # (D, H)\n')


def _both_reg_gradients(name, new_w2, new_w1, **kwargs):
    """A mutant that rewrites the W2 and W1 gradient lines (they sit three lines apart)."""
    old = _REG_GRADIENTS[0] + (
        '        grads["b2"] = dscores.sum(axis=0)                    # (C,)\n'
        '        dhidden = dscores @ W2.T                             # (N, H)\n'
        '        dhidden_in = dhidden * (hidden_in > 0)               # ReLU passes only active units\n'
    )
    new = old.replace(_REG_GRADIENTS[0], new_w2)
    return Mutant(name, NB, CELL, old=old + _REG_GRADIENTS[1], new=new + new_w1, **kwargs)


MUTANTS = [
    _both_reg_gradients(
        "reg_gradient_missing",
        '        grads["W2"] = hidden.T @ dscores\n', '        grads["W1"] = X.T @ dhidden_in\n',
        breaks=(LOSS, BEST), mistake="regularization gradient 2 * reg * W is missing"),
    _both_reg_gradients(
        "reg_gradient_without_factor_two",
        '        grads["W2"] = hidden.T @ dscores + reg * W2\n', '        grads["W1"] = X.T @ dhidden_in + reg * W1\n',
        breaks=(LOSS, BEST), mistake="factor 2"),
    Mutant("biases_regularized", NB, CELL,
           old='        grads["b1"] = dhidden_in.sum(axis=0)                 # (H,)\n',
           new='        grads["b1"] = dhidden_in.sum(axis=0) + 2.0 * reg * b1\n'
               '        grads["b2"] = grads["b2"] + 2.0 * reg * b2\n'
               '        loss = loss + reg * (np.sum(b1 * b1) + np.sum(b2 * b2))\n',
           breaks=(LOSS, BEST), mistake="bias"),
    Mutant("gradient_not_divided_by_n", NB, CELL,
           old="        dscores /= N                             # the data loss is a mean\n", new="",
           breaks=(LOSS, BEST), mistake="not divided by N"),
    Mutant("loss_summed_not_averaged", NB, CELL,
           old="data_loss = -log_probs[np.arange(N), y].mean()", new="data_loss = -log_probs[np.arange(N), y].sum()",
           breaks=(LOSS,), mistake="divide by N"),
    Mutant("softmax_without_max_shift", NB, CELL,
           old="shifted = scores - scores.max(axis=1, keepdims=True)", new="shifted = scores",
           breaks=(LOSS,), mistake="not shifted"),
    Mutant("log_of_underflowed_probability", NB, CELL,
           old="        log_probs = shifted - log_norm           # (N, C), log-softmax\n",
           new="        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)\n"
               "        log_probs = np.log(probs)\n",
           breaks=(LOSS,), mistake="underflows"),
    Mutant("relu_left_out_of_forward_pass", NB, CELL,
           old="hidden = np.maximum(0.0, hidden_in)", new="hidden = hidden_in",
           breaks=(LOSS, BEST), mistake="ReLU was left out"),
    Mutant("relu_mask_missing_in_backprop", NB, CELL,
           old="dhidden_in = dhidden * (hidden_in > 0)", new="dhidden_in = dhidden",
           breaks=(LOSS, BEST), mistake="ReLU mask"),
    Mutant("w1_gradient_transposed", NB, CELL,
           old=_REG_GRADIENTS[1], new='        grads["W1"] = dhidden_in.T @ X + 2.0 * reg * W1.T\n',
           breaks=(LOSS, BEST), mistake="transposed"),
    Mutant("loss_steps_the_parameters", NB, CELL,
           old="        return float(loss), grads\n",
           new="        for name in grads:\n"
               "            self.params[name] -= 1e-3 * grads[name]\n"
               "        return float(loss), grads\n",
           breaks=(LOSS, BEST), mistake="leave the parameters"),
    Mutant("loss_returned_as_a_0d_array", NB, CELL,
           old="        return float(loss), grads\n", new="        return np.array(loss), grads\n",
           breaks=(LOSS,), mistake="not a numpy array"),
    Mutant("decay_every_iteration", NB, CELL,
           old="                learning_rate *= learning_rate_decay\n",
           new="            learning_rate *= learning_rate_decay\n",
           breaks=(TRAIN, BEST), mistake="decays every iteration"),
    Mutant("learning_rate_never_decays", NB, CELL,
           old="                learning_rate *= learning_rate_decay\n", new="",
           breaks=(TRAIN, BEST), mistake="never decays"),
    # Decaying at the start of every epoch differs from the end only in the first epoch's decay.
    Mutant("decay_at_the_start_of_every_epoch", NB, CELL,
           old="        for it in range(num_iters):\n",
           new="        learning_rate *= learning_rate_decay\n"
               "        for it in range(num_iters):\n",
           breaks=(TRAIN, BEST), mistake="start of every epoch"),
    Mutant("sampling_without_replacement", NB, CELL,
           old="batch_indices = np.random.choice(num_train, batch_size)",
           new="batch_indices = np.random.choice(num_train, batch_size, replace=False)",
           breaks=(TRAIN, BEST), mistake="replacement"),
    Mutant("update_up_the_gradient", NB, CELL,
           old="self.params[name] -= learning_rate * grad", new="self.params[name] += learning_rate * grad",
           breaks=(TRAIN, BEST)),
    Mutant("update_skips_the_biases", NB, CELL,
           old="for name, grad in grads.items():", new="for name, grad in grads.items():\n"
                                                       "                if name.startswith('b'):\n"
                                                       "                    continue",
           breaks=(TRAIN, BEST)),
    Mutant("sampling_a_slice", NB, CELL,
           old="batch_indices = np.random.choice(num_train, batch_size)",
           new="batch_indices = np.arange(it * batch_size, (it + 1) * batch_size) % num_train",
           breaks=(TRAIN, BEST), mistake="documented ones"),
    Mutant("batch_labels_not_aligned", NB, CELL,
           old="y_batch = y[batch_indices]", new="y_batch = y[np.sort(batch_indices)]",
           breaks=(TRAIN, BEST), mistake="not aligned"),
    Mutant("train_accuracy_on_the_whole_training_set", NB, CELL,
           old="np.mean(self.predict(X_batch) == y_batch)", new="np.mean(self.predict(X) == y)",
           breaks=(TRAIN,), mistake="whole training set"),
    Mutant("validation_accuracy_on_the_minibatch", NB, CELL,
           old="np.mean(self.predict(X_val) == y_val)", new="np.mean(self.predict(X_batch) == y_batch)",
           breaks=(TRAIN, BEST), mistake="on (X_val, y_val)"),
    Mutant("loss_history_of_the_first_minibatch_only", NB, CELL,
           old="            loss_history.append(loss)\n",
           new="            loss_history.append(loss_history[0] if loss_history else loss)\n",
           breaks=(TRAIN,), mistake="in order"),
    Mutant("train_drops_reg", NB, CELL,
           old="loss, grads = self.loss(X_batch, y=y_batch, reg=reg)",
           new="loss, grads = self.loss(X_batch, y=y_batch)",
           breaks=(TRAIN, BEST), mistake="pass reg"),
    Mutant("predict_returns_scores", NB, CELL,
           old="y_pred = np.argmax(self.loss(X), axis=1).astype(np.int64)", new="y_pred = self.loss(X)",
           breaks=(PREDICT, BEST), mistake="returned the scores"),
    Mutant("predict_returns_floats", NB, CELL,
           old="y_pred = np.argmax(self.loss(X), axis=1).astype(np.int64)",
           new="y_pred = np.argmax(self.loss(X), axis=1).astype(float)",
           breaks=(PREDICT,), mistake="floating-point dtype"),
    Mutant("predict_argmin", NB, CELL,
           old="y_pred = np.argmax(self.loss(X), axis=1).astype(np.int64)",
           new="y_pred = np.argmin(self.loss(X), axis=1)",
           breaks=(PREDICT, BEST), mistake="argmin"),
    Mutant("predict_returns_a_list", NB, CELL,
           old="y_pred = np.argmax(self.loss(X), axis=1).astype(np.int64)",
           new="y_pred = [int(label) for label in np.argmax(self.loss(X), axis=1)]",
           breaks=(PREDICT,), mistake="numpy array"),
    Mutant("predict_forward_pass_without_relu", NB, CELL,
           old="y_pred = np.argmax(self.loss(X), axis=1).astype(np.int64)",
           new="p = self.params\n"
               "        y_pred = np.argmax((X @ p['W1'] + p['b1']) @ p['W2'] + p['b2'], axis=1)",
           breaks=(PREDICT, BEST), mistake="does not match"),
    Mutant("best_net_left_none", NB, "tune_best_net",
           old="        best_net, best_val, best_history = net, val_acc, history\n",
           new="        best_val, best_history = val_acc, history\n",
           breaks=(BEST,), mistake="best_net is None"),
    Mutant("best_net_undertrained", NB, "tune_best_net",
           old="fine_hidden=[64, 100], fine_iters=300", new="fine_hidden=[64, 100], fine_iters=10",
           breaks=(BEST,), mistake="target"),
]

# -- correct alternatives: whole cells written differently -------------------------------------------
_INIT_AND_PREDICT = '''
    def __init__(self, input_size, hidden_size, output_size, std=1e-4, seed=0):
        self.params = {
            "W1": std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }

    def predict(self, X):
        return self.loss(X).argmax(axis=1)
'''

_TRAIN = '''
    def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
              reg=5e-6, num_iters=100, batch_size=200, verbose=False):
        n = len(X)
        per_epoch = max(n // batch_size, 1)
        history = {"loss_history": [], "train_acc_history": [], "val_acc_history": []}
        for it in range(1, num_iters + 1):
            rows = np.random.randint(0, n, batch_size)   # same draws as np.random.choice(n, batch_size)
            Xb, yb = X[rows], y[rows]
            loss, grads = self.loss(Xb, yb, reg)
            history["loss_history"].append(loss)
            self.params = {k: v - learning_rate * grads[k] for k, v in self.params.items()}
            if it % per_epoch == 0:
                history["train_acc_history"].append(float(np.mean(self.predict(Xb) == yb)))
                history["val_acc_history"].append(float(np.mean(self.predict(X_val) == y_val)))
                learning_rate = learning_rate * learning_rate_decay
        return history
'''

_EINSUM_LOSS = '''
    def loss(self, X, y=None, reg=0.0):
        p = self.params
        pre = np.einsum("nd,dh->nh", X, p["W1"]) + p["b1"]
        act = np.where(pre > 0, pre, 0.0)
        scores = np.einsum("nh,hc->nc", act, p["W2"]) + p["b2"]
        if y is None:
            return scores
        n, c = scores.shape
        onehot = np.eye(c)[y]
        top = scores.max(axis=1)
        lse = top + np.log(np.exp(scores - top[:, None]).sum(axis=1))
        loss = np.mean(lse - np.einsum("nc,nc->n", onehot, scores))
        loss += reg * (np.einsum("ij,ij->", p["W1"], p["W1"]) + np.einsum("ij,ij->", p["W2"], p["W2"]))
        g = (np.exp(scores - lse[:, None]) - onehot) / n
        g_act = np.einsum("nc,hc->nh", g, p["W2"]) * (pre > 0)
        grads = {
            "W2": np.einsum("nh,nc->hc", act, g) + 2 * reg * p["W2"],
            "b2": np.einsum("nc->c", g),
            "W1": np.einsum("nd,nh->dh", X, g_act) + 2 * reg * p["W1"],
            "b1": np.einsum("nh->h", g_act),
        }
        return loss, grads
'''

_FLOAT32_LOSS = '''
    def loss(self, X, y=None, reg=0.0):
        # Everything in single precision, as on a GPU.
        f32 = np.float32
        X = np.asarray(X, dtype=f32)
        W1, b1, W2, b2 = (self.params[k].astype(f32) for k in ("W1", "b1", "W2", "b2"))
        reg = f32(reg)
        a = X @ W1 + b1
        h = np.maximum(a, f32(0))
        s = h @ W2 + b2
        if y is None:
            return s
        m = len(X)
        z = s - s.max(axis=1, keepdims=True)
        logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        loss = -np.sum(logp[np.arange(m), y]) / m + reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
        d = np.exp(logp)
        d[np.arange(m), y] -= 1
        d /= m
        dh = (d @ W2.T) * (a > 0)
        return float(loss), {"W1": X.T @ dh + 2 * reg * W1, "b1": dh.sum(0),
                             "W2": h.T @ d + 2 * reg * W2, "b2": d.sum(0)}
'''

_LOGSUMEXP_LOSS = '''
    def loss(self, X, y=None, reg=0.0):
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        mask = (np.dot(X, W1) + b1) > 0
        h = np.dot(X, W1) + b1
        h[~mask] = 0
        s = np.dot(h, W2) + b2
        if y is None:
            return s
        rows = np.arange(X.shape[0])
        log_z = np.logaddexp.reduce(s, axis=1)       # stable log-sum-exp
        loss = float(np.mean(log_z - s[rows, y])) + reg * float((W1 ** 2).sum() + (W2 ** 2).sum())
        ds = np.exp(s - log_z[:, np.newaxis])
        ds[rows, y] = ds[rows, y] - 1
        ds = ds / X.shape[0]
        dh = ds.dot(W2.T)
        dh[~mask] = 0
        return loss, {"W1": X.T.dot(dh) + 2 * reg * W1, "b1": np.sum(dh, axis=0),
                      "W2": h.T.dot(ds) + 2 * reg * W2, "b2": np.sum(ds, axis=0)}
'''


def _class(loss):
    return "import numpy as np\n\n\nclass TwoLayerNet:\n" + _INIT_AND_PREDICT + loss + _TRAIN


ALTERNATIVES = [
    Alternative("einsum_loss_randint_sampling", NB, CELL, source=_class(_EINSUM_LOSS)),
    Alternative("float32_arithmetic", NB, CELL, source=_class(_FLOAT32_LOSS)),
    Alternative("logaddexp_loss_boolean_masks", NB, CELL, source=_class(_LOGSUMEXP_LOSS)),
    # -- one-line edits of the reference ---------------------------------------------------------------
    Alternative("where_relu_backprop", NB, CELL,
                old="dhidden_in = dhidden * (hidden_in > 0)", new="dhidden_in = np.where(hidden_in > 0, dhidden, 0.0)"),
    Alternative("add_at_backprop", NB, CELL,
                old="        dscores[np.arange(N), y] -= 1.0          # minus the one-hot labels\n",
                new="        np.add.at(dscores, (np.arange(N), y), -1.0)\n"),
    Alternative("add_at_relu_backprop", NB, CELL,
                old="        dhidden_in = dhidden * (hidden_in > 0)               # ReLU passes only active units\n",
                new="        active = np.nonzero(hidden_in > 0)\n"
                    "        dhidden_in = np.zeros_like(dhidden)\n"
                    "        np.add.at(dhidden_in, active, dhidden[active])\n"),
    Alternative("float32_forward_pass", NB, CELL,
                old="        hidden_in = X @ W1 + b1                  # (N, H) pre-activations\n",
                new="        f32 = np.float32\n"
                    "        hidden_in = X.astype(f32) @ W1.astype(f32) + b1.astype(f32)\n"),
    Alternative("predict_argmax_of_the_scores", NB, CELL,
                old="y_pred = np.argmax(self.loss(X), axis=1).astype(np.int64)",
                new="y_pred = np.argmax(self.loss(X), axis=1)"),
    Alternative("predict_own_forward_pass", NB, CELL,
                old="y_pred = np.argmax(self.loss(X), axis=1).astype(np.int64)",
                new="p = self.params\n"
                    "        y_pred = np.argmax(np.maximum(0, X @ p['W1'] + p['b1']) @ p['W2'] + p['b2'], axis=1)"),
    Alternative("sampling_with_replace_true", NB, CELL,
                old="batch_indices = np.random.choice(num_train, batch_size)",
                new="batch_indices = np.random.choice(num_train, batch_size, replace=True)"),
]
