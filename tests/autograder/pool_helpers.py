"""Stand-ins for grading, run in the batch's pool processes (kept apart so they import nothing heavy)."""
import os
import time


def fake_grade(submission):
    """The submission named "killer" kills its grading process; any other is "graded"."""
    if submission.student == "killer":
        _wait_until_the_scheduler_heard_of_the_rest()
        os._exit(9)
    time.sleep(0.2)
    return {"student": submission.student, "status": "graded"}


def counted_grade(submission):
    """``fake_grade``, leaving a line in the submission's folder each time it is graded."""
    with open(submission.folder / "gradings", "a") as gradings:
        gradings.write("graded\n")
    return fake_grade(submission)


def endless_grade(submission):
    """Write this grading process's pid into the submission's folder, then grade for a minute.

    A "cleaned" file in the folder says that the grading was unwound, its clean-up run.
    """
    (submission.folder / "grading.pid").write_text(str(os.getpid()))
    try:
        time.sleep(60)
    finally:
        (submission.folder / "cleaned").write_text("")
    return {"student": submission.student, "status": "graded"}


def where_it_grades(submission):
    """The processors this grading process and its worker may run on, each a sorted list."""
    from autograder.proxy import RemoteObject  # in the pool process only
    from autograder.run import StudentSession

    time.sleep(0.3)  # long enough that every pool process gets a submission
    with StudentSession(submission.folder) as session:
        session.load("m.ipynb", [("code", "import os\ndef cores():\n    return sorted(os.sched_getaffinity(0))\n")])
        worker = RemoteObject(session, "m.ipynb", "m.ipynb", session.generation).cores()
    return {"student": submission.student, "status": "graded", "pid": os.getpid(),
            "grader": sorted(os.sched_getaffinity(0)), "worker": worker}


def process_state(pid):
    """The state letter of process ``pid`` from /proc (``Z``: ended, not reaped), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(") ", 1)[1][:1]
    except OSError:
        return None


def is_running(pid):
    """Whether process ``pid`` exists and is not a zombie."""
    return process_state(pid) not in (None, "Z")


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


def _wait_until_the_scheduler_heard_of_the_rest():
    """On a Dask worker: wait until the scheduler knows this worker finished every task but the current one.

    A worker tells the scheduler of a finished task a moment later, in a batch; one that dies
    before would have that task counted as lost with it, and a test that allows no failures
    would see two grader errors where the stand-in meant one. Elsewhere (a local pool) at once.
    """
    try:
        from distributed import get_client, get_worker

        worker = get_worker()
    except (ImportError, ValueError):  # not in a Dask worker
        return
    client, deadline = get_client(), time.monotonic() + 30
    while time.monotonic() < deadline:
        processing = client.processing(workers=[worker.address]).get(worker.address, ())
        if len(processing) <= 1:  # this task only (the scheduler may queue no other on the worker meanwhile)
            return
        time.sleep(0.05)
