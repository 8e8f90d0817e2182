"""Assignment 0's hidden suites are strong: the reference earns full marks, the blank release none,
every cataloged mistake loses points on its own target and nowhere else (the tuned weights excepted),
and correct alternatives earn full marks.

Every entry is graded on both notebooks: logistic_regression.ipynb loads perceptron.ipynb, so a
mistake of the perceptron notebook must be seen to cost the logistic notebook nothing but its tuned
weights, which the student's own code trains and measures.
"""
import shutil

import pytest

from autograder.pipeline import grade_submission
from scripts.paste_solutions import write_reference_submission
from tests.autograder.assignment0.mutants import ALTERNATIVES, MUTANTS, TUNED
from tests.autograder.submissions import make_edited_submission
from tests.autograder.test_suite_strength import _by_target, _reveals_values
from tests.notebooks import ROOT
from utils.manifest import load_manifest

ASSIGNMENT = "assignment0"
SOLUTIONS = ROOT / "solutions" / ASSIGNMENT
RELEASE = ROOT / "assignments" / ASSIGNMENT
MANIFEST = load_manifest(SOLUTIONS)
NOTEBOOKS = tuple(MANIFEST.notebooks)  # file names, in the students' order
PERCEPTRON, LOGISTIC = NOTEBOOKS
TARGETS = {notebook.removesuffix(".ipynb"): set(MANIFEST.targets[notebook]) for notebook in NOTEBOOKS}


def _grade(folder, notebooks=NOTEBOOKS, student=None):
    return grade_submission(folder, assignment=ASSIGNMENT, student=student, notebooks=list(notebooks))


@pytest.fixture(scope="module")
def reference_submission(tmp_path_factory):
    """The released notebooks of assignment 0 with every reference solution pasted in."""
    folder = tmp_path_factory.mktemp(ASSIGNMENT) / "reference"
    return write_reference_submission(folder, release_dir=RELEASE, solutions_dir=SOLUTIONS)


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_reference_solution_earns_full_marks(reference_submission, notebook):
    result = _grade(reference_submission, [notebook])
    failures = [f"{t.id}: {t.status} {t.message}" for t in result.tests if t.status != "passed"]
    assert result.status == "graded" and failures == []
    assert result.score == pytest.approx(result.max_score) and result.max_score > 0


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_blank_release_earns_nothing_and_does_not_crash(tmp_path, notebook):
    release = shutil.copytree(RELEASE, tmp_path / "blank")
    result = _grade(release, [notebook], student="blank")
    assert result.status == "graded"
    assert result.score == 0 and result.max_score > 0
    assert {t.status for t in result.tests} <= {"failed", "error"}


@pytest.mark.slow
def test_a_blank_perceptron_notebook_costs_the_logistic_notebook_only_its_tuned_weights(tmp_path,
                                                                                        reference_submission):
    """The logistic notebook loads perceptron.ipynb; left as released, it may cost the tuned weights alone."""
    folder = shutil.copytree(reference_submission, tmp_path / "blank_part1")
    shutil.copy2(RELEASE / PERCEPTRON, folder / PERCEPTRON)
    result = _grade(folder, [LOGISTIC])
    lost = {target for target, points in _by_target(result).items() if points > 0}
    assert result.status == "graded" and lost <= {TUNED}


def test_every_mistake_is_charged_to_one_target():
    """One mistake, one deduction: an entry costs its own target and, besides, only the tuned weights."""
    spread = {f"{m.notebook}.{m.name}": m.breaks for m in MUTANTS if not set(m.breaks[1:]) <= {TUNED}}
    assert spread == {}


def test_every_mistake_is_charged_to_a_target_of_its_notebook_and_every_target_has_one():
    undeclared = {m.name: m.breaks[0] for m in MUTANTS if m.breaks[0] not in TARGETS[m.notebook]}
    assert undeclared == {}
    assert {m.breaks[0] for m in MUTANTS} == set().union(*TARGETS.values())
    assert len({entry.name for entry in MUTANTS + ALTERNATIVES}) == len(MUTANTS + ALTERNATIVES)


def test_catalog_has_at_least_twenty_wrong_implementations():
    assert len(MUTANTS) >= 20, f"only {len(MUTANTS)} mutants so far"


@pytest.mark.slow
@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: f"{m.notebook}.{m.name}")
def test_mutant_loses_points_on_its_target_and_only_there(tmp_path, reference_submission, mutant):
    folder = make_edited_submission(tmp_path / "mutant", reference_submission, mutant)
    result = _grade(folder)
    assert result.status == "graded", result.error
    lost = _by_target(result)
    assert lost[mutant.breaks[0]] > 0, f"{mutant.name} was not caught"
    collateral = {target: points for target, points in lost.items() if points > 0 and target not in mutant.breaks}
    assert collateral == {}
    if mutant.mistake:
        messages = " ".join(t.problem for t in result.tests if t.target == mutant.breaks[0])  # what went wrong
        assert mutant.mistake in messages, messages
    assert [t.message for t in result.tests if _reveals_values(t.message)] == []


@pytest.mark.slow
@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=lambda a: f"{a.notebook}.{a.name}")
def test_correct_alternative_earns_full_marks(tmp_path, reference_submission, alternative):
    folder = make_edited_submission(tmp_path / "alternative", reference_submission, alternative)
    result = _grade(folder)
    failures = [f"{t.id}: {t.message}" for t in result.tests if t.status != "passed"]
    assert result.status == "graded" and failures == []
