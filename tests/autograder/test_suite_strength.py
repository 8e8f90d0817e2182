"""The hidden suites are strong, assignment by assignment: the reference earns full marks, the blank release
none, every cataloged mistake loses points on its own target and nowhere else (the tuned objects excepted),
and correct alternatives earn full marks.

An entry is graded on its own notebook and on every notebook of its assignment whose graded cells load that
notebook (softmax.ipynb loads svm.ipynb, logistic_regression.ipynb loads perceptron.ipynb): a mistake must be
seen to cost the loading notebook nothing but its tuned objects, which the student's own code trains.
"""
import re
import shutil
from collections import defaultdict

import nbformat
import pytest

from autograder.compare import HIDDEN_TESTS
from autograder.pipeline import grade_submission
from tests.autograder.mutants import assignments, catalog, tuned_objects
from tests.autograder.submissions import make_edited_submission
from tests.notebooks import ROOT
from utils.cells import CellRole, role
from utils.manifest import load_manifest
from utils.notebook_loader import cell_source

ASSIGNMENTS = assignments()
AT_LEAST = {"assignment1": 40, "assignment0": 20}  # wrong implementations each catalog must keep
CATALOGS = {assignment: catalog(assignment) for assignment in ASSIGNMENTS}  # (mutants, alternatives)
GRADED_CELLS = {CellRole.IMPORTS, CellRole.DATA, CellRole.DEFINITION, CellRole.TUNING}  # the cells the grader runs
LOAD = re.compile(r"""load_notebook\(\s*["'](\w+)""")


def _notebooks(assignment):
    """The assignment's notebooks that have a hidden suite, as file stems, in the manifest's order."""
    stems = [name.removesuffix(".ipynb") for name in load_manifest(ROOT / "solutions" / assignment).notebooks]
    return [stem for stem in stems if (HIDDEN_TESTS / assignment / f"test_{stem}.py").exists()]


def _loads(assignment):
    """{notebook: the notebooks its graded cells load} of the assignment's source notebooks (file stems)."""
    loads = {}
    for stem in _notebooks(assignment):
        nb = nbformat.read(str(ROOT / "solutions" / assignment / f"{stem}.ipynb"), as_version=4)
        loads[stem] = {name for cell in nb.cells if role(cell) in GRADED_CELLS
                       for name in LOAD.findall(cell_source(cell))} - {stem}
    return loads


LOADS = {assignment: _loads(assignment) for assignment in ASSIGNMENTS}


def _graded_with(assignment, notebook):
    """``notebook`` and every notebook that loads it, directly or through another, in the manifest's order."""
    graded = {notebook}
    while more := {stem for stem, loaded in LOADS[assignment].items() if loaded & graded} - graded:
        graded |= more
    return [stem for stem in _notebooks(assignment) if stem in graded]


def _grade(assignment, folder, notebooks, student=None):
    """Grade the notebooks (file stems) of a submission of ``assignment``."""
    return grade_submission(folder, assignment=assignment, student=student,
                            notebooks=[f"{stem}.ipynb" for stem in notebooks])


def _by_target(result):
    lost = defaultdict(float)
    for test in result.tests:
        lost[test.target] += test.max_score - test.score
    return lost


def _reveals_values(message):
    """A message that shows numbers to many places or an array repr could give away hidden data."""
    return re.search(r"\d\.\d{4,}|\d\.\d+[eE][-+]?\d|array\(|\[\s*-?\d+\.\d+,", message) is not None


NOTEBOOKS = [pytest.param(a, stem, id=f"{a}-{stem}") for a in ASSIGNMENTS for stem in _notebooks(a)]
LOADED_BY = [pytest.param(a, loaded, loader, id=f"{a}-{loaded}-loaded-by-{loader}")
             for a in ASSIGNMENTS for loaded in _notebooks(a) for loader in _graded_with(a, loaded) if loader != loaded]
MUTANTS = [pytest.param(a, m, id=f"{a}-{m.notebook}.{m.name}") for a in ASSIGNMENTS for m in CATALOGS[a][0]]
ALTERNATIVES = [pytest.param(a, e, id=f"{a}-{e.notebook}.{e.name}") for a in ASSIGNMENTS for e in CATALOGS[a][1]]


