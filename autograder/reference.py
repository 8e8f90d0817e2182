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
from utils.manifest import FILE_NAME, Manifest, ManifestError, load_manifest
from utils import cells
from utils.notebook_loader import load_notebook

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
RELEASE = Path(__file__).resolve().parents[1] / "assignments"


@dataclass(frozen=True)
class ReferenceSet:
    """Source notebooks of one assignment, in their documented order."""

    assignment: str
    folder: Path
    notebooks: tuple  # file names, e.g. ("knn.ipynb", ...), in the manifest's order
    manifest: Manifest

    def notebook(self, name):
        return _read(self.folder / name)

    def module(self, name):
        return _load(self.folder / name)

    @property
    def release_folder(self):
        """Where nbgrader writes this assignment's release: ``assignments/`` beside ``solutions/``."""
        return self.folder.parent.parent / RELEASE.name / self.assignment

    def release_notebook(self, name):
        """The released starter notebook ``name`` (what students start from; no solutions in it)."""
        path = self.release_folder / name
        if not path.is_file():
            raise GraderError(f"no released notebook {name} in {path.parent}; run `make release`")
        return _read(path)

    def definition_cells(self, name):
        """The grade ids of notebook ``name``'s definition cells (``utils.cells``), as a frozenset."""
        return frozenset(cells.grade_id(cell) for cell in self.notebook(name).cells if cells.is_definition_cell(cell))

    def points(self):
        """{(notebook, grade_id): points} of every autograded grade cell."""
        return {
            (name, cells.grade_id(cell)): cells.points(cell)
            for name in self.notebooks
            for cell in self.notebook(name).cells
            if cells.role(cell) is cells.CellRole.GRADE
        }


def assignments(solutions=SOLUTIONS):
    """Names of the assignments that have source notebooks and a manifest, sorted."""
    return sorted(p.parent.name for p in Path(solutions).glob(f"*/{FILE_NAME}"))


def infer_assignment(paths, solutions=SOLUTIONS, notebooks=()):
    """The assignment the submissions under ``paths`` are for, when none is named.

    A folder named after an assignment (nbgrader's ``submitted/<student>/<assignment>/``)
    decides; otherwise the assignment that declares the most of the notebooks found
    (with ``notebooks``, file names the caller asks for, counted as found).

    Raises
    ------
    GraderError
        If no assignment, or more than one equally, fits.
    """
    known = assignments(solutions)
    found = set(notebooks)
    for raw in paths:
        path = Path(raw)
        notebooks = [path] if path.suffix == ".ipynb" else sorted(path.rglob("*.ipynb")) if path.is_dir() else []
        for notebook in notebooks:
            named = [part for part in notebook.parent.parts if part in known]
            if named:
                return named[-1]
            found.add(notebook.name)
    overlap = {name: len(found & set(references(name, solutions).notebooks)) for name in known}
    best = max(overlap.values(), default=0)
    fitting = [name for name, count in overlap.items() if count == best and count > 0]
    if len(fitting) != 1:
        raise GraderError(f"cannot tell which assignment the notebooks are for ({', '.join(known) or 'none known'}); "
                          "name it with --assignment")
    return fitting[0]


@functools.lru_cache(maxsize=None)
def references(assignment, solutions=SOLUTIONS):
    """The ``ReferenceSet`` of ``assignment``, its notebooks in the manifest's order.

    Raises
    ------
    GraderError
        If the assignment has no manifest, or a notebook it declares is missing.
    """
    folder = Path(solutions) / assignment
    if not folder.is_dir():
        known = ", ".join(assignments(solutions)) or "none"
        raise GraderError(f"no source notebooks for {assignment} in {folder} (assignments: {known})")
    try:
        manifest = load_manifest(folder)
    except ManifestError as exc:
        raise GraderError(str(exc)) from None
    missing = [name for name in manifest.notebooks if not (folder / name).is_file()]
    if missing:
        raise GraderError(f"{manifest.path} declares notebooks that are not in {folder}: {', '.join(missing)}")
    return ReferenceSet(assignment, folder, manifest.notebooks, manifest)


@functools.lru_cache(maxsize=None)
def _read(path):
    return nbformat.read(str(path), as_version=4)


@functools.lru_cache(maxsize=None)
def _load(path):
    return load_notebook(path)
