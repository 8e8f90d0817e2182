"""`autograder grade --scheduler`: a real Dask scheduler and workers on loopback grade a class as the local pool
does, a worker killed mid-batch loses and duplicates nothing, and a cluster that cannot grade is a one-line error."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from distributed import Client

from autograder import batch, distributed
from autograder.batch import grade_batch
from autograder.discover import SubmissionFolder
from autograder.errors import RunError
from autograder.results import SubmissionResult
from tests.autograder.pool_helpers import counted_grade, fake_failure, fake_grade
from tests.notebooks import RELEASE, ROOT

DASK = Path(sys.executable).with_name("dask")
NB = "gradient_check.ipynb"  # one cheap notebook per student; the others are missing, which grades fast
STUDENTS = ("ada", "bea", "cid", "zed")
AUTOGRADER = [sys.executable, "-m", "autograder.cli"]


def _class_of(root, notebooks):
    """A folder per student of ``notebooks`` ({student: the notebook handed in})."""
    for student, notebook in notebooks.items():
        (root / student).mkdir(parents=True)
        shutil.copy2(notebook, root / student / NB)
    return root


def _one_student(root):
    return _class_of(root, {"ada": RELEASE / NB})


class _Cluster:
    """A `dask scheduler` and `dask worker` processes on loopback, each in a session of its own."""

    def __init__(self, folder):
        self.folder = folder
        self.scheduler_file = folder / "scheduler.json"
        self.processes = {}  # name -> Popen
        self.client = None  # the test's own, to watch the cluster

    def start(self, workers, scheduler_env=None, worker_env=None):
        self._spawn("scheduler", scheduler_env, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                    "--scheduler-file", self.scheduler_file)
        address = self._scheduler_address()
        for index in range(workers):
            self.add_worker(f"worker{index}", worker_env)
        self.client = Client(address, timeout=30, set_as_default=False)
        if workers:
            self.client.wait_for_workers(workers, timeout=90)
        return address

    def add_worker(self, name, env=None):
        self._spawn(name, env, "worker", "--scheduler-file", self.scheduler_file, "--nthreads", "1",
                    "--no-nanny", "--no-dashboard", "--name", name, "--local-directory", self.folder / name)

    def wait_for_the_end_of(self, name):
        """Wait until the worker ``name`` has ended and the scheduler has let it go."""
        self.processes[name].wait(timeout=60)
        deadline = time.monotonic() + 30
        while any(w["name"] == name for w in self.client.scheduler_info()["workers"].values()):
            assert time.monotonic() < deadline, f"the scheduler still lists {name}"
            time.sleep(0.05)
        time.sleep(0.5)  # for the scheduler's word of what the worker held to reach every client

    def kill_a_busy_worker(self):
        """SIGKILL a worker that holds a task, with its process group; the keys it held."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for address, keys in self.client.processing().items():
                if keys:
                    self.kill(self.client.scheduler_info()["workers"][address]["name"])
                    return list(keys)
            time.sleep(0.05)
        raise AssertionError("no worker was grading anything")

    def stop(self):
        try:
            if self.client is not None:
                self.client.close(timeout=10)
        finally:
            for name in list(self.processes):
                self.kill(name)

    def _spawn(self, name, env, *args):
        with open(self.folder / f"{name}.log", "w") as log:
            self.processes[name] = subprocess.Popen([str(DASK), *map(str, args)], cwd=self.folder, stdout=log,
                                                    stderr=subprocess.STDOUT, start_new_session=True,
                                                    env={**os.environ, **(env or {})})

    def _scheduler_address(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.processes["scheduler"].poll() is not None:
                raise AssertionError(f"dask scheduler ended: {(self.folder / 'scheduler.log').read_text()[-2000:]}")
            try:
                return json.loads(self.scheduler_file.read_text())["address"]
            except (OSError, ValueError):  # not written yet, or not yet whole
                time.sleep(0.1)
        raise AssertionError("dask scheduler did not start within 60 s")

    def kill(self, name):
        process = self.processes.pop(name)
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


@pytest.fixture
def cluster(tmp_path):
    """``cluster.start(workers)`` -> the scheduler's address; every process is killed at the end, pass or fail."""
    folder = tmp_path / "dask"
    folder.mkdir()
    made = _Cluster(folder)
    yield made
    made.stop()


def _results_on_disk(out):
    """{file name: result JSON without its timings} of every student's result."""
    results = {}
    for path in sorted(out.glob("*.json")):
        data = SubmissionResult.from_dict(json.loads(path.read_text())).to_dict(timings=False)
        results[path.name] = data
    return results


@pytest.mark.slow
def test_a_cluster_that_loses_a_worker_mid_batch_grades_each_student_once_as_the_local_pool_does(
        tmp_path, cluster, monkeypatch, reference_submission):
    done, blank = reference_submission / NB, RELEASE / NB
    root = _class_of(tmp_path / "class", dict(zip(STUDENTS, (done, blank, done, blank))))
    address = cluster.start(workers=2)
    held = []
    write = batch._write_submission

    def write_then_kill(out, result):
        write(out, result)
        if not held:  # halfway: after the first result, one worker dies with the submission it was grading
            held.extend(cluster.kill_a_busy_worker())

    monkeypatch.setattr(batch, "_write_submission", write_then_kill)
    on_cluster = grade_batch([root], tmp_path / "cluster", scheduler=address, progress=False)
    monkeypatch.setattr(batch, "_write_submission", write)
    local = grade_batch([root], tmp_path / "local", jobs=2, progress=False)

    lost = {key.rsplit("-", 1)[1] for key in held}
    assert lost and lost <= set(STUDENTS)
    assert [r.student for r in on_cluster] == list(STUDENTS)
    assert {r.student: r.status for r in on_cluster if r.student in lost} == dict.fromkeys(lost, "graded")
    assert _results_on_disk(tmp_path / "cluster") == _results_on_disk(tmp_path / "local")
    assert sorted(_results_on_disk(tmp_path / "cluster")) == [f"{s}.json" for s in STUDENTS]
    assert [r.score for r in on_cluster] == [r.score for r in local] and any(r.score for r in local)
    assert not list((tmp_path / "cluster").rglob("*.part"))


def test_a_submission_that_kills_its_dask_worker_is_its_own_grader_error_and_costs_no_other(tmp_path, cluster):
    # The scheduler gives up on a task at its first lost worker, and hands each worker one task at a time.
    stand_ins = {"PYTHONPATH": str(ROOT)}  # the scheduler and the workers load tests/autograder/pool_helpers
    address = cluster.start(workers=2, worker_env=stand_ins, scheduler_env={
        **stand_ins, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0",
        "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"})
    students = ["amy", "ben", "killer", "dan", "eve"]
    todo = [SubmissionFolder(name, tmp_path / name) for name in students]
    for submission in todo:
        submission.folder.mkdir()
    results = list(distributed.run_on_cluster(todo, fake_grade, fake_failure, address))
    assert sorted(r["student"] for r in results) == sorted(students)  # each exactly once
    statuses = {r["student"]: r for r in results}
    killer = statuses.pop("killer")
    assert killer["status"] == "grader_error"
    assert "every Dask worker that graded this submission died" in killer["error"]
    assert {r["status"] for r in statuses.values()} == {"graded"}


def test_a_result_lost_with_its_worker_before_the_client_took_it_is_graded_again(tmp_path, cluster):
    # One worker grades amy, ben and killer in turn; the client takes amy's result, then waits while killer
    # kills the worker, which still holds ben's result: ben is graded again on a new worker, not an error.
    stand_ins = {"PYTHONPATH": str(ROOT)}
    address = cluster.start(workers=1, worker_env=stand_ins, scheduler_env={
        **stand_ins, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"})
    students = ["amy", "ben", "killer"]
    todo = [SubmissionFolder(name, tmp_path / name) for name in students]
    for submission in todo:
        submission.folder.mkdir()
    results = distributed.run_on_cluster(todo, counted_grade, fake_failure, address)
    first = next(results)
    cluster.wait_for_the_end_of("worker0")
    cluster.add_worker("worker1", stand_ins)
    statuses = {r["student"]: r["status"] for r in [first, *results]}
    assert statuses == {"amy": "graded", "ben": "graded", "killer": "grader_error"}
    assert (tmp_path / "ben" / "gradings").read_text() == "graded\n" * 2  # its first result was lost


@pytest.mark.slow
def test_a_lost_scheduler_stops_the_batch_with_a_clear_error_and_keeps_what_was_graded(tmp_path, cluster, monkeypatch):
    address = cluster.start(workers=1)
    write = batch._write_submission

    def write_then_lose_the_scheduler(out, result):
        write(out, result)
        cluster.kill("scheduler")

    monkeypatch.setattr(batch, "_write_submission", write_then_lose_the_scheduler)
    with pytest.raises(RunError, match=f"lost the Dask scheduler at {address} .*run again to resume"):
        grade_batch([_class_of(tmp_path / "class", {"ada": RELEASE / NB, "bea": RELEASE / NB})], tmp_path / "out",
                    scheduler=address, progress=False)
    assert len(list((tmp_path / "out").glob("*.json"))) == 1
    assert not list((tmp_path / "out").rglob("*.part"))


def test_a_cluster_without_workers_is_a_clear_error(tmp_path, cluster, monkeypatch):
    address = cluster.start(workers=0)
    monkeypatch.setattr(distributed, "WORKERS_SECONDS", 1)
    with pytest.raises(RunError, match=f"the Dask scheduler at {address} has no workers"):
        grade_batch([_one_student(tmp_path / "class")], tmp_path / "out", scheduler=address, progress=False)
    assert not list((tmp_path / "out").glob("*.json"))


def test_workers_of_another_grader_version_are_refused_before_anything_is_graded(tmp_path, cluster):
    address = cluster.start(workers=1)
    # From now on the worker reports another grader version (code, not a function of this module: no import there).
    cluster.client.run(exec, "import autograder.distributed as d\nd.grader_version = lambda: '0.0.0+another'", {})
    with pytest.raises(RunError, match=r"runs grader version 0\.0\.0\+another, this client .*same commit"):
        grade_batch([_one_student(tmp_path / "class")], tmp_path / "out", scheduler=address, progress=False)
    assert not list((tmp_path / "out").glob("*.json"))


def test_a_task_on_a_worker_of_another_grader_version_refuses_to_grade():
    with pytest.raises(RunError, match="runs grader version"):
        distributed._grade_on_worker(lambda submission: pytest.fail("graded"), None, "0.0.0+another")


def test_a_scheduler_that_never_answers_is_a_timeout_not_a_hang(tmp_path, monkeypatch):
    monkeypatch.setattr(distributed, "CONNECT_SECONDS", 1)
    with socket.socket() as silent:  # accepts connections (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        start = time.monotonic()
        with pytest.raises(RunError, match=rf"cannot reach the Dask scheduler at {address} \(no answer within 1 s\)"):
            list(distributed.run_on_cluster([SubmissionFolder("ada", tmp_path)], None, None, address))
        assert time.monotonic() - start < 10


def test_an_unreachable_scheduler_is_a_one_line_error_at_once(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = _one_student(tmp_path / "class")
    start = time.monotonic()
    done = subprocess.run(AUTOGRADER + ["grade", str(root), "--out", str(tmp_path / "out"), "--quiet",
                                        "--scheduler", f"tcp://127.0.0.1:{port}"], capture_output=True, text=True)
    assert time.monotonic() - start < 60  # the connection is refused: no waiting for it
    assert done.returncode == 1
    assert done.stderr.strip() == (f"autograder: error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} "
                                   "(Connection refused); is `dask scheduler` running there, and is the port open "
                                   "to this machine?")