@pytest.mark.slow
@pytest.mark.parametrize("assignment, notebook", NOTEBOOKS)
def test_reference_solution_earns_full_marks(reference_of, assignment, notebook):
    result = _grade(assignment, reference_of(assignment), [notebook])
    failures = [f"{t.id}: {t.status} {t.message}" for t in result.tests if t.status != "passed"]
    assert result.status == "graded" and failures == []
    assert result.score == pytest.approx(result.max_score) and result.max_score > 0


@pytest.mark.slow
@pytest.mark.parametrize("assignment, notebook", NOTEBOOKS)
def test_blank_release_earns_nothing_and_does_not_crash(release_of, assignment, notebook):
    result = _grade(assignment, release_of(assignment), [notebook], student="blank")
    assert result.status == "graded"
    assert result.score == 0 and result.max_score > 0
    assert {t.status for t in result.tests} <= {"failed", "error"}


@pytest.mark.slow
@pytest.mark.parametrize("assignment, loaded, loader", LOADED_BY)
def test_a_blank_notebook_costs_the_notebooks_that_load_it_only_their_tuned_objects(
        tmp_path, reference_of, release_of, assignment, loaded, loader):
    """A notebook left as released may cost a notebook that loads it (softmax loads svm) its tuned objects alone."""
    folder = shutil.copytree(reference_of(assignment), tmp_path / f"blank_{loaded}")
    shutil.copy2(release_of(assignment) / f"{loaded}.ipynb", folder / f"{loaded}.ipynb")
    result = _grade(assignment, folder, [loader])
    lost = {target for target, points in _by_target(result).items() if points > 0}
    assert result.status == "graded" and lost <= tuned_objects(assignment)


def test_the_assignments_notebooks_that_load_another_are_found():
    assert LOADS["assignment1"]["softmax"] == {"svm"} and LOADS["assignment0"]["logistic_regression"] == {"perceptron"}
    assert _graded_with("assignment1", "svm") == ["svm", "softmax"]
    assert _graded_with("assignment1", "gradient_check") == ["gradient_check"]  # loaded by experiments only


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_mistake_is_charged_to_one_target(assignment):
    """One mistake, one deduction: an entry costs its own target and, besides, only the tuned objects."""
    mutants, _ = CATALOGS[assignment]
    tuned = tuned_objects(assignment)
    spread = {f"{m.notebook}.{m.name}": m.breaks for m in mutants if not set(m.breaks[1:]) <= tuned}
    assert spread == {}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_mistake_is_charged_to_a_target_of_its_notebook_and_every_target_has_one(assignment):
    mutants, alternatives = CATALOGS[assignment]
    manifest = load_manifest(ROOT / "solutions" / assignment)
    targets = {notebook.removesuffix(".ipynb"): set(manifest.targets[notebook]) for notebook in manifest.notebooks}
    undeclared = {m.name: m.breaks[0] for m in mutants if m.breaks[0] not in targets[m.notebook]}
    assert undeclared == {}
    assert {m.breaks[0] for m in mutants} == set().union(*targets.values())
    ids = [f"{entry.notebook}.{entry.name}" for entry in mutants + alternatives]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_catalog_keeps_its_minimum_of_wrong_implementations(assignment):
    mutants, _ = CATALOGS[assignment]
    assert len(mutants) >= AT_LEAST[assignment], f"only {len(mutants)} mutants so far"


@pytest.mark.slow
@pytest.mark.parametrize("assignment, mutant", MUTANTS)
def test_mutant_loses_points_on_its_target_and_only_there(tmp_path, reference_of, assignment, mutant):
    folder = make_edited_submission(tmp_path / "mutant", reference_of(assignment), mutant)
    result = _grade(assignment, folder, _graded_with(assignment, mutant.notebook))
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
@pytest.mark.parametrize("assignment, alternative", ALTERNATIVES)
def test_correct_alternative_earns_full_marks(tmp_path, reference_of, assignment, alternative):
    folder = make_edited_submission(tmp_path / "alternative", reference_of(assignment), alternative)
    result = _grade(assignment, folder, _graded_with(assignment, alternative.notebook))
    failures = [f"{t.id}: {t.message}" for t in result.tests if t.status != "passed"]
    assert result.status == "graded" and failures == []
