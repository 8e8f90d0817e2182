"""Stage 2, extract: the student's code, cell by cell, by nbgrader ``grade_id``.

The rule (shared with ``utils.load_notebook``, see
``utils.notebook_loader.select_definition_cells``; cell roles come from
``utils.cells``):

* locked cells (``imports``, ``data``) come from the instructor's source
  notebook, whatever the submission holds, as nbgrader restores them;
* each definition and tuning cell is the submission's cell with that
  ``grade_id`` (the last copy if duplicated), else a retyped cell without
  metadata that defines the same names, else it is missing;
* cells run in the source's order; experiment cells never run.

A missing cell never changes the maximum score: its tests get 0 and say
which cell is missing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from utils.cells import DATA_CELL, IMPORTS_CELL, CellRole, grade_id, role
from utils.notebook_loader import defined_names, python_source, select_definition_cells


@dataclass
class ExtractedNotebook:
    """The code of one notebook, ready for the worker.

    ``definitions`` and ``tuning`` are (grade_id, source) in the source's
    order; ``names`` maps each expected cell to the names it must define.
    """

    name: str
    imports: str
    data: str
    definitions: list = field(default_factory=list)
    tuning: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    names: dict = field(default_factory=dict)

    def cell_defining(self, name):
        """The grade_id of the expected cell that defines ``name``, or None."""
        return next((gid for gid, names in self.names.items() if name in names), None)

    def source_of(self, gid):
        return dict(self.definitions + self.tuning).get(gid)

    def load_cells(self, with_tuning=None):
        """(label, python source) to execute: imports, definitions, and data + one tuning cell if asked."""
        cells = [(IMPORTS_CELL, self.imports)] + list(self.definitions)
        if with_tuning:
            cells += [(DATA_CELL, self.data)] + [c for c in self.tuning if c[0] == with_tuning]
        return [(label, python_source(source)) for label, source in cells]


def _reference_cells(reference):
    locked, definitions, tuning = {}, [], []
    for cell in reference.cells:
        kind, gid = role(cell), grade_id(cell)
        if kind in (CellRole.IMPORTS, CellRole.DATA):
            locked[gid] = cell.source
        elif kind is CellRole.DEFINITION:
            definitions.append((gid, defined_names(cell.source)))
        elif kind is CellRole.TUNING:
            tuning.append((gid, defined_names(cell.source)))
    return locked, definitions, tuning


def extract(name, submitted, reference):
    """Take the graded code of notebook ``name`` from a submission.

    Parameters
    ----------
    name : str
        File name, e.g. ``svm.ipynb``.
    submitted : nbformat.NotebookNode or None
        The student's notebook (None when it is missing or unreadable).
    reference : nbformat.NotebookNode
        The instructor's source notebook.

    Returns
    -------
    ExtractedNotebook
    """
    locked, definitions, tuning = _reference_cells(reference)
    expected = definitions + tuning
    if submitted is None:
        found, missing = [], [gid for gid, _ in expected]
    else:
        found, missing = select_definition_cells(submitted, expected)
    found = dict(found)
    tuning_ids = {gid for gid, _ in tuning}
    return ExtractedNotebook(
        name=name,
        imports=locked.get(IMPORTS_CELL, ""),
        data=locked.get(DATA_CELL, ""),
        definitions=[(gid, found[gid]) for gid, _ in definitions if gid in found],
        tuning=[(gid, found[gid]) for gid in found if gid in tuning_ids],
        missing=missing,
        names={gid: names for gid, names in expected},
    )
