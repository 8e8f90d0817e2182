"""Stage 6, report: result JSON, gradebook CSV and Gradescope results, written atomically.

HTML feedback and the instructor report live in ``html_report``.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
from pathlib import Path

from autograder.errors import ReportError


def write_atomic(path, text):
    """Write ``text`` to ``path`` so that a reader sees the old file or the whole new one."""
    path = Path(path)
    temp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        if temp is not None:  # a full disk leaves no half-written file behind
            Path(temp).unlink(missing_ok=True)
        raise ReportError(f"cannot write {path}: {exc}") from exc


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


def gradescope_json(result):
    """Gradescope's ``results.json`` for one ``SubmissionResult``."""
    tests = [
        {
            "name": test.id,
            "number": str(index + 1),
            "score": round(test.score, 4),
            "max_score": round(test.max_score, 4),
            "status": "passed" if test.status == "passed" else "failed",
            "output": test.message or "passed",
            "visibility": "visible",
        }
        for index, test in enumerate(result.tests)
    ]
    data = {"score": round(result.score, 4), "tests": tests}
    if result.status != "graded":
        data["output"] = {
            "grader_error": "The grader could not grade this submission; your instructor has been told.",
            "invalid_submission": "No notebook of this submission could be read.",
        }[result.status]
    return json.dumps(data, indent=2) + "\n"


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
