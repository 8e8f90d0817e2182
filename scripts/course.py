"""A real nbgrader course in a folder, built from this repository and driven through nbgrader's command line."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from autograder.nbgrader_command import nbgrader_command, nbgrader_environment
from scripts.release import ASSIGNMENT, ROOT


class Course:
    """An assignment's ``solutions/`` and this repository's nbgrader config in ``folder``, with a real gradebook."""

    def __init__(self, folder, assignment=ASSIGNMENT):
        self.root, self.assignment = Path(folder), assignment
        self.root.mkdir(parents=True, exist_ok=True)
        # The kit's config: source and release folders, and the engine as nbgrader's scorer.
        shutil.copy2(ROOT / "nbgrader_config.py", self.root)
        shutil.copytree(ROOT / "solutions" / assignment, self.root / "solutions" / assignment)

    def nbgrader(self, *args, timeout=900, check=True):
        """Run ``nbgrader ARGS`` in the course; returns the CompletedProcess.

        Raises ``AssertionError`` with nbgrader's output when it fails and ``check`` is true
        (``nbgrader autograde`` fails when any one submission cannot be processed).
        """
        done = subprocess.run(nbgrader_command(*args), cwd=self.root, env=nbgrader_environment(),
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def submit(self, student, folder):
        """Place a student's notebooks where nbgrader collects them."""
        target = self.root / "submitted" / student / self.assignment
        shutil.copytree(folder, target)
        return target

    def grade_cell_scores(self, student):
        """{(notebook file, grade_id): score} that nbgrader recorded in the gradebook for autograded cells."""
        from nbgrader.api import Gradebook

        scores = {}
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            submission = gradebook.find_submission(self.assignment, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    # Autograded code cells only; inline questions await a human.
                    if grade.cell_type == "code" and grade.auto_score is not None:
                        scores[(f"{notebook.name}.ipynb", grade.name)] = grade.score
        return scores
