"""The reference kernels against what numpy (or a library) allows, side by side on CIFAR-10 shapes.

These are what students are told to aim for and what the speed checks compare
against, so each is timed next to its yardstick in the same run, in turns
(best of ``--repeats``): the no-loop distances against the one matrix product
they need, kNN's predict against scikit-learn's brute-force neighbours, the
vectorized SVM and softmax losses against their two matrix products, and the
two-layer net's forward and backward pass against PyTorch's (when PyTorch is
installed: it is never a dependency of the kit). Also the largest temporary the
distances allocate, against their output. Prints the BLAS in use
(threadpoolctl) and the ratios; asserts nothing.

Usage: ``python -m benchmarks.kernels [--repeats N]``
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_info

from autograder.reference import references

NUM_TRAIN, NUM_TEST, DIM, CLASSES = 5000, 500, 3072, 10  # CIFAR-10 shapes, as in the notebooks' subsample
LOSS_N, NET_N, HIDDEN = 500, 200, 100


def best_of(repeats, *functions):
    """The least wall time of each function over ``repeats`` turns, the functions taking turns."""
    best = [float("inf")] * len(functions)
    for _ in range(repeats):
        for index, function in enumerate(functions):
            start = time.perf_counter()
            function()
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def peak_bytes(function):
    """The largest memory numpy held at once during ``function()``, beyond what it returns (tracemalloc)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    value = function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - getattr(value, "nbytes", 0), getattr(value, "nbytes", 0)


def _row(name, ours, yardstick, what, target):
    print(f"{name:<44} {ours * 1e3:8.1f} ms  {yardstick * 1e3:8.1f} ms ({what})  "
          f"ratio {ours / yardstick:5.2f}  target {target}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    for pool in threadpool_info():
        print(f"BLAS: {pool.get('internal_api')} {pool.get('version')} ({pool.get('user_api')}), "
              f"{pool.get('num_threads')} threads, {pool.get('filepath')}")
    rng = np.random.default_rng(0)
    refs = references("assignment1")
    # Learnable data of CIFAR's shapes: class templates plus noise.
    templates = rng.normal(size=(CLASSES, DIM))
    y_train, y_test = rng.integers(CLASSES, size=NUM_TRAIN), rng.integers(CLASSES, size=NUM_TEST)
    X_train = templates[y_train] + 3.0 * rng.normal(size=(NUM_TRAIN, DIM))
    X_test = templates[y_test] + 3.0 * rng.normal(size=(NUM_TEST, DIM))

    knn = refs.module("knn.ipynb").KNearestNeighbor()
    knn.train(X_train, y_train)
    ours, product = best_of(args.repeats, lambda: knn.compute_distances_no_loops(X_test),
                            lambda: X_test @ X_train.T)
    _row("compute_distances_no_loops (500 x 5000)", ours, product, "X @ X_train.T", "<= 1.2")
    extra, output = peak_bytes(lambda: knn.compute_distances_no_loops(X_test))
    print(f"{'  largest temporary beyond the output':<44} {extra / 2**20:8.1f} MB  output {output / 2**20:.1f} MB  "
          f"ratio {extra / output:5.2f}  target <= 1")
    for k in (1, 10):
        library = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(X_train, y_train)
        ours, theirs = best_of(args.repeats, lambda: knn.predict(X_test, k=k), lambda: library.predict(X_test))
        _row(f"KNearestNeighbor.predict, k = {k}", ours, theirs, "scikit-learn brute", "< 1")

    X = np.column_stack([X_test, np.ones(NUM_TEST)])[:LOSS_N]  # D = 3073 with the bias column
    W, y = 1e-4 * rng.normal(size=(DIM + 1, CLASSES)), y_test[:LOSS_N]
    margins = np.ones((LOSS_N, CLASSES))
    for notebook, function in (("svm.ipynb", "svm_loss_vectorized"), ("softmax.ipynb", "softmax_loss_vectorized")):
        loss = getattr(refs.module(notebook), function)
        ours, products = best_of(args.repeats, lambda: loss(W, X, y, 0.1), lambda: (X @ W, X.T @ margins))
        _row(f"{function} (500 x 3073, 10 classes)", ours, products, "X @ W and X.T @ M", "<= 1.5")

    net = refs.module("two_layer_net.ipynb").TwoLayerNet(DIM, HIDDEN, CLASSES, std=1e-2)
    X_net, y_net = X_test[:NET_N], y_test[:NET_N]
    try:
        import torch
    except ImportError:
        print(f"{'TwoLayerNet.loss forward and backward':<44} PyTorch is not installed: not measured "
              "(pip install -e '.[bench]' to compare)")
        return 0
    torch.set_num_threads(max(pool.get("num_threads", 1) for pool in threadpool_info()) or 1)
    params = {name: torch.tensor(value, requires_grad=True) for name, value in net.params.items()}
    inputs, labels = torch.tensor(X_net), torch.tensor(y_net)

    def torch_step():
        for value in params.values():
            value.grad = None
        hidden = torch.relu(inputs @ params["W1"] + params["b1"])
        scores = hidden @ params["W2"] + params["b2"]
        loss = torch.nn.functional.cross_entropy(scores, labels) + 0.1 * (
            (params["W1"] ** 2).sum() + (params["W2"] ** 2).sum())
        loss.backward()

    ours, theirs = best_of(args.repeats, lambda: net.loss(X_net, y_net, reg=0.1), torch_step)
    _row("TwoLayerNet.loss forward and backward", ours, theirs, "PyTorch, float64", "<= 1.3")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
