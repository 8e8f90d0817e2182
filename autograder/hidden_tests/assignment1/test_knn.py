"""Hidden suite of knn.ipynb: storing the data, three distance versions, the vote, cross-validation.

Shapes: num_test test examples, num_train training examples, D features.
Points are continuous random numbers, so two distances never tie except where
a test builds vote ties on purpose.

One mistake, one deduction: the distance and vote tests put the training data
in place themselves (``self.X_train``, ``self.y_train``), not through the
student's train, and cross_validate_knn is right when its accuracies are the
reference's or those a correct cross-validation gets from the student's own
class (``_CrossValidation``). A predicted label's dtype is one check.
"""
import ast

import numpy as np

from autograder.testing import (
    LOOP_NODES,
    MissingDefinition,
    Mistake,
    SHOWN_EXCEPTIONS,
    StudentError,
    StudentFault,
    check_array,
    check_label_dtype,
    check_labels,
    close,
    clusters,
    describe_type,
    diagnose,
    draws,
    each_target,
    find_function,
    imported_aliases,
    loop_problem,
    parse_cell,
    target,
    unchanged,
)

NOTEBOOK = "knn.ipynb"

CLASS_CELL = "knn_class"
METHODS = {"two_loops": "compute_distances_two_loops", "one_loop": "compute_distances_one_loop",
           "no_loops": "compute_distances_no_loops"}
# (num_test, num_train, D): fewer test than training points, the reverse, a square case.
SHAPES = [(12, 31, 5), (27, 9, 16), (11, 11, 3)]
# Two Python loops take a few hundredths of a second here; the vectorized versions a fraction of that.
# The reference's two loops take about 0.2 s of CPU time on this input; the vectorized versions far less.
TIMED_SHAPE = (100, 400, 64)
# How many times less CPU time than a two-loop version (the reference's) each version must need, on the
# timed input; the TODO banners of knn.ipynb state the same figures.
SPEEDUP = {"compute_distances_one_loop": 2, "compute_distances_no_loops": 5}
# A small distance matrix, but an array of all differences (num_test, num_train, D) would need more
# memory than the worker may use: 3.2 GB at least, a quarter more than the limit where that is larger.
WIDE_POINTS, WIDE_MIN_DIM = (400, 1000), 1000
LIBRARY_NAMES = {"norm", "scipy", "sklearn", "cdist", "pdist", "euclidean_distances", "distance_matrix"}


def _each_method(weight):
    """Parametrize a test over the three distance versions, each marked with its own target."""
    return each_target("method", {short: (f"KNearestNeighbor.{name}", weight, name) for short, name in METHODS.items()})


# -- helpers --------------------------------------------------------------------------------
def _points(rng, num_test, num_train, dim):
    return rng.normal(size=(num_test, dim)), rng.normal(size=(num_train, dim))


