"""Speed checks under load: the ratios the hidden suites measure, on a quiet machine and beside CPU hogs.

Grades the reference submission's knn, svm and softmax notebooks several
times in each of four settings: CPU time (the default where /proc exists) or
the wall-clock fallback, each quiet and with two processes spinning on the
cores. The reference's naive time is measured anew in every run (the kept
yardstick is cleared), so the load reaches both sides. Prints, per speed
check, the least and the largest ratio seen (the reference's naive time over
the student's, here the reference's own vectorized code) against its
threshold, and the grades. Figures only; nothing is asserted.

Usage: ``python -m benchmarks.speed_checks [--runs N]``
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from autograder import run, timing
from autograder.pipeline import grade_submission
from scripts.paste_solutions import write_reference_submission
from scripts.release import generate_release

NOTEBOOKS = ["knn.ipynb", "svm.ipynb", "softmax.ipynb"]
SPIN = "while True: pass"


def _measure(submission, runs, clock, hogs):
    """({check: [ratios]}, [scores]) of ``runs`` gradings with ``clock`` and ``hogs`` spinning processes."""
    ratios, scores = defaultdict(list), []
    original_ratio, original_cpu = timing.SpeedCheck.ratio, run.tree_cpu_reading

    def recording(self, student_method, reference_method, *args, **kwargs):
        value = original_ratio(self, student_method, reference_method, *args, **kwargs)
        ratios[f"{student_method} / {reference_method}"].append(value[0])
        return value

    spinning = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(hogs)]
    timing.SpeedCheck.ratio = recording
    if clock == "wall":
        run.tree_cpu_reading = lambda *args, **kwargs: None
    try:
        for _ in range(runs):
            timing._REFERENCE_SECONDS.clear()
            result = grade_submission(submission, notebooks=NOTEBOOKS)
            scores.append(round(result.score, 4))
    finally:
        timing.SpeedCheck.ratio, run.tree_cpu_reading = original_ratio, original_cpu
        for process in spinning:
            process.kill()
            process.wait()
    return ratios, scores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        release = generate_release(release_dir=Path(tmp) / "release")
        submission = write_reference_submission(Path(tmp) / "reference", release_dir=release)
        print(f"{'clock':6} {'load':14} {'check':62} {'least':>7} {'largest':>8}  scores")
        for clock in ("cpu", "wall"):
            for hogs in (0, 2):
                ratios, scores = _measure(submission, args.runs, clock, hogs)
                load = "quiet" if not hogs else f"{hogs} CPU hogs"
                for check, values in sorted(ratios.items()):
                    print(f"{clock:6} {load:14} {check:62} {min(values):7.1f} {max(values):8.1f}  "
                          f"{sorted(set(scores))}")


if __name__ == "__main__":
    main()
