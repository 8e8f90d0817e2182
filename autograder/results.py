"""The grader's results, typed from the hidden tests to the writers (DESIGN.md, result JSON).

A result becomes a dict only where it is written (``to_dict``) and becomes a
result again where a results folder is read back (``from_dict``); everything
in between (the pool, the gradebook, the reports, the command line) reads
attributes.
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field

from autograder import __version__

STATUSES = ("graded", "invalid_submission", "grader_error")  # of a SubmissionResult, in report order


@dataclass
class TestResult:
    """One hidden test's result, as reported.

    ``message`` is what a student reads: what was checked and, when the test did
    not pass, what went wrong; ``checked`` and ``problem`` are its two parts.
    """

    __test__ = False  # not a pytest test class, despite its name

    id: str
    notebook: str
    target: str
    grade_id: str
    score: float
    max_score: float
    status: str  # passed, failed, error, timeout
    message: str  # outcomes.join_message(checked, problem); "" when passed
    checked: str = ""
    problem: str = ""

    @property
    def mistake(self):
        """What went wrong, else what was checked (for counting common mistakes)."""
        return (self.problem or self.checked).strip() or "(no message)"

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**_known(cls, data))


@dataclass
class SubmissionResult:
    """One graded submission.

    ``status`` is ``graded``, ``invalid_submission`` (no notebook could be read)
    or ``grader_error`` (the grader failed: never the student's zero).
    """

    student: str
    assignment: str
    status: str
    score: float
    max_score: float
    tests: list = field(default_factory=list)  # of TestResult
    problems: dict = field(default_factory=dict)  # notebook -> what was wrong with the file
    error: str = ""  # the grader's error, for grader_error
    grader_version: str = __version__
    isolation: str = ""  # sandbox.LEVELS
    cpu_counting: str = ""  # how its workers' CPU time was counted: run.Worker.cpu_counting, ", "-joined if several
    limits: dict = field(default_factory=dict)  # limits.Limits.to_dict()
    seconds: float = 0.0  # wall time of grading it
    cpu_seconds: float = 0.0  # the grader's and its workers' CPU time
    timings: dict = field(default_factory=dict)  # where the time went: pipeline._timings (per phase, peak memory)
    fingerprint: str = ""  # versioning.submission_fingerprint of the files graded
    folder: str = ""  # where the files were

    def cells(self):
        """{(notebook, grade_id): (score, max_score)} of its grade cells."""
        return cell_scores(self.tests)

    @property
    def graded(self):
        """True unless the grader failed (a score of an invalid submission is a real 0)."""
        return self.status != "grader_error"

    def to_dict(self, timings=True):
        """The result JSON: scores rounded to 4 places, empty fields left out.

        ``timings=False`` leaves out the times too (and ``timings``), which vary from run to run.
        """
        data = dataclasses.asdict(self)
        data.update(score=round(self.score, 4), max_score=round(self.max_score, 4),
                    seconds=round(self.seconds, 3), cpu_seconds=round(self.cpu_seconds, 3),
                    timings={key: round(value, 3) for key, value in self.timings.items()})
        if not timings:
            del data["seconds"], data["cpu_seconds"], data["timings"]
        for optional in ("problems", "error", "fingerprint", "folder", "timings"):
            if optional in data and not data[optional]:
                del data[optional]
        return data

    @classmethod
    def from_dict(cls, data):
        """A result read back from its JSON (keys this version does not know are ignored)."""
        known = _known(cls, data)
        known["tests"] = [TestResult.from_dict(test) for test in known.get("tests", [])]
        return cls(**known)


def cell_scores(results):
    """{(notebook, grade_id): (score, max_score)} summed over each grade cell's tests."""
    totals = defaultdict(lambda: [0.0, 0.0])
    for result in results:
        totals[(result.notebook, result.grade_id)][0] += result.score
        totals[(result.notebook, result.grade_id)][1] += result.max_score
    return {key: (round(s, 6), round(m, 6)) for key, (s, m) in totals.items()}


def _known(cls, data):
    names = {f.name for f in dataclasses.fields(cls)}
    return {key: value for key, value in data.items() if key in names}
