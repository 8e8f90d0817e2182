"""A failed hidden test's report carries only the exception's type: pytest never formats its traceback."""
from _pytest import nodes

from autograder.pipeline import grade_submission
from autograder.reference import RELEASE


def test_grading_a_blank_notebook_formats_no_traceback(monkeypatch):
    formatted = []
    original = nodes.Node._repr_failure_py
    monkeypatch.setattr(nodes.Node, "_repr_failure_py",
                        lambda self, *args, **kwargs: formatted.append(self.nodeid) or original(self, *args, **kwargs))
    result = grade_submission(RELEASE / "assignment1", notebooks=["gradient_check.ipynb"])
    failed = [t for t in result.tests if t.score < t.max_score]
    assert result.status == "graded" and failed  # the unanswered TODOs fail ...
    assert all(t.message for t in failed)  # ... each with its own message, from the exception itself
    assert formatted == []  # ... and pytest parsed no frame's source to describe them
