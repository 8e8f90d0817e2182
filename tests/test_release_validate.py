"""nbgrader validate on the student release: unanswered TODOs reported, the reference accepted."""
import subprocess

import pytest

from autograder.nbgrader_command import nbgrader_command, nbgrader_environment
from scripts.paste_solutions import write_reference_submission
from tests.notebooks import ASSIGNMENT, NOTEBOOKS


def _validate(path):
    return subprocess.run(nbgrader_command("validate", str(path)), cwd=path.parent, env=nbgrader_environment(),
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_nbgrader_validate_reports_the_unanswered_todos_of_the_release(release_copy, name):
    done = _validate(release_copy / f"{name}.ipynb")
    assert done.returncode == 0, done.stderr
    assert "VALIDATION FAILED ON" in done.stdout
    assert "NotImplementedError" in done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_nbgrader_validate_passes_the_release_with_the_reference_pasted_in(tmp_path, name):
    submission = write_reference_submission(tmp_path / ASSIGNMENT)
    done = _validate(submission / f"{name}.ipynb")
    assert "Success! Your notebook passes all the tests." in done.stdout, done.stdout + done.stderr


