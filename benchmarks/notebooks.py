"""Run time and peak memory of every solution notebook, against the 60 s / 2 GB budget.

Also prints the kNN notebook's own timing of the three distance versions as
ratios against the two-loop baseline measured in the same run.

Usage: ``python -m benchmarks.notebooks [--dataset cifar10 [--data-dir DIR]]`` (figures only;
nothing is asserted). Without CIFAR-10 at hand, ``--synthetic`` first writes the full-size
stand-in of ``scripts.synthetic_cifar`` into a temporary data directory.
"""
import argparse
import os
import tempfile
from pathlib import Path

from scripts.demo import NOTEBOOKS
from scripts.notebook_runner import run_notebook
from scripts.release import ROOT

BUDGET_SECONDS = 60  # on digits; CIFAR-10's tuning cells are meant to take minutes
BUDGET_MB = 2048


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.notebooks", description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="digits", choices=("digits", "cifar10"))
    parser.add_argument("--data-dir", help="where cifar-10-batches-py is (default: $KIT_DATA_DIR)")
    parser.add_argument("--synthetic", action="store_true", help="grade on the full-size synthetic CIFAR-10")
    args = parser.parse_args(argv)
    # The kernels inherit this process's environment: that is how the notebooks learn the dataset.
    os.environ["KIT_DATASET"] = args.dataset
    with tempfile.TemporaryDirectory(prefix="kit-cifar-") as scratch:
        if args.synthetic:
            from scripts import synthetic_cifar

            os.environ["KIT_CIFAR10_MD5"] = synthetic_cifar.write(scratch)
            os.environ["KIT_DATA_DIR"] = scratch
        elif args.data_dir:
            os.environ["KIT_DATA_DIR"] = args.data_dir
        _measure(args.dataset)


def _measure(dataset):
    print(f"dataset: {dataset}")
    print(f"{'notebook':<30} {'seconds':>8} {'of budget':>9} {'peak MB':>8} {'of budget':>9}")
    knn = None
    for assignment, file_name in NOTEBOOKS:
        name = Path(file_name).stem
        run = run_notebook(ROOT / "solutions" / assignment / file_name, timeout=3600)
        print(f"{assignment + '/' + name:<30} {run.seconds:8.1f} {run.seconds / BUDGET_SECONDS:9.0%} "
              f"{run.peak_rss_mb:8.0f} {run.peak_rss_mb / BUDGET_MB:9.0%}", flush=True)
        if name == "knn":
            knn = run.summary
    if knn:
        base = knn["seconds_two_loops"]
        print("\nkNN distances on the test split (same run):")
        for version in ("two_loops", "one_loop", "no_loops"):
            seconds = knn[f"seconds_{version}"]
            print(f"  {version:<10} {seconds:8.4f} s  {base / seconds:7.1f}x faster than two loops")


if __name__ == "__main__":
    main()
