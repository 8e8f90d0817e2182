"""A request's time limit is CPU time of the worker's processes, with a wall-clock backstop; a
submission's budget is charged its CPU time, and the waiting of code that waits.

So a busy machine, which stretches a call's wall time but not its CPU time, does not change a
grade; code that waits rather than computes is still stopped, by the backstop.
"""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograder import run
from autograder.budget import Budget
from autograder.limits import Limits
from autograder.proxy import RemoteObject
from autograder.run import StudentCrash, StudentSession, StudentTimeout, wall_seconds
from autograder.sandbox import Isolation, detect

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

def burn_in_a_thread(seconds):
    """Wait for a thread that spins for ``seconds``: the main thread itself waits, using nothing."""
    import threading
    thread = threading.Thread(target=burn, args=(seconds,))
    thread.start()
    thread.join()
    return True

def burn_in_a_daemon(seconds):
    """Start a daemon (double fork, a session of its own) that spins for ``seconds``; wait as long, using nothing."""
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            burn(seconds)
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(seconds * 1.5)
    return True

def dawdle():
    """For ever: compute a little, then sleep twice as long."""
    while True:
        burn(0.02)
        time.sleep(0.04)

def burn_then_leave(seconds):
    """Spin for ``seconds`` of CPU time, then end the process: the worker restarts."""
    burn(seconds)
    os._exit(3)

def calls_back(function, times=1):
    """Call ``function``, which runs on the grader's side, ``times`` times: the worker itself uses nothing."""
    return [function() for _ in range(times)][-1]
