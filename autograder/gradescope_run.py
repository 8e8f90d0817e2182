"""Inside Gradescope's container: grade what the student uploaded and write ``results.json``.

``run_autograder`` (``autograder/gradescope_files/``) runs
``python -m autograder.gradescope_run --root ROOT --assignment A``; ``ROOT`` is laid
out as Gradescope's: ``source/`` (the bundle), ``submission/`` (the upload),
``results/`` (where ``results.json`` goes).

The upload may be loose notebooks, a folder, a zip, or a mix. The notebooks are
found by name (case, and a browser's `` (1)`` suffix, aside), and a renamed one
by its grade cells; the first found, shallowest first, is graded and the
others are named in the output. Zips are read, never unpacked: only their
notebooks' bytes are taken, up to a size limit, so no member's path is ever
used on disk. The notebooks are then graded exactly as ``autograder grade``
grades a folder (``batch.grade_batch``), so the scores are the same.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path

from autograder.read import MAX_NOTEBOOK_BYTES, decode_notebook
from autograder.report import GRADESCOPE_VISIBILITY, gradescope_json, write_atomic
from autograder.results import SubmissionResult

STUDENT = "submission"  # the results' student id: Gradescope knows who it is
MAX_DEPTH = 6  # folders (and a zip counts as one) below submission/
MAX_ENTRIES = 2000  # files and zip members looked at
MAX_UPLOAD_BYTES = 200 * 1024**2  # notebook bytes read, loose and out of zips together
SKIPPED_FOLDERS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__", ".git"}
_COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|\s*-\s*copy|\s+copy)$", re.IGNORECASE)


@dataclass(frozen=True)
class Found:
    """A notebook in the upload: where it is (as the student would say it), how deep, its bytes."""

    where: str  # "hw/perceptron.ipynb", or "hw.zip: hw/perceptron.ipynb"
    depth: int
    data: bytes

    @property
    def name(self):
        return self.where.replace(": ", "/").rsplit("/", 1)[-1]


class _Budget:
    """What is left to read of the upload; ``notes`` say what was left out for its size."""

    def __init__(self):
        self.entries, self.bytes, self.notes = MAX_ENTRIES, MAX_UPLOAD_BYTES, []

    def take(self, size, where):
        """Whether a file of ``size`` bytes may be read (at most MAX_NOTEBOOK_BYTES + 1 of it)."""
        self.entries -= 1
        wanted = min(size, MAX_NOTEBOOK_BYTES + 1)  # one byte more: the reader says it is too large
        if self.entries < 0 or wanted > self.bytes:
            self.notes.append(f"Not read, the upload is too large: {where}.")
            return False
        self.bytes -= wanted
        return True


def find_notebooks(upload):
    """Every notebook in folder ``upload``, loose or in a zip, as ``Found``, with notes on what was skipped.

    Returns
    -------
    (list of Found, list of str)
    """
    found, budget = [], _Budget()
    upload = Path(upload)
    for folder, subfolders, files in os.walk(upload):  # never follows links
        here = Path(folder)
        depth = len(here.relative_to(upload).parts)
        subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_FOLDERS and not d.startswith(".")
                               and depth < MAX_DEPTH)
        for name in sorted(files):
            path = here / name
            where = path.relative_to(upload).as_posix()
            if name.startswith(".") or path.is_symlink():
                continue
            if name.lower().endswith(".ipynb") and budget.take(path.stat().st_size, where):
                with open(path, "rb") as handle:
                    found.append(Found(where, depth, handle.read(MAX_NOTEBOOK_BYTES + 1)))
            elif name.lower().endswith(".zip"):
                found.extend(_zipped(path, where, depth + 1, budget))
    return found, budget.notes


def _zipped(path, where, depth, budget):
    """The notebooks inside the zip at ``path``, read without unpacking anything."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        budget.notes.append(f"{where} is not a zip file that can be opened; it was not graded.")
        return []
    found = []
    with archive:
        for info in archive.infolist():
            parts = [part for part in info.filename.replace("\\", "/").split("/") if part not in ("", ".")]
            if info.is_dir() or not parts or not parts[-1].lower().endswith(".ipynb"):
                continue
            member = f"{where}: {'/'.join(parts)}"
            if ".." in parts or any(p in SKIPPED_FOLDERS or p.startswith(".") for p in parts) \
                    or info.filename.startswith(("/", "\\")) or len(parts) + depth > MAX_DEPTH + 1:
                continue  # macOS's shadow copies, checkpoints, paths out of the zip or too deep
            if info.flag_bits & 0x1:
                budget.notes.append(f"{member} is encrypted; it was not graded.")
                continue
            if not budget.take(info.file_size, member):
                continue
            try:
                with archive.open(info) as handle:  # its real size, whatever its header claims
                    found.append(Found(member, depth + len(parts) - 1, handle.read(MAX_NOTEBOOK_BYTES + 1)))
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
                budget.notes.append(f"{member} could not be read out of the zip; it was not graded.")
    return found


