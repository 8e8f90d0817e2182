"""Entries for the speed checks: the student's own naive version is no yardstick, the reference's is.

A broken, missing or slowed-down naive version must not cost the vectorized
version its speed points, and a slow vectorized version must not earn them
because its naive sibling is slower still. The speed checks measure CPU time,
so a naive version that sleeps is slow only on the wall clock; one that burns
CPU is slow on both.
"""
from tests.autograder.mutants import Alternative, Mutant

KNN_TWO_LOOPS_START = "        num_test = X.shape[0]\n        num_train = self.X_train.shape[0]\n        dists = np.zeros((num_test, num_train))\n        for i in range(num_test):\n            for j in range(num_train):\n"
LOSS_START = '    """\n    num_train = X.shape[0]\n'
# CPU time that grows with the square of N, without a Python loop: a slow vectorized version the loop check
# lets through (a tenth of a second or more on the timed inputs, nothing on the tuning cells' minibatches).
BURN_CPU = "    np.sort(np.sin(np.arange(X.shape[0] ** 2 // 3) * 1.0), kind='stable')\n"


def _crashing_naive(notebook, cell):
    return Mutant(f"{cell}_raises", notebook, cell, old=LOSS_START,
                  new=LOSS_START.replace('"""\n', '"""\n    raise NotImplementedError\n', 1), breaks=(cell,))


MUTANTS = [
    # A naive version that does not run: only its own tests fail; the vectorized ones keep their speed points.
    Mutant("knn_two_loops_raises", "knn", "knn_class", old=KNN_TWO_LOOPS_START,
           new="        raise NotImplementedError\n" + KNN_TWO_LOOPS_START,
           breaks=("KNearestNeighbor.compute_distances_two_loops",)),
    _crashing_naive("svm", "svm_loss_naive"),
    _crashing_naive("softmax", "softmax_loss_naive"),
    # A slow vectorized version (without loops) loses its speed points, whatever its naive sibling does.
    Mutant("svm_vectorized_slow", "svm", "svm_loss_vectorized", old=LOSS_START,
           new=LOSS_START.replace('"""\n', '"""\n' + BURN_CPU, 1),
           breaks=("svm_loss_vectorized",), mistake="CPU time"),
    Mutant("softmax_vectorized_slow", "softmax", "softmax_loss_vectorized", old=LOSS_START,
           new=LOSS_START.replace('"""\n', '"""\n' + BURN_CPU, 1),
           breaks=("softmax_loss_vectorized",), mistake="CPU time"),
]

ALTERNATIVES = [
    # A naive version that sleeps is slow on the wall clock only: nothing changes.
    Alternative("knn_two_loops_sleeps", "knn", "knn_class", old=KNN_TWO_LOOPS_START,
                new="        import time\n        time.sleep(0.3)\n" + KNN_TWO_LOOPS_START),
    Alternative("svm_naive_sleeps", "svm", "svm_loss_naive", old=LOSS_START,
                new=LOSS_START.replace('"""\n', '"""\n    import time\n    time.sleep(0.3)\n', 1)),
]