'''

needs_cpu_time = pytest.mark.skipif(not run.cpu_time_readable(), reason="needs /proc: without it limits are wall time")


def _module(session):
    session.load("m.ipynb", [("code", CODE)])
    return RemoteObject(session, "m.ipynb", "m.ipynb", session.generation)


@pytest.fixture
def one_busy_core():
    """This process, the workers it starts and two processes that spin, all on one core: a computing
    worker gets about a third of it, and waits for it the rest of the time."""
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("needs sched_setaffinity (Linux)")
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    # Where the scheduler shares a core between sessions first (autogroups; the worker has a session
    # of its own), this session's two hogs get twice the weight of one (nice -3 is 1.95 times nice 0).
    # A hog in a session of its own would be taken for the worker's leftover and killed with it.
    autogroup = Path("/proc/self/autogroup")
    try:
        autogroup.write_text("-3")
    except OSError:
        autogroup = None
    try:
        yield
    finally:
        if autogroup is not None:
            autogroup.write_text("0")
        for hog in hogs:
            hog.kill()
            hog.wait()
        os.sched_setaffinity(0, before)


@needs_cpu_time
def test_a_call_a_busy_machine_slows_down_is_not_cut_while_within_its_cpu_time(tmp_path, accounting, one_busy_core):
    with StudentSession(tmp_path, Limits(call_seconds=1.0, wall_factor=10)) as session:
        module = _module(session)
        start = time.monotonic()
        assert module.burn(0.85) is True  # most of its limit: not cut short either
        # and so is a main thread that waits for another one which computes, and for the processor
        assert module.burn_in_a_thread(0.85) is True
        # Sharing its core, the call took longer than its limit in wall time: a wall-clock limit would have
        # cut it, and so would a stop of waiting code that did not count its wait for the processor.
        assert time.monotonic() - start > 3.6


@needs_cpu_time
def test_an_endless_loop_is_stopped_at_its_cpu_time_limit(tmp_path, accounting):
    with StudentSession(tmp_path, Limits(call_seconds=0.5, wall_factor=10)) as session:
        module = _module(session)
        before = session.worker.cpu_seconds()  # its start and the load
        start = time.monotonic()
        with pytest.raises(StudentTimeout) as info:
            module.forever()
        assert str(info.value) == "your code did not finish within 0.5 s of CPU time"
        assert 0.5 <= time.monotonic() - start < 2.5
        # looked at often enough near the limit, not a poll later
        assert 0.45 <= session.worker.cpu_seen - before < 0.8


@needs_cpu_time
def test_time_the_grader_spends_serving_a_callback_is_not_the_workers(tmp_path, accounting):
    """A hidden test's function that the student's code calls runs on the grader's side: the worker
    waits meanwhile, however long it takes, and the first look at its CPU time comes after it."""
    with StudentSession(tmp_path, Limits(call_seconds=0.5, wall_factor=10)) as session:
        module = _module(session)
        assert module.calls_back(lambda: time.sleep(0.8) or 7) == 7


@needs_cpu_time
def test_a_call_waiting_on_many_callbacks_the_grader_serves_is_not_taken_for_waiting_code(tmp_path, accounting):
    """Ten callbacks of 0.1 s each, twice the call's limit in all: the worker waits for the grader,
    not for itself, and the looks between callbacks see it so."""
    with StudentSession(tmp_path, Limits(call_seconds=0.5, wall_factor=10)) as session:
        module = _module(session)
        assert module.calls_back(lambda: time.sleep(0.1) or 7, 10) == 7


@needs_cpu_time
def test_a_grader_the_machine_stops_for_a_while_does_not_charge_the_worker_for_it(tmp_path, accounting):
    with StudentSession(tmp_path, Limits(call_seconds=1.0, wall_factor=10)) as session:
        module = _module(session)
        # 5 ms into the call, before the first look at the worker, a thread stops this whole process
        # for 1.2 s, longer than the call's CPU limit; another process wakes it. The call ends 0.1 s
        # later, before a second look could find it waiting.
        waker = subprocess.Popen(["sh", "-c", f"echo ready; read go; sleep 1.2; kill -CONT {os.getpid()}"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert waker.stdout.readline() == b"ready\n"
        # The call below is then one request (the function is known), and no look left over from
        # this one is due in it before its own first look, 20 ms in.
        module.sleep(0.05)

        def stop_this_process():
            time.sleep(0.005)
            waker.stdin.write(b"go\n")
            waker.stdin.close()
            os.kill(os.getpid(), signal.SIGSTOP)

        stopper = threading.Thread(target=stop_this_process)
        start = time.monotonic()
        stopper.start()
        try:
            assert module.sleep(1.3) is None
        finally:
            stopper.join()
            waker.wait()
        assert time.monotonic() - start >= 1.3


@needs_cpu_time
@pytest.mark.parametrize("level", ["as detected", "rlimits"])
def test_a_daemon_the_call_starts_counts_toward_its_limit(tmp_path, accounting, level):
    """It leaves the worker's process tree (outside bubblewrap, its parent is the grader then); its
    cgroup or the grader's orphans still hold it."""
    isolation = detect() if level == "as detected" else Isolation(level, ())
    with StudentSession(tmp_path, Limits(call_seconds=0.5, wall_factor=20), isolation) as session:
        module = _module(session)
        start = time.monotonic()
        with pytest.raises(StudentTimeout, match="within 0.5 s of CPU time"):
            module.burn_in_a_daemon(3)
        assert time.monotonic() - start < 2.5  # not after the daemon's 3 s, nor the 10 s backstop


@needs_cpu_time
def test_the_cpu_time_of_a_child_counts_toward_the_limit(tmp_path, accounting):
    with StudentSession(tmp_path, Limits(call_seconds=0.5, wall_factor=20)) as session:
        module = _module(session)
        start = time.monotonic()
        with pytest.raises(StudentTimeout, match="within 0.5 s of CPU time"):
            module.burn_in_a_child(30)
        assert time.monotonic() - start < 5  # not the 10 s wall-clock backstop


@needs_cpu_time
@pytest.mark.parametrize("accounting", ["cgroup"], indirect=True)
def test_code_that_waits_is_stopped_once_it_took_its_cpu_limit_in_wall_clock_time(tmp_path, accounting):
    if session_waited_unreadable(tmp_path):
        pytest.skip("the kernel keeps no pressure counts (PSI) for the worker's cgroup")
    with StudentSession(tmp_path, Limits(call_seconds=0.5, wall_factor=10)) as session:
        module = _module(session)
        start = time.monotonic()
        with pytest.raises(StudentTimeout) as info:
            module.sleep(60)
        assert 0.5 <= time.monotonic() - start < 1.5  # not at the 5 s backstop
        assert str(info.value) == ("your code did not finish within 0.5 s, and it spent most of that time "
                                   "waiting, not computing: does it sleep, wait for input or for a lock?")


def session_waited_unreadable(tmp_path):
    with StudentSession(tmp_path / "probe") as session:
        _module(session)
        return session.worker.waited_seconds() is None


@needs_cpu_time
def test_where_waiting_for_a_processor_cannot_be_read_code_that_waits_is_stopped_by_the_backstop(tmp_path,
                                                                                                 accounting):
    """Per process, or where the kernel keeps no pressure counts."""
    if accounting == "cgroup" and not session_waited_unreadable(tmp_path):
        pytest.skip("this machine's cgroups count pressure: covered above")
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


def test_the_submission_budget_counts_a_sleep_and_cuts_the_request_under_way_short(tmp_path):
    with StudentSession(tmp_path, Limits(call_seconds=5, submission_seconds=1.5)) as session:
        module = _module(session)
        start = time.monotonic()
        with pytest.raises(StudentTimeout) as info:
            module.sleep(60)
        assert time.monotonic() - start < 3
        assert str(info.value) == "your code did not finish before your submission used up its grading time (1.5 s)"
        with pytest.raises(StudentTimeout, match=r"used up its grading time \(1\.5 s\) in earlier tests"):
            module.burn(0.01)


@needs_cpu_time
def test_a_busy_machine_does_not_spend_the_submission_budget(tmp_path, accounting, one_busy_core):
    """Computing code is charged its CPU time, that of every worker, one that ended included: a
    submission gets as far as on an idle machine, and no further."""
    with StudentSession(tmp_path / "graded", Limits(call_seconds=5, submission_seconds=3.5, wall_factor=10)) as session:
        start = time.monotonic()
        module = _module(session)
        with pytest.raises(StudentCrash):
            module.burn_then_leave(1.0)  # its worker ends: its CPU time still counts
        assert module.burn(1.0) is True  # in a new worker, the cells loaded again
        busy = time.monotonic() - start
        spent = session.budget.spent()
        # A third of a core: a budget of wall-clock time would have run out by now; 2 s of CPU time and
        # two starts do not spend it.
        assert busy > 3.5 and 2.0 <= spent < 3.2, (busy, spent)
        with pytest.raises(StudentTimeout) as info:
            module.forever()  # within its 5 s of CPU time, but not within what is left of the budget
        assert str(info.value) == "your code did not finish before your submission used up its grading time (3.5 s)"
        assert 3.5 <= session.budget.spent() < 4.0  # cut at the look that found it spent
        assert time.monotonic() - start < 10 * 3.5


@needs_cpu_time
def test_the_cpu_time_of_a_worker_that_ended_still_counts_against_the_budget(tmp_path, accounting):
    # A budget so large that nothing reads it before the end: the reading must find the ended worker.
    with StudentSession(tmp_path, Limits(call_seconds=5, submission_seconds=100, wall_factor=10)) as session:
        module = _module(session)
        with pytest.raises(StudentCrash):
            module.burn_then_leave(1.0)
        assert module.burn(0.01) is True  # in a new worker
        # Left out, it would leave the budget at the new worker's 0.2 s or so.
        assert 1.0 <= session.budget.spent() < 3.0


@needs_cpu_time
def test_a_worker_that_ends_between_requests_is_charged_its_cpu_time_up_to_its_end(tmp_path, accounting):
    """No request looks at it while it computes: its CPU time is read from the zombie it stays until killed."""
    with StudentSession(tmp_path, Limits(call_seconds=5, submission_seconds=100)) as session:
        session.load("m.ipynb", [("code", CODE + "\nimport threading\n"
                                   "threading.Thread(target=burn_then_leave, args=(1.0,)).start()")])
        worker = session.worker
        deadline = time.monotonic() + 20
        while worker.alive and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not worker.alive
        assert worker.cpu_seconds() >= 1.0


@needs_cpu_time
def test_the_grader_waiting_for_a_processor_does_not_spend_the_submission_budget(tmp_path, one_busy_core):
    """A hidden test's own computing (here a function the student's code calls back) on a busy core."""
    def computes_for_a_second():
        start = time.process_time()
        while time.process_time() - start < 1.0:
            pass
        return 1.0

    # A wall_factor so large that charging the waiting instead of the grader's CPU time would come short.
    with StudentSession(tmp_path, Limits(call_seconds=5, submission_seconds=2.5, wall_factor=30)) as session:
        module = _module(session)
        start = time.monotonic()
        assert module.calls_back(computes_for_a_second) == 1.0
        assert time.monotonic() - start > 2.5  # a budget of wall-clock time would be spent
        assert module.burn(0.01) is True
        assert 1.0 <= session.budget.spent() < 2.0  # the grader's second counts, its waits do not


@needs_cpu_time
def test_code_that_waits_part_of_the_time_ends_by_wall_factor_times_the_budget(tmp_path, accounting):
    """Charged its CPU time and its waiting beyond ``wall_factor`` times that, it is charged at least
    its wall-clock time over ``wall_factor``."""
    start = time.monotonic()
    with StudentSession(tmp_path, Limits(call_seconds=5, submission_seconds=1.5, wall_factor=3)) as session:
        module = _module(session)
        with pytest.raises(StudentTimeout) as info:
            module.dawdle()  # a third computing: not stopped as waiting code, and within its CPU time
        # 4.5 s on an idle machine; sooner on a busy one, where it gets less than a third of a processor.
        assert 1.5 <= time.monotonic() - start < 4.5 + 0.5
        assert str(info.value) == "your code did not finish before your submission used up its grading time (1.5 s)"


def test_the_budget_spent_never_goes_back_and_once_spent_stays_spent():
    readings = iter([0.0, 2.0, 0.5])  # the workers' CPU seconds: a later reading that came out lower
    spent = Budget(0.05, 3, lambda: next(readings))
    time.sleep(0.06)  # long enough that the budget could be spent: over() reads
    assert spent.over()  # 2 s
    assert spent.spent() >= 2.0 and spent.over()  # 0.5 s read: still 2 s, still over


def test_where_cpu_time_cannot_be_read_the_budget_is_wall_clock_time():
    spent = Budget(0.2, 3, None)
    assert not spent.over()
    time.sleep(0.25)
    assert spent.over() and 0.25 <= spent.spent() < 1


def test_the_feedback_says_the_limits_are_cpu_time_with_a_wall_clock_backstop():
    lines = Limits(call_seconds=5, wall_factor=3).describe()
    assert "each call into your code: 5 s of CPU time" in lines
    assert ("code that waits (a sleep, input) is stopped once it took as long in wall-clock time; any code "
            "at 3 times as long") in lines
    assert ("the whole submission: 300 s of CPU time, the grader's work on its tests included (time spent "
            "waiting, beyond 3 times that, counts too); 900 s of wall-clock time at most") in lines


def test_where_cpu_time_cannot_be_read_the_feedback_says_the_limits_are_wall_clock_time():
    lines = Limits(call_seconds=5, tuning_seconds=120).describe(cpu_time=False)
    assert "each call into your code: 5 s of wall-clock time" in lines
    assert "running a definition cell: 30 s of wall-clock time; a tuning cell: 120 s of wall-clock time" in lines
    assert not any("times as long" in line for line in lines)
    assert "the whole submission: 300 s of wall-clock time" in lines
