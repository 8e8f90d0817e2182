"""The grader-hardening scenarios: hostile, buggy, resource-abusing and malformed submissions, graded for real.

Each family (``tests/autograder/scenarios/``) is graded once per test run:
its scenarios that can reach beyond their own results (files, processes, the
grading process, the channel, other students) in one ``grade_batch`` call
with two jobs, next to three untouched reference copies that sort before,
among and after them; the others alone, notebook by notebook, with
``grade_submission(notebooks=[...])`` in two grading processes. Real
sandboxed workers throughout. One test per scenario then checks, from that
family's results, every invariant it must keep:

1. its hit tests score 0 with a message naming the cause, and every other
   test scores what the same test scores for the reference graded alone;
3. its ``seconds`` stay below the bound the scenario states (a call has 5 s,
   a submission 300 s);
4. no process it started survives (markers in command lines and process
   names) and no file it wrote appears outside its sandbox; its folder is
   byte for byte unchanged;
5. it has exactly one complete result;
6. no result of it carries a canary (hidden-input values, the repository's
   path, "solutions", hidden-test source).

The batch-level tests check invariant 2 (the reference copies grade exactly
as alone), 3 (the batch's wall time), 5 (one complete result JSON per
student, nothing else in the results folder) and 6 for the shared files; a
few scenarios are graded twice (7); the environment scenarios kill a grader
mid-batch, run two at once, clash student ids and break the hidden suites.
"""
import csv
import dataclasses
import io
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograder import compare
from autograder.batch import grade_batch
from autograder.html_report import write_reports
from autograder.pipeline import grade_submission
from autograder.report import safe_name
from tests.autograder.scenarios import (
    CANARIES,
    FAMILIES,
    NOTEBOOKS,
    REFERENCE_COPIES,
    Run,
    all_scenarios,
    build,
    complete_result_problems,
    copy_reference,
    files_named,
    grade_alone,
    leak_problems,
    load_results,
    outside_places,
    result_files,
    score_problems,
    snapshot,
    unexpected_files,
    wait_for_no_processes,
)
from tests.autograder.scenarios.environment import BREAKAGES, MEAN_ERROR, SLOW, UPHILL

pytestmark = pytest.mark.slow

SCENARIOS = all_scenarios()
JOBS = 2
BATCH_SECONDS = 240.0  # a family's whole batch, two jobs (each submission has its own, smaller bound)
COMPARED = ("status", "score", "max_score", "tests")  # what "graded exactly as alone" compares


# -- session fixtures ---------------------------------------------------------------------------------
class Listener:
    """A TCP and a UDP socket on one loopback port; no submission may ever reach them."""

    def __init__(self):
        for _ in range(50):
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.bind(("127.0.0.1", 0))
            self.port = self.tcp.getsockname()[1]
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                self.udp.bind(("127.0.0.1", self.port))
            except OSError:
                self.tcp.close()
                self.udp.close()
                continue
            break
        self.tcp.listen(16)
        self.tcp.setblocking(False)
        self.udp.setblocking(False)

    def arrivals(self):
        """What reached the sockets since the last look."""
        seen = []
        while True:
            try:
                conn, peer = self.tcp.accept()
            except BlockingIOError:
                break
            conn.settimeout(1)
            try:
                data = conn.recv(200)
            except OSError:
                data = b""
            conn.close()
            seen.append(f"TCP connection from {peer}: {data[:80]!r}")
        while True:
            try:
                data, peer = self.udp.recvfrom(4096)
            except BlockingIOError:
                break
            seen.append(f"UDP datagram from {peer}: {data[:80]!r}")
        return seen

    def close(self):
        self.tcp.close()
        self.udp.close()


@pytest.fixture(scope="session")
def listener():
    sockets = Listener()
    yield sockets
    sockets.close()


