"""``autograder export``: a results folder as a file that Canvas or Moodle imports as it is.

    autograder export RESULTS_DIR --format canvas|moodle|csv --roster ROSTER.csv --out FILE
                      [--column TITLE] [--moodle-id email|idnumber|username] [--assignment A]

The roster is a CSV file with a header row. Its columns:

``student`` (required)
    The kit's student id, as in the results folder (``RESULTS_DIR/<student>.json``).
``lms_id`` (required)
    The student's id in the LMS: for Canvas its numeric user ID (the ``ID`` column of a
    gradebook export); for Moodle the email address, ID number or username that the
    import identifies users by (``--moodle-id`` says which).
``name``, ``section``, ``sis_user_id``, ``sis_login_id`` (optional)
    Canvas's ``Student``, ``Section``, ``SIS User ID`` and ``SIS Login ID`` columns.

Every student of the roster gets a row, in the roster's order. One without a
result, or whose result is a grader error, gets no grade (an empty cell: never
a zero that nobody entered). Results of students missing from the roster are
listed on stderr and the command exits with status 1 after writing the file,
so that no grade is lost unnoticed; the file holds the roster's students only.
"""
from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import GraderError, ReadError

HELP = "write a results folder as a Canvas or Moodle grade import file (or a plain CSV)"
FORMATS = ("canvas", "moodle", "csv")
REQUIRED = ("student", "lms_id")
OPTIONAL = ("name", "section", "sis_user_id", "sis_login_id")
# Moodle's own column titles for the user fields its grade import can identify users by.
MOODLE_IDS = {"email": "Email address", "idnumber": "ID number", "username": "Username"}
CANVAS_IDS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
# Canvas writes this row under its header in its own exports, and reads it back on import.
CANVAS_POINTS_ROW = "    Points Possible"


@dataclass(frozen=True)
class RosterEntry:
    """One student of the roster: the kit's id and the LMS's."""

    student: str
    lms_id: str
    name: str = ""
    section: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""


def add_arguments(parser):
    parser.add_argument("results", metavar="RESULTS_DIR", help="a results folder of `autograder grade`")
    parser.add_argument("--format", required=True, metavar="FORMAT",
                        help="canvas (gradebook CSV), moodle (grade import CSV) or csv (plain)")
    parser.add_argument("--roster", required=True, metavar="ROSTER.csv",
                        help="CSV with columns student,lms_id and optionally name,section,sis_user_id,sis_login_id")
    parser.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    parser.add_argument("--column", metavar="TITLE",
                        help='title of the grade column (default: the assignment id); for an existing Canvas '
                             'assignment, its title as Canvas exports it, e.g. "Assignment 1 (12345)"')
    parser.add_argument("--moodle-id", default="email", metavar="FIELD",
                        help="what lms_id holds for Moodle: email (default), idnumber or username")
    parser.add_argument("--assignment", help="the assignment to export when the folder holds several")


def run(args):
    """The command: read, match, write; the exit status is 1 if results had no roster entry."""
    from autograder.batch import gradebook

    if args.format not in FORMATS:
        raise GraderError(f"unknown format {args.format!r}: choose canvas, moodle or csv")
    if args.moodle_id not in MOODLE_IDS:
        raise GraderError(f"unknown --moodle-id {args.moodle_id!r}: choose email, idnumber or username")
    roster = read_roster(args.roster)
    results_dir = Path(args.results)
    if not results_dir.is_dir():
        raise ReadError(f"{results_dir}: no such results folder")
    results = _of_one_assignment(gradebook(results_dir), args.assignment, results_dir)
    column = args.column or results[0].assignment
    text = export_text(args.format, results, roster, column, args.moodle_id)
    from autograder.report import write_atomic

    write_atomic(args.out, text)
    by_student = {result.student: result for result in results}
    graded = [e for e in roster if e.student in by_student and by_student[e.student].graded]
    missing = [e.student for e in roster if e.student not in by_student]
    print(f"{args.out}: {len(roster)} student(s) of the roster, {len(graded)} with a grade, "
          f"{len(missing)} without a submission (no grade)")
    for entry in roster:
        result = by_student.get(entry.student)
        if result is not None and not result.graded:
            print(f"autograder: warning: no grade for {entry.student}: the grader failed on this submission "
                  f"({result.error}); regrade it and export again", file=sys.stderr)
    unknown = unknown_students(results, roster)
    if unknown:
        print(f"autograder: error: {len(unknown)} result(s) in {results_dir} have no roster entry and are not in "
              f"{args.out}: {', '.join(unknown)}; add them to {args.roster} and export again", file=sys.stderr)
        return 1
    return 0


