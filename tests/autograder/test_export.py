"""`autograder export`: a results folder as the file Canvas or Moodle imports, one row per roster entry,
no grade (never a 0) without a submission, and every result without a roster entry reported."""
import subprocess
import sys

import pytest

from autograder.report import result_json
from autograder.results import SubmissionResult

AUTOGRADER = [sys.executable, "-m", "autograder"]
ROSTER = (
    "student,lms_id,name,section,sis_user_id,sis_login_id\n"
    "ada,101,\"Lovelace, Ada\",Mon,S001,ada@uni.example\n"
    "bob,102,\"Babbage, Bob\",Tue,S002,bob@uni.example\n"
    "cy,103,\"Cy, Cyril\",Mon,S003,cy@uni.example\n"
    "eve,104,\"Eve, Eva\",Tue,S004,eve@uni.example\n"
)


def _result(student, status, score, max_score=20.0, assignment="assignment0", error=""):
    return SubmissionResult(student, assignment, status, score, max_score, error=error)


@pytest.fixture
def results(tmp_path):
    """ada graded 17.5/20, bob an invalid submission (a real 0), cy a grader error; eve handed nothing in."""
    folder = tmp_path / "results"
    folder.mkdir()
    for result in (_result("ada", "graded", 17.5), _result("bob", "invalid_submission", 0.0),
                   _result("cy", "grader_error", 0.0, error="worker died")):
        (folder / f"{result.student}.json").write_text(result_json(result))
    (folder / "grades.csv").write_text("not a result\n")
    return folder


def _export(tmp_path, results, fmt, *extra, roster=ROSTER):
    roster_file = tmp_path / "roster.csv"
    if roster is not None:
        roster_file.write_text(roster)
    out = tmp_path / f"export-{fmt}.csv"
    done = subprocess.run(AUTOGRADER + ["export", str(results), "--format", fmt, "--roster", str(roster_file),
                                        "--out", str(out), *extra], capture_output=True, text=True)
    return done, out


def test_canvas_gets_its_header_rows_the_points_possible_and_a_row_per_roster_student(tmp_path, results):
    done, out = _export(tmp_path, results, "canvas", "--column", "Warm-up (4711)")
    assert done.returncode == 0, done.stderr
    assert out.read_text() == (
        "Student,ID,SIS User ID,SIS Login ID,Section,Warm-up (4711)\n"
        "    Points Possible,,,,,20\n"
        "\"Lovelace, Ada\",101,S001,ada@uni.example,Mon,17.5\n"
        "\"Babbage, Bob\",102,S002,bob@uni.example,Tue,0\n"
        "\"Cy, Cyril\",103,S003,cy@uni.example,Mon,\n"
        "\"Eve, Eva\",104,S004,eve@uni.example,Tue,\n"
    )
    assert done.stdout.strip() == (f"{out}: 4 student(s) of the roster, 2 with a grade, "
                                   "1 without a submission (no grade)")
    assert "no grade for cy: the grader failed on this submission (worker died)" in done.stderr


def test_moodle_gets_the_identifier_its_import_maps_and_a_grade_column_titled_by_the_assignment(tmp_path, results):
    roster = "student,lms_id\nada,ada@uni.example\neve,eve@uni.example\nbob,bob@uni.example\n"
    done, out = _export(tmp_path, results, "moodle", roster=roster)
    assert out.read_text() == ("Email address,assignment0\n"
                               "ada@uni.example,17.5\neve@uni.example,\nbob@uni.example,0\n")
    assert done.returncode == 1  # cy has a result and no roster entry
    done, out = _export(tmp_path, results, "moodle", "--moodle-id", "idnumber", "--column", "Warm-up")
    assert out.read_text().splitlines()[:2] == ["ID number,Warm-up", "101,17.5"]


def test_the_plain_csv_names_each_students_status_and_a_missing_submission(tmp_path, results):
    done, out = _export(tmp_path, results, "csv")
    assert done.returncode == 0, done.stderr
    assert out.read_text() == (
        "student,lms_id,name,section,score,max_score,status\n"
        "ada,101,\"Lovelace, Ada\",Mon,17.5,20,graded\n"
        "bob,102,\"Babbage, Bob\",Tue,0,20,invalid_submission\n"
        "cy,103,\"Cy, Cyril\",Mon,,20,grader_error\n"
        "eve,104,\"Eve, Eva\",Tue,,20,missing\n"
    )


def test_results_without_a_roster_entry_are_reported_and_the_exit_status_says_so(tmp_path, results):
    (results / "zoe.json").write_text(result_json(_result("zoe", "graded", 20.0)))
    done, out = _export(tmp_path, results, "canvas")
    assert done.returncode == 1
    assert f"1 result(s) in {results} have no roster entry and are not in {out}: zoe;" in done.stderr
    assert "zoe" not in out.read_text() and len(out.read_text().splitlines()) == 2 + 4  # the roster's rows


def test_an_existing_export_is_replaced_whole(tmp_path, results):
    (tmp_path / "export-csv.csv").write_text("old\n" * 1000)
    done, out = _export(tmp_path, results, "csv")
    assert done.returncode == 0 and out.read_text().startswith("student,") and "old" not in out.read_text()
    assert not list(tmp_path.glob(".export-csv.csv.*"))  # no temporary file left behind


@pytest.mark.parametrize("roster, extra, message", [
    (None, [], "roster.csv: no such roster file"),
    ("", [], "roster.csv: bad roster header (an empty file): no column student; no column lms_id"),
    ("student,canvas_id\nada,1\n", [], "bad roster header (student,canvas_id): no column lms_id; "
                                       "unknown column 'canvas_id'"),
    ("student,lms_id,lms_id\n", [], "column lms_id twice"),
    ("student,lms_id\nada,1\nbob,2\nada,3\n", [], "roster.csv, line 4: duplicate student 'ada' (also on line 2)"),
    ("student,lms_id\nada,1\nbob,1\n", [], "roster.csv, line 3: duplicate lms_id '1' (also on line 2)"),
    ("student,lms_id\nada,\n", [], "roster.csv, line 2: no lms_id"),
    (ROSTER, ["--format", "blackboard"], "unknown format 'blackboard': choose canvas, moodle or csv"),
    (ROSTER, ["--assignment", "assignment1"], "no results of assignment1 (it holds assignment0)"),
])
def test_bad_input_is_a_one_line_error_and_no_file(tmp_path, results, roster, extra, message):
    done, out = _export(tmp_path, results, "csv", *extra, roster=roster)
    assert done.returncode == 1 and not out.exists()
    assert done.stderr.startswith("autograder: error: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_a_folder_of_several_assignments_asks_which_one(tmp_path, results):
    (results / "ann.json").write_text(result_json(_result("ann", "graded", 50.0, 100.0, "assignment1")))
    done, _ = _export(tmp_path, results, "csv")
    assert done.returncode == 1 and "several assignments (assignment0, assignment1); choose one with --assignment" \
        in done.stderr
    done, out = _export(tmp_path, results, "csv", "--assignment", "assignment0")
    assert "ann" not in out.read_text() and "ada,101" in out.read_text()


def test_an_empty_results_folder_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    done, out = _export(tmp_path, tmp_path / "empty", "canvas")
    assert done.returncode == 1 and "no results" in done.stderr and not out.exists()


def test_a_spreadsheets_byte_order_mark_and_empty_columns_are_no_header_problem(tmp_path, results):
    roster = "\ufeffstudent,lms_id,,\nada,101,,\n\n"
    done, out = _export(tmp_path, results, "moodle", roster=roster)
    assert out.read_text() == "Email address,assignment0\n101,17.5\n"