@pytest.fixture(scope="session")
def run(listener):
    """The run's markers: one id for every pytest worker of the run (a family graded by one is read by all)."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
    return Run(run_id, listener.port, {s.name: i for i, s in enumerate(SCENARIOS)})


def _comparable(result):
    return {key: result.get(key) for key in COMPARED}


@pytest.fixture(scope="session")
def baseline(tmp_path_factory, reference_submission):
    """What every other test must score: the reference's two fast notebooks graded alone, as the scenarios are.

    ``baseline["batch"]`` is a folder of both notebooks through ``grade_batch``; ``baseline[notebook]``
    one notebook through ``grade_submission(notebooks=[notebook])``.
    """
    root = tmp_path_factory.mktemp("baseline")
    folder = copy_reference(reference_submission, root / "subs" / "ref")
    (graded,) = grade_batch([root / "subs"], root / "out", jobs=1, progress=False)
    result = graded.to_dict()
    assert result["status"] == "graded" and result["score"] > 0, result.get("error")
    alone = {name: grade_alone(folder, name) for name in NOTEBOOKS}
    assert all(r["status"] == "graded" and r["score"] == r["max_score"] > 0 for r in alone.values()), alone
    return {"batch": result, **alone}


@pytest.fixture(scope="session")
def pool():
    """Two grading processes for the scenarios graded alone (forkserver: they start clean)."""
    executor = ProcessPoolExecutor(max_workers=JOBS, mp_context=multiprocessing.get_context("forkserver"))
    yield executor
    executor.shutdown(wait=True, cancel_futures=True)


@dataclass
class FamilyRun:
    """A family's scenarios graded (in its batch, or alone), and what was left behind."""

    root: Path
    out: Path  # the batch's results folder
    folders: dict  # student -> folder
    before: dict  # student -> snapshot of its folder before grading
    after: dict
    returned: dict  # student -> result dict returned by grade_batch
    files: dict  # student -> result JSON read back from the batch's results folder
    file_problems: list
    alone: dict  # student -> result dict of grade_submission, for the scenarios graded alone
    wall: float  # of the batch
    survivors: dict  # pid -> command line, of processes holding a token or a folder of the family
    left_files: list  # paths outside the sandbox named with a token
    arrivals: list = field(default_factory=list)  # what reached the loopback listener

    def result(self, scenario):
        return (self.files if scenario.batch else self.alone).get(scenario.name)

    @classmethod
    def from_json(cls, data):
        data = dict(data, root=Path(data["root"]), out=Path(data["out"]),
                    folders={name: Path(folder) for name, folder in data["folders"].items()},
                    survivors={int(pid): cmd for pid, cmd in data["survivors"].items()})
        return cls(**data)


def _tokens(run, scenarios):
    tokens = [token for s in scenarios for token in run.tokens(s)]
    return tokens + [run.persist()]


def grade_alone_in(pool, folders):
    """{student: result} of grade_alone for {student: (folder, notebook, limits)}, two at a time."""
    futures = {name: pool.submit(grade_alone, *graded) for name, graded in folders.items()}
    results = {}
    for name, future in futures.items():
        try:
            results[name] = future.result()
        except Exception as exc:  # noqa: BLE001 - the grading process died: that is a finding, not a crash here
            results[name] = {"student": name, "status": "grader_error", "tests": [], "score": 0.0,
                             "max_score": 0.0, "error": f"the grading process failed: {type(exc).__name__}: {exc}"}
    return results


def grade_family(root, scenarios, reference_submission, release, run, pool, listener=None):
    """Grade the scenarios (alone first, then the batch ones with the reference copies) and look around."""
    subs, out = root / "subs", root / "out"
    folders = {}
    batched = [s for s in scenarios if s.batch]
    if batched:
        for name in REFERENCE_COPIES:
            folders[name] = copy_reference(reference_submission, subs / name)
    for scenario in scenarios:
        place = (subs if scenario.batch else root / "alone") / scenario.name
        folders[scenario.name] = build(scenario, place, reference_submission, release, run)
    before = {name: snapshot(folder) for name, folder in folders.items()}
    tokens = _tokens(run, scenarios)
    already = set(files_named(tokens, outside_places()))
    alone = grade_alone_in(pool, {s.name: (folders[s.name], s.notebook_file, s.limits)
                                  for s in scenarios if not s.batch})
    start, returned = time.monotonic(), []
    if batched:
        returned = grade_batch([subs], out, jobs=JOBS, progress=False)
        write_reports(returned, out)
    wall = time.monotonic() - start
    survivors = wait_for_no_processes(tokens + [str(root)])
    left = sorted(set(files_named(tokens, outside_places())) - already)
    left += [str(p) for p in root.rglob("*") if any(token in p.name for token in tokens)]
    files, file_problems = load_results(out) if batched else ({}, [])
    _clean_up(survivors, left)
    return FamilyRun(root, out, folders, before, {name: snapshot(folder) for name, folder in folders.items()},
                     {r.student: r.to_dict() for r in returned}, files, file_problems, alone, wall, survivors, left,
                     listener.arrivals() if listener else [])


