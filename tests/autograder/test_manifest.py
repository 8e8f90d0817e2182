"""The manifest declares an assignment once; the notebooks, the hidden suites and the grader agree with it."""
import csv
import io
import shutil

import nbformat
import pytest

from autograder.html_report import feedback_html
from autograder.pipeline import grade_submission
from autograder.report import grades_csv
from autograder.reference import assignments, infer_assignment, references
from scripts.notebook_runner import NotebookRunError, run_notebook
from scripts.release import generate_release
from tests.notebooks import ROOT, SOLUTIONS
from utils.manifest import FILE_NAME, ManifestError, load_manifest

ASSIGNMENTS = assignments()


def _grade_cells(notebook):
    """{grade_id: points} of a source notebook's autograded grade cells."""
    nb = nbformat.read(str(notebook), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"].get("points")
            for c in nb.cells if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("grade")}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_grade_cell_is_a_declared_target_and_every_target_a_grade_cell(assignment):
    """(A hidden test whose target the manifest does not declare is a grader error: compare.py.)"""
    manifest = load_manifest(ROOT / "solutions" / assignment)
    for notebook in manifest.notebooks:
        declared = set(manifest.targets[notebook].values())
        assert set(_grade_cells(ROOT / "solutions" / assignment / notebook)) == declared, notebook


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_release_carries_the_same_manifest(assignment):
    assert (ROOT / "assignments" / assignment / FILE_NAME).read_text() == \
        (ROOT / "solutions" / assignment / FILE_NAME).read_text()


@pytest.mark.parametrize("text, message", [
    ("", "notebooks must be a non-empty list"),
    ('notebooks = ["a"]\ndatasets = ["digits"]\n', "no \\[targets.<notebook>\\] for a"),
    ('notebooks = ["a"]\ndatasets = ["digits"]\n[targets.b]\nf = "test_f"\n', "names a notebook that is not"),
    ('notebooks = ["a"]\ndatasets = ["digits"]\n[targets.a]\nf = "test_f"\n[accuracy.g]\ndigits = 0.9\n',
     "names no target"),
    ('notebooks = ["a"]\ndatasets = ["digits"]\n[targets.a]\nf = "test_f"\n[accuracy.f]\ndigits = 90\n',
     "a fraction in"),
    ('notebooks = ["a"]\ndatasets = ["digits"]\npoints = 3\n[targets.a]\nf = "test_f"\n', "unknown keys points"),
    ("notebooks = [", "not a readable TOML file"),
])
def test_a_manifest_that_does_not_add_up_is_refused_with_the_fix(tmp_path, text, message):
    (tmp_path / FILE_NAME).write_text(text)
    with pytest.raises(ManifestError, match=message):
        load_manifest(tmp_path)


def test_a_missing_manifest_is_named(tmp_path):
    with pytest.raises(ManifestError, match="no manifest.toml in"):
        load_manifest(tmp_path)


def test_the_assignment_is_inferred_from_the_notebooks_or_the_nbgrader_layout(tmp_path):
    folder = tmp_path / "alice"
    folder.mkdir()
    for name in references("assignment1").notebooks[:2]:
        (folder / name).write_text("{}")
    assert infer_assignment([folder]) == "assignment1"
    nbgrader = tmp_path / "submitted" / "bob" / "assignment1"
    nbgrader.mkdir(parents=True)
    (nbgrader / "anything.ipynb").write_text("{}")
    assert infer_assignment([tmp_path / "submitted"]) == "assignment1"


def _set_accuracy(manifest, name, value):
    lines = manifest.read_text().splitlines()
    start = lines.index(f"[accuracy.{name}]")
    index = next(i for i in range(start, len(lines)) if lines[i].startswith("digits = "))
    lines[index] = f"digits = {value}"
    manifest.write_text("\n".join(lines) + "\n")


def _add_points(notebook, grade_id, more):
    """Give one grade cell of a source notebook ``more`` points; returns its points before."""
    nb = nbformat.read(str(notebook), as_version=4)
    (cell,) = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id]
    before = cell.metadata.nbgrader.points
    cell.metadata.nbgrader.points = before + more
    nbformat.write(nb, str(notebook))
    return before


@pytest.mark.slow
def test_an_accuracy_target_and_the_points_of_a_grade_cell_are_one_place_edits(tmp_path, reference_submission):
    """In a copy of the course, raise best_svm's target in the manifest and give svm_loss_vectorized's grade
    cell 3 more points in its source notebook, and nothing else: the regenerated release, the notebook's
    visible check, the hidden suite, the gradebook and the feedback page all follow."""
    course = tmp_path / "course"
    shutil.copytree(SOLUTIONS.parent, course / "solutions", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    source = course / "solutions" / "assignment1"
    _set_accuracy(source / FILE_NAME, "best_svm", 0.999)
    before = _add_points(source / "svm.ipynb", "test_svm_loss_vectorized", 3)

    release = generate_release("assignment1", root=course)
    assert release == course / "assignments" / "assignment1"
    assert "digits = 0.999" in (release / FILE_NAME).read_text()
    assert _grade_cells(release / "svm.ipynb")["test_svm_loss_vectorized"] == before + 3

    result = grade_submission(reference_submission, notebooks=["svm.ipynb"], solutions=course / "solutions")
    failed = [t for t in result.tests if t.status != "passed"]
    assert {t.target for t in failed} == {"best_svm"} and "the target is 0.999" in failed[0].message
    cell = sum(t.max_score for t in result.tests if t.grade_id == "test_svm_loss_vectorized")
    assert cell == pytest.approx(before + 3)
    assert result.max_score == pytest.approx(sum(_grade_cells(source / "svm.ipynb").values()))

    row = next(csv.DictReader(io.StringIO(grades_csv([result]))))
    assert float(row["max_score"]) == pytest.approx(result.max_score)
    assert f"<code>svm_loss_vectorized</code></th><th class=\"num\">{before + 3:g} / {before + 3:g}</th>" \
        in feedback_html(result)

    with pytest.raises(NotebookRunError, match="below the target 0.999"):
        run_notebook(source / "svm.ipynb", timeout=300)
