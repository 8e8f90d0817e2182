"""nbgrader's exchange round trip, as a JupyterHub course uses it, with the kit's configuration.

The instructor releases assignment 0 to an exchange directory; two students, each with their own
home, fetch it and submit (one with wrong answers, one untouched); the instructor collects,
autogrades (the kit's engine scores every grade cell), generates and releases feedback; each
student fetches it. Every step is nbgrader's own command line, run as a subprocess.
"""
import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from autograder.nbgrader_command import nbgrader_command, nbgrader_environment
from scripts.course import Course
from scripts.leak_check import secret_lines
from tests.notebooks import ROOT

pytestmark = pytest.mark.slow  # about a minute: a dozen nbgrader commands and one grading

ASSIGNMENT = "assignment0"
COURSE_ID = "nn-course-kit"  # nbgrader_config.py's
NOTEBOOKS = ("perceptron.ipynb", "logistic_regression.ipynb")
# What a hub's /etc/jupyter/nbgrader_config.py holds, for the instructor and every student alike.
HUB_CONFIG = 'c = get_config()\nc.Exchange.root = {root!r}\nc.CourseDirectory.course_id = "nn-course-kit"\n'


class Hub:
    """Users of one machine sharing an exchange directory and a global nbgrader config, each with a home."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.exchange = self.folder / "srv" / "exchange"
        self.exchange.mkdir(parents=True)
        self.exchange.chmod(0o777)  # nbgrader requires an exchange everyone can write to
        self.etc = self.folder / "etc" / "jupyter"
        self.etc.mkdir(parents=True)
        (self.etc / "nbgrader_config.py").write_text(HUB_CONFIG.format(root=str(self.exchange)))

    def home(self, user):
        home = self.folder / "home" / user
        home.mkdir(parents=True, exist_ok=True)
        return home

    def nbgrader(self, user, *args, cwd=None):
        """``nbgrader ARGS`` as ``user``, in ``cwd`` (default: the user's home); its output."""
        home = self.home(user)
        env = nbgrader_environment({k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")})
        env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(self.etc),  # the hub's shared config
                   JUPYTER_DATA_DIR=str(home / ".local" / "share" / "jupyter"))  # the user's own cache
        done = subprocess.run(nbgrader_command(*args), cwd=cwd or home, env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{user}: nbgrader {' '.join(args)} failed:\n{done.stdout[-3000:]}\n" \
                                     f"{done.stderr[-3000:]}"
        return done.stdout + done.stderr


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    """The hub after the whole round trip: {"hub", "course", "feedback": {student: {notebook: page text}}}."""
    hub = Hub(tmp_path_factory.mktemp("hub"))
    course = Course(hub.home("instructor") / "course", ASSIGNMENT)  # the kit's nbgrader_config.py and solutions
    teacher = dict(cwd=course.root)
    hub.nbgrader("instructor", "generate_assignment", ASSIGNMENT, **teacher)
    hub.nbgrader("instructor", "release_assignment", ASSIGNMENT, **teacher)
    work = {"ada": ROOT / "examples" / ASSIGNMENT / "bugs", "bea": None}  # bea submits the release untouched
    for student, answers in work.items():
        # One OS user plays both students here; on a hub nbgrader takes the id from the login.
        hub.nbgrader(student, "fetch_assignment", ASSIGNMENT, f"--student={student}")
        if answers:
            for notebook in NOTEBOOKS:
                shutil.copy2(answers / notebook, hub.home(student) / ASSIGNMENT / notebook)
        hub.nbgrader(student, "submit", ASSIGNMENT, f"--student={student}")
    # Same OS user again: the owner check would only warn that the files are not the students'.
    hub.nbgrader("instructor", "collect", ASSIGNMENT, "--CollectApp.check_owner=False", **teacher)
    hub.nbgrader("instructor", "autograde", ASSIGNMENT, "--create", **teacher)
    hub.nbgrader("instructor", "generate_feedback", ASSIGNMENT, **teacher)
    hub.nbgrader("instructor", "release_feedback", ASSIGNMENT, **teacher)
    feedback = {}
    for student in work:
        hub.nbgrader(student, "fetch_feedback", ASSIGNMENT, f"--student={student}")
        pages = sorted((hub.home(student) / ASSIGNMENT / "feedback").glob("*/*.html"))
        feedback[student] = {f"{page.stem}.ipynb": _page_text(page) for page in pages}
    return {"hub": hub, "course": course, "feedback": feedback}


def _page_text(page):
    """What the page shows: its text without tags (code is split into highlighted spans), unescaped."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def _lines(text):
    return {" ".join(line.split()) for line in text.splitlines()}


def test_each_student_fetches_feedback_for_every_notebook_submitted(round_trip):
    assert {student: sorted(pages) for student, pages in round_trip["feedback"].items()} == {
        "ada": sorted(NOTEBOOKS), "bea": sorted(NOTEBOOKS)}


def test_the_fetched_feedback_and_the_gradebook_say_what_the_batch_grader_says(round_trip, tmp_path):
    from autograder.batch import grade_batch

    course, pages = round_trip["course"], round_trip["feedback"]["ada"]
    results = {r.student: r for r in grade_batch([course.root / "submitted"], tmp_path, jobs=2, progress=False)}
    assert {r.assignment for r in results.values()} == {ASSIGNMENT}  # inferred from nbgrader's layout
    wrong = [test for test in results["ada"].tests if test.status != "passed"]
    assert wrong, "the buggy example passed every test: it proves nothing here"
    assert [t.id for t in wrong if t.message not in pages[t.notebook]] == []
    # nbgrader's gradebook holds the kit's scores, cell by cell.
    for student, result in results.items():
        assert course.grade_cell_scores(student) == {
            key: pytest.approx(score) for key, (score, _) in result.cells().items()}, student
    assert 0 < results["ada"].score < results["ada"].max_score and results["bea"].score == 0
    blank = round_trip["feedback"]["bea"]["perceptron.ipynb"]
    assert "your code raised NotImplementedError (cell perceptron.ipynb:predict_binary" in blank


def test_the_fetched_feedback_shows_no_hidden_test_and_no_solution_line_the_student_did_not_write(round_trip):
    from autograder.compare import HIDDEN_TESTS

    hidden = {line for path in (HIDDEN_TESTS / ASSIGNMENT).glob("test_*.py") for line in _lines(path.read_text())
              if len(line) > 30 and not line.startswith(("#", '"""', "from ", "import "))}
    solutions = secret_lines(ROOT / "solutions" / ASSIGNMENT)
    assert len(hidden) > 100 and len(solutions) > 20  # enough lines that a leak would show
    for student, pages in round_trip["feedback"].items():
        submitted = round_trip["course"].root / "submitted" / student / ASSIGNMENT
        own = set().union(*(_lines("\n".join(c.source for c in nbformat.read(str(path), as_version=4).cells))
                            for path in submitted.glob("*.ipynb")))
        for notebook, text in pages.items():
            shown = _lines(text)
            assert "HIDDEN TESTS" not in text and "hidden_tests" not in text, (student, notebook)
            assert sorted(shown & (hidden - own)) == [], (student, notebook)  # own: the release's lines too
            assert sorted(shown & (solutions - own)) == [], (student, notebook)
