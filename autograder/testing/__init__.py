"""The hidden-test API: everything a hidden suite imports, from one place (``docs/authoring.md``).

A hidden suite is an ordinary pytest module in ``autograder/hidden_tests/<assignment>/``.

Fixtures (given by the grader's plugin, ``autograder.compare``)
    ``student``: the student's notebook, loaded in the sandboxed worker; ``student.f(...)``
    calls ``f`` there and takes the call options ``_timeout``, ``_seed``, ``_replace`` and
    ``_warnings`` (``autograder.proxy``). ``reference``: the reference solution, in this
    process. ``rng``: a ``numpy.random.Generator`` seeded per test. ``tuned``: runs a
    tuning cell and returns the object it leaves. ``student_code``: the submitted source,
    for rules on it. ``manifest``: the assignment's manifest. ``speed``: timing (``autograder.timing``).

The target marker
    ``@target("svm_loss_vectorized", weight=2)``: the graded target a test belongs to and its
    share of that grade cell's points. A test's docstring is what the student reads it checked.

Assertions that write student-safe messages (``asserts``)
    ``Mistake``, ``check_array``, ``check_labels``, ``check_label_dtype``, ``check_scalar``,
    ``check_number``, ``close``, ``diagnose``, ``unchanged``, ``student_raises``,
    ``describe_type``, ``dtype_name``.

What the student's code can raise (``autograder.run``)
    ``StudentError`` (it raised; ``.type_name``), ``StudentFault`` (it hung or crashed),
    ``SHOWN_EXCEPTIONS``, ``MissingDefinition`` (it does not define the name).

Shared helpers (``helpers``) and rules on the source (``source_rules``)
    ``each_target``, ``clusters``, ``draws``, ``row_indices``, ``seeded``, ``scaled_atol``, ``returned_pair``,
    ``check_loss_pair``, ``inputs_unchanged``, ``check_tuned_accuracy``, ``predict_linear``, ``predict_two_layer``, ``ACCURACY_BAND``;
    ``parse_cell``, ``find_function``, ``loop_problem``, ``imported_aliases``, ``reachable_functions``.
"""
import pytest

from autograder.proxy import MissingDefinition
from autograder.run import SHOWN_EXCEPTIONS, StudentError, StudentFault
from autograder.testing.asserts import (
    Mistake,
    check_array,
    check_label_dtype,
    check_labels,
    check_number,
    check_scalar,
    close,
    describe_type,
    diagnose,
    dtype_name,
    student_raises,
    unchanged,
)
from autograder.testing.helpers import (
    ACCURACY_BAND,
    check_loss_pair,
    check_tuned_accuracy,
    clusters,
    draws,
    each_target,
    inputs_unchanged,
    predict_linear,
    predict_two_layer,
    returned_pair,
    row_indices,
    scaled_atol,
    seeded,
)
from autograder.testing.source_rules import (
    LOOP_NODES,
    find_function,
    imported_aliases,
    loop_problem,
    names,
    parse_cell,
    reachable_functions,
)


def target(name, weight=1.0):
    """Mark a test as one of graded target ``name``'s, earning ``weight`` shares of its grade cell's points."""
    return pytest.mark.target(name, weight=weight)


__all__ = [
    "ACCURACY_BAND", "LOOP_NODES", "SHOWN_EXCEPTIONS", "MissingDefinition", "Mistake", "StudentError",
    "StudentFault", "check_array", "check_label_dtype", "check_labels", "check_number", "check_scalar",
    "check_loss_pair", "check_tuned_accuracy", "close", "clusters", "describe_type", "diagnose", "draws",
    "dtype_name", "each_target",
    "find_function", "imported_aliases", "inputs_unchanged", "loop_problem", "names", "parse_cell", "predict_linear",
    "predict_two_layer", "reachable_functions", "returned_pair", "row_indices", "scaled_atol", "seeded",
    "student_raises", "target", "unchanged",
]
