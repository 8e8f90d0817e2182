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
import hashlib
import json
import multiprocessing
import os
import platform
import sys
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from tqdm import tqdm

from autograder import __version__
from autograder.errors import GraderError, ReadError, RunError
from autograder.read import student_id
from autograder.reference import SOLUTIONS, infer_assignment, references
from autograder.report import gradescope_json, grades_csv, result_json, safe_name, write_atomic
from autograder.sandbox import UTILS_DIR, detect

PACKAGE = Path(__file__).resolve().parent
MAX_DEPTH = 4
# What a grade depends on besides the kit's own files.
GRADING_PACKAGES = ("numpy", "pytest", "nbformat")


@dataclass(frozen=True)
class SubmissionFolder:
    """A folder of one student's notebooks, and who it belongs to."""

    student: str
    folder: Path


def find_submissions(paths, assignment):
    """The submissions under ``paths``: notebooks, a folder per student, or an nbgrader ``submitted/`` tree.

    Raises
    ------
    ReadError
        If a path does not exist, or nothing under it holds a notebook.
    """
    found = {}
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ReadError(f"{raw}: no such file or folder")
        if path.is_file():
            if path.suffix != ".ipynb":
                raise ReadError(f"{raw}: not a notebook (.ipynb) or a folder")
            folders = [path.parent]
        else:
            folders = _notebook_folders(path, assignment)
        if not folders:
            raise ReadError(f"{raw}: no notebooks found (looked {MAX_DEPTH} folders deep)")
        for folder in folders:
            folder = folder.resolve()
            found.setdefault(folder, SubmissionFolder(student_id(folder, assignment), folder))
    submissions = sorted(found.values(), key=lambda s: (s.student, str(s.folder)))
    students = [s.student for s in submissions]
    duplicated = sorted({s for s in students if students.count(s) > 1})
    if duplicated:
        raise ReadError(f"two submission folders for the same student: {', '.join(duplicated)}")
    return submissions


def _notebook_folders(folder, assignment, depth=0):
    if any(p.suffix == ".ipynb" for p in folder.iterdir() if p.is_file()):
        return [folder]
    if depth >= MAX_DEPTH:
        return []
    children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    # In an nbgrader tree a student folder holds one folder per assignment: take ours.
    if any(child.name == assignment for child in children):
        children = [child for child in children if child.name == assignment]
    return [f for child in children for f in _notebook_folders(child, assignment, depth + 1)]


def grader_version():
    """This grader's version: the release plus a hash of everything a grade depends on.

    The engine, hidden suites and limits (``autograder/``), the references
    (``solutions/``), the shipped helpers the worker and the suites run
    (``utils/``: the extraction rule, the data splits), and the versions of
    Python and of the packages that compute the grades.
    """
    digest = hashlib.sha256()
    for base in (PACKAGE, SOLUTIONS, UTILS_DIR):
        for path in sorted(base.rglob("*")):
            if path.is_file() and path.suffix in {".py", ".ipynb", ".ini", ".toml"} and "__pycache__" not in path.parts:
                digest.update(f"{base.name}/{path.relative_to(base)}".encode())
                digest.update(path.read_bytes())
    digest.update(platform.python_version().encode())
    for package in GRADING_PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}".encode())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def submission_fingerprint(folder):
    """A hash of the notebooks in a submission folder."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.ipynb")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _grade_one(submission, assignment, version):
    """Runs in a pool process: grade one submission, return its result dict."""
    from autograder.pipeline import grade_submission

    fingerprint = submission_fingerprint(submission.folder)
    try:
        result = grade_submission(submission.folder, assignment, student=submission.student)
        data = result.to_dict()
        data["seconds"] = round(result.seconds, 3)
        data["cpu_seconds"] = round(result.cpu_seconds, 3)
    except Exception as exc:  # whatever happens, it is this submission's grader error, not the batch's
        data = _grader_error(submission, assignment, exc)
    data.update(grader_version=version, fingerprint=fingerprint, folder=str(submission.folder))
    return data


def _grader_error(submission, assignment, exc, version=""):
    detail = str(exc) if isinstance(exc, (GraderError, OSError)) else f"{type(exc).__name__}: {exc}"
    data = {"student": submission.student, "assignment": assignment, "status": "grader_error",
            "score": 0.0, "max_score": _max_score(assignment), "tests": [], "error": detail}
    if version:
        data.update(grader_version=version, folder=str(submission.folder))
    return data


def _max_score(assignment):
    """The assignment's points (from the source notebooks), or 0 if they cannot be read."""
    try:
        return float(sum(references(assignment).points().values()))
    except Exception:  # the grader is broken: its error says why, the maximum is unknown
        return 0.0


