"""Wrong and alternative implementations of knn.ipynb."""
import nbformat

from tests.autograder.mutants import Alternative, Mutant
from tests.notebooks import SOLUTIONS

NB = "knn"
CLS = "knn_class"
CV = "cross_validate_knn"
TRAIN = "KNearestNeighbor.train"
TWO = "KNearestNeighbor.compute_distances_two_loops"
ONE = "KNearestNeighbor.compute_distances_one_loop"
NO = "KNearestNeighbor.compute_distances_no_loops"
VOTE = "KNearestNeighbor.predict_labels"

NO_LOOPS_BODY = """        sq_dists = X @ X_train.T  # (num_test, num_train)
        sq_dists *= -2.0
        sq_dists += np.einsum("ij,ij->i", X, X)[:, np.newaxis]  # (num_test, 1)
        sq_dists += np.einsum("ij,ij->i", X_train, X_train)[np.newaxis, :]  # (1, num_train)
"""
NO_LOOPS_ROOT = "dists = np.sqrt(np.maximum(sq_dists, 0.0, out=sq_dists), out=sq_dists)"
VOTE_LINES = """            votes = np.bincount(self.y_train[nearest])
            # argmax returns the first maximum: a tied vote goes to the smallest label.
            y_pred[i] = np.argmax(votes)
"""
CV_SPLIT = """    X_folds = np.array_split(X, num_folds)
    y_folds = np.array_split(y, num_folds)
"""
VOTE_LOOP = """        for i in range(num_test):
            # A stable sort keeps equally distant training examples in index
            # order, so the choice among them does not depend on the algorithm.
            nearest = np.argsort(dists[i], kind="stable")[:k]
""" + VOTE_LINES
SORT = 'nearest = np.argsort(dists[i], kind="stable")[:k]'
# The reference's vote, read from the solution so that the entries below follow it: a bound on the
# k-th distance, then a stable sort of the few distances under it, ties among equally distant
# examples broken by index. The vote entries below edit the per-row loop above (the classic
# stable-sort version, itself an alternative) put in its place.
def _reference_vote():
    """The solution lines of the reference's predict_labels, as its class cell has them."""
    source = (SOLUTIONS / "knn.ipynb").read_text()
    cell = next(cell.source for cell in nbformat.reads(source, as_version=4).cells
                if "def predict_labels" in cell.source)
    body = cell[cell.index("### BEGIN SOLUTION\n", cell.index("def predict_labels")):]
    return body[len("### BEGIN SOLUTION\n"):body.index("        ### END SOLUTION")]


REFERENCE_VOTE = _reference_vote()


def in_vote_loop(old, new):
    """The per-row stable-sort vote with ``old`` changed to ``new``, as the ``new`` of an entry whose
    ``old`` is the reference's ``REFERENCE_VOTE``."""
    assert VOTE_LOOP.count(old) == 1, old
    return VOTE_LOOP.replace(old, new)
CV_DISTANCES = "dists = classifier.compute_distances_no_loops(X_folds[i])"

# The reference's cross_validate_knn stays in every class mutant: it runs on top of the class's
# mistake, and loses nothing for it (one mistake, one deduction).

