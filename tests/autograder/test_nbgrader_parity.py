"""nbgrader autograde, routed through the kit's engine, records the batch grader's scores, cell by cell.

Assignment 1 here; assignment 0's course, through the exchange, in tests/test_nbgrader_exchange.py.
"""
import html

import pytest

from autograder.batch import grade_batch
from scripts.course import Course
from tests.autograder.mutants import Alternative, catalog
from tests.autograder.submissions import make_edited_submission
from tests.notebooks import ASSIGNMENT

pytestmark = pytest.mark.slow

# A correct solution that writes to stderr and warns: stock nbgrader zeroes such a cell.
NOISY = Alternative("noisy", "gradient_check", "sgd_step",
                    old="    new_w = w - learning_rate * dw\n",
                    new="    new_w = w - learning_rate * dw\n    import sys, warnings\n"
                        "    sys.stderr.write('debug output')\n    warnings.warn('a warning')\n")


@pytest.fixture(scope="module")
def course(tmp_path_factory, fresh_release, reference_submission):
    """A course with three submissions, autograded, with feedback generated and grades exported."""
    course = Course(tmp_path_factory.mktemp("course") / "course")
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    mutants, _ = catalog(ASSIGNMENT)
    buggy = make_edited_submission(tmp_path_factory.mktemp("buggy") / "buggy", reference_submission, mutants[0])
    noisy = make_edited_submission(tmp_path_factory.mktemp("noisy") / "noisy", reference_submission, NOISY)
    students = (("ada", reference_submission), ("blank", fresh_release), ("bugs", buggy), ("noisy", noisy))
    for student, folder in students:
        course.submit(student, folder)
    course.nbgrader("autograde", ASSIGNMENT, "--create", "--force")
    course.nbgrader("generate_feedback", ASSIGNMENT, "--force")
    course.nbgrader("export")
    return course


@pytest.fixture(scope="module")
def batch(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    results = grade_batch([course.root / "submitted"], out, jobs=2, progress=False)
    return {result.student: result for result in results}


@pytest.mark.parametrize("student", ["ada", "blank", "bugs", "noisy"])
def test_nbgrader_records_the_batch_graders_score_for_every_grade_cell(course, batch, student):
    ours = batch[student].cells()
    theirs = course.grade_cell_scores(student)
    assert set(theirs) == set(ours)
    assert {key: pytest.approx(score) for key, (score, _) in ours.items()} == theirs


def test_the_submissions_get_the_totals_they_deserve(batch):
    scores = {student: result.score for student, result in batch.items()}
    assert scores["ada"] == scores["noisy"] == batch["ada"].max_score > scores["bugs"] > scores["blank"] == 0


def test_stderr_and_warnings_from_student_code_do_not_zero_a_cell_in_nbgrader(course):
    assert course.grade_cell_scores("noisy")[("gradient_check.ipynb", "test_sgd_step")] == 2.0


def test_exported_grades_match_the_batch_totals(course, batch):
    import csv

    with open(course.root / "grades.csv") as handle:
        exported = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(handle)}
    # nbgrader's totals add the manually graded inline questions, still ungraded (0).
    assert exported == {student: pytest.approx(result.score) for student, result in batch.items()}


def test_feedback_holds_no_hidden_test_code(course):
    from autograder.compare import HIDDEN_TESTS

    hidden_lines = {
        line.strip() for path in (HIDDEN_TESTS / ASSIGNMENT).glob("test_*.py")
        for line in path.read_text().splitlines()
        if len(line.strip()) > 30 and not line.strip().startswith(("#", '"""', "from ", "import "))
    }
    pages = list((course.root / "feedback").rglob("*.html"))
    assert len(pages) >= 3, "generate_feedback wrote too little"
    for page in pages:
        text = html.unescape(page.read_text())
        assert "BEGIN HIDDEN TESTS" not in text and "hidden_tests" not in text
        assert [line for line in hidden_lines if line in text] == []
