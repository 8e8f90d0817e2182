"""`autograder grade`: finds submissions in every layout, writes every report atomically,
resumes without losing or duplicating results, and fails with one line only when it cannot run."""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder.batch import grade_batch
from autograder.discover import find_submissions
from autograder.errors import ReadError
from autograder.run import _processes
from tests.autograder.pool_helpers import is_running
from tests.notebooks import ASSIGNMENT

NB = "gradient_check.ipynb"
AUTOGRADER = [sys.executable, "-m", "autograder.cli"]


def _student(root, name, source):
    folder = root / name
    folder.mkdir(parents=True)
    shutil.copy2(source, folder / NB)
    return folder


def test_submissions_are_found_in_every_layout(tmp_path):
    notebook = tmp_path / "x.ipynb"
    notebook.write_text("{}")
    tree = tmp_path / "submitted"
    for student in ("ann", "bob"):
        for assignment in ("assignment1", "assignment2"):
            _student(tree / student, assignment, notebook)
    class_folder = tmp_path / "class"
    _student(class_folder, "cid", notebook)
    _student(class_folder, "dee", notebook)
    single = _student(tmp_path, "eve", notebook)
    found = find_submissions([tree, class_folder, single / NB], ASSIGNMENT)
    assert [(s.student, s.folder.relative_to(tmp_path).as_posix()) for s in found] == [
        ("ann", "submitted/ann/assignment1"), ("bob", "submitted/bob/assignment1"),
        ("cid", "class/cid"), ("dee", "class/dee"), ("eve", "eve"),
    ]


def test_students_who_handed_in_only_another_assignment_are_not_graded_as_this_one(tmp_path):
    notebook = tmp_path / "x.ipynb"
    notebook.write_text("{}")
    tree = tmp_path / "submitted"
    _student(tree / "ann", "assignment1", notebook)
    _student(tree / "bob", "assignment0", notebook)  # a course assignment, not this one
    _student(tree / "cid", "assignment0", notebook)
    found = find_submissions([tree], "assignment1")
    assert [(s.student, s.folder.relative_to(tmp_path).as_posix()) for s in found] == [
        ("ann", "submitted/ann/assignment1")]
    assert [s.student for s in find_submissions([tree], "assignment0")] == ["bob", "cid"]


@pytest.mark.parametrize("make_path, message", [
    (lambda root: root / "nowhere", "no such file or folder"),
    (lambda root: root, "no notebooks found"),
])
def test_bad_paths_are_one_line_errors(tmp_path, make_path, message):
    with pytest.raises(ReadError, match=message):
        find_submissions([make_path(tmp_path)], ASSIGNMENT)


@pytest.mark.parametrize("args, message", [
    (["grade", "/nowhere", "--out", "OUT"], "autograder: error: /nowhere: no such file or folder"),
    (["grade", ".", "--out", "OUT", "--jobs", "0"], "autograder: error: --jobs must be at least 1"),
])
def test_the_command_line_fails_with_one_line_and_no_traceback(tmp_path, args, message):
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    done = subprocess.run(AUTOGRADER + args, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip() == message
    assert "Traceback" not in done.stderr


def test_python_dash_m_autograder_is_the_same_command(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "nowhere"), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True)
    assert (done.returncode, done.stderr.strip()) == (1, f"autograder: error: {tmp_path / 'nowhere'}: no such file "
                                                         "or folder")


