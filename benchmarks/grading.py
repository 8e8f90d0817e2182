"""Grading throughput: a simulated class through `autograder grade`, where its CPU time goes, and stock nbgrader.

The class mixes what a course hands in: correct (the reference), partially wrong (the
example students ``partial`` and ``bugs``, and mutants of the suites' catalog), blank (the
release), broken (the example student ``broken``) and hostile (an endless loop, a huge
allocation, ``os._exit`` in a cell, reading files outside its folder). It prints:

* submissions per minute for each ``--jobs``;
* CPU seconds per submission split into start-up (worker processes until they answer),
  loading (the student's definition, data and tuning cells), the hidden tests' calls in the
  workers (the reference's timing runs included), the tests' own code in the grading process
  (checks: inputs, the reference's values, comparisons), the grading process's side of the
  calls (transport) and the rest (reading, pytest), from each result's ``timings``, over the
  class and per kind, and the share of the work that must be done (loading + tests + checks);
  the workers' side of transport is inside ``tests``, so it is estimated too (round trips times
  a round trip's CPU time in a worker, measured in the same run) and the share given without it;
* peak memory: of the grading processes (their own peak, ``getrusage``) and of the workers
  (the largest peak resident set of a worker process, read from /proc by the grading process);
* the speed-up against stock ``nbgrader autograde`` on the class's first submissions, both
  graded in this run, one job each (``--stock-sample``; the default, one repetition of the
  class's pattern, has the class's mix of kinds), and the most any grader could reach that runs
  the same cells and calls: stock's time over the kit's work alone on that sample.

With ``--dataset cifar10`` a few submissions are graded on a full-size synthetic CIFAR-10
(``scripts.synthetic_cifar``, written to a temporary folder) and the seconds per submission
printed; stock nbgrader is skipped. The machine (cores, load average at start and end) is
printed, so that figures taken under load are recognisable. Figures only; nothing is asserted.

Usage: ``python -m benchmarks.grading [--students N] [--jobs 1,2] [--stock-sample K] [--dataset cifar10]``
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from autograder.pipeline import CPU_PARTS as PARTS
from autograder.proxy import RemoteObject
from autograder.run import StudentSession
from scripts import synthetic_cifar
from scripts.paste_solutions import write_reference_submission
from scripts.release import ASSIGNMENT, ROOT, generate_release
from tests.autograder.mutants import Edit, catalog
from tests.autograder.scenarios import ANCHORS
from tests.autograder.submissions import make_edited_submission

BIN = Path(sys.executable).parent
# The dataset is chosen by the command line alone, never by this shell's KIT_ variables.
ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("KIT_")},
       "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
EXAMPLES = ROOT / "examples" / ASSIGNMENT
# Stock nbgrader: the course paths only, none of the kit's autograde preprocessors.
STOCK_CONFIG = """c = get_config()
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
"""
# One pattern of 20 students, repeated: 45% correct, 25% partially wrong, 10% blank, 5% broken,
# 5% hostile. Its first students are of every kind, so that small classes are mixed too.
PATTERN = ("correct", "partial", "mutant", "blank", "hostile", "bugs", "correct", "broken", "correct", "mutant",
           "correct", "partial", "correct", "blank", "correct", "bugs", "mutant", "correct", "correct", "correct")
HOSTILE = (
    Edit("endless_loop_in_a_function", "gradient_check", "sgd_step", old=ANCHORS["sgd_step"][0],
         new="    while True:\n        pass\n" + ANCHORS["sgd_step"][0]),
    Edit("huge_allocation", "svm", "svm_loss_naive", old=ANCHORS["svm_loss_naive"][0],
         new="    _hog = np.ones(10**10)\n" + ANCHORS["svm_loss_naive"][0]),
    Edit("os_exit_in_a_cell", "gradient_check", "rel_error", old=ANCHORS["rel_error"][1],
         new=ANCHORS["rel_error"][1] + "\n\nimport os\nos._exit(3)"),
    Edit("reads_files_outside", "gradient_check", "rel_error", old=ANCHORS["rel_error"][0],
         new="    for _path in ('/etc/passwd', '/root/.ssh/id_rsa', " + repr(str(ROOT / "solutions")) + ", "
             + repr(str(ROOT / "autograder" / "hidden_tests")) + "):\n"
             "        try:\n            open(_path).read()\n        except OSError:\n            pass\n"
             + ANCHORS["rel_error"][0]),
)
WORK = ("loading", "tests", "checks")  # the work that must be done; the other parts are overhead


def machine(when):
    """One line: the cores and the load average (1, 5, 15 minutes)."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"machine {when}: {os.cpu_count()} cores, load average {load}"


