"""The committed example classes that `make demo` grades are current with the solutions and the release."""
import json

import pytest

from autograder.reference import assignments
from scripts.make_examples import EXAMPLES, PLANS, STUDENTS, build_from_solutions


def test_every_assignment_has_an_example_class():
    assert sorted(PLANS) == assignments()
    assert sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()) == assignments()


@pytest.mark.parametrize("assignment", sorted(PLANS))
def test_committed_example_class_is_what_make_examples_builds(tmp_path, assignment):
    committed_class = EXAMPLES / assignment
    fresh = build_from_solutions(tmp_path / "class", assignment)
    committed = sorted(p.relative_to(committed_class) for p in committed_class.rglob("*.ipynb"))
    assert sorted(p.relative_to(fresh) for p in fresh.rglob("*.ipynb")) == committed
    stale = [str(path) for path in committed if (committed_class / path).read_text() != (fresh / path).read_text()]
    assert stale == [], f"examples/{assignment} is stale for {stale}: run `make release` and commit it"


@pytest.mark.parametrize("assignment", sorted(PLANS))
def test_the_class_has_the_five_kinds_of_student(assignment):
    assert sorted(p.name for p in (EXAMPLES / assignment).iterdir() if p.is_dir()) == sorted(STUDENTS)


@pytest.mark.parametrize("assignment", sorted(PLANS))
def test_the_broken_students_truncated_notebook_is_really_not_json(assignment):
    text = (EXAMPLES / assignment / "broken" / f"{PLANS[assignment].truncated}.ipynb").read_text()
    with pytest.raises(ValueError):
        json.loads(text)
