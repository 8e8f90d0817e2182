"""Submissions built for the autograder's tests: the reference, the blank release, and edits of the reference."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from scripts.paste_solutions import write_reference_submission
from scripts.release import generate_release
from tests.notebooks import ASSIGNMENT


def make_release(folder, assignment=ASSIGNMENT):
    """Generate the release of ``assignment`` from the current solutions into ``folder``; returns its folder there."""
    return generate_release(assignment, release_dir=Path(folder))


def make_reference_submission(folder, release, assignment=ASSIGNMENT):
    """The release of ``assignment`` with every reference solution pasted in."""
    return write_reference_submission(Path(folder), release_dir=release, assignment=assignment)


def make_edited_submission(folder, reference_submission, edit):
    """A copy of the reference submission with one definition cell changed by ``edit``."""
    folder = Path(folder)
    shutil.copytree(reference_submission, folder)
    path = folder / f"{edit.notebook}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == edit.cell]
    assert len(cells) == 1, f"{edit.name}: no single cell {edit.cell!r} in {path.name}"
    cells[0].source = edit.apply(cells[0].source)
    nbformat.write(nb, str(path))
    return folder


__all__ = ["ASSIGNMENT", "make_edited_submission", "make_reference_submission", "make_release"]
