"""A grade is reproducible: same submission, same score and messages, whatever its batch position, the
number of jobs, or what else the machine runs (two processes spinning on both cores)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from autograder import pipeline
from autograder.batch import grade_batch
from autograder.discover import SubmissionFolder
from autograder.pool import run_pool
from tests.autograder.mutants import catalog
from tests.autograder.pool_helpers import fake_failure, grade_one_notebook
from tests.autograder.submissions import make_edited_submission

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "assignment1"
SPIN = "while True: pass"
TIMED_NOTEBOOKS = ("knn", "svm", "softmax")  # the notebooks with speed checks


def _grades(results):
    """{student: (status, score, {test id: (status, score, message)})}."""
    return {r.student: (r.status, r.score, {t.id: (t.status, t.score, t.message) for t in r.tests})
            for r in results}


def _class(folder, students):
    """A class folder with one submission per (name, source folder)."""
    folder.mkdir(parents=True)
    for name, source in students:
        shutil.copytree(source, folder / name)
    return folder


def _one_alternative_per_notebook(tmp_path, reference_submission):
    _, alternatives = catalog("assignment1")
    chosen = {}
    for alternative in alternatives:
        chosen.setdefault(alternative.notebook, alternative)
    return [(f"alt_{a.notebook}", make_edited_submission(tmp_path / "alternatives" / a.name, reference_submission, a))
            for a in chosen.values()]


@pytest.fixture(scope="module")
def quiet(tmp_path_factory, reference_submission):
    """Grades on a quiet machine, one job, in one order."""
    root = tmp_path_factory.mktemp("determinism")
    alternatives = _one_alternative_per_notebook(root, reference_submission)
    students = [("reference", reference_submission), ("partial", EXAMPLES / "partial"),
                ("bugs", EXAMPLES / "bugs")] + alternatives
    results = grade_batch([_class(root / "quiet", students)], root / "out-quiet", jobs=1, progress=False)
    return root, students, _grades(results)


@pytest.mark.slow
def test_the_reference_and_valid_alternatives_earn_full_marks_on_a_quiet_machine(quiet):
    _, _, grades = quiet
    full = {name: (status, score) for name, (status, score, _) in grades.items() if name.startswith(("ref", "alt"))}
    assert all(status == "graded" for status, _ in full.values())
    assert len({score for _, score in full.values()}) == 1, full
    assert 0 < grades["partial"][1] < grades["reference"][1] and 0 < grades["bugs"][1] < grades["reference"][1]


@pytest.mark.slow
def test_batch_position_and_job_count_do_not_change_a_grade(quiet):
    """Each submission at another position, the reference first and last, two jobs: every score and message
    as on the quiet run."""
    root, students, expected = quiet
    reordered = students[:1] + list(reversed(students))
    shuffled = [(f"{i:02d}-{name}", source) for i, (name, source) in enumerate(reordered)]
    results = grade_batch([_class(root / "shuffled", shuffled)], root / "out-shuffled", jobs=2, progress=False)
    got = _grades(results)
    differing = sorted(name for name, grade in got.items() if grade != expected[name.split("-", 1)[1]])
    assert len(got) == len(students) + 1 and differing == []


@pytest.fixture
def two_spinning_processes():
    hogs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(2)]
    yield hogs
    for hog in hogs:
        hog.kill()
        hog.wait()


@pytest.mark.slow
def test_two_processes_spinning_on_both_cores_do_not_change_a_grade(quiet, two_spinning_processes):
    """The speed checks count CPU time, so a grade under --jobs 2 beside two CPU hogs is the quiet grade."""
    root, students, expected = quiet
    kept = [(name, source) for name, source in students if name.startswith(("ref", "alt"))]
    results = grade_batch([_class(root / "load", kept)], root / "out-load", jobs=2, progress=False)
    assert all(hog.poll() is None for hog in two_spinning_processes)  # the load lasted the whole batch
    assert [name for name, grade in _grades(results).items() if grade != expected[name]] == []


@pytest.mark.slow
def test_every_valid_alternative_of_a_timed_notebook_earns_full_marks_beside_cpu_hogs(
        tmp_path, reference_submission, two_spinning_processes):
    """Each catalog alternative of knn, svm and softmax, two jobs, two hogs: full marks, as on a quiet machine."""
    _, alternatives = catalog("assignment1")
    todo = [SubmissionFolder(f"{a.notebook}--{a.name}", make_edited_submission(tmp_path / f"{a.notebook}-{a.name}",
                                                                             reference_submission, a))
            for a in alternatives if a.notebook in TIMED_NOTEBOOKS]
    results = list(run_pool(todo, grade_one_notebook, fake_failure, jobs=2))
    assert all(hog.poll() is None for hog in two_spinning_processes)
    short = {r["student"]: r.get("failures", r.get("error")) for r in results
             if r["status"] != "graded" or r["score"] != r["max_score"]}
    assert len(results) == len(todo) > 20 and short == {}


def _blas_threads():
    return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}


def test_the_grading_process_computes_on_one_blas_thread_and_gives_the_callers_setting_back(
        reference_submission, monkeypatch):
    """The tests' inputs and the reference's values are the grading process's own numpy: on one BLAS
    thread, as in the workers, their bits do not depend on the machine's cores."""
    seen = []
    grade = pipeline._grade

    def watched(*args, **kwargs):
        seen.append(_blas_threads())
        return grade(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_grade", watched)
    with threadpool_limits(limits=2, user_api="blas"):
        result = pipeline.grade_submission(reference_submission, notebooks=["gradient_check.ipynb"])
        after = _blas_threads()
    assert result.status == "graded" and result.score == result.max_score
    assert seen == [{1}]
    assert after == {2}
