"""The ``autograder`` command: parses arguments and hands over to the module of each verb.

    autograder grade PATH... --out DIR [--jobs N | --scheduler ADDRESS] [--force] [--assignment A] [--require-sandbox]
    autograder selftest
    autograder VERB ...     each verb of ``VERBS``, from its own module

Errors are one line on stderr and a non-zero exit status only when the grader
itself could not run; a submission's own faults are in its results.
"""
from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from pathlib import Path

from autograder.errors import GraderError

# The verbs beyond grading: verb -> its module, which has ``HELP``, ``add_arguments(parser)`` and
# ``run(args) -> exit status``. Imported when the command starts, so their own imports stay lazy.
VERBS = {
    "gradescope-bundle": "autograder.gradescope",
    "similarity": "autograder.similarity",
    "export": "autograder.export",
}


def _parser():
    parser = argparse.ArgumentParser(prog="autograder", description="Grade assignment notebooks with hidden tests.")
    verbs = parser.add_subparsers(dest="verb", required=True)
    grade = verbs.add_parser("grade", help="grade submissions into a results folder")
    grade.add_argument("paths", nargs="+", metavar="PATH",
                       help="notebooks, a folder per student, or an nbgrader submitted/ folder")
    grade.add_argument("--out", required=True, metavar="DIR", help="folder for the results")
    grade.add_argument("--assignment", help="the assignment to grade (default: inferred from the notebooks)")
    grade.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                       help="submissions graded at once (default: the number of cores)")
    grade.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on the Dask cluster of this scheduler (tcp://host:8786) instead of here; its "
                            "workers need the kit installed from the same commit (same solutions/ and hidden "
                            "tests, checked), bubblewrap, and the submissions at the same paths as here")
    grade.add_argument("--dataset", choices=("digits", "cifar10"),
                       help="the dataset the notebooks load while graded (default: $KIT_DATASET, else digits); "
                            "its limits are the assignment's for that dataset")
    grade.add_argument("--data-dir", metavar="DIR",
                       help="the data directory holding cifar-10-batches-py (default: $KIT_DATA_DIR, else "
                            "~/.cache/nn-course-kit); the workers read it, read-only")
    grade.add_argument("--force", action="store_true", help="regrade submissions already graded")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.add_argument("--require-sandbox", action="store_true",
                       default=bool(os.environ.get("KIT_REQUIRE_SANDBOX")),
                       help="refuse to grade unless student code is sandboxed (default when KIT_REQUIRE_SANDBOX is set)")
    selftest = verbs.add_parser("selftest", help="check that this machine can grade, and how the worker is isolated")
    selftest.add_argument("--require-sandbox", action="store_true", default=bool(os.environ.get("KIT_REQUIRE_SANDBOX")),
                          help="fail unless student code is sandboxed here")
    for verb, module_name in VERBS.items():
        module = importlib.import_module(module_name)
        module.add_arguments(verbs.add_parser(verb, help=module.HELP, description=module.HELP))
        _VERB_MODULES[verb] = module
    return parser


_VERB_MODULES = {}


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP (a scheduler's time limit, a closed terminal): stop as Ctrl-C does, now."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum, _frame):
    raise Stopped(signum)


def main(argv=None):
    args = _parser().parse_args(argv)
    # Only where nothing chose otherwise: nohup's ignored SIGHUP stays ignored. Signals reach the main thread only.
    previous = {signum: signal.signal(signum, _stop) for signum in (signal.SIGTERM, signal.SIGHUP)
                if threading.current_thread() is threading.main_thread()
                and signal.getsignal(signum) is signal.SIG_DFL}
    try:
        return _run(args)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run(args):
    try:
        if args.verb == "grade":
            if args.jobs < 1:
                raise GraderError("--jobs must be at least 1")
            # The grader's own loads, its workers and the hidden tests all read the dataset from here.
            if args.dataset:
                os.environ["KIT_DATASET"] = args.dataset
            if args.data_dir:
                os.environ["KIT_DATA_DIR"] = str(Path(args.data_dir).resolve())
            from autograder.batch import grade_batch, gradebook
            from autograder.html_report import write_reports

            results = grade_batch(args.paths, args.out, args.assignment, args.jobs, args.force, not args.quiet,
                                  require_sandbox=args.require_sandbox, scheduler=args.scheduler)
            write_reports(gradebook(args.out), args.out)  # everyone in the folder, not only this run's
            _print_summary(results, args.out)
        elif args.verb == "selftest":
            from autograder.selftest import selftest

            return selftest(args.require_sandbox)
        else:
            return _VERB_MODULES[args.verb].run(args)
    except GraderError as exc:
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        how = f"stopped by {exc}" if isinstance(exc, Stopped) else "interrupted"
        print(f"autograder: {how}; results graded so far are kept, run again to resume", file=sys.stderr)
        return 128 + (exc.signum if isinstance(exc, Stopped) else signal.SIGINT)
    return 0


def _print_summary(run, out):
    """What this run did: '12 submission(s): 3 graded, 9 reused; 1 invalid_submission; 2 skipped; results in OUT'.

    ``run`` is a ``batch.BatchRun``. Reused results were graded before from the same files; statuses other
    than graded are counted; what was skipped and each grader error are named on stderr.
    """
    from autograder.results import STATUSES

    parts = [f"{len(run) - len(run.reused)} graded, {len(run.reused)} reused"]
    counts = {status: sum(r.status == status for r in run) for status in STATUSES if status != "graded"}
    statuses = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    parts += [statuses] if statuses else []
    parts += [f"{len(run.skipped)} skipped"] if run.skipped else []
    print(f"{len(run)} submission(s): {'; '.join(parts)}; results in {out}")
    for path, why in run.skipped:
        print(f"  skipped {path}: {why}", file=sys.stderr)
    for result in run:
        if not result.graded:
            print(f"  grader error for {result.student}: {result.error}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
