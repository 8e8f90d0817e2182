"""``autograder grade``: a class of submissions, in parallel, resumable, with a progress bar.

Each submission's result is written atomically to ``OUT/<student>.json`` as
soon as it is graded, so an interrupted run loses nothing and a re-run skips
submissions already graded by the same grader version from the same files
(unless ``force``). The gradebook CSV and the reports are rebuilt from all
the JSON files at the end.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from autograder import __version__
from autograder.errors import GraderError, ReadError
from autograder.read import student_id
from autograder.reference import SOLUTIONS
from autograder.report import gradescope_json, grades_csv, result_json, safe_name, write_atomic

PACKAGE = Path(__file__).resolve().parent
MAX_DEPTH = 4


@dataclass(frozen=True)
class SubmissionFolder:
    """A folder of one student's notebooks, and who it belongs to."""

    student: str
    folder: Path


def find_submissions(paths, assignment="assignment1"):
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
    """This grader's version: the release plus a hash of its code, hidden suites and references."""
    digest = hashlib.sha256()
    for base in (PACKAGE, SOLUTIONS):
        for path in sorted(base.rglob("*")):
            if path.is_file() and path.suffix in {".py", ".ipynb", ".ini"} and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(base)).encode())
                digest.update(path.read_bytes())
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


def _grader_error(submission, assignment, exc):
    detail = str(exc) if isinstance(exc, (GraderError, OSError)) else f"{type(exc).__name__}: {exc}"
    return {"student": submission.student, "assignment": assignment, "status": "grader_error",
            "score": 0.0, "max_score": 0.0, "tests": [], "error": detail}


def _already_graded(path, version, fingerprint):
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("status") != "grader_error" and data.get("grader_version") == version \
            and data.get("fingerprint") == fingerprint:
        return data
    return None


def grade_batch(paths, out, assignment="assignment1", jobs=None, force=False, progress=True):
    """Grade every submission under ``paths`` into folder ``out``.

    Returns
    -------
    list of dict
        Every submission's result (including those skipped as already graded).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    submissions = find_submissions(paths, assignment)
    version = grader_version()
    results, todo = [], []
    for submission in submissions:
        previous = None if force else _already_graded(
            out / f"{safe_name(submission.student)}.json", version, submission_fingerprint(submission.folder))
        (results.append(previous) if previous else todo.append(submission))
    jobs = max(1, jobs or os.cpu_count() or 1)
    bar = tqdm(total=len(submissions), initial=len(results), unit="submission", disable=not progress,
               desc=f"grading ({len(results)} already graded)" if results else "grading")
    # forkserver: pool processes start clean, without the threads of this one.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=min(jobs, max(1, len(todo))), mp_context=context) as pool:
        futures = {pool.submit(_grade_one, s, assignment, version): s for s in todo}
        for future in as_completed(futures):
            try:
                data = future.result()
            except Exception as exc:  # the pool process died (BrokenProcessPool): a grader error
                data = _grader_error(futures[future], assignment, exc)
            _write_submission(out, data)
            results.append(data)
            bar.update(1)
    bar.close()
    write_atomic(out / "grades.csv", grades_csv(results))
    return sorted(results, key=lambda r: r["student"])


def _write_submission(out, data):
    name = safe_name(data["student"])
    write_atomic(out / "gradescope" / name / "results.json", gradescope_json(data))
    write_atomic(out / f"{name}.json", result_json(data))  # last: its presence means "done"