def read_roster(path):
    """The roster's entries, in its order.

    Raises
    ------
    ReadError
        The file is missing or unreadable, its header lacks ``student`` or ``lms_id`` or has a column
        not listed above, a row lacks either id, or an id (kit's or LMS's) appears twice.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a spreadsheet's byte-order mark is no column name
    except FileNotFoundError:
        raise ReadError(f"{path}: no such roster file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadError(f"{path}: cannot read the roster: {exc}") from None
    rows = list(csv.reader(io.StringIO(text)))
    header = [name.strip() for name in rows[0]] if rows else []
    expected = f"expected the columns {','.join(REQUIRED)} and optionally {','.join(OPTIONAL)}"
    named = [name for name in header if name]  # a spreadsheet may add empty columns
    problems = ([f"no column {name}" for name in REQUIRED if name not in named]
                + [f"unknown column {name!r}" for name in named if name not in REQUIRED + OPTIONAL]
                + [f"column {name} twice" for name in sorted({n for n in named if named.count(n) > 1})])
    if problems:
        found = ",".join(header) if rows else "an empty file"
        raise ReadError(f"{path}: bad roster header ({found}): {'; '.join(problems)}; {expected}")
    entries, lines = [], {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line, as spreadsheets leave at the end
        cells = dict(zip(header, (cell.strip() for cell in row)))
        entry = RosterEntry(**{name: cells.get(name, "") for name in REQUIRED + OPTIONAL})
        for name in REQUIRED:
            value = getattr(entry, name)
            if not value:
                raise ReadError(f"{path}, line {line}: no {name}")
            if (name, value) in lines:
                raise ReadError(f"{path}, line {line}: duplicate {name} {value!r} (also on line "
                                f"{lines[(name, value)]})")
            lines[(name, value)] = line
        entries.append(entry)
    return entries


def unknown_students(results, roster):
    """The students of ``results`` that the roster does not list, sorted."""
    listed = {entry.student for entry in roster}
    return sorted(result.student for result in results if result.student not in listed)


def export_text(fmt, results, roster, column, moodle_id="email"):
    """The text of the export file in format ``fmt`` (``FORMATS``): a row per roster entry."""
    by_student = {result.student: result for result in results}
    points = max((r.max_score for r in results), default=0.0)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if fmt == "canvas":
        writer.writerow([*CANVAS_IDS, column])
        writer.writerow([CANVAS_POINTS_ROW, "", "", "", "", _number(points)])
        for e in roster:
            writer.writerow([e.name, e.lms_id, e.sis_user_id, e.sis_login_id, e.section,
                             _grade(by_student.get(e.student))])
    elif fmt == "moodle":
        writer.writerow([MOODLE_IDS[moodle_id], column])
        for e in roster:
            writer.writerow([e.lms_id, _grade(by_student.get(e.student))])
    else:
        writer.writerow(["student", "lms_id", "name", "section", "score", "max_score", "status"])
        for e in roster:
            result = by_student.get(e.student)
            writer.writerow([e.student, e.lms_id, e.name, e.section, _grade(result), _number(points),
                             result.status if result else "missing"])
    return buffer.getvalue()


def _grade(result):
    """A result's score as the cell shows it; empty without a result or when the grader failed."""
    return _number(result.score) if result is not None and result.graded else ""


def _number(value):
    """41.5, 100 or 0.3333: at most 4 decimals, no trailing zeros."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _of_one_assignment(results, assignment, results_dir):
    """The results of one assignment: ``assignment``, or the only one in the folder."""
    assignments = sorted({result.assignment for result in results})
    if assignment:
        results = [result for result in results if result.assignment == assignment]
        if not results:
            raise ReadError(f"{results_dir}: no results of {assignment} (it holds {', '.join(assignments) or 'none'})")
    elif not results:
        raise ReadError(f"{results_dir}: no results (<student>.json files of `autograder grade`)")
    elif len(assignments) > 1:
        raise ReadError(f"{results_dir}: results of several assignments ({', '.join(assignments)}); "
                        "choose one with --assignment")
    return results