def build_class(folder, n, release, reference):
    """``folder/submitted/<student>/<assignment>/`` for ``n`` students; returns {student: kind}."""
    mutants = catalog(ASSIGNMENT)[0]
    kinds, counts = {}, Counter()
    for i in range(n):
        kind = PATTERN[i % len(PATTERN)]
        student = f"s{i + 1:04d}_{kind}"
        target = folder / "submitted" / student / ASSIGNMENT
        target.parent.mkdir(parents=True)
        # Spread over the catalog and over the hostile edits, a different one each time.
        if kind == "mutant":
            make_edited_submission(target, reference, mutants[(counts[kind] * 37) % len(mutants)])
        elif kind == "hostile":
            make_edited_submission(target, reference, HOSTILE[counts[kind] % len(HOSTILE)])
        else:
            source = {"correct": reference, "blank": release}.get(kind, EXAMPLES / kind)
            shutil.copytree(source, target)
        counts[kind] += 1
        kinds[student] = kind
    return kinds


def stock_course(folder, class_folder, students):
    """An nbgrader course with stock settings and these students' submissions in ``submitted/``."""
    folder.mkdir(parents=True)
    (folder / "nbgrader_config.py").write_text(STOCK_CONFIG)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, folder / "solutions" / ASSIGNMENT)
    for student in students:
        shutil.copytree(class_folder / "submitted" / student, folder / "submitted" / student)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"],
                   cwd=folder, env=ENV, check=True, capture_output=True)
    return folder


def timed(command, cwd, env=ENV):
    """(wall seconds, exit code) of a command, its output discarded."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, done.returncode


def kit_grade(submitted, out, jobs, extra=(), env=ENV):
    """(wall seconds, exit code) of ``autograder grade`` over ``submitted``."""
    command = [str(BIN / "autograder"), "grade", str(submitted), "--out", str(out), "--jobs", str(jobs),
               "--quiet", "--force", *extra]
    return timed(command, out.parent, env)


def results(out):
    """{student: result JSON} of a results folder."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(out.glob("*.json"))}


def _mb(value):
    return f"{value / 2**20:.0f} MB"


def _mean(values):
    return sum(values) / len(values)


def _share(part, whole):
    return f"{part / whole:.1%}" if whole else "-"


def worker_round_trip_seconds(scratch, trips=10000):
    """CPU seconds a worker spends on one round trip that runs nothing (a data attribute read).

    Many trips: /proc counts CPU time in ticks of 10 ms.
    """
    folder = scratch / "round_trip"
    folder.mkdir()
    with StudentSession(folder) as session:
        session.load("m.ipynb", [("code", "value = 1")])
        module = RemoteObject(session, "m.ipynb", "m.ipynb", session.generation)
        start = session.worker.cpu_seconds()
        for _ in range(trips):
            module.value
        return (session.worker.cpu_seconds() - start) / trips


def print_split(graded, kinds, trip_seconds):
    """CPU seconds per submission by part, over the class and per kind; the share of the work; peak memory.

    ``trip_seconds``: a round trip's CPU time in a worker, for the estimate of the workers' side of transport.
    """
    groups = defaultdict(list)
    for student, result in graded.items():
        groups["class"].append(result)
        groups[kinds.get(student, "?")].append(result)
    print(f"  {'kind':10s} {'n':>4s} {'wall':>6s} {'cpu':>6s} " + " ".join(f"{p:>9s}" for p in PARTS)
          + f" {'work':>6s} {'trips':>5s} {'w-trans':>7s} {'work-':>6s} {'grader':>7s}  score")
    for kind in ["class"] + sorted(k for k in groups if k != "class"):
        rows = groups[kind]
        cpu = _mean([r["cpu_seconds"] for r in rows])
        parts = {p: _mean([r.get("timings", {}).get(f"{p}_cpu", 0.0) for r in rows]) for p in PARTS}
        trips = _mean([r.get("timings", {}).get("round_trips", 0) for r in rows])
        worker_transport = trips * trip_seconds
        work = sum(parts[p] for p in WORK)
        grader = _mean([r.get("timings", {}).get("grader_cpu", 0.0) for r in rows])
        score = _mean([r["score"] / r["max_score"] if r["max_score"] else 0.0 for r in rows])
        print(f"  {kind:10s} {len(rows):4d} {_mean([r['seconds'] for r in rows]):6.2f} {cpu:6.2f} "
              + " ".join(f"{parts[p]:9.3f}" for p in PARTS) + f" {_share(work, cpu):>6s} {trips:5.0f} "
              f"{worker_transport:7.3f} {_share(work - worker_transport, cpu):>6s} {grader:7.3f}  {score:5.1%}")
    print(f"  (work = {' + '.join(WORK)}; w-trans: the workers' side of transport, estimated as trips x "
          f"{trip_seconds * 1e3:.3f} ms, inside tests; work-: the share of work without it)")
    statuses = Counter(r["status"] for r in graded.values())
    print("  statuses: " + ", ".join(f"{count} {status}" for status, count in sorted(statuses.items())))
    grader_peak = max(r.get("timings", {}).get("grader_max_rss", 0) for r in graded.values())
    workers = sorted(r.get("timings", {}).get("worker_max_rss", 0) for r in graded.values())
    print(f"  peak memory: grading processes {_mb(grader_peak)} (max RSS, getrusage); workers {_mb(workers[-1])} "
          f"at most, {_mb(workers[len(workers) // 2])} median (largest VmHWM of a worker's processes, from /proc)")


