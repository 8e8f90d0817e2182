"""Stand-ins for grading, run in the batch's pool processes (kept apart so they import nothing heavy)."""
import os
import time


def fake_grade(submission):
    """The submission named "killer" kills its grading process; any other is "graded"."""
    if submission.student == "killer":
        os._exit(9)
    time.sleep(0.2)
    return {"student": submission.student, "status": "graded"}


def fake_failure(submission, exc):
    return {"student": submission.student, "status": "grader_error", "error": str(exc)}
