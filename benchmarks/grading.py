"""Grading speed: the kit's `autograder grade` against stock `nbgrader autograde`, same submissions, one run.

Prints seconds per full submission (all five notebooks) for both, their ratio,
the kit's CPU seconds per submission (the grading process plus its sandboxed
worker, as recorded in each result), and the batch's wall time with 1 and 2
jobs. Figures only; nothing is asserted.

Usage: ``python -m benchmarks.grading [--students N]``
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.paste_solutions import write_reference_submission
from scripts.release import ASSIGNMENT, ROOT, generate_release

BIN = Path(sys.executable).parent
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
# Stock nbgrader: the course paths only, none of the kit's autograde preprocessors.
STOCK_CONFIG = """c = get_config()
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
"""


def _timed(command, cwd):
    """(wall seconds, CPU seconds of the command and everything it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _course(folder, submissions):
    """An nbgrader course with stock settings and the submissions in ``submitted/``."""
    folder.mkdir(parents=True)
    (folder / "nbgrader_config.py").write_text(STOCK_CONFIG)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, folder / "solutions" / ASSIGNMENT)
    for student, source in submissions.items():
        shutil.copytree(source, folder / "submitted" / student / ASSIGNMENT)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"],
                   cwd=folder, env=ENV, check=True, capture_output=True)
    return folder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=8)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        release = generate_release(release_dir=scratch / "release")
        reference = write_reference_submission(scratch / "reference", release_dir=release)
        submissions = {f"student{i}": reference for i in range(1, args.students + 1)}
        n = len(submissions)
        print(f"{n} full submissions (the reference solution, all five notebooks), {os.cpu_count()} cores")

        stock_course = _course(scratch / "stock", submissions)
        autograder = [str(BIN / "autograder"), "grade", str(stock_course / "submitted"), "--quiet", "--force"]
        kit = {}
        for jobs in (1, 2):
            kit[jobs] = _timed(autograder + ["--out", str(scratch / f"out{jobs}"), "--jobs", str(jobs)], scratch)

        stock_wall, stock_cpu = _timed([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT,
                                        "--create", "--force"], stock_course)

        graded = [json.loads(p.read_text()) for p in (scratch / "out1").glob("student*.json")]
        grading_cpu = sum(result["cpu_seconds"] for result in graded) / len(graded)
        scores = sorted({(result["score"], result["max_score"]) for result in graded})

    kit_wall = kit[1][0]
    print(f"scores given by the kit: {scores}")
    # The kit's CPU: each result records its grading process's and its sandboxed worker's
    # time (the worker's is not in RUSAGE_CHILDREN: bubblewrap's namespaces hide it).
    print(f"autograder grade (1 job):  {kit_wall / n:6.2f} s wall, {grading_cpu:5.2f} s CPU per submission")
    print(f"nbgrader autograde stock:  {stock_wall / n:6.2f} s wall, {stock_cpu / n:5.2f} s CPU per submission")
    print(f"speed-up per submission:   {stock_wall / kit_wall:6.1f}x (wall), {stock_cpu / n / grading_cpu:5.1f}x (CPU)")
    print(f"batch wall time:           {kit[1][0]:6.1f} s with 1 job, {kit[2][0]:5.1f} s with 2 jobs "
          f"({kit[1][0] / kit[2][0]:.2f}x)")


if __name__ == "__main__":
    main()
