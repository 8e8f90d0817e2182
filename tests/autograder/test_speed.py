"""Speed checks: CPU time of worker processes read by the trusted side, against the reference's naive version."""
import importlib.util
import os
import textwrap
import time

import nbformat
import numpy as np
import pytest

from autograder import confine, cpu_group, run, timing
from autograder.compare import HIDDEN_TESTS
from autograder.pipeline import grade_submission
from autograder.reference import RELEASE
from autograder.proxy import RemoteObject
from autograder.run import StudentSession
from autograder.sandbox import Isolation
from tests.autograder.mutants import Edit, catalog
from tests.autograder.scenarios import ANCHORS, cells_with_id
from tests.autograder.submissions import make_edited_submission

CODE = """
import time
import numpy as np

def sleeps(seconds):
    time.sleep(seconds)

def burns(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass

def burns_for(seconds):
    # The wall time it took: at least its CPU time. A process's own CPU clock may lag by up to a scheduler
    # tick (4 ms at 250 Hz), so it burns up to that much longer than asked.
    start = time.perf_counter()
    burns(seconds)
    return time.perf_counter() - start

calls = []

def doubles_in_place(x):
    calls.append(x.copy())
    x *= 2
    return x

def burns_in_a_child(seconds):
    import os
    pid = os.fork()
    if pid == 0:
        burns(seconds)
        os._exit(0)
    os.waitpid(pid, 0)

def burns_in_a_grandchild(seconds):
    # A child that burns nothing itself, reaps a grandchild that does, and outlives the call.
    import os, time
    if os.fork() == 0:
        grandchild = os.fork()
        if grandchild == 0:
            burns(seconds)
            os._exit(0)
        os.waitpid(grandchild, 0)
        time.sleep(2)
        os._exit(0)
    time.sleep(seconds + 0.2)

helper = []

def start_a_helper(seconds):
    # A child that burns ``seconds`` and then waits: its time is in every reading while it lives.
    import os, signal
    pid = os.fork()
    if pid == 0:
        burns(seconds)
        signal.pause()
    helper.append(pid)

def end_the_helper():
    import os, signal
    os.kill(helper[0], signal.SIGKILL)
    os.waitpid(helper[0], 0)

def start_a_spinning_daemon():
    import os
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            while True:
                pass
        os._exit(0)

def burns_in_a_child_the_kernel_reaps(seconds):
    # With SIGCHLD ignored the kernel reaps the child itself: /proc keeps no trace of its time.
    import os, signal, time
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    pid = os.fork()
    if pid == 0:
        burns(seconds)
        os._exit(0)
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.001)

def burns_in_a_thread_that_ends(seconds):
    import threading
    thread = threading.Thread(target=burns, args=(seconds,))
    thread.start()
    thread.join()
"""
SPEED_TESTS = ("faster", "beats")


@pytest.fixture
def module(tmp_path, accounting):
    session = StudentSession(tmp_path)
    session.load("m.ipynb", [("code", CODE)])
    assert session.worker.cpu_counting == accounting  # measured the way the test says, not the other
    yield session, RemoteObject(session, "m.ipynb", "m", session.generation)
    session.close()


def test_cpu_time_counts_the_work_not_the_waiting(module):
    session, student = module
    slept, _ = timing._cpu_per_call(session, lambda timeout, repeat: student.sleeps(0.3, _timeout=timeout), 5, 1)
    burnt, _ = timing._cpu_per_call(session, lambda timeout, repeat: student.burns(0.3, _timeout=timeout), 5, 1)
    assert slept < 0.05
    assert 0.25 < burnt < 0.6


def test_cpu_time_of_a_child_process_is_counted(module):
    session, student = module
    burnt, _ = timing._cpu_per_call(session, lambda timeout, repeat: student.burns_in_a_child(0.3, _timeout=timeout),
                                    5, 1)
    assert burnt > 0.25


def _measure_once(session, call):
    """(CPU seconds, to the nanosecond) of one call, as the speed checks measure it."""
    with session.timed() as measure:
        call()
    return measure.seconds, measure.fine