def digits_run(args, scratch):
    release = generate_release(release_dir=scratch / "release")
    reference = write_reference_submission(scratch / "reference", release_dir=release)
    kinds = build_class(scratch / "class", args.students, release, reference)
    print(f"{len(kinds)} submissions of {ASSIGNMENT} (all five notebooks): "
          + ", ".join(f"{count} {kind}" for kind, count in sorted(Counter(kinds.values()).items())))
    submitted = scratch / "class" / "submitted"
    graded = {}
    for jobs in args.jobs:
        out = scratch / f"out{jobs}"
        out.mkdir()
        wall, code = kit_grade(submitted, out, jobs)
        graded[jobs] = results(out)
        print(f"autograder grade, {jobs} job(s): {wall:7.1f} s for {len(kinds)}, "
              f"{len(kinds) / wall * 60:5.1f} submissions per minute" + (f" (exit code {code})" if code else ""))
    trip_seconds = worker_round_trip_seconds(scratch)
    for jobs in args.jobs:
        print(f"CPU seconds per submission, {jobs} job(s) (from each result's timings):")
        print_split(graded[jobs], kinds, trip_seconds)

    if args.stock_sample:
        # The first students, in the class's order: a whole pattern holds its kinds in the class's
        # proportions, which an evenly spaced sample of the repeating pattern does not.
        sample = sorted(kinds)[:args.stock_sample]
        course = stock_course(scratch / "stock", scratch / "class", sample)
        out = scratch / "stock_kit"
        out.mkdir()
        kit_wall, _ = kit_grade(course / "submitted", out, 1)
        stock_wall, stock_code = timed([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--create",
                                        "--force"], course)
        n = len(sample)
        # The work alone (the student's cells once, the tests' calls, the checks) bounds any grader that runs them.
        work = sum(r.get("timings", {}).get(f"{p}_cpu", 0.0) for r in results(out).values() for p in WORK)
        print(f"stock comparison on {n} of the same submissions ("
              + ", ".join(f"{c} {k}" for k, c in sorted(Counter(kinds[s] for s in sample).items())) + "), one job:")
        print(f"  autograder grade:          {kit_wall / n:6.2f} s wall per submission")
        print(f"  nbgrader autograde stock:  {stock_wall / n:6.2f} s wall per submission"
              + (f" (exit code {stock_code})" if stock_code else ""))
        print(f"  speed-up per submission:   {stock_wall / kit_wall:6.1f}x")
        if work:  # stock's wall time over the kit's CPU time: a bound, approximately
            print(f"  the work alone:            {work / n:6.2f} s CPU per submission ({' + '.join(WORK)}): "
                  f"{stock_wall / work:.1f}x is the most a grader running the same cells and calls could reach")


def cifar_run(args, scratch):
    data_dir = scratch / "data"
    start = time.perf_counter()
    md5 = synthetic_cifar.write(data_dir)
    print(f"synthetic CIFAR-10 written in {time.perf_counter() - start:.0f} s (full size: 50000 + 10000 images)")
    env = {**ENV, "KIT_CIFAR10_MD5": md5}
    release = generate_release(release_dir=scratch / "release")
    reference = write_reference_submission(scratch / "reference", release_dir=release)
    kinds = build_class(scratch / "class", args.students, release, reference)
    print(f"{len(kinds)} submissions on CIFAR-10: "
          + ", ".join(f"{count} {kind}" for kind, count in sorted(Counter(kinds.values()).items())))
    trip_seconds = worker_round_trip_seconds(scratch)
    for jobs in args.jobs:
        out = scratch / f"out{jobs}"
        out.mkdir()
        wall, code = kit_grade(scratch / "class" / "submitted", out, jobs,
                               ["--dataset", "cifar10", "--data-dir", str(data_dir)], env)
        graded = results(out)
        print(f"autograder grade --dataset cifar10, {jobs} job(s): {wall:7.1f} s for {len(kinds)}, "
              f"{wall / len(kinds):6.1f} s per submission" + (f" (exit code {code})" if code else ""))
        print_split(graded, kinds, trip_seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, help="the class size (default 20; 2 with --dataset cifar10)")
    parser.add_argument("--jobs", help="comma-separated job counts to grade the class with (default 1,2; 1 on cifar10)")
    parser.add_argument("--stock-sample", type=int, default=len(PATTERN),
                        help="the first submissions of the class graded by stock nbgrader too; the default, "
                             "one pattern, has the class's mix of kinds (0: none; never on cifar10)")
    parser.add_argument("--dataset", choices=("digits", "cifar10"), default="digits")
    args = parser.parse_args(argv)
    cifar = args.dataset == "cifar10"
    args.students = args.students or (2 if cifar else 20)
    args.jobs = [int(j) for j in (args.jobs or ("1" if cifar else "1,2")).split(",")]
    print(machine("at start"))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        (cifar_run if cifar else digits_run)(args, Path(scratch))
    print(f"benchmark took {time.perf_counter() - start:.0f} s")
    print(machine("at end"))


if __name__ == "__main__":
    main()
