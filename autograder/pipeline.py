"""One submission through every stage: read, extract, run, compare, score (report is separate).

``grade_submission`` is the one function that runs the stages top to bottom.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from autograder import __version__
from autograder.compare import GradingContext, run_hidden_suites
from autograder.errors import CompareError, GraderError
from autograder.extract import extract
from autograder.limits import load_limits
from autograder.read import read_submission, worker_copy
from autograder.reference import references
from autograder.run import StudentSession
from autograder.sandbox import detect
from autograder.score import cell_scores, score


@dataclass
class SubmissionResult:
    """The graded submission, in the shape of the result JSON (DESIGN.md)."""

    student: str
    assignment: str
    status: str  # graded, invalid_submission, grader_error
    score: float
    max_score: float
    tests: list = field(default_factory=list)  # of score.TestResult
    problems: dict = field(default_factory=dict)
    error: str = ""
    grader_version: str = __version__
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the grader's and its workers' CPU time (not in to_dict: varies)
    isolation: str = ""  # sandbox.LEVELS
    limits: dict = field(default_factory=dict)  # limits.Limits.to_dict()

    def to_dict(self):
        data = {
            "student": self.student, "assignment": self.assignment, "status": self.status,
            "score": round(self.score, 4), "max_score": round(self.max_score, 4),
            "tests": [test.to_dict() for test in self.tests],
            "grader_version": self.grader_version,
            "isolation": self.isolation, "limits": self.limits,
        }
        if self.problems:
            data["problems"] = self.problems
        if self.error:
            data["error"] = self.error
        return data

    def cells(self):
        return cell_scores(self.tests)


def grade_submission(folder, assignment="assignment1", student=None, notebooks=None,
                     limits=None, isolation=None):
    """Grade one submission folder.

    Parameters
    ----------
    folder : path
        The folder holding the student's notebooks.
    notebooks : iterable of str, optional
        Grade only these notebooks (file names); default every notebook of the assignment.

    Returns
    -------
    SubmissionResult
        ``status`` is ``grader_error`` (never a student's zero) when the grader
        itself failed; ``invalid_submission`` when no notebook could be read.
    """
    start, cpu_start = time.perf_counter(), time.process_time()
    refs = references(assignment)
    limits = limits or load_limits(assignment)
    isolation = isolation or detect()
    wanted = tuple(notebooks or refs.notebooks)
    submission = read_submission(folder, wanted, assignment, student)
    points = {key: value for key, value in refs.points().items() if key[0] in wanted}
    max_score = sum(points.values())
    common = dict(problems=submission.problems, isolation=isolation.level, limits=limits.to_dict())
    try:
        extracted = {name: extract(name, submission.notebooks.get(name), refs.notebook(name)) for name in wanted}
        # The worker gets the notebooks as read here (any encoding or format repaired), never the files;
        # all of the assignment's, since one notebook may load another (softmax loads svm).
        siblings = read_submission(folder, [n for n in refs.notebooks if n not in wanted], assignment, student)
        copies = {name: worker_copy(nb) for name, nb in {**siblings.notebooks, **submission.notebooks}.items()}
        with StudentSession(submission.folder, limits, isolation, notebooks=copies) as session:
            context = GradingContext(submission, extracted, session, refs)
            outcomes = run_hidden_suites(context, assignment, wanted)
        worker_cpu = session.cpu_seconds
        tests = score(outcomes, points)
        _check_every_cell_is_tested(tests, points)
    except GraderError as exc:
        return SubmissionResult(submission.student, assignment, "grader_error", 0.0, max_score, error=str(exc),
                                seconds=time.perf_counter() - start, **common)
    status = "graded" if submission.notebooks else "invalid_submission"
    return SubmissionResult(
        submission.student, assignment, status, sum(t.score for t in tests), sum(t.max_score for t in tests),
        tests, seconds=time.perf_counter() - start,
        cpu_seconds=time.process_time() - cpu_start + worker_cpu, **common,
    )


def _check_every_cell_is_tested(tests, points):
    tested = {(t.notebook, t.grade_id) for t in tests}
    untested = sorted(f"{nb}:{gid}" for nb, gid in points if (nb, gid) not in tested)
    if untested:
        raise CompareError(f"grade cells without hidden tests: {', '.join(untested)}")