@pytest.mark.skipif(run._CLOCK_GETCPUCLOCKID is None, reason="no clock_getcpuclockid in this C library")
def test_cpu_time_is_read_finely_from_the_process_clocks_or_the_cgroup(module):
    """A call that burns 5 ms measures what it burnt, not 0 or 10 (/proc's ticks), so a measure needs few calls."""
    session, student = module
    readings = []
    for _ in range(5):
        with session.timed() as measure:
            took = student.burns_for(0.005)
        readings.append((measure.seconds, measure.fine, took))
    # At least the 5 ms it burnt, at most the time it took (and a request's own 0.1 ms).
    assert all(fine and 0.0045 < seconds < took + 0.001 for seconds, fine, took in readings), readings
    repeats = []
    timing._cpu_per_call(session, lambda timeout, repeat: repeats.append(repeat) or student.burns(
        0.03, _timeout=timeout, _repeat=repeat), 5, 20)
    assert repeats == [1]  # 30 ms is measure enough


@pytest.mark.skipif(run._CLOCK_GETCPUCLOCKID is None, reason="no clock_getcpuclockid in this C library")
def test_cpu_time_of_a_thread_that_ended_is_counted_to_the_nanosecond(module):
    # A process's clock keeps its ended threads' time: the reading after the call cannot fall below the one before.
    session, student = module
    seconds, fine = _measure_once(session, lambda: student.burns_in_a_thread_that_ends(0.05))
    assert fine and 0.045 < seconds < 0.1


def test_cpu_time_of_a_process_that_started_meanwhile_counts_with_the_children_it_reaped(module):
    session, student = module
    seconds, _ = _measure_once(session, lambda: student.burns_in_a_grandchild(0.1))
    assert seconds > 0.08


@pytest.mark.parametrize("accounting", ["per process"], indirect=True)
def test_a_child_that_ended_meanwhile_makes_the_measure_fall_back_on_ticks_and_need_more_time(module):
    session, student = module
    seconds, fine = _measure_once(session, lambda: student.burns_in_a_child(0.05))
    assert not fine and seconds > 0.03  # its time moved to the worker's reaped children, counted in ticks
    repeats = []
    call = lambda timeout, repeat: repeats.append(repeat) or student.burns_in_a_child(0.03, _timeout=timeout,
                                                                                       _repeat=repeat)
    per_call, _ = timing._cpu_per_call(session, call, 5, 20)
    # 20 ms would do to the nanosecond (one call); in ticks the measure goes on to 100 ms.
    assert sum(repeats) * per_call >= timing.MIN_MEASURED_TICKS_SECONDS > timing.MIN_MEASURED_SECONDS


@pytest.mark.parametrize("accounting", ["per process"], indirect=True)
def test_a_measure_in_which_a_process_of_the_worker_ended_is_refused(module):
    # Ending a child that burnt before the measure would otherwise take its time out of it (a negative reading).
    session, student = module
    student.start_a_helper(0.3)
    with pytest.raises(run.StudentCrash, match="ended while it was being timed"):
        timing._cpu_per_call(session, lambda timeout, repeat: student.end_the_helper(_timeout=timeout), 5, 1)


def test_a_students_leftover_process_is_not_charged_to_the_reference(tmp_path, accounting):
    """Outside bubblewrap a daemon the student's worker left is the grader's child: the student's measures count
    it (it may do the timed work), the reference's, taken while the student's worker lives, do not."""
    isolation = Isolation("rlimits", ("forced by a test",))
    with StudentSession(tmp_path / "student", isolation=isolation) as student_session, \
            StudentSession(tmp_path / "reference", isolation=isolation, reference=True) as reference_session:
        for session in (student_session, reference_session):
            session.load("m.ipynb", [("code", CODE)])
        student = RemoteObject(student_session, "m.ipynb", "m", student_session.generation)
        reference = RemoteObject(reference_session, "m.ipynb", "m", reference_session.generation)
        student.start_a_spinning_daemon()
        time.sleep(0.5)  # for the daemon's parent to end, so that the grader adopts it
        assert run.orphans()
        charged, _ = timing._cpu_per_call(student_session, lambda timeout, repeat: student.sleeps(
            0.3, _timeout=timeout), 5, 1)
        alone, _ = timing._cpu_per_call(reference_session, lambda timeout, repeat: reference.burns(
            0.05, _timeout=timeout), 5, 1)
    assert charged > 0.15 and 0.045 < alone < 0.08


