"""Stage 6, report: result JSON, gradebook CSV and Gradescope results, written atomically.

HTML feedback and the instructor report live in ``html_report``.
"""
from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import json
import os
import re
import stat
import tempfile
from pathlib import Path

from autograder.errors import ReportError


PARTIAL_SUFFIX = ".part"  # of write_atomic's temporary files, ``.NAME.RANDOM.part`` beside NAME


def write_atomic(path, text):
    """Write ``text`` to ``path`` so that a reader sees the old file or the whole new one."""
    path = Path(path)
    temp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = _locked_temp(path)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
            os.replace(temp, path)  # still locked: remove_partial_writes never takes a file being written
    except OSError as exc:
        if temp is not None:  # a full disk leaves no half-written file behind
            Path(temp).unlink(missing_ok=True)
        raise ReportError(f"cannot write {path}: {exc}") from exc


def _locked_temp(path):
    """(fd, name) of a new temporary file beside ``path``, locked (flock) until it is closed."""
    while True:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=PARTIAL_SUFFIX)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink:  # not taken for a leftover between its creation and the lock
            return fd, temp
        os.close(fd)


def remove_partial_writes(folder):
    """Delete the temporary files of writes that never finished (a writer killed mid-write), under ``folder``.

    A writer at work holds the lock of its temporary file (``write_atomic``), so only the files
    of writers that died are taken; the whole files they were to replace are kept, and are
    rewritten or regraded as usual.

    Returns
    -------
    list of Path
        The files deleted.
    """
    removed = []
    for path in Path(folder).rglob(f".*{PARTIAL_SUFFIX}"):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue  # gone meanwhile, or a symlink
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path.unlink(missing_ok=True)  # while locked: its writer, if any, sees it gone (see _locked_temp)
            removed.append(path)
        except OSError:
            continue  # a writer holds it: still being written
        finally:
            os.close(fd)
    return removed


_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9_.@-]{0,63}")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def safe_name(student):
    """A file name for a student id, different for different ids on any file system.

    A plain id (lower-case letters, digits, ``_.@-``) is its own file name. Any
    other id keeps a readable form and gains a hash of the id itself, so ids
    that differ only in characters a file name cannot keep ("a b" and "a_b"),
    or only in case on a case-insensitive disk ("Ann" and "ann"), never share a file.
    """
    if _PLAIN_NAME.fullmatch(student) and student.split(".")[0] not in _RESERVED:
        return student
    readable = "".join(c if c.isascii() and (c.isalnum() or c in "-_.@") else "_" for c in student)
    readable = readable.strip(".")[:48] or "student"
    return f"{readable}~{hashlib.sha256(student.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"


def result_json(result):
    """The result JSON of DESIGN.md for one ``SubmissionResult``."""
    return json.dumps(result.to_dict(), indent=2, sort_keys=False) + "\n"


GRADESCOPE_VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")
_STATUS_OUTPUT = {
    "grader_error": "The grader itself failed on this submission: the 0 is not your grade. Your instructor can "
                    "see what went wrong and will grade it again.",
    "invalid_submission": "No notebook of this submission could be read.",
}