def _already_graded(path, version, fingerprint):
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("status") != "grader_error" and data.get("grader_version") == version \
            and data.get("fingerprint") == fingerprint:
        return data
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


def grade_batch(paths, out, assignment=None, jobs=None, force=False, progress=True,
                require_sandbox=False):
    """Grade every submission under ``paths`` into folder ``out``.

    Parameters
    ----------
    assignment : str, optional
        Default: inferred from the notebooks under ``paths`` (``reference.infer_assignment``).
    require_sandbox : bool
        Refuse to grade unless the worker is sandboxed (bubblewrap or Landlock).

    Returns
    -------
    list of dict
        Every submission's result (including those skipped as already graded).

    Raises
    ------
    GraderError
        Bad paths, another grader on ``out``, no sandbox when one is required, or results that cannot be written.
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
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    submissions = find_submissions(paths, assignment)
    with OutputLock(out):
        return _grade_locked(submissions, out, assignment, jobs, force, progress)


def _grade_locked(submissions, out, assignment, jobs, force, progress):
    version = grader_version()
    results, todo = [], []
    for submission in submissions:
        previous = None if force else _already_graded(
            out / f"{safe_name(submission.student)}.json", version, submission_fingerprint(submission.folder))
        (results.append(previous) if previous else todo.append(submission))
    jobs = max(1, jobs or os.cpu_count() or 1)
    bar = tqdm(total=len(submissions), initial=len(results), unit="submission", disable=not progress,
               desc=f"grading ({len(results)} already graded)" if results else "grading")
    grade = functools.partial(_grade_one, assignment=assignment, version=version)
    failed = functools.partial(_grader_error, assignment=assignment, version=version)
    for data in run_pool(todo, grade, failed, jobs):
        _write_submission(out, data)
        results.append(data)
        bar.update(1)
    bar.close()
    write_atomic(out / "grades.csv", grades_csv(results))
    return sorted(results, key=lambda r: r["student"])


def run_pool(todo, grade, failed, jobs):
    """Yield each submission's result as it is graded, at most ``jobs`` at a time.

    Only ``jobs`` submissions are in the pool at once, so when a pool process
    dies the suspects are known: each is graded again alone in a new pool, and
    one that breaks its pool again, alone, is the cause.

    Parameters
    ----------
    todo : list of SubmissionFolder
    grade : callable
        ``grade(submission)`` -> result dict, run in a pool process (picklable).
    failed : callable
        ``failed(submission, exc)`` -> the grader-error result dict.
    """
    queue, suspects = deque(todo), set()
    # forkserver: pool processes start clean, without the threads of this one.
    context = multiprocessing.get_context("forkserver")

    def outcome(future, submission):
        """The result, or None when the pool broke under an unsuspected submission (it goes back in the queue)."""
        try:
            return future.result()
        except BrokenProcessPool:
            if submission.folder in suspects:  # it broke a pool of its own: it is the cause
                return failed(submission, RunError(
                    "the grading process died twice while grading this submission alone "
                    "(out of memory, or killed); grade it again, or look at it by hand"))
            suspects.add(submission.folder)
            queue.appendleft(submission)
            return None
        except Exception as exc:  # noqa: BLE001 - the pool could not even run it
            return failed(submission, exc)

    while queue:
        pool = ProcessPoolExecutor(max_workers=min(jobs, len(queue)), mp_context=context)
        running = {}
        try:
            while queue or running:
                while queue and len(running) < jobs and not (running and queue[0].folder in suspects) \
                        and not any(s.folder in suspects for s in running.values()):
                    submission = queue.popleft()
                    running[pool.submit(grade, submission)] = submission
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = any(isinstance(f.exception(), BrokenProcessPool) for f in done)
                if broken:  # every other submission of this pool fails with it: collect them all
                    wait(running)
                    done = list(running)
                for future in done:
                    data = outcome(future, running.pop(future))
                    if data is not None:
                        yield data
                if broken:
                    break
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _write_submission(out, data):
    name = safe_name(data["student"])
    write_atomic(out / "gradescope" / name / "results.json", gradescope_json(data))
    write_atomic(out / f"{name}.json", result_json(data))  # last: its presence means "done"