@pytest.mark.parametrize("accounting", ["cgroup"], indirect=True)
def test_with_a_cgroup_a_child_the_kernel_reaps_itself_is_counted(module):
    """The child leaves nothing in /proc (read per process, 50 ms measured under 1 ms); its cgroup has it all."""
    session, student = module
    seconds, fine = _measure_once(session, lambda: student.burns_in_a_child_the_kernel_reaps(0.05))
    assert fine and 0.045 < seconds < 0.1


@pytest.mark.parametrize("accounting", ["cgroup"], indirect=True)
def test_with_a_cgroup_a_child_that_ended_is_counted_finely_so_the_measure_needs_no_more_time(module):
    session, student = module
    seconds, fine = _measure_once(session, lambda: student.burns_in_a_child(0.05))
    assert fine and 0.045 < seconds < 0.1
    repeats = []
    timing._cpu_per_call(session, lambda timeout, repeat: repeats.append(repeat) or student.burns_in_a_child(
        0.03, _timeout=timeout, _repeat=repeat), 5, 20)
    assert repeats == [1]  # 30 ms is measure enough, as for work in the worker itself


@pytest.mark.parametrize("accounting", ["cgroup"], indirect=True)
def test_with_a_cgroup_ending_a_process_during_a_measure_is_measured_not_refused(module):
    # A helper that burnt 0.3 s before the measure and is ended in it: its past time stays in the count.
    session, student = module
    student.start_a_helper(0.3)
    time.sleep(0.5)  # for the helper to burn its time before the measure
    seconds, fine = _measure_once(session, student.end_the_helper)
    assert fine and 0.0 <= seconds < 0.02


@pytest.mark.parametrize("accounting", ["cgroup"], indirect=True)
def test_a_workers_cgroup_holds_it_and_is_removed_when_it_ends(module):
    session, student = module
    first = session.worker.cpu_group
    assert session.worker.process.pid in first.pids() and first.folder.is_dir()
    with pytest.raises(run.StudentTimeout):
        student.sleeps(10, _timeout=0.3)  # the worker is killed
    assert not first.folder.exists()
    student = RemoteObject(session, "m.ipynb", "m", session.current_generation())
    second = session.worker.cpu_group
    assert second.folder != first.folder and session.worker.process.pid in second.pids()
    session.close()
    assert not second.folder.exists()


@pytest.mark.parametrize("accounting", ["cgroup"], indirect=True)
def test_a_worker_that_could_not_join_its_cgroup_is_measured_from_proc(tmp_path, accounting, monkeypatch):
    # Its join's write fails, as where the kernel refuses the move (EBUSY, EACCES).
    monkeypatch.setattr(cpu_group.CpuGroup, "join_file", lambda self: os.open(os.devnull, os.O_RDONLY))
    monkeypatch.setattr(cpu_group, "_PARENT", list(cpu_group._PARENT))  # restored after: it marks them unusable
    parent = cpu_group._PARENT[0][1]
    with StudentSession(tmp_path) as session:
        session.load("m.ipynb", [("code", CODE)])
        student = RemoteObject(session, "m.ipynb", "m", session.generation)
        assert session.worker.cpu_group is None
        reading = session.cpu_now()[1]
        assert reading.group is None and reading.clocks  # per process
        seconds, _ = _measure_once(session, lambda: student.burns(0.05))
        assert not cpu_group.available()  # and the workers after it go without
    assert 0.045 < seconds < 0.1
    assert not _groups_of_this_process(parent)


def _groups_of_this_process(parent):
    return [p for p in parent.iterdir() if p.name.startswith(f"nn-kit-{cpu_group._OWNER}-")]


@pytest.mark.parametrize("accounting", ["cgroup"], indirect=True)
def test_a_worker_that_could_write_the_cgroup_tree_gets_no_group(tmp_path, accounting, monkeypatch):
    """Outside bubblewrap with the grader's user id it could move work into another group (clone3 passes
    Landlock), so its time is read per process."""
    monkeypatch.setattr(run, "worker_uid", lambda isolation, reference=False: None)
    for level, grouped in (("rlimits", False), ("bubblewrap", True)):
        if level == "bubblewrap" and run.detect().level != "bubblewrap":
            continue
        with StudentSession(tmp_path / level, isolation=Isolation(level, ())) as session:
            session.load("m.ipynb", [("code", CODE)])
            assert session.workspace.uid is None and (session.worker.cpu_group is not None) == grouped, level


