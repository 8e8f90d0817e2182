"""``autograder grade``: a class of submissions, in parallel, resumable, with a progress bar.

Each submission's result is written atomically to ``OUT/<student>.json`` as
soon as it is graded, so an interrupted run loses nothing and a re-run skips
submissions already graded by the same grader version from the same files
(unless ``force``). The gradebook CSV and the reports are rebuilt from all
the JSON files at the end. One grader at a time writes into a folder (a lock
file says who). A grading process that dies costs no other submission: the
submissions it held are graded again, each alone, and only one that kills
its grading process again is recorded as a grader error.
"""
from __future__ import annotations

import fcntl
import functools
import json
import os
import sys
from pathlib import Path

from tqdm import tqdm

from autograder.discover import find_submissions
from autograder.distributed import run_on_cluster
from autograder.errors import GraderError, ReadError, RunError
from autograder.limits import load_limits
from autograder.pool import run_pool
from autograder.reference import infer_assignment, references
from autograder.results import SubmissionResult
from autograder.report import gradescope_json, grades_csv, remove_partial_writes, result_json, safe_name, write_atomic
from autograder.sandbox import dataset_folder, detect
from autograder.versioning import grader_version, submission_fingerprint


def _grade_one(submission, assignment, version):
    """Runs in a pool process: grade one submission, return its ``SubmissionResult``."""
    from autograder.pipeline import grade_submission

    fingerprint = submission_fingerprint(submission.folder)
    try:
        result = grade_submission(submission.folder, assignment, student=submission.student)
    except Exception as exc:  # whatever happens, it is this submission's grader error, not the batch's
        result = _grader_error(submission, assignment, exc)
    result.grader_version, result.fingerprint, result.folder = version, fingerprint, str(submission.folder)
    return result


def _grader_error(submission, assignment, exc, version=""):
    detail = str(exc) if isinstance(exc, (GraderError, OSError)) else f"{type(exc).__name__}: {exc}"
    result = SubmissionResult(submission.student, assignment, "grader_error", 0.0, _max_score(assignment),
                              error=detail, folder=str(submission.folder))
    if version:
        result.grader_version = version
    return result


def _max_score(assignment):
    """The assignment's points (from the source notebooks), or 0 if they cannot be read."""
    try:
        return float(sum(references(assignment).points().values()))
    except Exception:  # the grader is broken: its error says why, the maximum is unknown
        return 0.0


def _already_graded(path, version, fingerprint, limits):
    """The result in ``path`` if it was graded by this version from these files under these limits
    (which name the dataset: a course regraded on CIFAR-10 is graded anew), else None."""
    try:
        result = SubmissionResult.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if (result.graded and result.grader_version == version and result.fingerprint == fingerprint
            and result.limits == limits):
        return result
    return None


class OutputLock:
    """One grader at a time per results folder: an exclusive lock on ``OUT/.autograder.lock``."""

    def __init__(self, out):
        self.path = Path(out) / ".autograder.lock"

    def __enter__(self):
        self.handle = open(self.path, "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another process"
            self.handle.close()
            raise GraderError(f"another autograder ({holder}) is grading into {self.path.parent}; "
                              "wait for it to finish, or choose another --out") from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"pid {os.getpid()}")
        self.handle.flush()
        return self

    def __exit__(self, *exc):
        self.handle.close()


class BatchRun(list):
    """One run's results: a list of ``SubmissionResult`` by student, and what the run did with each.

    Attributes
    ----------
    reused : set of str
        Students whose earlier result was kept (graded before by this grader version from the
        same files); the others were graded by this run.
    skipped : list of (str, str)
        (path, why) of what under the paths was not graded: a folder beside the students' that
        holds no notebook, a notebook in a submission that is not one of the assignment's.
    """

    def __init__(self, results=(), reused=(), skipped=()):
        super().__init__(results)
        self.reused, self.skipped = set(reused), list(skipped)


