"""nbgrader's autograde step scored by the kit's engine instead of the student's kernel.

``KitAutograde`` replaces nbgrader's ``Execute`` preprocessor (see
``nbgrader_config.py``). For the notebook being autograded it runs the same
``grade_submission`` as ``autograder grade`` and writes into every grade cell
exactly what nbgrader reads as a score: one ``stdout`` stream with the
student-safe messages and one ``execute_result`` whose ``text/plain`` is a
plain float no larger than the cell's points. Nothing the student's code
prints reaches the cell, so stderr warnings cannot zero it, and the
student's code never runs in nbgrader's process.
"""
from __future__ import annotations

from pathlib import Path

from nbformat.v4 import new_output
from traitlets import Unicode

from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.errors import GraderError
from utils import cells


def cell_outputs(score, points, messages):
    """The outputs of a grade cell that nbgrader reads as ``score`` out of ``points``."""
    outputs = []
    if messages:
        outputs.append(new_output("stream", name="stdout", text="".join(f"{m}\n" for m in messages)))
    value = min(max(score, 0.0), points)
    outputs.append(new_output("execute_result", data={"text/plain": repr(float(value))}, execution_count=1))
    return outputs


class KitAutograde(NbGraderPreprocessor):
    """Score a notebook's grade cells with the kit's hidden suites."""

    assignment = Unicode("", help="Assignment id; default: the one nbgrader is autograding").tag(config=True)

    def preprocess(self, nb, resources):
        name = f"{resources['unique_key']}.ipynb"
        assignment = self.assignment or resources["nbgrader"]["assignment"]
        folder = self._submitted_folder(resources["nbgrader"]["student"], assignment,
                                        Path(resources["metadata"]["path"]))
        from autograder.pipeline import grade_submission  # heavy; only when nbgrader really autogrades

        result = grade_submission(folder, assignment, student=resources["nbgrader"]["student"], notebooks=[name])
        if result.status == "grader_error":
            # Raising makes nbgrader record a failed autograde, never a zero for the student.
            raise GraderError(f"the kit could not grade {name} of {result.student}: {result.error}")
        scores = result.cells()
        for cell in nb.cells:
            if cells.role(cell) is not cells.CellRole.GRADE:
                continue
            gid = cells.grade_id(cell)
            score, _ = scores.get((name, gid), (0.0, 0.0))
            messages = [t.message for t in result.tests if t.grade_id == gid and t.status != "passed"]
            cell.outputs = cell_outputs(score, cells.points(cell), messages)
            cell.execution_count = 1
        return nb, resources

    def _submitted_folder(self, student, assignment, fallback):
        """The student's folder under ``submitted/``, as ``autograder grade`` would read it.

        nbgrader autogrades notebook by notebook, so its ``autograded/`` copy of a notebook's
        siblings (the svm notebook that softmax loads) may not exist yet.
        """
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=self.config)
        folder = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
        return folder if folder.is_dir() else fallback
