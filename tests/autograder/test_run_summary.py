"""A grading run says what it did: how many submissions it graded, how many it reused
(already graded from the same files by this grader version) and what it skipped."""
import shutil

import pytest

from autograder.batch import BatchRun, _skipped
from autograder.cli import _print_summary, main
from autograder.discover import find_submissions
from autograder.results import SubmissionResult
from tests.notebooks import ROOT

BLANK = ROOT / "examples" / "assignment0" / "blank"


def _grade(path, out, capsys):
    """``autograder grade PATH --out OUT``: its summary line."""
    assert main(["grade", str(path), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    return capsys.readouterr().out.splitlines()[-1]


@pytest.mark.slow
def test_grading_one_more_student_grades_one_and_reuses_the_other(tmp_path, capsys, monkeypatch):
    # One grader version for the three runs, as in a course between two edits of the kit (any edit of
    # autograder/, solutions/ or utils/ between runs rightly regrades everyone).
    monkeypatch.setattr("autograder.batch.grader_version", lambda: "0.1.0+run-summary-test")
    root, out = tmp_path / "class", tmp_path / "out"
    for student in ("ada", "bea"):
        shutil.copytree(BLANK, root / student)
    assert _grade(root / "ada", out, capsys) == f"1 submission(s): 1 graded, 0 reused; results in {out}"
    assert _grade(root, out, capsys) == f"2 submission(s): 1 graded, 1 reused; results in {out}"
    assert _grade(root, out, capsys) == f"2 submission(s): 0 graded, 2 reused; results in {out}"
    (root / "bea" / "perceptron.ipynb").write_text((root / "bea" / "perceptron.ipynb").read_text() + "\n")
    assert _grade(root, out, capsys) == f"2 submission(s): 1 graded, 1 reused; results in {out}"


def test_a_folder_without_notebooks_and_a_stray_notebook_are_named_as_skipped(tmp_path):
    root = tmp_path / "class"
    for student in ("ada", "bea"):
        shutil.copytree(BLANK, root / student)
    (root / "cy").mkdir()
    (root / "cy" / "assignment0.zip").write_bytes(b"PK")  # handed in a zip: nothing to grade
    (root / ".ipynb_checkpoints").mkdir()  # Jupyter's own: not a student
    shutil.copy2(BLANK / "perceptron.ipynb", root / "bea" / "perceptron (1).ipynb")
    submissions = find_submissions([root], "assignment0")
    assert [s.student for s in submissions] == ["ada", "bea"]
    assert _skipped([root], submissions, "assignment0") == [
        (str(root / "cy"), "no notebook of assignment0 in it"),
        (str(root / "bea" / "perceptron (1).ipynb"), "not a notebook of assignment0"),
    ]
    # A student's folder given alone: its neighbours were not asked for.
    assert _skipped([root / "ada"], find_submissions([root / "ada"], "assignment0"), "assignment0") == []


def test_the_summary_counts_graded_reused_other_statuses_and_skipped(capsys):
    run = BatchRun([SubmissionResult("ada", "assignment0", "graded", 1.0, 2.0),
                    SubmissionResult("bea", "assignment0", "invalid_submission", 0.0, 2.0),
                    SubmissionResult("cy", "assignment0", "grader_error", 0.0, 2.0, error="boom")],
                   reused={"ada"}, skipped=[("class/dan", "no notebook of assignment0 in it")])
    _print_summary(run, "out")
    captured = capsys.readouterr()
    assert captured.out == ("3 submission(s): 2 graded, 1 reused; 1 invalid_submission, 1 grader_error; "
                            "1 skipped; results in out\n")
    assert captured.err == ("  skipped class/dan: no notebook of assignment0 in it\n"
                            "  grader error for cy: boom\n")