def grade_batch(paths, out, assignment=None, jobs=None, force=False, progress=True,
                require_sandbox=False, scheduler=None):
    """Grade every submission under ``paths`` into folder ``out``.

    Parameters
    ----------
    assignment : str, optional
        Default: inferred from the notebooks under ``paths`` (``reference.infer_assignment``).
    jobs : int, optional
        Submissions graded at once by the local pool. Default: the number of cores.
    require_sandbox : bool
        Refuse to grade unless the worker is sandboxed (bubblewrap or Landlock), on the Dask workers too.
    scheduler : str, optional
        A Dask scheduler's address (``tcp://host:8786``): its workers grade the submissions
        (``distributed.run_on_cluster``) instead of the local pool; results are written here all the same.

    Returns
    -------
    BatchRun
        The result of every submission under ``paths`` (including those reused as already
        graded), by student, with what was reused and what was skipped. ``OUT/grades.csv``
        lists every result in ``out``, these and those of earlier runs (``gradebook``).

    Raises
    ------
    GraderError
        Bad paths, another grader on ``out``, no sandbox when one is required, results that cannot be
        written, or a Dask cluster that cannot be reached or cannot grade.
    """
    isolation = detect()
    if require_sandbox and not isolation.sandboxed:
        raise RunError("refusing to grade without a sandbox (--require-sandbox): "
                       + isolation.describe().replace("\n", "; "))
    if not isolation.sandboxed:
        print("autograder: warning: student code is NOT sandboxed on this machine; it can read the reference "
              "solutions and the hidden tests. Install bubblewrap, or run `autograder selftest`.", file=sys.stderr)
    for raw in paths:  # before inferring the assignment: a wrong path is the first thing to hear about
        if not Path(raw).exists():
            raise ReadError(f"{raw}: no such file or folder")
    assignment = assignment or infer_assignment(paths)
    limits = load_limits(references(assignment).manifest)
    dataset_folder(limits.dataset)  # data missing here is one error now, not one grader error per student later
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    submissions = find_submissions(paths, assignment)
    with OutputLock(out):
        remove_partial_writes(out)  # left by a grader killed mid-write
        run = _grade_locked(submissions, out, assignment, limits.to_dict(), jobs, force, progress, scheduler,
                            require_sandbox)
    run.skipped = _skipped(paths, submissions, assignment)
    return run


def _grade_locked(submissions, out, assignment, limits, jobs, force, progress, scheduler=None,
                  require_sandbox=False):
    """``limits``: the ``Limits.to_dict()`` this run grades under; results graded under others are not reused."""
    version = grader_version()
    results, todo = [], []
    for submission in submissions:
        previous = None if force else _already_graded(
            out / f"{safe_name(submission.student)}.json", version, submission_fingerprint(submission.folder), limits)
        (results.append(previous) if previous else todo.append(submission))
    reused = {result.student for result in results}
    jobs = max(1, jobs or os.cpu_count() or 1)
    bar = tqdm(total=len(submissions), initial=len(results), unit="submission", disable=not progress,
               desc=f"grading ({len(results)} already graded)" if results else "grading")
    grade = functools.partial(_grade_one, assignment=assignment, version=version)
    failed = functools.partial(_grader_error, assignment=assignment, version=version)
    if scheduler:
        graded = run_on_cluster(todo, grade, failed, scheduler, require_sandbox)
    else:
        graded = run_pool(todo, grade, failed, jobs)
    for result in graded:
        _write_submission(out, result)
        results.append(result)
        bar.update(1)
    bar.close()
    # The folder is the course's gradebook: students graded before, in other runs, stay in it.
    write_atomic(out / "grades.csv", grades_csv(gradebook(out)))
    return BatchRun(sorted(results, key=lambda r: r.student), reused)


def _skipped(paths, submissions, assignment):
    """(path, why) of what ``find_submissions`` passed over that an instructor may have meant to be graded."""
    try:
        expected = set(references(assignment).notebooks)
    except Exception:  # the grader is broken: every result says so already
        expected = None
    skipped = []
    # A student's folder: submitted/<student>/ in nbgrader's layout, else the folder of the notebooks.
    students = {s.folder.parent if s.folder.name == assignment else s.folder for s in submissions}
    roots = [Path(raw).resolve() for raw in paths if Path(raw).is_dir()]
    classes = {folder.parent for folder in students
               if any(folder.parent == root or root in folder.parent.parents for root in roots)}
    for class_folder in sorted(classes):  # beside the students' folders: a student who handed in no notebook
        for child in sorted(class_folder.iterdir()):
            if child.is_dir() and not child.name.startswith(".") and child not in students:
                skipped.append((str(child), f"no notebook of {assignment} in it"))
    if expected is not None:
        for submission in submissions:  # e.g. "knn (1).ipynb", as a browser renames a second download
            for notebook in sorted(submission.folder.glob("*.ipynb")):
                if notebook.name not in expected:
                    skipped.append((str(notebook), f"not a notebook of {assignment}"))
    return skipped


def gradebook(out):
    """Every submission's result in results folder ``out`` (its ``<student>.json`` files), by student.

    Files that are not results (or not readable) are left out.
    """
    results = []
    for path in sorted(Path(out).glob("*.json")):
        try:
            results.append(SubmissionResult.from_dict(json.loads(path.read_text())))
        except (OSError, ValueError, TypeError, AttributeError):
            continue
    return sorted(results, key=lambda r: r.student)


def _write_submission(out, result):
    name = safe_name(result.student)
    write_atomic(out / "gradescope" / name / "results.json", gradescope_json(result))
    write_atomic(out / f"{name}.json", result_json(result))  # last: its presence means "done"
