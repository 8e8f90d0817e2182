"""Finding submissions: notebooks, a folder per student, or an nbgrader ``submitted/`` tree."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import ReadError
from autograder.read import student_id

MAX_DEPTH = 4


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


@functools.cache
def _assignments():
    from autograder.reference import assignments

    return frozenset(assignments())


def _notebook_folders(folder, assignment, depth=0):
    if any(p.suffix == ".ipynb" for p in folder.iterdir() if p.is_file()):
        return [folder]
    if depth >= MAX_DEPTH:
        return []
    children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    # In an nbgrader tree a student folder holds one folder per assignment: take ours, and never
    # another assignment's (a student who handed in only assignment0 has no assignment1 here).
    if any(child.name == assignment for child in children):
        children = [child for child in children if child.name == assignment]
    children = [child for child in children if child.name == assignment or child.name not in _assignments()]
    return [f for child in children for f in _notebook_folders(child, assignment, depth + 1)]
