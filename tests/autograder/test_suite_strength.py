"""The hidden suites are strong: the reference earns full marks, the blank release none,
every cataloged mistake loses points where it should and only there, and correct
alternatives earn full marks."""
import re
from collections import defaultdict

import pytest

from autograder.pipeline import grade_submission
from tests.autograder.mutants import catalog
from tests.autograder.submissions import make_edited_submission
from tests.notebooks import NOTEBOOKS

MUTANTS, ALTERNATIVES = catalog()


def _by_target(result):
    lost = defaultdict(float)
    for test in result.tests:
        lost[test.target] += test.max_score - test.score
    return lost


def _hidden_suite_exists(notebook):
    from autograder.compare import HIDDEN_TESTS

    return (HIDDEN_TESTS / "assignment1" / f"test_{notebook}.py").exists()


GRADED = [name for name in NOTEBOOKS if _hidden_suite_exists(name)]


@pytest.mark.slow
@pytest.mark.parametrize("notebook", GRADED)
def test_reference_solution_earns_full_marks(reference_submission, notebook):
    result = grade_submission(reference_submission, notebooks=[f"{notebook}.ipynb"])
    failures = [f"{t.id}: {t.status} {t.message}" for t in result.tests if t.status != "passed"]
    assert result.status == "graded" and failures == []
    assert result.score == pytest.approx(result.max_score) and result.max_score > 0


@pytest.mark.slow
@pytest.mark.parametrize("notebook", GRADED)
def test_blank_release_earns_nothing_and_does_not_crash(fresh_release, notebook):
    result = grade_submission(fresh_release, student="blank", notebooks=[f"{notebook}.ipynb"])
    assert result.status == "graded"
    assert result.score == 0 and result.max_score > 0
    assert {t.status for t in result.tests} <= {"failed", "error"}


TUNED = {"best_svm", "best_softmax", "best_net"}  # trained by the student's own code by design


def test_every_mistake_is_charged_to_one_target():
    """One mistake, one deduction: an entry may cost its own target and, besides, only the tuned objects."""
    spread = {f"{m.notebook}.{m.name}": m.breaks for m in MUTANTS if not set(m.breaks[1:]) <= TUNED}
    assert spread == {}


def test_catalog_has_at_least_forty_wrong_implementations():
    assert len(MUTANTS) >= 40, f"only {len(MUTANTS)} mutants so far"


@pytest.mark.slow
@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: f"{m.notebook}.{m.name}")
def test_mutant_loses_points_on_its_target_and_only_there(tmp_path, reference_submission, mutant):
    folder = make_edited_submission(tmp_path / "mutant", reference_submission, mutant)
    result = grade_submission(folder, notebooks=[f"{mutant.notebook}.ipynb"])
    lost = _by_target(result)
    assert lost[mutant.breaks[0]] > 0, f"{mutant.name} was not caught"
    collateral = {target: points for target, points in lost.items() if points > 0 and target not in mutant.breaks}
    assert collateral == {}
    if mutant.mistake:
        messages = " ".join(t.problem for t in result.tests if t.target == mutant.breaks[0])  # what went wrong
        assert mutant.mistake in messages, messages
    assert [t.message for t in result.tests if _reveals_values(t.message)] == []


def _reveals_values(message):
    """A message that shows numbers to many places or an array repr could give away hidden data."""
    return re.search(r"\d\.\d{4,}|\d\.\d+[eE][-+]?\d|array\(|\[\s*-?\d+\.\d+,", message) is not None


@pytest.mark.slow
@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=lambda a: f"{a.notebook}.{a.name}")
def test_correct_alternative_earns_full_marks(tmp_path, reference_submission, alternative):
    folder = make_edited_submission(tmp_path / "alternative", reference_submission, alternative)
    result = grade_submission(folder, notebooks=[f"{alternative.notebook}.ipynb"])
    failures = [f"{t.id}: {t.message}" for t in result.tests if t.status != "passed"]
    assert failures == []