class Shared:
    """Each family graded once per test run, whichever pytest worker needs it first.

    Workers share the run's temporary folder: a worker claims a family with an
    exclusive file, grades it and leaves its results there as JSON; a worker
    that needs a family another one is grading grades an unclaimed family
    meanwhile (so the families spread over the workers), then reads the result.
    With one worker it simply grades each family on first use. (``xdist_group``
    cannot do this: the scheduler may split a group, and does with pytest 9.)
    """

    def __init__(self, folder, compute, order):
        self.folder, self.compute, self.order = Path(folder), compute, order
        self.folder.mkdir(parents=True, exist_ok=True)
        self.cache = {}

    def _claim(self, name):
        try:
            os.close(os.open(self.folder / f"{name}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return True
        except FileExistsError:
            return False

    def _grade(self, name):
        try:
            data = {"value": self.compute(name)}
        except BaseException as exc:  # the waiting workers must learn of it too
            data = {"error": f"{type(exc).__name__}: {exc}"}
        temp = self.folder / f".{name}.json.part"
        temp.write_text(json.dumps(data, default=str))
        os.replace(temp, self.folder / f"{name}.json")

    def get(self, name):
        """The JSON form of ``compute(name)``."""
        while name not in self.cache:
            done = self.folder / f"{name}.json"
            if done.exists():
                data = json.loads(done.read_text())
                if "error" in data:
                    raise RuntimeError(f"grading {name} failed: {data['error']}")
                self.cache[name] = data["value"]
            elif not self._claim(name):
                other = next((f for f in self.order if f != name and self._claim(f)), None)
                if other:
                    self._grade(other)
                else:
                    time.sleep(0.2)
            else:
                self._grade(name)
        return self.cache[name]


def _shared_folder(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "scenario-families"


def _clean_up(survivors, left):
    """After recording them: end the processes and remove the files a scenario left (they carry this run's tokens)."""
    for pid in survivors:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for path in map(Path, left):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def shared(tmp_path_factory, reference_submission, fresh_release, run, listener, pool):
    """Every family's grading, and the repeated gradings, once per test run (see ``Shared``)."""

    def compute(name):
        if name == "repeat":
            return regrade(tmp_path_factory.mktemp("regraded"), reference_submission, fresh_release, listener, pool)
        scenarios = [s for s in SCENARIOS if s.family == name]
        return dataclasses.asdict(grade_family(tmp_path_factory.mktemp(name), scenarios, reference_submission,
                                               fresh_release, run, pool, listener))

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    names = [*FAMILIES, "repeat"]
    shift = int(worker[2:]) % len(names) if worker[2:].isdigit() else 0
    return Shared(_shared_folder(tmp_path_factory), compute, names[shift:] + names[:shift])


@pytest.fixture(scope="session")
def graded(shared):
    """graded(family): that family's scenarios, graded (a ``FamilyRun``)."""
    runs = {}

    def get(family):
        if family not in runs:
            runs[family] = FamilyRun.from_json(shared.get(family))
        return runs[family]

    return get


# -- one test per scenario ------------------------------------------------------------------------------
def _own_files(out, student):
    name = safe_name(student)
    paths = [out / f"{name}.json", out / "gradescope" / name / "results.json", out / "feedback" / f"{name}.html"]
    return {str(p.relative_to(out)): p.read_text(errors="replace") for p in paths if p.is_file()}


def scenario_problems(scenario, family, baseline, run):
    """Every invariant the scenario breaks, as readable lines."""
    problems = []
    data = family.result(scenario)
    if data is None:
        return [f"no result for {scenario.name} (batch result files: {sorted(map(str, family.files))})"]
    problems += complete_result_problems(data)
    problems += score_problems(scenario, data, baseline["batch" if scenario.batch else scenario.notebook_file])
    seconds = data.get("seconds")
    if not isinstance(seconds, (int, float)) or seconds >= scenario.max_seconds:
        problems.append(f"took {seconds} s; the bound is {scenario.max_seconds} s")
    if family.before[scenario.name] != family.after[scenario.name]:
        changed = set(family.after[scenario.name].items()) ^ set(family.before[scenario.name].items())
        problems.append(f"the submission folder changed: {sorted(changed)[:5]}")
    tokens = run.tokens(scenario)
    if "KITPERSIST" in run.fill(" ".join((scenario.before, scenario.new, scenario.after)), scenario):
        tokens += (run.persist(),)
    folder = str(family.folders[scenario.name])
    survivors = {pid: cmd for pid, cmd in family.survivors.items()
                 if any(t in cmd for t in tokens) or folder + " " in cmd + " " or folder + "/" in cmd}
    if survivors:
        problems.append(f"processes outlived the submission: {survivors}")
    left = [p for p in family.left_files if any(t in Path(p).name for t in tokens)]
    if left:
        problems.append(f"files appeared outside the sandbox: {left[:5]}")
    own = _own_files(family.out, scenario.name) if scenario.batch else {"the result": json.dumps(data)}
    problems += leak_problems(own, CANARIES)
    if scenario.batch:
        problems += leak_problems(result_files(family.out), [run.leak(scenario)])
    if scenario.network and family.arrivals:
        problems.append(f"the loopback listener was reached: {family.arrivals[:3]}")
    return problems


@pytest.mark.parametrize("scenario", [
    pytest.param(s, id=f"{s.family}-{s.name}") for s in SCENARIOS])
def test_a_hostile_submission_costs_only_its_own_tests_and_leaves_nothing_behind(scenario, graded, baseline, run):
    problems = scenario_problems(scenario, graded(scenario.family), baseline, run)
    assert not problems, f"{scenario.name} ({scenario.why or scenario.cause}):\n  " + "\n  ".join(problems)


# -- one test per batch -------------------------------------------------------------------------------------
def _csv_students(out):
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    return sorted(row["student"] for row in rows)


def batch_problems(batch, students, baseline):
    """Invariants 2, 3 and 5 of a batch: reference copies as alone, in time, one complete result each."""
    problems = list(batch.file_problems)
    if sorted(map(str, batch.files)) != sorted(students):
        problems.append(f"result files for {sorted(map(str, batch.files))}, expected {sorted(students)}")
    for name in REFERENCE_COPIES:
        data = batch.files.get(name)
        if data is None or _comparable(data) != _comparable(baseline):
            changed = [] if data is None else [
                f"{a['id']}: {a['score']} {a['message'][:120]!r} (alone: {b['score']} {b['message'][:80]!r})"
                for a, b in zip(data.get("tests", []), baseline["tests"]) if a != b]
            problems.append(f"{name} did not grade as alone: "
                            f"{'no result' if data is None else (data.get('status'), data.get('score'), changed[:4])}")
    odd = unexpected_files(batch.out)
    if odd:
        problems.append(f"files no grader writes in the results folder: {odd[:8]}")
    try:
        if _csv_students(batch.out) != sorted(students):
            problems.append(f"grades.csv lists {_csv_students(batch.out)}")
    except (OSError, KeyError) as exc:
        problems.append(f"grades.csv unreadable: {exc}")
    if len(list(batch.out.glob("gradescope/*/results.json"))) != len(students):
        problems.append(f"{len(list(batch.out.glob('gradescope/*/results.json')))} Gradescope results "
                        f"for {len(students)} students")
    if batch.wall >= BATCH_SECONDS:
        problems.append(f"the batch took {batch.wall:.0f} s; the bound is {BATCH_SECONDS:.0f} s")
    return problems


BATCHED = [f for f in FAMILIES if any(s.batch for s in SCENARIOS if s.family == f)]


@pytest.mark.parametrize("family", BATCHED)
def test_reference_copies_beside_hostile_submissions_grade_exactly_as_alone(family, graded, baseline):
    batch = graded(family)
    students = list(REFERENCE_COPIES) + [s.name for s in SCENARIOS if s.family == family and s.batch]
    problems = batch_problems(batch, students, baseline["batch"])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("family", BATCHED)
def test_shared_result_files_of_a_hostile_batch_carry_no_canary(family, graded):
    batch = graded(family)
    shared = {rel: text for rel, text in result_files(batch.out).items()
              if rel in ("grades.csv", "report.html")}
    assert shared and not leak_problems(shared, CANARIES), leak_problems(shared, CANARIES)


# -- invariant 7: the same submission, the same grades ---------------------------------------------------
REPEATED = [s for s in SCENARIOS if s.repeat]


def regrade(root, reference_submission, release, listener, pool):
    """The repeated scenarios, each graded twice from scratch (markers of their own run)."""
    own = Run(uuid.uuid4().hex, listener.port, {s.name: i for i, s in enumerate(SCENARIOS)})
    folders = {s.name: (build(s, root / s.name, reference_submission, release, own), s.notebook_file, s.limits)
               for s in REPEATED}
    return [grade_alone_in(pool, folders), grade_alone_in(pool, folders)]


@pytest.fixture(scope="session")
def regraded(shared):
    return shared.get("repeat")


def _graded_tests(data):
    return [(t["id"], t["score"], t["status"], t["message"]) for t in (data or {}).get("tests", [])]


@pytest.mark.parametrize("scenario", REPEATED, ids=[s.name for s in REPEATED])
def test_grading_a_scenario_twice_gives_the_same_scores_and_messages(scenario, regraded):
    first, second = (results.get(scenario.name) for results in regraded)
    assert first and second and first["status"] == scenario.status, (first or {}).get("error")
    assert (first["status"], first["score"]) == (second["status"], second["score"])
    assert _graded_tests(first) == _graded_tests(second)


# -- the environment ----------------------------------------------------------------------------------------
def _grader(subs, out, jobs):
    return [sys.executable, "-m", "autograder.cli", "grade", str(subs), "--out", str(out), "--jobs", str(jobs), "--quiet"]


def _environment_batch(root, reference_submission, run, extra):
    subs = root / "subs"
    for name in REFERENCE_COPIES:
        copy_reference(reference_submission, subs / name)
    for name, scenario in extra.items():
        build(scenario, subs / name, reference_submission, None, run)
    return subs, sorted([*REFERENCE_COPIES, *extra])


def _as_baseline_problems(files, students, baseline, wrong=()):
    problems = []
    for student in students:
        data = files.get(student)
        if data is None:
            problems.append(f"no result for {student!r}")
        elif student not in wrong and _comparable(data) != _comparable(baseline):
            problems.append(f"{student!r} did not grade as the reference: {data.get('status')} {data.get('score')}")
        elif student in wrong and not data.get("score", 0) < baseline["score"]:
            problems.append(f"{student!r} has a mistake but scored {data.get('score')}")
    return problems


def test_a_grader_killed_mid_batch_and_restarted_leaves_exactly_one_complete_result_each(
        tmp_path, reference_submission, baseline, run):
    subs, students = _environment_batch(tmp_path, reference_submission, run,
                                        {f"slow_{i}": SLOW for i in range(1, 4)})
    out = tmp_path / "out"
    log = tmp_path / "killed.log"
    with open(log, "w") as stderr:
        killed = subprocess.Popen(_grader(subs, out, JOBS), start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 120
    while not list(out.glob("*.json")) and time.monotonic() < deadline and killed.poll() is None:
        time.sleep(0.05)
    assert killed.poll() is None, f"the grader ended before it could be killed: {log.read_text()[-800:]}"
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    problems = []
    survivors = wait_for_no_processes([*run.tokens(SLOW), str(subs)], grace=5)
    if survivors:
        problems.append(f"workers outlived the killed grader: {survivors}")
        _clean_up(survivors, [])
    done = sorted(p.stem for p in out.glob("*.json"))
    torn = next((s for s in students if s not in done), None)
    if torn:  # a result torn by an earlier crash is regraded, not trusted
        (out / f"{torn}.json").write_text('{"student": "%s", "status": "graded", "sc' % torn)
    rerun = subprocess.run(_grader(subs, out, JOBS), capture_output=True, text=True, timeout=400)
    if rerun.returncode != 0:
        problems.append(f"the restarted grader failed ({rerun.returncode}): {rerun.stderr[-500:]}")
    files, file_problems = load_results(out)
    problems += file_problems + _as_baseline_problems(files, students, baseline["batch"])
    if sorted(map(str, files)) != students:
        problems.append(f"results for {sorted(map(str, files))}, expected {students}")
    odd = unexpected_files(out)
    if odd:
        problems.append(f"partial or stray files left in the results folder: {odd}")
    assert not problems, "\n".join(problems)


def test_two_graders_on_one_results_folder_leave_one_complete_result_each(
        tmp_path, reference_submission, baseline, run):
    """Both finish, or one refuses at once naming the other; either way nothing is torn or lost."""
    subs, students = _environment_batch(tmp_path, reference_submission, run, {"slow_1": SLOW})
    out = tmp_path / "out"
    graders = [subprocess.Popen(_grader(subs, out, 1), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    problems, finished = [], 0
    for grader in graders:
        _, stderr = grader.communicate(timeout=400)
        if grader.returncode == 0:
            finished += 1
        elif "another autograder" not in stderr:
            problems.append(f"a grader failed ({grader.returncode}) without naming the other one: {stderr[-500:]}")
    if not finished:
        problems.append("neither grader finished")
    files, file_problems = load_results(out)
    problems += file_problems + _as_baseline_problems(files, students, baseline["batch"])
    if sorted(map(str, files)) != students:
        problems.append(f"results for {sorted(map(str, files))}, expected {students}")
    if _csv_students(out) != students:
        problems.append(f"grades.csv lists {_csv_students(out)}")
    odd = unexpected_files(out)
    if odd:
        problems.append(f"partial or stray files left in the results folder: {odd}")
    assert not problems, "\n".join(problems)


def test_student_ids_that_clean_to_one_file_name_keep_a_result_each(tmp_path, reference_submission, baseline, run):
    subs = tmp_path / "subs"
    kinds = {"a b": None, "a_b": UPHILL, "A": MEAN_ERROR, "a": None}
    for student, scenario in kinds.items():
        if scenario is None:
            copy_reference(reference_submission, subs / student)
        else:
            build(scenario, subs / student, reference_submission, None, run)
    out = tmp_path / "out"
    graded = grade_batch([subs], out, jobs=JOBS, progress=False)
    write_reports(graded, out)
    returned = {r.student: r.to_dict() for r in graded}
    files, problems = load_results(out)
    students = sorted(kinds)
    if sorted(map(str, files)) != students:
        problems.append(f"result files hold {sorted(map(str, files))}, expected {students}")
    problems += _as_baseline_problems(files, students, baseline["batch"], wrong=("a_b", "A"))
    problems += [f"{s!r}: the file is not the result graded" for s in students
                 if s in files and s in returned and _comparable(files[s]) != _comparable(returned[s])]
    gradescope = list(out.glob("gradescope/*/results.json"))
    if len(gradescope) != len(students):
        problems.append(f"{len(gradescope)} Gradescope results for {len(students)} students")
    if _csv_students(out) != students:
        problems.append(f"grades.csv lists {_csv_students(out)}")
    if len(list(out.glob("feedback/*.html"))) != len(students):
        problems.append("feedback pages overwrite each other")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda b: b.name)
def test_a_broken_hidden_suite_is_a_grader_error_never_a_students_zero(
        breakage, tmp_path, monkeypatch, reference_submission):
    suites = tmp_path / "suites"
    shutil.copytree(compare.HIDDEN_TESTS, suites, ignore=shutil.ignore_patterns("__pycache__"))
    breakage.apply(suites / "assignment1")
    monkeypatch.setattr(compare, "HIDDEN_TESTS", suites)
    folder = copy_reference(reference_submission, tmp_path / "student")
    result = grade_submission(folder, notebooks=["gradient_check.ipynb"])
    zeroed = [f"{t.id}: {t.message[:100]}" for t in result.tests if t.score == 0]
    assert result.status == "grader_error", f"{result.status}, {result.score}/{result.max_score}; zeroed: {zeroed[:3]}"
    assert any(phrase.lower() in result.error.lower() for phrase in breakage.cause), result.error
    assert json.loads(json.dumps(result.to_dict()))["status"] == "grader_error"