CLONE_INTO_CGROUP = """
def burns_in_a_child_in_another_cgroup(seconds, folder):
    # clone3 with CLONE_INTO_CGROUP starts the child in ``folder``'s cgroup: it needs only a descriptor of the
    # folder (O_PATH, which Landlock does not check) and write access to the cgroups, as the grader's user id has.
    import ctypes, os, signal, struct
    descriptor = os.open(folder, os.O_PATH | os.O_DIRECTORY)
    arguments = struct.pack("11Q", 0x200000000, 0, 0, 0, signal.SIGCHLD, 0, 0, 0, 0, 0, descriptor)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    pid = libc.syscall(ctypes.c_long(435), ctypes.create_string_buffer(arguments, len(arguments)),
                       ctypes.c_long(len(arguments)))  # 435: clone3, on x86-64 and arm64 alike
    if pid == 0:
        burns(seconds)
        os._exit(0)
    if pid < 0:
        return ctypes.get_errno()  # the seccomp filter refuses clone3 (ENOSYS)
    os.waitpid(pid, 0)
    return 0
"""


@pytest.mark.skipif(not confine.landlock_abi(), reason="the kernel has no Landlock")
@pytest.mark.parametrize("accounting", ["cgroup"], indirect=True)
def test_a_worker_with_the_graders_user_id_cannot_hide_work_in_another_cgroup(tmp_path, accounting, monkeypatch):
    # Without seccomp (no libseccomp here), clone3 works: the work must be measured all the same.
    monkeypatch.setattr(confine, "seccomp_available", lambda: False)
    monkeypatch.setattr(run, "worker_uid", lambda isolation, reference=False: None)
    with StudentSession(tmp_path, isolation=Isolation("landlock", ())) as session:
        session.load("m.ipynb", [("code", CODE + CLONE_INTO_CGROUP)])
        student = RemoteObject(session, "m.ipynb", "m", session.generation)
        outcome = []
        seconds, _ = _measure_once(session, lambda: outcome.append(student.burns_in_a_child_in_another_cgroup(
            0.3, str(cpu_group._PARENT[0][1]))))
    assert outcome == [0]  # the child burnt in the other group
    assert seconds > 0.25  # a group of its own would have counted nothing of it


@pytest.mark.skipif(not confine.landlock_abi() or not confine.seccomp_available(),
                    reason="the kernel has no Landlock, or seccomp is not usable here")
def test_with_seccomp_a_worker_cannot_start_a_child_in_another_cgroup_at_all(tmp_path, monkeypatch):
    import errno

    monkeypatch.setattr(run, "worker_uid", lambda isolation, reference=False: None)
    with StudentSession(tmp_path, isolation=Isolation("landlock", ())) as session:
        session.load("m.ipynb", [("code", CODE + CLONE_INTO_CGROUP)])
        student = RemoteObject(session, "m.ipynb", "m", session.generation)
        assert student.burns_in_a_child_in_another_cgroup(0.05, "/sys/fs/cgroup") == errno.ENOSYS


@pytest.mark.parametrize("accounting", ["cgroup"], indirect=True)
def test_a_worker_that_fails_to_start_leaves_no_group(tmp_path, accounting, monkeypatch):
    def refuse(*args):
        raise OSError("no such program")

    monkeypatch.setattr(run.Worker, "_popen", staticmethod(refuse))
    with pytest.raises(run.RunError, match="cannot start the worker process"):
        StudentSession(tmp_path).load("m.ipynb", [("code", CODE)])
    assert not _groups_of_this_process(cpu_group._PARENT[0][1])