def test_a_missing_argument_is_a_usage_error(tmp_path):
    done = subprocess.run(AUTOGRADER + ["grade", "x"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2 and "--out" in done.stderr and "Traceback" not in done.stderr


@pytest.fixture
def two_students(tmp_path, reference_submission, fresh_release):
    root = tmp_path / "class"
    _student(root, "ada", reference_submission / NB)
    _student(root, "zed", fresh_release / NB)
    return root


@pytest.mark.slow
def test_a_batch_writes_json_csv_gradescope_and_reports(two_students, tmp_path):
    out = tmp_path / "out"
    results = grade_batch([two_students], out, jobs=2, progress=False)
    assert [r.student for r in results] == ["ada", "zed"]
    ada = json.loads((out / "ada.json").read_text())
    assert ada["status"] == "graded" and ada["tests"] and set(ada["tests"][0]) == {
        "id", "notebook", "target", "grade_id", "score", "max_score", "status", "message",
        "checked", "problem"}  # the message's two parts, kept apart for reports
    gradescope = json.loads((out / "gradescope" / "zed" / "results.json").read_text())
    assert gradescope["score"] == 0 and len(gradescope["tests"]) == len(ada["tests"])
    with open(out / "grades.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["student"] for row in rows] == ["ada", "zed"]
    assert "gradient_check:rel_error" in rows[0] and float(rows[1]["score"]) == 0.0
    assert not list(out.rglob("*.part"))


@pytest.mark.slow
def test_a_rerun_skips_what_is_graded_and_regrades_a_changed_submission(two_students, tmp_path):
    out = tmp_path / "out"
    grade_batch([two_students], out, jobs=1, progress=False)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    (two_students / "zed" / NB).write_bytes((two_students / "ada" / NB).read_bytes())
    results = grade_batch([two_students], out, jobs=1, progress=False)
    assert (out / "ada.json").stat().st_mtime_ns == stamps["ada.json"]
    assert (out / "zed.json").stat().st_mtime_ns != stamps["zed.json"]
    full = sum(t.max_score for t in results[0].tests if t.notebook == NB)
    assert [r.score for r in results] == [pytest.approx(full)] * 2
    grade_batch([two_students], out, jobs=1, force=True, progress=False)
    assert (out / "ada.json").stat().st_mtime_ns != stamps["ada.json"]


@pytest.mark.slow
def test_grading_one_more_student_into_a_results_folder_keeps_everyone_already_in_it(two_students, tmp_path):
    """The results folder is the course's gradebook: a run that grades only zed keeps ada in it."""
    out = tmp_path / "out"
    for student in ("ada", "zed"):
        done = subprocess.run(AUTOGRADER + ["grade", str(two_students / student), "--out", str(out), "--quiet"],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("1 submission(s)")  # the summary is this run's
    with open(out / "grades.csv") as handle:
        assert [row["student"] for row in csv.DictReader(handle)] == ["ada", "zed"]
    report = (out / "report.html").read_text()
    assert 'href="feedback/ada.html"' in report and 'href="feedback/zed.html"' in report
    assert "<strong>2</strong> graded" in report


def _grading_until_the_first_result(root, out, reference_submission, students, jobs, **popen):
    """``autograder grade`` started on a class of ``students`` reference submissions, once one result is written."""
    for index in range(students):
        _student(root, f"s{index}", reference_submission / NB)
    run = subprocess.Popen(AUTOGRADER + ["grade", str(root), "--out", str(out), "--jobs", str(jobs), "--quiet"],
                           start_new_session=True, stdout=subprocess.DEVNULL, **popen)
    deadline = time.monotonic() + 120
    while not list(out.glob("s*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    return run


@pytest.fixture
def scratch():
    """An empty folder for a run's TMPDIR, to see what it leaves there."""
    folder = Path(tempfile.mkdtemp())
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_an_interrupted_run_resumes_without_losing_or_duplicating_results(tmp_path, reference_submission, scratch):
    root, out = tmp_path / "class", tmp_path / "out"
    run = _grading_until_the_first_result(root, out, reference_submission, 4, jobs=1, stderr=subprocess.DEVNULL)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    graded_before = sorted(p.name for p in out.glob("s*.json"))
    assert 1 <= len(graded_before) < 4
    for path in out.glob("s*.json"):
        json.loads(path.read_text())  # every result on disk is complete
    done = subprocess.run(AUTOGRADER + ["grade", str(root), "--out", str(out), "--quiet"],
                          capture_output=True, text=True, env={**os.environ, "TMPDIR": str(scratch)})
    assert done.returncode == 0, done.stderr
    assert not list(scratch.iterdir())  # a run leaves none of its folders behind
    assert sorted(p.name for p in out.glob("s*.json")) == [f"s{i}.json" for i in range(4)]
    with open(out / "grades.csv") as handle:
        assert [row["student"] for row in csv.DictReader(handle)] == ["s0", "s1", "s2", "s3"]


def _session_processes(session):
    """Pids of the live (not zombie) processes of session ``session``."""
    return [pid for pid, (_, sid, _) in _processes().items() if sid == session and is_running(pid)]


@pytest.mark.slow
def test_sigterm_stops_a_run_at_once_keeping_what_was_graded(tmp_path, reference_submission, scratch):
    """A scheduler's time limit (SIGTERM to the grader alone) stops it as Ctrl-C would, now, leaving nothing running."""
    out = tmp_path / "out"
    run = _grading_until_the_first_result(tmp_path / "class", out, reference_submission, 6, jobs=2,
                                          stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(scratch)})
    run.send_signal(signal.SIGTERM)
    try:
        _, stderr = run.communicate(timeout=20)
        deadline = time.monotonic() + 10  # the grading processes clean up after the grader has gone
        while (_session_processes(run.pid) or list(scratch.iterdir())) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        left = _session_processes(run.pid)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    assert run.returncode == 128 + signal.SIGTERM
    assert "stopped by SIGTERM; results graded so far are kept" in stderr
    assert not left
    assert not list(scratch.iterdir())  # the grading folders, with the students' files, are removed
    graded = list(out.glob("s*.json"))
    assert 1 <= len(graded) < 6
    for path in graded:
        json.loads(path.read_text())  # every result on disk is complete


def test_a_tmpdir_too_long_for_a_socket_still_grades_and_leaves_it_empty(tmp_path, reference_submission):
    """A cluster job's or a build's TMPDIR can be longer than an AF_UNIX socket's path may be."""
    long_tmpdir = tmp_path / ("t" * 60) / ("m" * 60)
    long_tmpdir.mkdir(parents=True)
    root, out = tmp_path / "class", tmp_path / "out"
    _student(root, "ada", reference_submission / NB)
    done = subprocess.run(AUTOGRADER + ["grade", str(root), "--out", str(out), "--quiet"],
                          capture_output=True, text=True, env={**os.environ, "TMPDIR": str(long_tmpdir)})
    assert done.returncode == 0, done.stderr
    ada = json.loads((out / "ada.json").read_text())
    handed_in = [test for test in ada["tests"] if test["notebook"] == NB]
    assert ada["status"] == "graded" and ada["score"] == sum(test["max_score"] for test in handed_in) > 0
    assert not list(long_tmpdir.iterdir())


def test_no_folder_short_enough_for_the_socket_is_a_one_line_error(tmp_path, fresh_release):
    long_tmpdir = tmp_path / ("t" * 60) / ("m" * 60)
    long_tmpdir.mkdir(parents=True)
    _student(tmp_path / "class", "ada", fresh_release / NB)
    grade = "import sys; from autograder import cli, pool; pool._SHORT_TEMP_FOLDERS = (); sys.exit(cli.main())"
    done = subprocess.run([sys.executable, "-c", grade, "grade", str(tmp_path / "class"), "--out",
                           str(tmp_path / "out"), "--quiet"],
                          capture_output=True, text=True, env={**os.environ, "TMPDIR": str(long_tmpdir)})
    assert done.returncode == 1
    assert done.stderr == (
        "autograder: error: the grading processes cannot start: their socket does not fit in the temporary folder "
        f"{long_tmpdir} (a socket's path has at most 107 bytes); set TMPDIR to a shorter folder\n")


def test_a_signal_the_caller_ignores_stays_ignored(monkeypatch):
    """Under nohup a run goes on when the terminal closes: only signals left at their default stop it."""
    from autograder import cli

    seen = {}
    monkeypatch.setattr(cli, "_run", lambda args: seen.update(
        hup=signal.getsignal(signal.SIGHUP), term=signal.getsignal(signal.SIGTERM)) or 0)
    term_before = signal.getsignal(signal.SIGTERM)
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        assert cli.main(["selftest"]) == 0
        assert seen["hup"] is signal.SIG_IGN
        assert seen["term"] is (cli._stop if term_before is signal.SIG_DFL else term_before)
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN  # as the caller left them
        assert signal.getsignal(signal.SIGTERM) is term_before
    finally:
        signal.signal(signal.SIGHUP, previous)