def _wide_shape(memory_bytes):
    """(num_test, num_train, D) whose float64 array of all differences is over ``memory_bytes`` by a quarter."""
    num_test, num_train = WIDE_POINTS
    return num_test, num_train, max(WIDE_MIN_DIM, -(-5 * memory_bytes // (4 * num_test * num_train * 8)))


def _trained(knn, X_train, y_train=None):
    """A classifier (student's or reference) holding X_train and y_train.

    The attributes are set directly, not through the student's train: only train's own
    tests judge train, so a mistake there costs no other method.
    """
    classifier = knn.KNearestNeighbor()
    classifier.X_train = X_train
    classifier.y_train = np.zeros(len(X_train), dtype=np.int64) if y_train is None else y_train
    return classifier


def _expected_distances(X, X_train):
    """The Euclidean distances by their definition, as the two-loop version computes them, shape (num_test, num_train).

    Whole-array, since the reference's two loops would cost a submission's grading most of a second.
    """
    return np.sqrt(((X[:, None, :] - X_train[None, :, :]) ** 2).sum(axis=2))


def _check_distances(dists, X, X_train, expected, what):
    """Shape, dtype and values of a distance matrix, naming the known mistakes."""
    num_test, num_train = len(X), len(X_train)
    if isinstance(dists, np.ndarray) and num_test != num_train and dists.shape == (num_train, num_test):
        raise Mistake(f"{what} has shape (num_train, num_test); it is transposed: "
                      "dists[i, j] must compare test example i with training example j")
    if isinstance(dists, np.ndarray) and dists.dtype.kind == "f" and np.isnan(dists).any():
        raise Mistake(f"{what} contains NaN: the square root of a slightly negative squared distance; "
                      "clip the squared distances at 0 before the square root")
    check_array(dists, (num_test, num_train), what)
    l1 = np.abs(X[:, None, :] - X_train[None, :, :]).sum(axis=2)
    plus = np.sqrt(((X[:, None, :] + X_train[None, :, :]) ** 2).sum(axis=2))
    diagnose(dists, expected, {
        "squared distances: take the square root": expected ** 2,
        "the distance matrix is transposed: dists[i, j] must compare test example i with training example j":
            expected.T,
        "L1 (Manhattan) distances instead of Euclidean (L2) ones": l1,
        "the product term has the wrong sign: (a - b)^2 = a^2 - 2ab + b^2": plus,
    }, what, rtol=1e-6, atol=1e-6)


def _correct_or_stop(student, rng, method):
    """Fail unless the method computes the right distances on a small input (rules need a working method)."""
    X, X_train = _points(rng, 6, 10, 4)
    dists = getattr(_trained(student, X_train), method)(X)
    if not close(dists, _expected_distances(X, X_train), rtol=1e-6, atol=1e-6):
        raise Mistake(f"{method} does not compute the right distances yet, so this check cannot give credit")


def _speedup(speed, rng, method):
    """(how many times less CPU time ``method`` needs than the reference's two loops, its distances, inputs)."""
    num_test, num_train, dim = TIMED_SHAPE
    points = draws(lambda: _points(rng, 2 * num_test, num_train, dim))

    def inputs(scale, draw):  # scale 2: twice the test examples, for the fallback that compares growth
        X, X_train = points(draw)
        return (X[:scale * num_test],), {"X_train": X_train, "y_train": np.zeros(num_train, dtype=np.int64)}

    ratio, dists = speed.ratio(method, "compute_distances_two_loops", inputs, cls="KNearestNeighbor",
                               needed=SPEEDUP[method])
    X, X_train = points(0)
    return ratio, dists, (X[:num_test], X_train)


def _check_speedup(ratio, method, hint):
    needed = SPEEDUP[method]
    if ratio < needed:
        raise Mistake(f"{method} needs more than 1/{needed} of the CPU time of a two-loop version on the "
                      f"same input; expected at most 1/{needed}: {hint}")


def _method_tree(student_code, method):
    """(the method's ast node, the cell's tree, the class's node) from the submitted class cell."""
    tree = parse_cell(student_code, CLASS_CELL)
    function, klass = find_function(tree, method, class_name="KNearestNeighbor")
    return function, tree, klass


def _loop_free_problem(function, tree, klass):
    """What breaks the no-loop rule in ``function`` or in a function of the cell it calls, or None."""
    banned = LIBRARY_NAMES | imported_aliases(tree, {"scipy", "sklearn"}, LIBRARY_NAMES)
    return loop_problem(function, tree, klass, banned,
                        ": compute the distances yourself, without np.linalg.norm, scipy or sklearn")


def _vote(dists, y_train, k, rule="smallest", farthest=False):
    """Predictions of a vote whose ties go to the "smallest", "largest" or "first" label (nearest first)."""
    order = np.argsort(-dists if farthest else dists, axis=1, kind="stable")[:, :k]
    predictions = []
    for row in order:
        labels = y_train[row]
        values, counts = np.unique(labels, return_counts=True)
        tied = set(values[counts == counts.max()].tolist())
        if rule == "smallest":
            predictions.append(min(tied))
        elif rule == "largest":
            predictions.append(max(tied))
        else:
            predictions.append(next(int(label) for label in labels if label in tied))
    return np.array(predictions)


# Counts of the distinct labels among the k nearest, per k: ties at the top, and a few clear winners.
TIE_PATTERNS = {5: [[2, 2, 1], [3, 1, 1]], 6: [[2, 2, 1, 1], [3, 3], [3, 2, 1]], 2: [[1, 1]], 3: [[1, 1, 1], [2, 1]]}


def _tied_votes(rng, k, num_test=20, num_labels=6, per_label=4):
    """(dists, y_train) whose rows put a chosen multiset of labels, in random order, nearest."""
    y_train = rng.permutation(np.repeat(np.arange(num_labels), per_label))
    dists = rng.uniform(2.0, 3.0, size=(num_test, len(y_train)))
    for i in range(num_test):
        patterns = TIE_PATTERNS[k]
        counts = patterns[0] if i % 4 else patterns[int(rng.integers(len(patterns)))]
        labels = rng.choice(num_labels, size=len(counts), replace=False)
        nearest = []
        for label, count in zip(labels, counts):
            nearest += list(rng.choice(np.flatnonzero(y_train == label), size=count, replace=False))
        nearest = rng.permutation(nearest)
        dists[i, nearest] = np.sort(rng.uniform(0.5, 1.5, size=len(nearest)))
    return dists, y_train


def _check_predictions(pred, num_test, what="the predicted labels"):
    """The labels as int64, judged by value: their dtype is one check of its own."""
    return check_labels(pred, (num_test,), what)


def _blobs(rng, num_points, num_classes=4, dim=6):
    """Overlapping Gaussian clusters in random order: most accuracies well between 0 and 1."""
    centres = rng.normal(scale=0.9, size=(num_classes, dim))
    y = rng.integers(num_classes, size=num_points)
    return clusters(rng, centres, y), y


def _trained_on_all_folds(reference, X, y, k_choices, num_folds):
    """The known mistake: the accuracies when the validation fold is also in the training data."""
    classifier = _trained(reference, X, y)
    result = {k: [] for k in k_choices}
    for X_fold, y_fold in zip(np.array_split(X, num_folds), np.array_split(y, num_folds)):
        dists = classifier.compute_distances_no_loops(X_fold)
        for k in k_choices:
            result[k].append(float(np.mean(classifier.predict_labels(dists, k=k) == y_fold)))
    return result


def _check_accuracy_table(table, k_choices, num_folds):
    """The structure of cross_validate_knn's result: a dict k -> num_folds fractions."""
    if not isinstance(table, dict):
        raise Mistake(f"cross_validate_knn should return a dict, not {describe_type(table)}")
    if set(table) != set(k_choices):
        raise Mistake("the keys of the returned dict must be exactly the values in k_choices")
    for k in k_choices:
        accuracies = table[k]
        if not isinstance(accuracies, (list, tuple, np.ndarray)) or len(accuracies) != num_folds:
            raise Mistake("each k must map to a list with one accuracy per fold (num_folds entries)")
        for a in accuracies:
            if not isinstance(a, (float, np.floating)):
                raise Mistake(f"each accuracy should be a float, not {describe_type(a)}")
            if not 0.0 <= a <= 1.0:
                raise Mistake("accuracies must be fractions between 0 and 1 (not percentages or counts)")


# A correct cross-validation takes the distances from a method of the student's class or from the
# reference, and the vote from the student's predict_labels or the reference's. The most common
# pairs come first; the all-student ones are also how a correct cross_validate_knn meets the class.
STUDENT_PARTS = [("compute_distances_no_loops", "student"), ("reference", "student"),
                 ("compute_distances_no_loops", "reference"), ("compute_distances_one_loop", "student"),
                 ("compute_distances_two_loops", "student"), ("compute_distances_one_loop", "reference"),
                 ("compute_distances_two_loops", "reference")]
CLASS_CELL_LABEL = f"{NOTEBOOK}:{CLASS_CELL}"
CV_CELL_LABEL = f"{NOTEBOOK}:cross_validate_knn"


class _Abandoned(Exception):
    """A run that cannot give the result it is compared with, or cannot go on (a timeout, a crash, the budget)."""


class _Failed(Exception):
    """A correct cross-validation fails on the student's class; ``signature`` says how and where."""

    def __init__(self, signature):
        super().__init__(signature)
        self.signature = signature


def _signature(exc):
    """How an exception looks from here: (where, its type as a message may name it[, line in the class cell]).

    Where: "class" (the student's class cell), "step" (cross_validate_knn's own code, or this
    side's copy of its step) or "elsewhere".
    """
    if isinstance(exc, StudentError):
        if exc.info["cell"] == CLASS_CELL_LABEL:
            return "class", exc.type_name, exc.info["line"]
        return ("step" if exc.info["cell"] == CV_CELL_LABEL else "elsewhere"), exc.type_name
    name = type(exc).__name__
    return "step", name if name in SHOWN_EXCEPTIONS else "an exception"


def _same_table(table, other):
    return all(close([float(a) for a in table[k]], other[k], rtol=0, atol=1e-9) for k in other)


class _CrossValidation:
    """Correct cross-validations of (X, y): with the reference's kNN, and with the student's own parts.

    cross_validate_knn calls the student's KNearestNeighbor, whose methods are graded targets of
    their own; so its result is right when it is the reference's, or what a correct cross-validation
    gives with the student's parts (a wrong vote then costs predict_labels only). Those runs are made
    here, fold by fold as the notebook's TODO asks (a fresh classifier trained on the other folds, the
    distances of fold i, one vote per k), each step a call into the worker. What a call leaves in its
    arguments is kept, as in a loop on the student's side: distances that centre fold i in place
    change the training data of the later folds.
    """

    def __init__(self, student, reference, X, y, k_choices, num_folds):
        self.student, self.reference = student, reference
        self.X, self.y, self.k_choices, self.num_folds = X, y, k_choices, num_folds
        self.expected = reference.cross_validate_knn(X, y, k_choices, num_folds=num_folds)
        self._student_class = None

    def known_mistakes(self):
        """Description -> the accuracies that known mistake gives (with the reference's kNN)."""
        return {
            "the validation fold is also part of the training data":
                _trained_on_all_folds(self.reference, self.X, self.y, self.k_choices, self.num_folds),
            "the folds come in reverse order": {k: v[::-1] for k, v in self.expected.items()},
        }

    def explains(self, table, X_after=None):
        """True if a correct run with the student's parts gives ``table`` (and X as ``X_after``, or unchanged)."""
        for parts in STUDENT_PARTS:
            try:
                self._run(*parts, like=(table, X_after))
                return True
            except (_Abandoned, _Failed):
                continue
        return False

    def fails_like(self, exc):
        """True if a correct run with the student's class raises as the student's cross_validate_knn did."""
        wanted = _signature(exc)
        for distances, vote in STUDENT_PARTS:
            if distances != "reference" and vote == "student":
                try:
                    self._run(distances, vote)
                except _Failed as failure:
                    if failure.signature == wanted:
                        return True
                except _Abandoned:
                    continue
        return False

    def _run(self, distances, vote, like=None):
        """The table of one correct run; ``like`` = (table, X after or None) abandons it at the first fold unlike it."""
        X = self.X.copy()
        X_folds, y_folds = np.array_split(X, self.num_folds), np.array_split(self.y, self.num_folds)
        table = {k: [] for k in self.k_choices}
        for i in range(self.num_folds):
            X_train = np.concatenate(X_folds[:i] + X_folds[i + 1:])
            y_train = np.concatenate(y_folds[:i] + y_folds[i + 1:])
            trusted = _trained(self.reference, X_train, y_train)
            classifier = self._student_trained(X_train, y_train)
            if distances == "reference":
                dists = trusted.compute_distances_no_loops(X_folds[i])
            else:
                dists, (X_fold_after,), _ = self._call(self._method(classifier, distances).inspect, X_folds[i])
                if isinstance(X_fold_after, np.ndarray) and X_fold_after.shape == X_folds[i].shape:
                    X_folds[i][...] = X_fold_after  # a view of X: the later folds train on it
            if vote == "reference" and not (isinstance(dists, np.ndarray) and dists.dtype.kind in "fiu"
                                            and dists.shape == (len(X_folds[i]), len(X_train))):
                raise _Abandoned("distances the reference's vote cannot use")
            student_vote = self._method(classifier, "predict_labels") if vote == "student" else None
            for k in self.k_choices:
                if student_vote is None:
                    pred = trusted.predict_labels(dists, k=k)
                else:
                    pred, (dists,), _ = self._call(student_vote.inspect, dists, k=k)
                try:  # cross_validate_knn's own step, on what the student's parts returned
                    table[k].append(float(np.mean(pred == y_folds[i])))
                except Exception as exc:
                    raise _Failed(_signature(exc)) from None
            if like is not None:
                self._abandon_unless_alike(like, table, i, X_folds[i])
        return table

    def _abandon_unless_alike(self, like, table, i, X_fold):
        wanted, X_after = like
        if not all(abs(float(wanted[k][i]) - table[k][i]) <= 1e-9 for k in self.k_choices):
            raise _Abandoned("other accuracies")
        if X_after is not None:
            rows = np.array_split(X_after, self.num_folds)[i]
            if not (np.array_equal(rows, np.array_split(self.X, self.num_folds)[i])
                    or close(rows, X_fold, rtol=1e-12, atol=1e-12)):
                raise _Abandoned("other changes to X")

    def _student_trained(self, X_train, y_train):
        """A fresh classifier of the student's, trained by the student's train (as cross_validate_knn does)."""
        if self._student_class is None:
            try:
                self._student_class = self.student.KNearestNeighbor
            except MissingDefinition:  # a correct cross_validate_knn meets an undefined name
                raise _Failed(("step", "NameError")) from None
            except StudentFault:
                raise _Abandoned("the class cannot be reached") from None
        classifier = self._call(self._student_class)
        self._call(self._method(classifier, "train"), X_train, y_train)
        return classifier

    def _method(self, classifier, name):
        return self._call(getattr, classifier, name)

    @staticmethod
    def _call(function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except StudentError as exc:
            raise _Failed(_signature(exc)) from None
        except StudentFault:  # never a failure a correct cross-validation shares: it earns nothing
            raise _Abandoned("a timeout, a crash or the end of the budget") from None


def _run_student(cv, call):
    """The student's cross_validate_knn by ``call``; None if it raises as a correct one does on the student's class.

    Then the class's own tests mark the mistake, and cross_validate_knn loses nothing for it. A
    timeout or a crash is never excused so: it may be the end of the submission's budget.
    """
    try:
        return call()
    except StudentError as exc:
        if cv.fails_like(exc):
            return None
        if isinstance(exc, StudentError) and exc.info["cell"] == CLASS_CELL_LABEL:
            where = f" at line {exc.info['line']} of its cell" if exc.info["line"] else ""
            raise Mistake(f"the error ({exc.type_name}{where}) came from your KNearestNeighbor class, whose own "
                          "tests mark its mistakes; a correct cross-validation does not meet it with your class, "
                          "so check what cross_validate_knn passes to it: a fresh classifier trained on the "
                          "other folds, the distances of fold i, and each k") from None
        raise


def _check_accuracies(cv, table, X_after=None):
    """The accuracies fold by fold (and X after the call): a correct cross-validation's, or a known mistake named."""
    if X_after is not None and not (isinstance(X_after, np.ndarray) and X_after.shape == cv.X.shape):
        unchanged(cv.X, X_after, "X")
    X_kept = X_after is None or np.array_equal(X_after, cv.X)
    if X_kept and _same_table(table, cv.expected):
        return
    for description, values in cv.known_mistakes().items():
        if _same_table(table, values):
            raise Mistake(f"the accuracies are wrong; it looks like {description}")
    if cv.explains(table, X_after):
        return
    if not X_kept and (_same_table(table, cv.expected) or cv.explains(table)):
        unchanged(cv.X, X_after, "X")
    raise Mistake("the accuracies differ from those of a correct cross-validation, with the reference's kNN or "
                  "with your own KNearestNeighbor: fold i must be np.array_split(X, num_folds)[i] (folds in order, "
                  "not shuffled), the training data all other folds, and each accuracy the fraction of fold i "
                  "predicted right")


# -- train -------------------------------------------------------------------------------------
def _stored(classifier, name):
    """What the student's train left in ``self.<name>``, as an array (an object that is none: an empty one)."""
    try:
        value = getattr(classifier, name)
    except StudentError as exc:
        if exc.type_name != "AttributeError":
            raise
        raise Mistake(f"after train, self.{name} does not exist: store the training data as self.X_train "
                      "and self.y_train, the names the other methods read") from None
    return np.asarray(value) if isinstance(value, (np.ndarray, list, tuple, int, float)) else np.empty(0)


@target("KNearestNeighbor.train", weight=2)
def test_train_stores_the_data_unchanged(student, rng):
    """train stores X and y as they are in self.X_train and self.y_train, and leaves them unchanged."""
    X, y = rng.normal(size=(9, 4)), rng.integers(5, size=9)
    classifier = student.KNearestNeighbor()
    _, (X_after, y_after), _ = classifier.train.inspect(X.copy(), y.copy())
    unchanged(X, X_after, "X")
    unchanged(y, y_after, "y")
    if not np.array_equal(_stored(classifier, "X_train"), X):
        raise Mistake("self.X_train does not hold the training examples X")
    y_train = _stored(classifier, "y_train")
    if not np.array_equal(y_train, y):
        raise Mistake("self.y_train does not hold the training labels y")
    if y_train.dtype.kind not in "iu":
        raise Mistake("self.y_train holds the labels as floats; store the integer labels y as they are "
                      "(predict_labels counts them with np.bincount)")


@target("KNearestNeighbor.train")
def test_training_again_replaces_the_data(student, rng):
    """Training a classifier a second time replaces the stored data."""
    classifier = student.KNearestNeighbor()
    classifier.train(rng.normal(size=(5, 3)), rng.integers(4, size=5))
    X, y = rng.normal(size=(7, 3)), rng.integers(4, size=7)
    classifier.train(X, y)
    if not (np.array_equal(_stored(classifier, "X_train"), X) and np.array_equal(_stored(classifier, "y_train"), y)):
        raise Mistake("after a second call of train, self.X_train and self.y_train must hold the new data")


# -- the three distance versions ------------------------------------------------------------------
@_each_method(2)
def test_distances_match_on_random_points(student, rng, method):
    """Euclidean distances of shape (num_test, num_train) match on random points of several shapes."""
    for shape in SHAPES:
        X, X_train = _points(rng, *shape)
        dists = getattr(_trained(student, X_train), method)(X)
        _check_distances(dists, X, X_train, _expected_distances(X, X_train), "the distance matrix")


@_each_method(1)
def test_distances_for_a_single_test_point(student, rng, method):
    """A single test point gives one row of distances to every training point."""
    X, X_train = _points(rng, 1, 23, 7)
    dists = getattr(_trained(student, X_train), method)(X)
    _check_distances(dists, X, X_train, _expected_distances(X, X_train),
                     "the distances of a single test point")


@_each_method(1)
def test_distances_leave_inputs_unchanged(student, rng, method):
    """X and the stored training data are unchanged after computing distances."""
    X, X_train = _points(rng, 8, 13, 5)
    y_train = rng.integers(3, size=13)
    classifier = _trained(student, X_train.copy(), y_train.copy())
    _, (X_after,), _ = getattr(classifier, method).inspect(X.copy())
    unchanged(X, X_after, "the test data X")
    unchanged(X_train, np.asarray(classifier.X_train), "the stored training data self.X_train")
    unchanged(y_train, np.asarray(classifier.y_train), "the stored labels self.y_train")


@target("KNearestNeighbor.compute_distances_one_loop")
def test_one_loop_has_one_loop_and_beats_two_loops(student, student_code, speed, rng):
    """The one-loop version has exactly one (not nested) loop and needs at most half the CPU time of two loops."""
    _correct_or_stop(student, rng, METHODS["one_loop"])
    loops = [n for n in ast.walk(_method_tree(student_code, METHODS["one_loop"])[0]) if isinstance(n, LOOP_NODES)]
    if len(loops) != 1:
        raise Mistake(f"compute_distances_one_loop should have exactly one loop, over the test examples; "
                      f"it has {len(loops)}")
    ratio, _, _ = _speedup(speed, rng, METHODS["one_loop"])
    _check_speedup(ratio, METHODS["one_loop"], "compute each row of distances with whole-array operations")


@target("KNearestNeighbor.compute_distances_no_loops")
def test_no_loops_handles_identical_points_far_from_the_origin(student, rng):
    """Identical points far from the origin are at distance (about) 0, never NaN."""
    X = rng.normal(size=(45, 10)) + rng.uniform(200.0, 400.0)
    dists = _trained(student, X.copy()).compute_distances_no_loops(X.copy())
    if isinstance(dists, np.ndarray) and dists.dtype.kind == "f" and np.isnan(dists).any():
        raise Mistake("got NaN: rounding leaves tiny negative squared distances; "
                      "clip the squared distances at 0 before the square root")
    dists = check_array(dists, (45, 45), "the distance matrix")
    if not np.allclose(np.diag(dists), 0.0, atol=1e-3):
        raise Mistake("a point must be at distance (about) 0 from itself")


@target("KNearestNeighbor.compute_distances_no_loops")
def test_no_loops_does_not_build_an_array_of_all_differences(student, reference, rng, limits):
    """No array of all differences, shape (num_test, num_train, D), is built: on wide data it would not fit."""
    X, X_train = _points(rng, *_wide_shape(limits.memory_bytes))
    try:
        dists = _trained(student, X_train).compute_distances_no_loops(X, _timeout=60)
    except StudentError as exc:
        if "MemoryError" in exc.type_name:
            raise Mistake("ran out of memory: do not build a (num_test, num_train, D) array of differences; "
                          "expand the square into a matrix product and two row sums") from None
        raise
    if not close(dists, _trained(reference, X_train).compute_distances_no_loops(X), rtol=1e-6, atol=1e-6):
        raise Mistake("the distances are wrong for many wide examples")


@target("KNearestNeighbor.compute_distances_no_loops")
def test_no_loops_source_has_no_loops_or_library_distances(student, student_code, rng):
    """compute_distances_no_loops has no Python loops or comprehensions and no np.linalg.norm/scipy/sklearn."""
    _correct_or_stop(student, rng, METHODS["no_loops"])
    problem = _loop_free_problem(*_method_tree(student_code, METHODS["no_loops"]))
    if problem:
        raise Mistake(f"{problem}; compute all distances with whole-array operations")


@target("KNearestNeighbor.compute_distances_no_loops")
def test_no_loops_is_much_faster_than_two_loops(student, speed, rng):
    """The no-loop version needs at most 1/5 of the CPU time of a two-loop version on the same input."""
    ratio, dists, (X, X_train) = _speedup(speed, rng, METHODS["no_loops"])
    if not close(dists, _expected_distances(X, X_train), rtol=1e-6, atol=1e-6):
        raise Mistake("the no-loop distances are wrong on the timed input, so the speed cannot earn credit")
    _check_speedup(ratio, METHODS["no_loops"], "use one matrix product and broadcasting")


# -- predict_labels ---------------------------------------------------------------------------------
@target("KNearestNeighbor.predict_labels")
def test_predict_labels_with_one_neighbour(student, reference, rng):
    """With k = 1 each test example gets the label of its nearest training example; dists unchanged."""
    dists, y_train = rng.uniform(0.5, 5.0, size=(17, 26)), rng.integers(7, size=26)
    classifier = _trained(student, rng.normal(size=(26, 3)), y_train)
    pred, (dists_after,), _ = classifier.predict_labels.inspect(dists.copy(), k=1)
    _check_predictions(pred, 17)
    diagnose(pred, _trained(reference, np.zeros((26, 3)), y_train).predict_labels(dists, k=1), {
        "the labels of the farthest training examples (argmax instead of argmin / a descending sort)":
            _vote(dists, y_train, 1, farthest=True),
    }, "the predicted labels", rtol=0, atol=0)
    unchanged(dists, dists_after, "dists")


@target("KNearestNeighbor.predict_labels")
def test_predicted_labels_are_an_integer_array(student, reference, rng):
    """predict_labels returns a numpy array of integer labels (as its starter code's y_pred), not floats."""
    dists, y_train = rng.uniform(0.5, 5.0, size=(9, 15)), rng.integers(5, size=15)
    pred = _trained(student, np.zeros((15, 2)), y_train).predict_labels(dists, k=1)
    expected = _trained(reference, np.zeros((15, 2)), y_train).predict_labels(dists, k=1)
    if not np.array_equal(_check_predictions(pred, 9), expected):
        raise Mistake("predict_labels does not give the right labels yet (with k = 1), so its dtype cannot "
                      "earn credit")
    check_label_dtype(pred, (9,), "the predicted labels")


@target("KNearestNeighbor.predict_labels", weight=2)
def test_vote_ties_go_to_the_smallest_label(student, reference, rng):
    """When labels tie for the most votes among the k nearest, the smallest label wins."""
    for k in TIE_PATTERNS:
        dists, y_train = _tied_votes(rng, k)
        X_train = np.zeros((len(y_train), 2))
        pred = _check_predictions(_trained(student, X_train, y_train).predict_labels(dists, k=k), len(dists))
        expected = _trained(reference, X_train, y_train).predict_labels(dists, k=k)
        diagnose(pred, expected, {
            "a tie goes to the largest label; it must go to the smallest": _vote(dists, y_train, k, "largest"),
            "a tie goes to the label seen first among the nearest; it must go to the smallest label":
                _vote(dists, y_train, k, "first"),
            "only the nearest neighbour votes (k is ignored)": _vote(dists, y_train, 1),
            "the farthest training examples vote instead of the nearest": _vote(dists, y_train, k, farthest=True),
        }, "the vote with tied labels", rtol=0, atol=0)


@target("KNearestNeighbor.predict_labels")
def test_vote_for_large_k_and_a_single_test_point(student, reference, rng):
    """The majority vote for larger k (up to k = num_train) and for a single test point."""
    num_train = 21
    dists, y_train = rng.uniform(0.5, 5.0, size=(14, num_train)), rng.integers(4, size=num_train)
    classifier = _trained(student, np.zeros((num_train, 2)), y_train)
    trusted = _trained(reference, np.zeros((num_train, 2)), y_train)
    cases = [(dists, 7, "the vote of the k nearest"), (dists, num_train, "the vote of all training examples"),
             (dists[:1], 4, "the vote for a single test point")]
    for rows, k, what in cases:
        pred = _check_predictions(classifier.predict_labels(rows, k=k), len(rows))
        diagnose(pred, trusted.predict_labels(rows, k=k), {
            "only the nearest neighbour votes (k is ignored)": _vote(rows, y_train, 1),
            "the farthest training examples vote instead of the nearest": _vote(rows, y_train, k, farthest=True),
        }, what, rtol=0, atol=0)


# -- cross_validate_knn -------------------------------------------------------------------------------
# Each test judges cross_validate_knn alone: its accuracies may be the reference's or those a correct
# cross-validation gets from the student's own KNearestNeighbor, and where a correct one fails on that
# class, so may the student's (the class's tests mark the class's mistakes).
@target("cross_validate_knn")
def test_cross_validation_returns_one_fraction_per_fold_and_k(student, reference, rng):
    """The result maps each k in k_choices to a list of num_folds accuracies between 0 and 1."""
    X, y = _blobs(rng, 34)
    k_choices = [4, 1, 6]
    cv = _CrossValidation(student, reference, X, y, k_choices, 4)
    table = _run_student(cv, lambda: student.cross_validate_knn(X, y, k_choices, num_folds=4))
    if table is not None:
        _check_accuracy_table(table, k_choices, 4)


@target("cross_validate_knn", weight=2)
def test_cross_validation_accuracies_match_fold_by_fold(student, reference, rng):
    """Five folds in np.array_split order: every accuracy matches, fold by fold, for every k."""
    X, y = _blobs(rng, 47)
    k_choices = [1, 2, 5, 8]
    cv = _CrossValidation(student, reference, X, y, k_choices, 5)
    table = _run_student(cv, lambda: student.cross_validate_knn(X, y, k_choices, num_folds=5))
    if table is not None:
        _check_accuracy_table(table, k_choices, 5)
        _check_accuracies(cv, table)


@target("cross_validate_knn")
def test_cross_validation_with_three_folds_leaves_inputs_unchanged(student, reference, rng):
    """Three uneven folds give the expected accuracies, and X and y are unchanged."""
    X, y = _blobs(rng, 31)
    k_choices = [3, 1]
    cv = _CrossValidation(student, reference, X, y, k_choices, 3)
    result = _run_student(cv, lambda: student.cross_validate_knn.inspect(X.copy(), y.copy(), k_choices, num_folds=3))
    if result is not None:
        table, (X_after, y_after, _), _ = result
        _check_accuracy_table(table, k_choices, 3)
        _check_accuracies(cv, table, X_after)
        unchanged(y, y_after, "y")