@pytest.mark.parametrize("accounting", ["cgroup"], indirect=True)
def test_a_start_that_fails_after_joining_its_cgroup_is_an_error_and_groups_stay_in_use(tmp_path, accounting,
                                                                                          monkeypatch):
    """Only a failed join means no groups: a start that fails on something else (its limits, its user
    id, Landlock), here once only, as setresuid may (EAGAIN), is the grader's error, not a reason
    to try again without a group; and the next worker still gets a group."""
    failed_once = tmp_path / "failed-once"

    def fails_after_the_join(limits, workspace, isolation):
        def preexec():
            os.close(os.open(failed_once, os.O_CREAT | os.O_EXCL | os.O_WRONLY))  # raises the second time
            raise OSError("setresuid: Resource temporarily unavailable")

        def preexec_once():
            try:
                preexec()
            except FileExistsError:
                pass
        return preexec_once

    parent = cpu_group._PARENT[0][1]
    with monkeypatch.context() as patched:
        patched.setattr(run, "apply_limits", fails_after_the_join)
        with pytest.raises(run.RunError, match="cannot start the worker process"):
            StudentSession(tmp_path / "first").load("m.ipynb", [("code", CODE)])
    assert cpu_group.available() and not _groups_of_this_process(parent)
    with StudentSession(tmp_path / "second") as session:
        session.load("m.ipynb", [("code", CODE)])
        assert session.worker.cpu_group is not None


def test_repeated_calls_run_in_one_request_each_on_a_fresh_copy_of_the_input(module):
    session, student = module
    assert student.doubles_in_place(np.arange(3.0), _repeat=4).tolist() == [0.0, 2.0, 4.0]
    assert [x.tolist() for x in student.calls] == [[0.0, 1.0, 2.0]] * 4  # four calls, none saw another's change


def test_a_speed_measure_sends_its_input_a_few_times_however_many_calls_it_needs(module, monkeypatch):
    session, student = module
    requests = []
    original = session.request
    monkeypatch.setattr(session, "request", lambda message, **kw: requests.append(message) or original(message, **kw))
    seconds, _ = timing._cpu_per_call(
        session, lambda timeout, repeat: student.burns(0.004, _timeout=timeout, _repeat=repeat), 5, 30)
    calls = [m for m in requests if m.get("op") == "call"]
    # Several calls measure MIN_MEASURED_SECONDS at 4 ms a call; one request each would be as many requests.
    assert len(calls) <= 3 < sum(m.get("repeat", 1) for m in calls)
    assert 0.003 < seconds < 0.02


def _speed_outcomes(result):
    return {t.id: (t.status, t.score, t.message) for t in result.tests if any(w in t.id for w in SPEED_TESTS)}


def _edited(tmp_path, reference_submission, name):
    mutants, alternatives = catalog("assignment1")
    entry = next(e for e in mutants + alternatives if e.name == name)
    return make_edited_submission(tmp_path / name, reference_submission, entry)


@pytest.mark.slow
def test_the_reference_is_timed_once_per_grading_process(reference_submission, monkeypatch):
    starts = []
    original = timing._reference_session.__enter__
    monkeypatch.setattr(timing._reference_session, "__enter__",
                        lambda self: starts.append(self.notebook) or original(self))
    monkeypatch.setattr(timing, "_REFERENCE_SECONDS", {})
    first = grade_submission(reference_submission, notebooks=["svm.ipynb"])
    assert starts == ["svm.ipynb"]
    second = grade_submission(reference_submission, notebooks=["svm.ipynb"])
    assert starts == ["svm.ipynb"]  # the second submission meets the kept yardstick
    assert _speed_outcomes(first) == _speed_outcomes(second) and _speed_outcomes(first)
    assert all(status == "passed" for status, _, _ in _speed_outcomes(first).values())


def _svm_vectorized_edited(tmp_path, reference_submission, name, prelude, code):
    """The reference submission, with ``code`` run first in its svm_loss_vectorized and ``prelude`` above it."""
    anchor = ANCHORS["svm_loss_vectorized"][0]
    edit = Edit(name, "svm", "svm_loss_vectorized", anchor,
                textwrap.indent(textwrap.dedent(code).strip("\n"), "    ") + "\n" + anchor)
    folder = make_edited_submission(tmp_path / name, reference_submission, edit)
    notebook = folder / "svm.ipynb"
    nb = nbformat.read(str(notebook), as_version=4)
    (cell,) = cells_with_id(nb, edit.cell)
    cell.source = textwrap.dedent(prelude).strip("\n") + "\n" + cell.source
    nbformat.write(nb, str(notebook))
    return folder


def _remembering_loops(tmp_path, reference_submission):
    """Loops that remember their answers: fast on an input seen before, so a measure again needs a new one."""
    return _svm_vectorized_edited(tmp_path, reference_submission, "slow_but_remembers", "_SEEN = {}", """
        _key = (X.shape, float(X.sum()), float(W.sum()), reg)
        if _key not in _SEEN:
            _SEEN[_key] = svm_loss_naive(W, X, y, reg)
        return _SEEN[_key]
        """)


