"""The role of a notebook cell, read from its nbgrader metadata (schema 3).

The one place that decides what a cell is; the notebook loader, the
grader's extraction, its points table and its nbgrader bridge all ask here.
The rule, as documented in ``solutions/README.md``:

===========  ===========================================================
role         cell
===========  ===========================================================
imports      code cell with grade_id ``imports``
data         code cell with grade_id ``data``
definition   code cell, ``solution``, not ``grade``, grade_id not ``tune_...``
tuning       code cell, ``solution``, not ``grade``, grade_id ``tune_<name>``
grade        code cell, ``grade``, not ``solution``: autograded, has points
question     any cell, ``solution`` and ``grade``: graded by hand
other        nbgrader metadata, but none of the roles above (read-only
             cells, or a marked cell without a grade_id)
unmarked     no nbgrader metadata, or metadata that is not a dict
===========  ===========================================================

The rows are tried in this order; the first that fits is the cell's role.
Cells are plain dicts (parsed JSON) or ``nbformat.NotebookNode``: this runs
in students' kernels, so it imports nothing heavy.
"""
from __future__ import annotations

import enum

IMPORTS_CELL = "imports"
DATA_CELL = "data"
TUNING_PREFIX = "tune_"


class CellRole(enum.Enum):
    """What a notebook cell is to the loader and the grader."""

    IMPORTS = "imports"
    DATA = "data"
    DEFINITION = "definition"
    TUNING = "tuning"
    GRADE = "grade"
    QUESTION = "question"
    OTHER = "other"
    UNMARKED = "unmarked"


def nbgrader_metadata(cell):
    """A cell's ``metadata.nbgrader`` dict, or None when it has none (or none that is a dict)."""
    metadata = cell.get("metadata")
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else None


def grade_id(cell):
    """The nbgrader ``grade_id`` of a cell, or None."""
    meta = nbgrader_metadata(cell)
    return None if meta is None else meta.get("grade_id")


def role(cell):
    """The ``CellRole`` of a cell, by the rule of this module's table.

    Parameters
    ----------
    cell : dict
        A notebook cell (parsed JSON or ``nbformat.NotebookNode``).

    Returns
    -------
    CellRole
    """
    meta = nbgrader_metadata(cell)
    if meta is None:
        return CellRole.UNMARKED
    gid = meta.get("grade_id")
    if not gid:
        return CellRole.OTHER
    code = cell.get("cell_type") == "code"
    solution, grade = bool(meta.get("solution")), bool(meta.get("grade"))
    if code and gid == IMPORTS_CELL:
        return CellRole.IMPORTS
    if code and gid == DATA_CELL:
        return CellRole.DATA
    if solution and grade:
        return CellRole.QUESTION
    if code and solution:
        return CellRole.TUNING if gid.startswith(TUNING_PREFIX) else CellRole.DEFINITION
    if code and grade:
        return CellRole.GRADE
    return CellRole.OTHER


def points(cell):
    """The points of a grade or question cell (0.0 when it states none); None for any other cell."""
    if role(cell) not in (CellRole.GRADE, CellRole.QUESTION):
        return None
    return float(nbgrader_metadata(cell).get("points", 0))


def is_definition_cell(cell):
    """True for the ``imports`` cell and for definition cells: what ``load_notebook`` runs."""
    return role(cell) in (CellRole.IMPORTS, CellRole.DEFINITION)
