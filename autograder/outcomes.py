"""A hidden test's outcome before scoring, and the message policy: what a student may read of a failure.

A message is two parts, kept apart until a report joins them: what the test
checks (its docstring's first line) and what went wrong (a ``Mistake``'s text,
a fault of the student's code in the grader's words, or nothing when nothing
more is known). Both are the suite's or the grader's words, never text from
the worker.
"""
from __future__ import annotations

from dataclasses import dataclass

from autograder.testing.asserts import Mistake
from autograder.run import StudentFault


@dataclass
class Outcome:
    """What one hidden test found (before scoring)."""

    nodeid: str
    notebook: str
    target: str
    grade_id: str
    name: str
    weight: float
    status: str  # passed, failed, error, timeout
    checked: str = ""  # what the test checks (its docstring's first line); set when it did not pass
    problem: str = ""  # what went wrong, in the suite's or the grader's words; "" when nothing more is known

    @property
    def message(self):
        return join_message(self.checked, self.problem)


def join_message(checked, problem):
    """The one-line message of a test that did not pass: what was checked — what went wrong."""
    return f"{checked} — {problem}" if problem else checked


def classify(excinfo, item):
    """(status, what was checked, what went wrong) for a failed test, all student-safe."""
    doc = (item.function.__doc__ or "").strip().splitlines()
    described = doc[0] if doc else item.name.replace("_", " ")
    if excinfo is None:
        return "error", described, ""
    exc = excinfo.value
    if isinstance(exc, StudentFault):
        return exc.status, described, str(exc)
    if isinstance(exc, Mistake):
        return "failed", described, str(exc)
    if isinstance(exc, AssertionError):
        return "failed", described, ""
    # The check itself broke on what the student's code returned.
    return "error", described, f"the check could not use what your code returned ({type(exc).__name__})"
