"""A request's time limit is CPU time of the worker's processes, with a wall-clock backstop.

So a busy machine, which stretches a call's wall time but not its CPU time, does not change a
grade; code that waits rather than computes is still stopped, by the backstop.
"""
import os
import subprocess
import sys
import time

import pytest

from autograder import run
from autograder.limits import Limits
from autograder.proxy import RemoteObject
from autograder.run import StudentSession, StudentTimeout, wall_seconds

CODE = '''
import os, time

def burn(seconds):
    """Spin until this process has used ``seconds`` of CPU time."""
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return True

def forever():
    while True:
        pass

def sleep(seconds):
    time.sleep(seconds)

def burn_in_a_child(seconds):
    """Wait for a child that spins for ``seconds`` of CPU time: the caller itself uses none."""
    pid = os.fork()
    if pid == 0:
        burn(seconds)
        os._exit(0)
    os.waitpid(pid, 0)
    return True
'''

needs_cpu_time = pytest.mark.skipif(not run.cpu_time_readable(), reason="needs /proc: without it limits are wall time")


def _module(session):
    session.load("m.ipynb", [("code", CODE)])
    return RemoteObject(session, "m.ipynb", "m.ipynb", session.generation)


@pytest.fixture
def one_busy_core():
    """This process, the workers it starts and a process that spins, all on one core: each gets about half."""
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("needs sched_setaffinity (Linux)")
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        hog.kill()
        hog.wait()
        os.sched_setaffinity(0, before)


@needs_cpu_time
def test_a_call_a_busy_machine_slows_down_is_not_cut_while_within_its_cpu_time(tmp_path, one_busy_core):
    with StudentSession(tmp_path, Limits(call_seconds=1.0, wall_factor=10)) as session:
        module = _module(session)
        start = time.monotonic()
        assert module.burn(0.7) is True
        # Sharing its core, the call took longer than its limit in wall time: a wall-clock limit would have cut it.
        assert time.monotonic() - start > 1.0


@needs_cpu_time
def test_an_endless_loop_is_stopped_at_its_cpu_time_limit(tmp_path):
    with StudentSession(tmp_path, Limits(call_seconds=0.5, wall_factor=10)) as session:
        module = _module(session)
        start = time.monotonic()
        with pytest.raises(StudentTimeout) as info:
            module.forever()
        assert str(info.value) == "your code did not finish within 0.5 s of CPU time"
        assert 0.5 <= time.monotonic() - start < 2.5
        assert 0.5 <= session.worker.cpu_seen < 0.9  # looked at often enough near the limit, not a poll later


@needs_cpu_time
def test_the_cpu_time_of_a_child_counts_toward_the_limit(tmp_path):
    with StudentSession(tmp_path, Limits(call_seconds=0.5, wall_factor=20)) as session:
        module = _module(session)
        start = time.monotonic()
        with pytest.raises(StudentTimeout, match="within 0.5 s of CPU time"):
            module.burn_in_a_child(30)
        assert time.monotonic() - start < 5  # not the 10 s wall-clock backstop


@needs_cpu_time
def test_code_that_waits_is_stopped_by_the_wall_clock_backstop(tmp_path):
    limits = Limits(call_seconds=0.5, wall_factor=2)
    assert wall_seconds(limits, 0.5) == 1.0
    with StudentSession(tmp_path, limits) as session:
        module = _module(session)
        start = time.monotonic()
        with pytest.raises(StudentTimeout) as info:
            module.sleep(60)
        assert 1.0 <= time.monotonic() - start < 3
        assert str(info.value) == ("your code did not finish within 1 s of wall-clock time, and had not used its "
                                   "0.5 s of CPU time: was it waiting?")


def test_without_cpu_time_the_limit_is_wall_clock_time(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "PROC", tmp_path / "no-proc")
    limits = Limits(call_seconds=0.5)
    assert wall_seconds(limits, 0.5) == 0.5
    monkeypatch.setattr(run.cpu_group, "PROC", tmp_path / "no-proc")
    monkeypatch.setattr(run.cpu_group, "_PARENT", [None])
    with StudentSession(tmp_path, limits) as session:
        module = _module(session)
        start = time.monotonic()
        with pytest.raises(StudentTimeout) as info:
            module.sleep(60)
        assert 0.5 <= time.monotonic() - start < 2
        assert str(info.value) == "your code did not finish within 0.5 s"


def test_the_submission_budget_stays_wall_clock_time_and_cuts_a_request_short(tmp_path):
    with StudentSession(tmp_path, Limits(call_seconds=5, submission_seconds=1.5)) as session:
        module = _module(session)
        start = time.monotonic()
        with pytest.raises(StudentTimeout, match=r"within the 1\.\d+ s of wall-clock time left to it"):
            module.sleep(60)
        assert time.monotonic() - start < 3


def test_the_feedback_says_the_limits_are_cpu_time_with_a_wall_clock_backstop():
    lines = Limits(call_seconds=5, wall_factor=3).describe()
    assert "each call into your code: 5 s of CPU time" in lines
    assert "each of these in wall-clock time: 3 times as long, for code that waits" in lines