MUTANTS = [
    # -- train
    Mutant("train_stores_under_other_names", NB, CLS,
           old="        self.X_train = X\n        self.y_train = y\n",
           new="        self.X = X\n        self.y = y\n",
           breaks=(TRAIN,), mistake="store the training data as self.X_train"),
    Mutant("train_stores_float_labels", NB, CLS,
           old="        self.y_train = y\n", new="        self.y_train = y.astype(float)\n",
           breaks=(TRAIN,), mistake="holds the labels as floats"),
    # The cross-validation then fails inside train, as a correct one does: only train pays.
    Mutant("train_left_unimplemented", NB, CLS,
           old="        self.X_train = X\n        self.y_train = y\n", new="        raise NotImplementedError\n",
           breaks=(TRAIN,)),
    Mutant("train_keeps_the_first_data", NB, CLS,
           old="        self.X_train = X\n        self.y_train = y\n",
           new="        if not hasattr(self, 'X_train'):\n            self.X_train = X\n            self.y_train = y\n",
           breaks=(TRAIN,), mistake="second call"),
    # -- two loops
    Mutant("two_loops_squared", NB, CLS,
           old="dists[i, j] = np.sqrt(np.sum((X[i] - self.X_train[j]) ** 2))",
           new="dists[i, j] = np.sum((X[i] - self.X_train[j]) ** 2)",
           breaks=(TWO,), mistake="squared distances"),
    Mutant("two_loops_l1", NB, CLS,
           old="dists[i, j] = np.sqrt(np.sum((X[i] - self.X_train[j]) ** 2))",
           new="dists[i, j] = np.sum(np.abs(X[i] - self.X_train[j]))",
           breaks=(TWO,), mistake="L1 (Manhattan)"),
    # -- one loop
    Mutant("one_loop_l1", NB, CLS,
           old="dists[i, :] = np.sqrt(np.sum((self.X_train - X[i]) ** 2, axis=1))",
           new="dists[i, :] = np.sum(np.abs(self.X_train - X[i]), axis=1)",
           breaks=(ONE,), mistake="L1 (Manhattan)"),
    Mutant("one_loop_nested_loops", NB, CLS,
           old="            dists[i, :] = np.sqrt(np.sum((self.X_train - X[i]) ** 2, axis=1))\n",
           new="            for j in range(num_train):\n"
               "                dists[i, j] = np.sqrt(np.sum((self.X_train[j] - X[i]) ** 2))\n",
           breaks=(ONE,), mistake="exactly one loop"),
    Mutant("one_loop_subtracts_in_place", NB, CLS,
           old="            dists[i, :] = np.sqrt(np.sum((self.X_train - X[i]) ** 2, axis=1))\n",
           new="            self.X_train -= X[i]\n"
               "            dists[i, :] = np.sqrt(np.sum(self.X_train ** 2, axis=1))\n"
               "            self.X_train += X[i]\n",
           breaks=(ONE,), mistake="self.X_train was modified"),
    # -- no loops
    Mutant("no_loops_squared", NB, CLS,
           old=NO_LOOPS_ROOT, new="dists = np.maximum(sq_dists, 0.0, out=sq_dists)",
           breaks=(NO,), mistake="squared distances"),
    Mutant("no_loops_transposed", NB, CLS,
           old=NO_LOOPS_ROOT, new=NO_LOOPS_ROOT + ".T",
           breaks=(NO,), mistake="transposed"),
    Mutant("no_loops_wrong_sign", NB, CLS,
           old="sq_dists *= -2.0", new="sq_dists *= 2.0",
           breaks=(NO,), mistake="wrong sign"),
    Mutant("no_loops_without_clipping", NB, CLS,
           old=NO_LOOPS_ROOT, new="dists = np.sqrt(sq_dists)",
           breaks=(NO,), mistake="NaN"),
    Mutant("no_loops_calls_one_loop", NB, CLS,
           old=NO_LOOPS_BODY + "",
           new="        return self.compute_distances_one_loop(X)\n" + NO_LOOPS_BODY,
           breaks=(NO,), mistake="(called by it) uses a Python loop"),
    Mutant("no_loops_comprehension", NB, CLS,
           old=NO_LOOPS_BODY,
           new="        test_sq = np.array([[row @ row] for row in X])\n"
               "        train_sq = np.sum(self.X_train ** 2, axis=1)[np.newaxis, :]\n"
               "        sq_dists = test_sq - 2.0 * (X @ self.X_train.T) + train_sq\n",
           breaks=(NO,), mistake="loop or comprehension"),
    Mutant("no_loops_linalg_norm", NB, CLS,
           old=NO_LOOPS_BODY,
           new="        sq_dists = np.linalg.norm(X[:, np.newaxis, :] - self.X_train[np.newaxis, :, :], axis=2) ** 2\n",
           breaks=(NO,), mistake="np.linalg.norm"),
    Mutant("no_loops_all_differences_at_once", NB, CLS,
           old=NO_LOOPS_BODY,
           new="        sq_dists = np.sum((X[:, np.newaxis, :] - self.X_train[np.newaxis, :, :]) ** 2, axis=2)\n",
           breaks=(NO,), mistake="(num_test, num_train, D)"),
    # One array of all differences, reduced without a second one: fits where twice its size would not.
    Mutant("no_loops_one_array_of_differences", NB, CLS,
           old=NO_LOOPS_BODY,
           new="        differences = X[:, np.newaxis, :] - self.X_train[np.newaxis, :, :]\n"
               "        sq_dists = np.einsum('ijk,ijk->ij', differences, differences)\n",
           breaks=(NO,), mistake="(num_test, num_train, D)"),
    Mutant("no_loops_centres_in_place", NB, CLS,
           old=NO_LOOPS_BODY,
           new="        centre = X.mean(axis=0)\n"
               "        X -= centre\n"
               "        self.X_train -= centre\n" + NO_LOOPS_BODY,
           breaks=(NO,), mistake="was modified"),
    # Disguised loops: the distances are right, only the no-loop check refuses them.
    Mutant("disguised_loop_functools_reduce", NB, CLS, old=NO_LOOPS_BODY,
           new="        test_sq = np.sum(X ** 2, axis=1)[:, np.newaxis]\n"
               "        train_sq = np.sum(self.X_train ** 2, axis=1)[np.newaxis, :]\n"
               "        import functools\n"
               "        sq_dists = functools.reduce(np.add, [test_sq, -2.0 * (X @ self.X_train.T), train_sq])\n",
           breaks=(NO,), mistake="calls functools.reduce"),
    Mutant("disguised_loop_recursion_over_halves", NB, CLS, old=NO_LOOPS_BODY,
           new="        if num_test > 8:  # each half of the test examples through this method again\n"
               "            half = num_test // 2\n"
               "            return np.vstack([self.compute_distances_no_loops(X[:half]),\n"
               "                              self.compute_distances_no_loops(X[half:])])\n" + NO_LOOPS_BODY,
           breaks=(NO,), mistake="is recursive"),
    Mutant("disguised_loop_itertools_product_alias", NB, CLS, old=NO_LOOPS_BODY,
           new="        import itertools as it\n"
               "        pairs = it.product(X, [self.X_train.T])  # (test row, all training rows), row by row\n"
               "        cross = np.vstack([*it.starmap(np.dot, pairs)])\n"
               "        test_sq = np.sum(X ** 2, axis=1)[:, np.newaxis]\n"
               "        sq_dists = test_sq - 2.0 * cross + np.sum(self.X_train ** 2, axis=1)\n",
           breaks=(NO,), mistake="it.product (itertools.product)"),
    Mutant("disguised_loop_vectorize_through_getattr", NB, CLS, old=NO_LOOPS_BODY,
           new="        row_products = getattr(np, 'vectorize')(np.dot, signature='(d),(d,n)->(n)')\n"
               "        cross = row_products(X, self.X_train.T)\n"
               "        test_sq = np.sum(X ** 2, axis=1)[:, np.newaxis]\n"
               "        sq_dists = test_sq - 2.0 * cross + np.sum(self.X_train ** 2, axis=1)\n",
           breaks=(NO,), mistake="calls getattr"),
    Mutant("disguised_loop_apply_along_axis", NB, CLS, old=NO_LOOPS_BODY,
           new="        cross = np.apply_along_axis(np.dot, 1, X, self.X_train.T)\n"
               "        test_sq = np.sum(X ** 2, axis=1)[:, np.newaxis]\n"
               "        sq_dists = test_sq - 2.0 * cross + np.sum(self.X_train ** 2, axis=1)\n",
           breaks=(NO,), mistake="calls np.apply_along_axis"),
    # -- predict_labels
    Mutant("vote_tie_to_largest_label", NB, CLS,
           old=REFERENCE_VOTE,
           new=in_vote_loop(VOTE_LINES, "            votes = np.bincount(self.y_train[nearest])\n"
               "            y_pred[i] = len(votes) - 1 - np.argmax(votes[::-1])\n"),
           breaks=(VOTE,), mistake="largest label"),
    Mutant("vote_tie_to_first_seen", NB, CLS,
           old=REFERENCE_VOTE,
           new=in_vote_loop(VOTE_LINES, "            from collections import Counter\n"
               "            y_pred[i] = Counter(self.y_train[nearest].tolist()).most_common(1)[0][0]\n"),
           breaks=(VOTE,), mistake="seen first"),
    Mutant("vote_of_the_farthest", NB, CLS, old=REFERENCE_VOTE,
           new=in_vote_loop(SORT, 'nearest = np.argsort(-dists[i], kind="stable")[:k]'),
           breaks=(VOTE,), mistake="farthest"),
    Mutant("vote_ignores_k", NB, CLS, old=REFERENCE_VOTE,
           new=in_vote_loop(SORT, 'nearest = np.argsort(dists[i], kind="stable")[:1]'),
           breaks=(VOTE,), mistake="k is ignored"),
    # CS231n's starter made y_pred float: right labels, wrong dtype, one check.
    Mutant("vote_returns_floats", NB, CLS,
           old="y_pred = np.zeros(num_test, dtype=np.int64)", new="y_pred = np.zeros(num_test)",
           breaks=(VOTE,), mistake="return integer labels"),
    # Sorting the rows of dists in place: the cross-validation's next k votes on sorted rows.
    Mutant("vote_sorts_dists_in_place", NB, CLS, old=REFERENCE_VOTE,
           new=in_vote_loop(SORT, 'order = np.argsort(dists[i], kind="stable")\n'
               "            nearest = order[:k]\n"
               "            dists[i] = dists[i][order]"),
           breaks=(VOTE,), mistake="dists was modified"),
    Mutant("vote_left_unimplemented", NB, CLS, old=REFERENCE_VOTE,
           new=in_vote_loop(SORT, "raise NotImplementedError"),
           breaks=(VOTE,)),
    # -- cross_validate_knn
    Mutant("cv_validation_fold_in_training", NB, CV,
           old="        classifier.train(X_fold_train, y_fold_train)\n",
           new="        classifier.train(X, y)\n",
           breaks=(CV,), mistake="validation fold is also part of the training data"),
    Mutant("cv_shuffled_folds", NB, CV,
           old=CV_SPLIT,
           new="    order = np.random.permutation(len(X))\n"
               "    X_folds = np.array_split(X[order], num_folds)\n"
               "    y_folds = np.array_split(y[order], num_folds)\n",
           breaks=(CV,), mistake="in order"),
    Mutant("cv_strided_folds", NB, CV,
           old=CV_SPLIT,
           new="    X_folds = [X[i::num_folds] for i in range(num_folds)]\n"
               "    y_folds = [y[i::num_folds] for i in range(num_folds)]\n",
           breaks=(CV,), mistake="in order"),
    Mutant("cv_folds_reversed", NB, CV,
           old="    for i in range(num_folds):\n",
           new="    for i in reversed(range(num_folds)):\n",
           breaks=(CV,), mistake="reverse order"),
    Mutant("cv_percentages", NB, CV,
           old="float(np.mean(y_pred == y_folds[i]))", new="float(100 * np.mean(y_pred == y_folds[i]))",
           breaks=(CV,), mistake="between 0 and 1"),
    Mutant("cv_correct_counts", NB, CV,
           old="float(np.mean(y_pred == y_folds[i]))", new="int(np.sum(y_pred == y_folds[i]))",
           breaks=(CV,), mistake="should be a float"),
    # An error inside the class that a correct cross-validation does not meet: the call is wrong.
    Mutant("cv_distances_before_training", NB, CV,
           old="        classifier.train(X_fold_train, y_fold_train)\n",
           new="        dists = classifier.compute_distances_no_loops(X_folds[i])\n"
               "        classifier.train(X_fold_train, y_fold_train)\n",
           breaks=(CV,), mistake="came from your KNearestNeighbor class"),
    # Centring changes no distance, so the accuracies are right; the input is not.
    Mutant("cv_centres_X_in_place", NB, CV,
           old=CV_SPLIT, new="    X -= X.mean(axis=0)\n" + CV_SPLIT,
           breaks=(CV,), mistake="X was modified"),
]

