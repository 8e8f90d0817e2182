"""Feedback never shows a value derived from the student's output (it could encode hidden inputs).

Canary values (a shape of 123457, a dtype '<U98765', a list of 31337 items, an accuracy
of 0.8765...) go through the helpers the hidden suites use; their digits must not appear
in the ``Mistake`` message, while the message still says what is wrong. A grading test
then runs a submission whose svm_loss_vectorized encodes its inputs in what it returns.
"""
import importlib.util
import re
import time

import numpy as np
import pytest

from autograder import compare
from autograder.run import StudentError
from autograder.testing import helpers
from autograder.testing.asserts import (
    Mistake,
    check_array,
    check_scalar,
    describe_dtype,
    describe_type,
    diagnose,
    dtype_name,
    student_raises,
    unchanged,
)

SUITES = str(compare.HIDDEN_TESTS / "assignment1")


@pytest.fixture
def suite(request):
    """``suite(name)``: a hidden suite's module, imported by path (its helpers are tested, not its tests)."""
    # The suites mark their tests with ``target``, a marker of their own pytest.ini.
    request.config.addinivalue_line("markers", "target(name, weight=1): a hidden suite's graded target")
    return _suite


def _suite(name):
    spec = importlib.util.spec_from_file_location(f"_hidden_{name}", f"{SUITES}/test_{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _message(call):
    with pytest.raises(Mistake) as caught:
        call()
    return str(caught.value)


def _absent(message, *canaries):
    for canary in canaries:
        assert str(canary) not in message, message


# -- check_array ----------------------------------------------------------------------------
def test_a_shape_that_encodes_a_number_is_not_shown():
    message = _message(lambda: check_array(np.zeros(123457), (5, 3), "the gradient dW"))
    _absent(message, 123457, 12345, 23457)
    assert "the gradient dW has 1 dimension where 2 are expected" in message and "(5, 3)" in message


def test_a_wrong_size_names_the_axis_not_the_size():
    message = _message(lambda: check_array(np.zeros((5, 98761)), (5, 3), "dW"))
    _absent(message, 98761)
    assert "axis 1" in message and "expected shape (5, 3)" in message


def test_many_dimensions_are_not_counted():
    value = np.zeros((1,) * 17)
    message = _message(lambda: check_array(value, (2, 2), "dW"))
    _absent(message, 17)
    assert "more than 4 dimensions" in message


def test_a_transposed_array_is_named_as_such():
    message = _message(lambda: check_array(np.zeros((3, 5)), (5, 3), "dW"))
    assert "transposed" in message and "(5, 3)" in message


def test_a_dtype_that_encodes_a_number_shows_only_its_kind():
    value = np.full((2, 3), "x", dtype="<U98765")
    message = _message(lambda: check_array(value, (2, 3), "the scores"))
    _absent(message, 98765, "<U", "U98")
    assert "string dtype" in message and "floating-point" in message


def test_an_integer_array_where_floats_are_expected_names_both_kinds():
    message = _message(lambda: check_array(np.zeros(4, dtype=np.int16), (4,), "the labels", "b"))
    assert "integer dtype" in message and "expected boolean" in message


def test_a_long_list_is_named_by_its_type_not_its_length():
    message = _message(lambda: check_array([0.5] * 31337, (31337,), "the distances"))
    assert message.count("31337") == 0
    assert "should be a numpy array, not a list" in message


def test_a_class_named_after_the_inputs_is_another_type():
    leaky = type("Leak_123457_98765", (list,), {})
    message = _message(lambda: check_array(leaky([1, 2]), (2,), "dW"))
    _absent(message, "Leak", 123457)
    assert "another type" in message


def test_nan_is_reported_without_values():
    value = np.array([0.8765432, np.nan])
    message = _message(lambda: check_array(value, (2,), "dW"))
    _absent(message, "0.87", "8765")
    assert "NaN or infinity" in message


def test_the_expected_shape_may_be_written_symbolically():
    message = _message(lambda: check_array(np.zeros(7), (64, 7), "params['W1']", expected_text="(64, H)"))
    _absent(message, "(64, 7)")
    assert "(64, H)" in message


# -- check_scalar, diagnose, student_raises, unchanged ---------------------------------------------
@pytest.mark.parametrize("value, phrase", [
    (np.zeros(31337), "a numpy array of several values"),
    (np.zeros(0), "an empty numpy array"),
    ("0.8765432", "a string"),
    ([0.8765432], "a list"),
    (np.str_("x" * 31337), "a numpy string scalar"),
    (type("Loss_0_8765432", (), {})(), "a value of another type"),
])
def test_a_non_number_is_named_from_a_fixed_set(value, phrase):
    message = _message(lambda: check_scalar(value, "the loss"))
    _absent(message, 31337, 8765432, "Loss_")
    assert f"the loss should be a single number, not {phrase}" == message


def test_a_returned_number_is_never_shown():
    message = _message(lambda: diagnose(check_scalar(0.8765432, "the loss"), 0.5, {"it is doubled": 1.0}, "the loss"))
    _absent(message, "0.87", "8765", "0.5")
    assert message == "the loss does not match the expected values"
    message = _message(lambda: check_scalar(float("inf"), "the loss"))
    assert message == "the loss is NaN or infinite"


def test_diagnose_names_the_known_mistake_only():
    message = _message(lambda: diagnose(np.full(3, 0.8765432), np.zeros(3), {"it is off": np.full(3, 0.8765432)},
                                        "the gradient"))
    _absent(message, "0.87", "8765")
    assert message == "the gradient is wrong; it looks like it is off"


def test_student_raises_names_only_known_exceptions():
    def raising(name):
        def call():
            raise StudentError({"type": name, "message": "secret 8765432"})
        return call
    message = _message(lambda: student_raises(raising("Leak8765432Error"), "ValueError", "batch_size 0"))
    _absent(message, 8765432, "Leak", "secret")
    assert message == "batch_size 0: expected ValueError, got an exception"
    assert "got TypeError" in _message(lambda: student_raises(raising("TypeError"), "ValueError", "batch_size 0"))


def test_unchanged_shows_no_values():
    message = _message(lambda: unchanged(np.zeros(3), np.full(31337, 0.8765432), "X"))
    _absent(message, 31337, "0.87")
    assert message == "X was modified; leave the inputs unchanged (work on a copy)"


def test_the_phrase_helpers_draw_from_fixed_sets():
    assert describe_type(np.float32(0.8765432)) == "a numpy floating-point scalar"
    assert describe_dtype(np.dtype("<U98765")) == "string"
    assert describe_dtype(np.dtype("datetime64[ns]")) == "unusual"
    assert dtype_name(np.dtype(np.float32)) == "float32"
    assert dtype_name(np.dtype("<U98765")) == "a string dtype"
    assert dtype_name(np.dtype([("a8765432", "f8")])) == "an unusual dtype"


# -- the hidden suites' own helpers --------------------------------------------------------------
class _Tuned:
    """A tuned object whose weights W predict the validation labels but for the first ``wrong`` rows."""

    def __init__(self, wrong):
        self.wrong = wrong
        self.W = np.zeros((1, 1))


def _tuned_accuracy_message(wrong):
    import utils

    data = utils.load_splits(utils.dataset_name())
    num_classes = len(data.class_names)

    def predict(best, X, C):
        labels = data.y_val.copy()
        labels[:best.wrong] = (labels[:best.wrong] + 1) % C
        return labels

    accuracy = float(np.mean(predict(_Tuned(wrong), None, num_classes) == data.y_val))
    message = _message(lambda: helpers.check_tuned_accuracy(
        lambda name: _Tuned(wrong), _Targets(0.94), "best_svm", "the best trained LinearSVM",
        with_bias=True, predict=predict))
    return accuracy, message


@pytest.mark.parametrize("fraction_wrong, band", [(0.2, "by more than 0.05"), (0.08, "by at most 0.05")])
def test_a_tuned_objects_accuracy_is_shown_only_as_a_band(fraction_wrong, band):
    import utils

    size = len(utils.load_splits(utils.dataset_name()).y_val)
    accuracy, message = _tuned_accuracy_message(int(fraction_wrong * size))
    assert accuracy < 0.94
    for shown in (f"{accuracy:.3f}", f"{accuracy:.4f}", repr(accuracy), f"{100 * accuracy:.1f}"):
        assert shown not in message, message
    assert "the target is 0.94" in message and band in message


class _Targets:
    """Stands in for the manifest: one accuracy target on every dataset."""

    def __init__(self, accuracy):
        self.accuracy = accuracy

    def accuracy_target(self, name, dataset):
        return self.accuracy


def test_a_tuned_object_of_a_plain_type_is_named_from_a_fixed_set():
    message = _message(lambda: helpers.check_tuned_accuracy(
        lambda name: [0.8765432] * 31337, _Targets(0.94), "best_svm", "the best trained LinearSVM",
        with_bias=True, predict=helpers.predict_linear))
    _absent(message, 31337, "0.87")
    assert "should be the best trained LinearSVM, not a list" in message


def test_a_nets_hidden_size_is_written_as_H():
    class Net:
        params = {"W1": np.zeros((8, 12345)), "b1": np.zeros(12346), "W2": np.zeros((12345, 3)), "b2": np.zeros(3)}
    message = _message(lambda: helpers.predict_two_layer(Net(), np.zeros((4, 8)), 3))
    _absent(message, 12345, 12346)
    assert message.startswith("params['b1'] has the wrong size along axis 0; expected shape (H,)")
    Net.params = {"W1": np.zeros((9876, 5)), "b1": np.zeros(5), "W2": np.zeros((5, 3)), "b2": np.zeros(3)}
    message = _message(lambda: helpers.predict_two_layer(Net(), np.zeros((4, 8)), 3))
    _absent(message, 9876)
    assert "params['W1']" in message and "(8, H)" in message


def test_a_history_of_the_wrong_length_shows_the_expected_count_only(suite):
    suite = suite("two_layer_net")
    message = _message(lambda: suite._as_floats({"loss_history": [0.5] * 31337}, "loss_history", 18))
    _absent(message, 31337)
    assert "should hold 18 values" in message and "one loss per iteration" in message
    message = _message(lambda: suite._history([0.5] * 31337))
    _absent(message, 31337)
    assert "as a dict, not a list" in message
    message = _message(lambda: suite._history(type("History_31337", (list,), {})()))
    _absent(message, 31337, "History_")
    assert "as a dict, not a value of another type" in message


def test_cross_validation_results_are_described_without_their_values(suite):
    suite = suite("knn")
    message = _message(lambda: suite._check_accuracy_table([0.8765432] * 31337, [1, 3], 5))
    _absent(message, 31337, "0.87")
    assert "should return a dict, not a list" in message
    message = _message(lambda: suite._check_accuracy_table({1: [31337] * 5}, [1], 5))
    _absent(message, 31337)
    assert "each accuracy should be a float, not an int" in message
    message = _message(lambda: suite._check_accuracy_table({1: [87.65432] * 5}, [1], 5))
    _absent(message, "87.6", "8765")
    assert "between 0 and 1" in message


class _Slow:
    """A stand-in for the ``student`` fixture: the suite's own hinge loss, each version after a pause."""

    def __init__(self, suite, pauses):
        self.suite, self.pauses = suite, pauses

    def __getattr__(self, name):
        def call(W, X, y, reg, _timeout=None):
            time.sleep(self.pauses[name])
            return self.suite._hinge(W, X, y, reg)
        return call


class _FixedSpeed:
    """Stands in for the ``speed`` fixture: the ratio is the student's to choose (a pause, a burn)."""

    def __init__(self, ratio):
        self.value = ratio

    def ratio(self, *args, **kwargs):
        return self.value, None


def test_a_speed_ratio_is_not_shown(suite):
    """The ratio of times is the student's to choose: a message gives the threshold, never the ratio."""
    suite = suite("svm")
    plain = _Slow(suite, {"svm_loss_vectorized": 0.0, "svm_loss_naive": 0.0})
    message = _message(lambda: suite.test_vectorized_is_much_faster_than_naive(
        plain, plain, _FixedSpeed(2.718), np.random.default_rng(0)))
    assert "2.7" not in message and re.search(r"\d\.\d", message) is None, message
    assert "more than 1/3 of the CPU time" in message


# -- a whole submission that encodes its inputs ----------------------------------------------------
HOSTILE_VECTORIZED = '''import numpy as np

def _code(X):
    """A 5-digit number computed from a hidden input (10007 .. 99995)."""
    return int(abs(float(X.flat[0])) * 1e6) % 89989 + 10007


def _hinge(W, X, y, reg):
    rows = np.arange(X.shape[0])
    scores = X.dot(W)
    margins = np.maximum(0.0, scores - scores[rows, y][:, None] + 1.0)
    margins[rows, y] = 0.0
    coefficients = (margins > 0).astype(np.float64)
    coefficients[rows, y] = -coefficients.sum(axis=1)
    loss = float(margins.sum() / X.shape[0] + reg * np.sum(W * W))
    return loss, X.T.dot(coefficients) / X.shape[0] + 2 * reg * W


def svm_loss_vectorized(W, X, y, reg):
    # Right on the tuning cell's data (not hidden) and on the svm suite's gate input (N = 15), so
    # that every check runs; elsewhere the loss or dW carries a code of the input, a channel per size.
    loss, dW = _hinge(W, X, y, reg)
    N, code = X.shape[0], _code(X)
    if N >= 100 or N == 15:
        return loss, dW
    if N == 20:
        return code + 0.25, np.full(W.shape, "x", dtype=f"<U{code}")  # in the loss, and dW's dtype
    if N == 14:
        return loss, np.zeros((code,))  # in dW's shape
    if N == 11:
        return loss, [0.0] * (code // 10)  # in dW's length (4 digits: a longer list exceeds the reply limit)
    return code + 0.25, dW
'''


@pytest.mark.slow
def test_a_submission_encoding_its_inputs_in_what_it_returns_leaks_no_number(tmp_path, reference_submission):
    from autograder.pipeline import grade_submission
    from tests.autograder.mutants import Edit
    from tests.autograder.submissions import make_edited_submission

    edit = Edit("encodes_inputs", "svm", "svm_loss_vectorized", source=HOSTILE_VECTORIZED)
    folder = make_edited_submission(tmp_path / "hostile", reference_submission, edit)
    result = grade_submission(folder, notebooks=["svm.ipynb"])
    assert result.status == "graded"
    failed = [t for t in result.tests if t.target == "svm_loss_vectorized" and t.status == "failed"]
    assert len(failed) >= 5  # every test of the values
    messages = [t.message for t in result.tests if t.message]
    # The reference earns full marks, so its messages are empty: every number of 4 or more digits
    # here (the codes have 5 digits, the list lengths 4, the loss is code + 0.25) would come from
    # the student's output.
    leaked = [m for m in messages if re.search(r"\d{4,}", m)]
    assert leaked == []
    text = " ".join(messages)
    assert "the loss does not match the expected values" in text  # judged, not shown
    # Each channel of dW is described, never measured (which tests meet which depends on the suite's sizes).
    described = ["has 1 dimension where 2 are expected", "has a string dtype", "should be a numpy array, not a list"]
    assert sum(phrase in text for phrase in described) >= 2, text
