"""The instructor's side of an assignment: source notebooks, points and reference modules.

Points come from the grade cells of the source notebooks in ``solutions/``
and nowhere else. Reference modules are loaded in the trusted process with
the same loader students use, once per process.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.errors import GraderError
from utils import cells
from utils.notebook_loader import load_notebook

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
RELEASE = Path(__file__).resolve().parents[1] / "assignments"


@dataclass(frozen=True)
class ReferenceSet:
    """Source notebooks of one assignment, in their documented order."""

    assignment: str
    folder: Path
    notebooks: tuple  # file names, e.g. ("knn.ipynb", ...)

    def notebook(self, name):
        return _read(self.folder / name)

    def module(self, name):
        return _load(self.folder / name)

    def release_notebook(self, name):
        """The released starter notebook ``name`` (what students start from; no solutions in it)."""
        path = RELEASE / self.assignment / name
        if not path.is_file():
            raise GraderError(f"no released notebook {name} in {path.parent}; run `make release`")
        return _read(path)

    def points(self):
        """{(notebook, grade_id): points} of every autograded grade cell."""
        return {
            (name, cells.grade_id(cell)): cells.points(cell)
            for name in self.notebooks
            for cell in self.notebook(name).cells
            if cells.role(cell) is cells.CellRole.GRADE
        }


NOTEBOOK_ORDER = ("knn", "gradient_check", "svm", "softmax", "two_layer_net")


@functools.lru_cache(maxsize=None)
def references(assignment="assignment1", solutions=SOLUTIONS):
    """The ``ReferenceSet`` of ``assignment``; ``GraderError`` if its sources are missing."""
    folder = Path(solutions) / assignment
    if not folder.is_dir():
        raise GraderError(f"no source notebooks for {assignment} in {folder}")
    present = {p.stem for p in folder.glob("*.ipynb")}
    ordered = [n for n in NOTEBOOK_ORDER if n in present] + sorted(present - set(NOTEBOOK_ORDER))
    return ReferenceSet(assignment, folder, tuple(f"{n}.ipynb" for n in ordered))


@functools.lru_cache(maxsize=None)
def _read(path):
    return nbformat.read(str(path), as_version=4)


@functools.lru_cache(maxsize=None)
def _load(path):
    return load_notebook(path)
