"""The main job, end to end on the embedded dataset.

1. Regenerate the student release from ``solutions/`` with nbgrader.
2. Check the release for leaks.
3. Execute every solution notebook headless and print one line per notebook
   with its headline results, run time and peak memory.

Usage: ``python -m scripts.demo`` (``make demo``). Exit status 1 if a step fails.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from scripts.leak_check import find_leaks
from scripts.notebook_runner import NotebookRunError, run_notebook
from scripts.release import ASSIGNMENT, ROOT, generate_release

NOTEBOOKS = ("knn", "gradient_check", "svm", "softmax", "two_layer_net")


def main():
    start = time.perf_counter()
    print("1/3 generating the student release with nbgrader ...", flush=True)
    release = generate_release()
    print(f"    {release.relative_to(ROOT)}: {', '.join(sorted(p.name for p in release.glob('*.ipynb')))}")

    print("2/3 checking what ships to students for leaks ...", flush=True)
    leaks = find_leaks()
    for leak in leaks:
        print(f"    LEAK {leak}")
    if leaks:
        return 1
    print("    no leaks")

    print(f"3/3 running the solution notebooks headless ({len(NOTEBOOKS)}) ...", flush=True)
    failed = 0
    for name in NOTEBOOKS:
        path = ROOT / "solutions" / ASSIGNMENT / f"{name}.ipynb"
        try:
            print("    " + run_notebook(path).headline(), flush=True)
        except NotebookRunError as exc:
            failed += 1
            print(f"    {name:<15} FAILED: {str(exc).splitlines()[0]}", flush=True)
    print(f"done in {time.perf_counter() - start:.0f} s" + (f"; {failed} notebook(s) failed" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
