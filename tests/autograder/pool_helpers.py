"""Stand-ins for grading, run in the batch's pool processes (kept apart so they import nothing heavy)."""
import os
import time


def fake_grade(submission):
    """The submission named "killer" kills its grading process; any other is "graded"."""
    if submission.student == "killer":
        os._exit(9)
    time.sleep(0.2)
    return {"student": submission.student, "status": "graded"}


def counted_grade(submission):
    """``fake_grade``, leaving a line in the submission's folder each time it is graded."""
    with open(submission.folder / "gradings", "a") as gradings:
        gradings.write("graded\n")
    return fake_grade(submission)


def fake_failure(submission, exc):
    return {"student": submission.student, "status": "grader_error", "error": str(exc)}


def grade_one_notebook(submission):
    """Grade only the notebook the student id names ("svm--einsum" grades svm.ipynb): (score, max, failures)."""
    from autograder.pipeline import grade_submission  # in the pool process only

    notebook = submission.student.split("--", 1)[0]
    result = grade_submission(submission.folder, student=submission.student, notebooks=[f"{notebook}.ipynb"])
    failures = [f"{t.id}: {t.message}" for t in result.tests if t.status != "passed"]
    return {"student": submission.student, "status": result.status, "score": result.score,
            "max_score": result.max_score, "failures": failures}