def choose(found, references):
    """Which found notebook is which of the assignment's, and notes for the student.

    By name first (``Perceptron (1).ipynb`` is ``perceptron.ipynb``), then a
    notebook no name matched by its grade cells; among several, the shallowest.

    Parameters
    ----------
    found : list of Found
    references : ReferenceSet

    Returns
    -------
    (dict, list of str)
        {notebook name: Found} and the notes.
    """
    expected = list(references.notebooks)
    chosen, notes, left = {}, [], sorted(found, key=lambda f: (f.depth, f.where))
    for name in expected:
        matches = [f for f in left if _plain(f.name) == _plain(name)]
        if matches:
            chosen[name] = matches[0]
            left = [f for f in left if f not in matches]
            notes += [f"Not graded: {f.where} ({name} was taken from {matches[0].where})." for f in matches[1:]]
    cells = {name: _grade_ids(references.notebook(name)) for name in expected}
    for item in left:
        ids = _grade_ids(_parsed(item.data))
        overlap = {name: len(ids & want) / len(want) for name, want in cells.items() if want}
        best = max(overlap.values(), default=0)
        name = max(overlap, key=overlap.get) if best >= 0.5 and list(overlap.values()).count(best) == 1 else None
        if name is None:
            notes.append(f"Not graded: {item.where} (not a notebook of {references.assignment}).")
        elif name in chosen:
            notes.append(f"Not graded: {item.where} ({name} was taken from {chosen[name].where}).")
        else:
            chosen[name] = item
            notes.append(f"{item.where} was graded as {name} (its grade cells are {name}'s).")
    if chosen:
        notes.insert(0, "Graded: " + ", ".join(chosen[name].where for name in expected if name in chosen) + ".")
    return chosen, notes


def _plain(name):
    stem = name[:-len(".ipynb")] if name.lower().endswith(".ipynb") else name
    return _COPY_SUFFIX.sub("", stem.strip()).strip().lower()


def _parsed(data):
    try:
        return json.loads(decode_notebook(data, "notebook"))
    except Exception:  # not a notebook: it matches nothing
        return {}


def _grade_ids(nb):
    cells = nb.get("cells") if isinstance(nb, dict) else None
    ids = set()
    for cell in cells if isinstance(cells, list) else ():
        meta = cell.get("metadata") if isinstance(cell, dict) else None
        grading = meta.get("nbgrader") if isinstance(meta, dict) else None
        if isinstance(grading, dict) and isinstance(grading.get("grade_id"), str):
            ids.add(grading["grade_id"])
    return ids


def grade_upload(root, assignment, visibility=None):
    """Grade ``ROOT/submission/`` and write ``ROOT/results/results.json``; returns the result.

    Whatever the upload holds (nothing, a broken zip, notebooks that do not parse),
    ``results.json`` is written and says what was graded. A failure of the grader
    is a ``grader_error`` result, logged with its traceback on stdout (the instructor's).
    """
    from autograder.batch import grade_batch
    from autograder.reference import references

    start = time.perf_counter()
    root = Path(root)
    notes = []
    work = Path(tempfile.mkdtemp(prefix="kit-gradescope-"))
    try:
        refs = references(assignment)
        found, notes = find_notebooks(root / "submission") if (root / "submission").is_dir() else ([], [])
        chosen, choice_notes = choose(found, refs)
        notes += choice_notes
        if chosen:
            folder = work / STUDENT
            folder.mkdir()
            for name, item in chosen.items():
                (folder / name).write_bytes(item.data)
            result = grade_batch([folder], work / "out", assignment, jobs=1, progress=False, force=True)[0]
        else:
            points = float(sum(refs.points().values()))
            result = SubmissionResult(STUDENT, assignment, "invalid_submission", 0.0, points)
            notes.insert(0, f"No notebook of {assignment} was found in the upload (expected "
                            f"{', '.join(refs.notebooks)}). Upload the notebooks themselves, a folder "
                            "holding them, or a zip of that folder.")
    except Exception as exc:  # noqa: BLE001 - the grader's own failure: never the student's zero, always a result
        traceback.print_exc(file=sys.stdout)
        result = SubmissionResult(STUDENT, assignment, "grader_error", 0.0, 0.0, error=f"{type(exc).__name__}: {exc}")
        notes = []
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if result.error:
        print(f"grader error: {result.error}")  # stdout: for the instructor only
    print(f"{assignment}: {result.status}, {result.score:.4g} / {result.max_score:.4g}")
    write_atomic(root / "results" / "results.json",
                 gradescope_json(result, time.perf_counter() - start, notes, visibility))
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope_run", description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    parser.add_argument("--assignment", required=True)
    parser.add_argument("--visibility", choices=GRADESCOPE_VISIBILITY)
    args = parser.parse_args(argv)
    grade_upload(args.root, args.assignment, args.visibility)
    return 0


if __name__ == "__main__":
    sys.exit(main())