def gradescope_json(result, execution_time=None, notes=(), visibility=None):
    """Gradescope's ``results.json`` for one ``SubmissionResult``.

    Everything in it is what a student may read: the tests' own messages, the
    problems with the student's files, a summary of both. The grader's error
    and its timings stay in the result JSON.

    Parameters
    ----------
    result : SubmissionResult
    execution_time : float, optional
        Seconds, for Gradescope's ``execution_time``. Default: the time the result took to grade.
    notes : sequence of str
        Lines about the upload (which files were graded, which were left out), shown after the summary.
    visibility : str, optional
        Gradescope's visibility of the whole result, one of ``GRADESCOPE_VISIBILITY``; default: left
        to the assignment's settings on Gradescope.

    Returns
    -------
    str
        The JSON text, with tests numbered ``<notebook>.<test>`` in course order.
    """
    if visibility is not None and visibility not in GRADESCOPE_VISIBILITY:
        raise ReportError(f"unknown Gradescope visibility {visibility!r}; "
                          f"choose one of {', '.join(GRADESCOPE_VISIBILITY)}")
    notebooks = _notebooks_in_order(result)
    tests, counts = [], {}
    for test in sorted(result.tests, key=lambda t: notebooks.index(t.notebook)):  # stable: suite order within
        counts[test.notebook] = counts.get(test.notebook, 0) + 1
        readable = test.id.rsplit(".", 1)[-1].replace("_", " ")
        tests.append({
            "name": f"{test.notebook.removesuffix('.ipynb')} / {test.target}: {readable}",
            "number": f"{notebooks.index(test.notebook) + 1}.{counts[test.notebook]}",
            "score": round(test.score, 4),
            "max_score": round(test.max_score, 4),
            "status": "passed" if test.status == "passed" else "failed",
            "output": test.message or "passed",
            "visibility": "visible",
        })
    seconds = result.seconds if execution_time is None else execution_time
    data = {"score": round(result.score, 4), "execution_time": max(0, round(seconds)),
            "output": "\n".join([*_summary(result, notebooks), *notes]),
            # stdout is the grader's log (paths, warnings) for the instructor, never for students.
            "stdout_visibility": "hidden", "tests": tests}
    if visibility is not None:
        data["visibility"] = visibility
    return json.dumps(data, indent=2) + "\n"


def _notebooks_in_order(result):
    """The result's notebooks in the manifest's order (else as its tests come), and those only its problems name."""
    from autograder.reference import SOLUTIONS, assignments
    from utils.manifest import ManifestError, load_manifest

    names = list(dict.fromkeys([*(test.notebook for test in result.tests), *result.problems]))
    course = ()
    if result.assignment in assignments():  # a name read from a file must not pick a path
        try:
            course = load_manifest(SOLUTIONS / result.assignment).notebooks
        except ManifestError:
            pass
    return sorted(names, key=lambda name: (list(course).index(name) if name in course else len(course)))


def _summary(result, notebooks):
    """The lines that open Gradescope's output: the score, per notebook, and what to look at."""
    if result.status in _STATUS_OUTPUT:
        lines = [_STATUS_OUTPUT[result.status]]
        if result.status == "grader_error":
            return lines
    else:
        lines = [f"{result.assignment}: {result.score:.4g} / {result.max_score:.4g} points."]
    for notebook in notebooks:
        tests = [test for test in result.tests if test.notebook == notebook]
        if notebook in result.problems:
            lines.append(f"{notebook}: {result.problems[notebook]}")
        if tests:
            score, max_score = sum(t.score for t in tests), sum(t.max_score for t in tests)
            missed = list(dict.fromkeys(t.target for t in tests if t.status != "passed"))
            lines.append(f"{notebook}: {score:.4g} / {max_score:.4g}"
                         + (f"; not full marks: {', '.join(missed)}" if missed else ""))
    return lines


def target_columns(results):
    """Ordered (notebook, target) pairs over all results, for the CSV's columns."""
    seen = {}
    for result in results:
        for test in result.tests:
            seen.setdefault((test.notebook, test.target), None)
    return list(seen)


def grades_csv(results):
    """The gradebook: one row per student, a column per target, then total, maximum and status."""
    columns = target_columns(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *[f"{nb.removesuffix('.ipynb')}:{target}" for nb, target in columns],
                     "score", "max_score", "status"])
    for result in sorted(results, key=lambda r: r.student):
        per_target = {}
        for test in result.tests:
            key = (test.notebook, test.target)
            per_target[key] = per_target.get(key, 0.0) + test.score
        row = [f"{per_target[key]:.4g}" if result.graded and key in per_target else "" for key in columns]
        writer.writerow([result.student, *row, f"{result.score:.4g}" if result.graded else "",
                         f"{result.max_score:.4g}", result.status])
    return buffer.getvalue()