ALTERNATIVES = [
    Alternative("no_loops_three_terms_added", NB, CLS, old=NO_LOOPS_BODY,
                new="        test_sq = np.sum(X ** 2, axis=1)[:, np.newaxis]  # (num_test, 1)\n"
                    "        train_sq = np.sum(self.X_train ** 2, axis=1)[np.newaxis, :]  # (1, num_train)\n"
                    "        sq_dists = test_sq - 2.0 * (X @ self.X_train.T) + train_sq\n"),
    Alternative("no_loops_einsum", NB, CLS, old=NO_LOOPS_BODY,
                new="        test_sq = np.einsum('ij,ij->i', X, X)[:, None]\n"
                    "        train_sq = np.einsum('ij,ij->i', self.X_train, self.X_train)[None, :]\n"
                    "        sq_dists = test_sq + train_sq - 2.0 * np.einsum('id,jd->ij', X, self.X_train)\n"),
    Alternative("no_loops_in_place_memory_light", NB, CLS, old=NO_LOOPS_BODY,
                new="        sq_dists = X.dot(self.X_train.T)\n"
                    "        sq_dists *= -2.0\n"
                    "        sq_dists += np.square(X).sum(axis=1).reshape(-1, 1)\n"
                    "        sq_dists += np.square(self.X_train).sum(axis=1)\n"),
    Alternative("float32_inputs_computed_in_float64", NB, CLS,
                old="        self.X_train = X\n        self.y_train = y\n",
                new="        self.X_train = np.array(X, dtype=np.float64)\n"
                    "        self.y_train = np.asarray(y).astype(np.int64)\n"),
    Alternative("no_loops_casts_to_float64", NB, CLS, old=NO_LOOPS_BODY,
                new="        X = np.asarray(X, dtype=np.float64)\n"
                    "        train = np.asarray(self.X_train, dtype=np.float64)\n"
                    "        test_sq = (X * X).sum(axis=1, keepdims=True)\n"
                    "        sq_dists = test_sq + (train * train).sum(axis=1) - 2.0 * np.matmul(X, train.T)\n"),
    Alternative("one_loop_enumerate_and_square", NB, CLS,
                old="            dists[i, :] = np.sqrt(np.sum((self.X_train - X[i]) ** 2, axis=1))\n",
                new="            diff = self.X_train - X[i]\n"
                    "            dists[i] = np.sqrt(np.sum(np.square(diff), axis=-1))\n"),
    Alternative("two_loops_dot_product", NB, CLS,
                old="dists[i, j] = np.sqrt(np.sum((X[i] - self.X_train[j]) ** 2))",
                new="diff = X[i] - self.X_train[j]\n                dists[i, j] = np.dot(diff, diff) ** 0.5"),
    Alternative("vote_with_unique_counts", NB, CLS,
                old=REFERENCE_VOTE,
                new=in_vote_loop('nearest = np.argsort(dists[i], kind="stable")[:k]\n' + VOTE_LINES,
                                 "nearest = np.argpartition(dists[i], k - 1)[:k] if k < dists.shape[1] else np.arange(k)\n"
                    "            labels, counts = np.unique(self.y_train[nearest], return_counts=True)\n"
                    "            y_pred[i] = labels[np.argmax(counts)]\n")),
    Alternative("cv_with_predict_and_hstack", NB, CV, old="""    for i in range(num_folds):
        X_fold_train = np.concatenate(X_folds[:i] + X_folds[i + 1:])
        y_fold_train = np.concatenate(y_folds[:i] + y_folds[i + 1:])
        classifier = KNearestNeighbor()
        classifier.train(X_fold_train, y_fold_train)
""", new="""    for i in range(num_folds):
        others = [j for j in range(num_folds) if j != i]
        X_fold_train = np.vstack([X_folds[j] for j in others])
        y_fold_train = np.hstack([y_folds[j] for j in others])
        classifier = KNearestNeighbor()
        classifier.train(X_fold_train, y_fold_train)
        for k in k_choices:
            k_to_accuracies[k].append(float(np.mean(classifier.predict(X_folds[i], k=k) == y_folds[i])))
        continue
"""),
    # np.mean gives numpy floats, which the notebook's contract accepts (np.float64 is a float).
    Alternative("cv_numpy_float_accuracies", NB, CV,
                old="float(np.mean(y_pred == y_folds[i]))", new="np.mean(y_pred == y_folds[i])"),
    # The vote: the default (unstable) sort and a partial one pick the same k nearest when no two
    # distances tie; counting with Counter or for all rows at once gives the same smallest-label rule.
    Alternative("vote_default_argsort", NB, CLS, old=REFERENCE_VOTE,
                new=in_vote_loop(SORT, "nearest = np.argsort(dists[i])[:k]")),
    Alternative("vote_argpartition_and_bincount", NB, CLS, old=REFERENCE_VOTE,
                new=in_vote_loop(SORT, "nearest = np.argpartition(dists[i], k - 1)[:k]")),
    # The same freedom in the reference's sort of the candidates: of training examples as far as the k-th, the last.
    Alternative("vote_candidates_tied_at_the_kth_to_the_largest_index", NB, CLS,
                old="order = np.lexsort((dists[rows, cols], rows))",
                new="order = np.lexsort((-cols, dists[rows, cols], rows))"),
    Alternative("vote_counter_smallest_of_the_tied", NB, CLS, old=REFERENCE_VOTE,
                new=in_vote_loop(VOTE_LINES, "            from collections import Counter\n"
                    "            counts = Counter(self.y_train[nearest].tolist())\n"
                    "            top = max(counts.values())\n"
                    "            y_pred[i] = min(label for label, count in counts.items() if count == top)\n")),
    Alternative("vote_full_stable_sort_per_row", NB, CLS, old=REFERENCE_VOTE, new=VOTE_LOOP),
    Alternative("vote_all_rows_at_once", NB, CLS, old=REFERENCE_VOTE,
                new="        nearest = np.argsort(dists, axis=1)[:, :k]  # (num_test, k)\n"
                    "        labels = self.y_train[nearest]\n"
                    "        counts = (labels[:, :, np.newaxis] == np.arange(self.y_train.max() + 1)).sum(axis=1)\n"
                    "        y_pred = np.argmax(counts, axis=1)  # the first maximum: the smallest tied label\n"),
    # The cross-validation may take its distances from any of the three methods, or vote itself.
    Alternative("cv_with_two_loop_distances", NB, CV, old=CV_DISTANCES,
                new="dists = classifier.compute_distances_two_loops(X_folds[i])"),
    Alternative("cv_with_one_loop_distances", NB, CV, old=CV_DISTANCES,
                new="dists = classifier.compute_distances_one_loop(X_folds[i])"),
    Alternative("cv_votes_itself", NB, CV, old="            y_pred = classifier.predict_labels(dists, k=k)\n",
                new="            nearest = np.argsort(dists, axis=1)[:, :k]\n"
                    "            y_pred = np.array([np.argmax(np.bincount(row)) for row in y_fold_train[nearest]])\n"),
]
