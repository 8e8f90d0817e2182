"""A notebook that another loads (softmax loads svm's LinearClassifier) costs its own targets only."""
import json
import shutil

import pytest

from autograder.pipeline import grade_submission, worker_copies
from autograder.read import read_notebook
from autograder.reference import references
from tests.autograder.mutants import Mutant
from tests.autograder.submissions import make_edited_submission

TUNED = {"best_softmax"}  # trained by the student's own code (svm's train) by design


def _lost_by_target(result):
    lost = {}
    for test in result.tests:
        lost[test.target] = lost.get(test.target, 0.0) + test.max_score - test.score
    return {target: points for target, points in lost.items() if points > 0}


@pytest.mark.slow
@pytest.mark.parametrize("breakage, why", [
    ("html page", "since it could not be read"),
    ("syntax error in LinearClassifier", "since its cells 'linear_classifier' could not be used"),
    ("LinearClassifier's cell raises when run", "since its cell 'linear_classifier' raised ZeroDivisionError"),
])
def test_a_broken_svm_notebook_costs_softmax_nothing_but_its_tuned_object(tmp_path, reference_submission,
                                                                          breakage, why):
    if breakage == "html page":
        folder = tmp_path / "html"
        shutil.copytree(reference_submission, folder)
        (folder / "svm.ipynb").write_text("<!DOCTYPE html><html><body>Jupyter</body></html>")
    elif breakage.startswith("syntax"):
        folder = make_edited_submission(tmp_path / "syntax", reference_submission, Mutant(
            "broken_base_class", "svm", "linear_classifier", old="class LinearClassifier", new="class LinearClassifier("))
    else:  # compiles, so only running it shows the mistake: the starter must stand in when softmax loads it
        folder = make_edited_submission(tmp_path / "raises", reference_submission, Mutant(
            "raising_base_class", "svm", "linear_classifier", old="class LinearClassifier",
            new="SCALE = 1 / 0\n\n\nclass LinearClassifier"))
    result = grade_submission(folder, notebooks=["softmax.ipynb"])
    assert result.status == "graded"
    assert set(_lost_by_target(result)) <= TUNED
    tuned = [t.message for t in result.tests if t.target == "best_softmax" and t.status != "passed"]
    assert tuned and all("svm.ipynb is loaded by other notebooks as released" in m and why in m for m in tuned)


def test_worker_copies_keep_the_students_usable_cells_and_the_released_starter_for_the_rest(reference_submission):
    refs = references("assignment1")
    notebook = read_notebook(reference_submission / "svm.ipynb")
    for cell in notebook.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "svm_loss_naive":
            cell.source = "def svm_loss_naive(W, X, y, reg):\n    return (\n"  # does not compile
    copies, stand_ins = worker_copies(refs, {"svm.ipynb": notebook})
    cells = {c["metadata"].get("nbgrader", {}).get("grade_id"): "".join(c["source"])
             for c in json.loads(copies["svm.ipynb"])["cells"]}
    released = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
                for c in refs.release_notebook("svm.ipynb").cells}
    assert cells["svm_loss_naive"] == released["svm_loss_naive"]  # the starter, which runs
    assert cells["svm_loss_vectorized"] != released["svm_loss_vectorized"]  # the student's own
    assert "'svm_loss_naive'" in stand_ins["svm.ipynb"]
    assert stand_ins["softmax.ipynb"] == "it could not be read"  # not handed in here
    assert set(copies) == set(refs.notebooks)