def _svm_speed_status(folder):
    return [status for status, _, _ in _speed_outcomes(grade_submission(folder, notebooks=["svm.ipynb"])).values()]


@pytest.mark.slow
def test_a_measure_the_machine_slowed_once_is_taken_again_on_a_new_input_while_slow_code_still_fails(
        tmp_path, reference_submission, request):
    """A speed check fails code that is slow on every input, not a submission the machine slowed for a moment."""
    request.config.addinivalue_line("markers", "target(name, weight=1): a hidden suite's graded target")
    timed_rows = _suite("svm").TIMED_SHAPE[0]
    # The first timed call burns half a second more, as a worker may lose time once to the machine's load.
    slowed_once = _svm_vectorized_edited(tmp_path, reference_submission, "slowed_once", """
        import time
        _SLOWED = []
        """, f"""
        if X.shape[0] == {timed_rows} and not _SLOWED:
            _SLOWED.append(True)
            _end = time.process_time() + 0.5
            while time.process_time() < _end:
                pass
        """)
    assert _svm_speed_status(slowed_once) == ["passed"]
    assert _svm_speed_status(_edited(tmp_path, reference_submission, "svm_vectorized_slow")) == ["failed"]
    assert _svm_speed_status(_remembering_loops(tmp_path, reference_submission)) == ["failed"]


@pytest.mark.slow
def test_without_cpu_time_the_check_compares_how_wall_time_grows(tmp_path, reference_submission, monkeypatch):
    """Where there is no /proc: the reference passes and a slow vectorized version still fails."""
    monkeypatch.setattr(run, "tree_cpu_reading", lambda *args, **kwargs: None)
    passed = grade_submission(reference_submission, notebooks=["knn.ipynb", "svm.ipynb"])
    outcomes = _speed_outcomes(passed)
    assert len(outcomes) == 3 and all(status == "passed" for status, _, _ in outcomes.values()), outcomes
    assert _svm_speed_status(_edited(tmp_path, reference_submission, "svm_vectorized_slow")) == ["failed"]
    assert _svm_speed_status(_remembering_loops(tmp_path, reference_submission)) == ["failed"]


def test_kept_reference_times_are_keyed_by_the_whole_input():
    a = ((np.zeros((2, 3)), 1.0), {"X_train": np.ones(3)})
    b = ((np.zeros((2, 3)), 1.0), {"X_train": np.ones(3) * 2})
    assert timing._digest(a, "K") == timing._digest(a, "K") != timing._digest(b, "K")
    assert timing._digest(a, "K") != timing._digest(a, None)


def _suite(name):
    spec = importlib.util.spec_from_file_location(f"_speed_{name}", HIDDEN_TESTS / "assignment1" / f"test_{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _banner(notebook, cell):
    nb = nbformat.read(str(RELEASE / "assignment1" / f"{notebook}.ipynb"), as_version=4)
    return next(c.source for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == cell)


def test_the_released_todo_banners_state_the_thresholds_the_suites_apply(request):
    request.config.addinivalue_line("markers", "target(name, weight=1): a hidden suite's graded target")
    knn, svm, softmax = _suite("knn"), _suite("svm"), _suite("softmax")
    stated = {
        ("knn", "knn_class"): [f"at most 1/{n} of the CPU time" for n in knn.SPEEDUP.values()],
        ("svm", "svm_loss_vectorized"): [f"at most 1/{svm.SPEEDUP} of the CPU time"],
        ("softmax", "softmax_loss_vectorized"): [f"at most 1/{softmax.SPEEDUP} of the CPU time"],
    }
    missing = [(where, phrase) for where, phrases in stated.items() for phrase in phrases
               if phrase not in _banner(*where)]
    assert missing == []


def test_ending_the_reference_worker_leaves_the_students_running(module, tmp_path):
    session, student = module
    generation, _ = session.cpu_now()
    reference = StudentSession(tmp_path, reference=True)
    reference.load("m.ipynb", [("code", CODE)])
    assert reference.workspace.uid != session.workspace.uid or session.workspace.uid is None
    reference.close()
    assert student.burns(0.0) is None and session.cpu_now()[0] == generation
