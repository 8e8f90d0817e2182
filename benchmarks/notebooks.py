"""Run time and peak memory of every solution notebook, against the 60 s / 2 GB budget.

Also prints the kNN notebook's own timing of the three distance versions as
ratios against the two-loop baseline measured in the same run.

Usage: ``python -m benchmarks.notebooks`` (figures only; nothing is asserted).
"""
from scripts.demo import NOTEBOOKS
from scripts.notebook_runner import run_notebook
from scripts.release import ASSIGNMENT, ROOT

BUDGET_SECONDS = 60
BUDGET_MB = 2048


def main():
    print(f"{'notebook':<15} {'seconds':>8} {'of budget':>9} {'peak MB':>8} {'of budget':>9}")
    for name in NOTEBOOKS:
        run = run_notebook(ROOT / "solutions" / ASSIGNMENT / f"{name}.ipynb")
        print(f"{name:<15} {run.seconds:8.1f} {run.seconds / BUDGET_SECONDS:9.0%} "
              f"{run.peak_rss_mb:8.0f} {run.peak_rss_mb / BUDGET_MB:9.0%}")
        if name == "knn":
            knn = run.summary
    base = knn["seconds_two_loops"]
    print("\nkNN distances on the test split (same run):")
    for version in ("two_loops", "one_loop", "no_loops"):
        seconds = knn[f"seconds_{version}"]
        print(f"  {version:<10} {seconds:8.4f} s  {base / seconds:7.1f}x faster than two loops")


if __name__ == "__main__":
    main()
