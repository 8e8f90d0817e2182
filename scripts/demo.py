"""The main job, end to end on the embedded dataset: the whole instructor workflow.

1. Regenerate the student release of every assignment from ``solutions/`` with nbgrader,
   check it for leaks.
2. Run every solution notebook headless: one line per notebook with its headline
   results, run time and peak memory.
3. Grade each assignment's committed example class (``examples/<assignment>/``: reference,
   blank, partial, buggy, broken) with ``autograder grade`` and with ``nbgrader autograde``
   routed through the same engine, print both scores side by side, and write the reports.

Usage: ``python -m scripts.demo [--out out/demo]`` (``make demo``). Exit status 1 if a step fails.
"""
from __future__ import annotations

import argparse
import csv
import shutil
import sys
import time
from pathlib import Path

from autograder.batch import grade_batch
from autograder.html_report import write_reports
from scripts.course import Course
from scripts.leak_check import find_leaks
from autograder.reference import assignments
from scripts.make_examples import EXAMPLES
from scripts.notebook_runner import NotebookRunError, run_notebook
from scripts.release import ROOT, generate_release
from utils.manifest import load_manifest

ASSIGNMENTS = assignments()
NOTEBOOKS = [(assignment, name) for assignment in ASSIGNMENTS
             for name in load_manifest(ROOT / "solutions" / assignment).notebooks]


def release_step():
    for assignment in ASSIGNMENTS:
        release = generate_release(assignment)
        print(f"    {release.relative_to(ROOT)}: {', '.join(sorted(p.name for p in release.glob('*.ipynb')))}")
    leaks = find_leaks()
    for leak in leaks:
        print(f"    LEAK {leak}")
    print("    no leaks" if not leaks else f"    {len(leaks)} leak(s)")
    return not leaks


def notebooks_step():
    ok = True
    for assignment, name in NOTEBOOKS:
        try:
            print("    " + run_notebook(ROOT / "solutions" / assignment / name).headline(), flush=True)
        except NotebookRunError as exc:
            ok = False
            print(f"    {Path(name).stem:<15} FAILED: {str(exc).splitlines()[0]}", flush=True)
    return ok


def grading_step(out, assignment):
    """Grade ``assignment``'s example class both ways; returns True when the two agree for every student."""
    print(f"    {assignment}:")
    submitted = out / "course" / "submitted"
    for student in sorted(p for p in (EXAMPLES / assignment).iterdir() if p.is_dir()):
        shutil.copytree(student, submitted / student.name / assignment)

    start = time.perf_counter()
    graded = out / "autograder" / assignment
    results = grade_batch([submitted], graded, assignment, progress=True)
    report = write_reports(results, graded)
    kit_seconds = time.perf_counter() - start

    course = Course(out / "course", assignment)
    start = time.perf_counter()
    course.nbgrader("generate_assignment", assignment, "--force")
    # nbgrader gives up on a whole submission when one notebook cannot be read; the batch
    # grader grades the rest of it. So a failed autograde here is part of the comparison.
    course.nbgrader("autograde", assignment, "--create", "--force", check=False)
    course.nbgrader("generate_feedback", assignment, "--force")
    course.nbgrader("export")
    nbgrader_seconds = time.perf_counter() - start
    with open(course.root / "grades.csv") as handle:
        exported = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(handle)
                    if row["assignment"] == assignment
                    and (course.root / "autograded" / row["student_id"] / assignment).is_dir()}

    print(f"    {'student':<10} {'autograder':>10} {'nbgrader':>9} {'max':>6}  status")
    agree = True
    for result in results:
        theirs = exported.get(result.student)
        same = theirs is not None and abs(theirs - result.score) < 1e-3  # nbgrader's export rounds
        agree &= same or theirs is None
        shown = "failed" if theirs is None else f"{theirs:.2f}"
        note = "" if same else ("  (nbgrader could not process this submission)" if theirs is None else "  (DIFFERS)")
        print(f"    {result.student:<10} {result.score:>10.2f} {shown:>9} {result.max_score:>6.1f}"
              f"  {result.status}{note}")
    print(f"    autograder grade: {kit_seconds:.1f} s; nbgrader autograde + feedback + export: {nbgrader_seconds:.1f} s")
    print(f"    instructor report: {report}")
    print(f"    feedback: {graded / 'feedback'}; nbgrader feedback: {course.root / 'feedback'}")
    return agree


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "demo")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    start = time.perf_counter()
    steps = [
        ("generating the student releases with nbgrader and checking them for leaks", release_step),
        (f"running the {len(NOTEBOOKS)} solution notebooks headless", notebooks_step),
        ("grading the example classes with autograder and with nbgrader",
         lambda: all([grading_step(out, assignment) for assignment in ASSIGNMENTS])),
    ]
    failed = []
    for number, (title, step) in enumerate(steps, 1):
        print(f"{number}/{len(steps)} {title} ...", flush=True)
        if not step():
            failed.append(title)
    print(f"done in {time.perf_counter() - start:.0f} s; everything is under {out}")
    for title in failed:
        print(f"FAILED: {title}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
