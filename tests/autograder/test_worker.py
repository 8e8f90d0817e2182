"""The worker runs student code with limits, isolated, and a fault costs only the call that hit it."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from autograder.errors import GraderError
from autograder.proxy import RemoteObject
from autograder.run import StudentCrash, StudentError, StudentSession, StudentTimeout, Worker
from autograder.sandbox import (SECCOMP_PROGRAM, WORKER_DIR, Isolation, bubblewrap_filters, detect,
                                staged_worker_dir)

CODE = """
import numpy as np

def double(x):
    return 2 * x

def forever():
    while True:
        pass

def leave():
    import os
    os._exit(3)

def hog():
    return np.ones((10**5, 10**5))

def read(path):
    return open(path).read()

def seccomp_mode():
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("Seccomp:")).split()[1])

def chatty():
    import os, sys
    print("noise to stdout")
    os.write(1, b"raw noise")
    sys.stderr.write("noise to stderr")
    return 42

def quadruple(x):
    return double(double(x))

class Counter:
    largest = max  # a C-level callable as a method: nothing to look names up in

    def total(self, values):
        return double(sum(values))

    def __init__(self):
        self.count = 0
    def add(self, values):
        self.count += len(values)
        values.append(0)
        return self.count

def fill_then_spin(megabytes):
    import time
    time.sleep(0.2)  # past the grader's first look at the worker's memory in this call (20 ms in)
    _held = np.ones(megabytes << 17)  # 8-byte floats, every page touched
    while True:
        pass

def reserve_then_spin():
    import threading, time
    time.sleep(1)
    for _ in range(8):  # each reserves tens of MiB of address space, and touches little of it
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    while True:
        pass
"""


@pytest.fixture
def module(tmp_path):
    session = StudentSession(tmp_path)
    session.load("m.ipynb", [("code", CODE)])
    yield RemoteObject(session, "m.ipynb", "m", session.generation)
    session.close()


def test_a_call_can_replace_a_module_name_by_a_grader_function_for_that_call_only(module):
    seen = []

    def triple(x):  # runs here, called back from the worker
        seen.append(np.asarray(x).tolist())
        return 3 * np.asarray(x)

    assert np.array_equal(module.quadruple(np.arange(3), _replace={"double": triple}), [0, 9, 18])
    assert seen == [[0, 1, 2], [0, 3, 6]]
    assert np.array_equal(module.quadruple(np.arange(3)), [0, 4, 8])  # restored afterwards
    counter = module.Counter()
    assert counter.total([1, 2], _replace={"double": triple}) == 9  # a method: its module's names
    assert counter.total([1, 2]) == 6
    assert module.quadruple(1, _replace={"not_there_before": triple}) == 4
    assert counter.largest([3, 7]) == 7  # a call that replaces nothing needs no namespace
    with pytest.raises(StudentError):
        module.not_there_before(1)  # a name the call added is removed again


def test_calls_return_the_students_values(module):
    assert np.array_equal(module.double(np.arange(3)), [0, 2, 4])
    counter = module.Counter()
    assert counter.add([1, 2]) == 2 and counter.count == 2


@pytest.fixture
def round_trips(monkeypatch):
    """A list that gets the op of every request any worker is sent from now on."""
    sent, send = [], Worker.request

    def counting(worker, message, *limits, **named):
        sent.append(message["op"])
        return send(worker, message, *limits, **named)

    monkeypatch.setattr(Worker, "request", counting)
    return sent


def test_a_function_asked_for_again_costs_no_round_trip_and_data_is_always_read_anew(module, round_trips):
    counter = module.Counter()
    sent = round_trips
    sent.clear()
    for _ in range(3):
        assert module.double(1) == 2
        assert counter.add([]) == 0
    assert sent == ["getattr", "call", "getattr", "call"] + ["call", "call"] * 2
    sent.clear()
    assert counter.count == 0 and counter.count == 0  # data: asked for each time
    assert sent == ["getattr", "getattr"]


def test_the_remembered_functions_follow_what_the_grader_changes(module, round_trips):
    session = module._session
    assert module.double(3) == 6
    module.double = 5  # the grader sets a name: asked for anew, and now it is data
    assert module.double == 5
    session.load("m.ipynb", [("code", CODE)])  # loaded anew: every name is asked for again
    assert module.double(3) == 6
    session.load("m.ipynb", [("code", "double = 7\n")])
    assert module.double == 7
    session.load("m.ipynb", [("code", "def double(x):\n    return -x\n")])
    assert module.double(3) == -3
    round_trips.clear()
    session.unload("m.ipynb")  # dropped: asked for again, and not there
    with pytest.raises(StudentError):
        module.double(3)
    assert round_trips == ["unload", "getattr"]


def test_after_a_restart_a_function_is_asked_for_again(module, round_trips):
    assert module.double(1) == 2
    with pytest.raises(StudentCrash):
        module.leave()
    round_trips.clear()
    assert module.chatty() == 42
    assert round_trips == ["ping", "load", "getattr", "call"]  # a fresh worker, the module replayed
    round_trips.clear()
    assert module.double(1) == 2  # remembered of the worker before: asked of this one
    assert round_trips == ["getattr", "call"]


def test_prints_of_any_kind_do_not_disturb_the_channel(module):
    assert module.chatty() == 42


def test_a_timeout_kills_the_call_and_the_next_call_gets_a_fresh_worker(module):
    start = time.monotonic()
    with pytest.raises(StudentTimeout):
        module.forever(_timeout=1)
    assert time.monotonic() - start < 5
    assert module.double(2) == 4


def test_a_timeout_of_code_that_filled_memory_meanwhile_names_the_memory_too(module):
    # A slow machine can stop code that fills its memory by time before its MemoryError.
    with pytest.raises(StudentTimeout) as info:
        module.fill_then_spin(600, _timeout=3)
    # The sizes themselves are not shown: code could set them to spell out the hidden inputs.
    assert str(info.value) == ("your code did not finish within 3 s of CPU time; meanwhile the memory it holds "
                               "grew by more than 12.5% of its limit (2 GiB): does something keep growing?")


def test_a_timeout_of_code_whose_memory_stays_put_names_only_the_time(module):
    with pytest.raises(StudentTimeout) as small:
        module.fill_then_spin(100, _timeout=3)  # grows by less than an eighth of the 2 GiB limit
    with pytest.raises(StudentTimeout) as reserved:
        module.reserve_then_spin(_timeout=3)
    with pytest.raises(StudentTimeout) as none:
        module.forever(_timeout=2)
    assert [str(small.value), str(reserved.value), str(none.value)] == [
        "your code did not finish within 3 s of CPU time", "your code did not finish within 3 s of CPU time",
        "your code did not finish within 2 s of CPU time"]


def test_a_function_that_timed_out_is_not_run_again(module):
    with pytest.raises(StudentTimeout):
        module.forever(_timeout=1)
    start = time.monotonic()
    with pytest.raises(StudentTimeout, match="earlier test"):
        module.forever(_timeout=5)
    assert time.monotonic() - start < 1


def test_an_exit_is_a_crash_and_objects_from_before_are_gone(module):
    counter = module.Counter()
    with pytest.raises(StudentCrash):
        module.leave()
    with pytest.raises(StudentCrash, match="lost"):
        counter.add([1])
    assert module.double(1) == 2


def test_the_memory_limit_stops_a_hog(module):
    with pytest.raises((StudentError, StudentCrash)):
        module.hog()
    assert module.double(1) == 2


def test_a_student_exception_reports_type_cell_and_line_only(module):
    with pytest.raises(StudentError) as info:
        module.read("/no/such/file")
    assert info.value.type_name == "FileNotFoundError"
    assert str(info.value) == "your code raised FileNotFoundError (cell m.ipynb:code, line 19)"


def test_arguments_are_copies_and_inspect_shows_what_the_call_did_to_them(module):
    values = [1, 2]
    result, (after,), _ = module.Counter().add.inspect(values)
    assert result == 2 and after == [1, 2, 0] and values == [1, 2]


@pytest.mark.skipif(detect().level != "bubblewrap", reason="bubblewrap is not usable on this machine")
def test_in_the_sandbox_the_grader_and_other_files_are_invisible(module):
    from autograder.compare import HIDDEN_TESTS

    for path in (HIDDEN_TESTS / "assignment1" / "test_gradient_check.py", "/etc/hostname"):
        with pytest.raises(StudentError, match="FileNotFoundError"):
            module.read(str(path))


@pytest.mark.skipif(not bubblewrap_filters(), reason="seccomp is not usable here")
def test_a_seccomp_filter_that_does_not_load_stops_the_worker(tmp_path):
    broken = tmp_path / "broken.bpf"
    broken.write_bytes(b"\0" * 3)  # no whole instruction

    def start(program):  # stdin at its end: a worker that starts reads it and stops with status 0
        return subprocess.run([sys.executable, "-I", "-B", str(WORKER_DIR / "main.py"), "--seccomp", str(program)],
                              input=b"", capture_output=True, timeout=60)

    assert start(staged_worker_dir() / SECCOMP_PROGRAM).returncode == 0
    failed = start(broken)
    assert failed.returncode == 1 and b"the seccomp filter did not load" in failed.stderr


@pytest.mark.skipif(detect().level != "bubblewrap", reason="bubblewrap is not usable on this machine")
@pytest.mark.skipif(not bubblewrap_filters(), reason="seccomp is not usable here")
def test_a_bubblewrap_worker_runs_under_the_seccomp_filter(module):
    assert module.seccomp_mode() == 2  # SECCOMP_MODE_FILTER, from /proc/self/status


@pytest.mark.skipif(detect().level != "bubblewrap", reason="bubblewrap is not usable on this machine")
@pytest.mark.skipif(not bubblewrap_filters(), reason="seccomp is not usable here")
def test_without_its_seccomp_program_a_bubblewrap_worker_does_not_start(tmp_path):
    program = staged_worker_dir() / SECCOMP_PROGRAM
    kept = program.read_bytes()
    program.unlink()  # as a cleaner of /tmp might
    try:
        with pytest.raises(GraderError), StudentSession(tmp_path, isolation=Isolation("bubblewrap")) as session:
            session.load("m.ipynb", [("code", CODE)])
    finally:
        program.write_bytes(kept)
    with StudentSession(tmp_path, isolation=Isolation("bubblewrap")) as session:
        session.load("m.ipynb", [("code", CODE)])
        assert RemoteObject(session, "m.ipynb", "m", session.generation).seccomp_mode() == 2


@pytest.mark.skipif(not os.environ.get("KIT_REQUIRE_SANDBOX"), reason="KIT_REQUIRE_SANDBOX is not set (CI sets it "
                    "where bubblewrap works)")
def test_the_sandboxes_filter_system_calls_wherever_ci_requires_a_sandbox():
    # Else every test of the filter would skip, and a worker would run unfiltered unnoticed.
    assert bubblewrap_filters()


def test_without_bubblewrap_the_worker_still_runs_with_limits(tmp_path):
    with StudentSession(tmp_path, isolation=Isolation("rlimits", ("forced by a test",))) as session:
        session.load("m.ipynb", [("code", CODE)])
        module = RemoteObject(session, "m.ipynb", "m", session.generation)
        assert module.double(21) == 42
        with pytest.raises(StudentTimeout):
            module.forever(_timeout=1)


def test_a_load_that_hangs_is_not_replayed_after_the_restart(tmp_path):
    with StudentSession(tmp_path) as session:
        result = session.load("hang.ipynb", [("top", "while True:\n    pass")], timeout=3)
        assert "did not finish within 3 s" in result["faults"]["top"]
        start = time.monotonic()
        session.load("m.ipynb", [("code", CODE)])
        assert time.monotonic() - start < 2.5  # a replay of the hanging load would wait 3 s
        assert RemoteObject(session, "m.ipynb", "m", session.generation).double(3) == 6


@pytest.mark.skipif(not os.environ.get("KIT_REQUIRE_SANDBOX"), reason="KIT_REQUIRE_SANDBOX is not set (CI sets it "
                    "where bubblewrap works)")
def test_the_grader_uses_bubblewrap_wherever_it_works():
    detect.cache_clear()
    assert detect().level == "bubblewrap", detect().describe()


def test_an_unloaded_module_frees_its_memory_and_is_not_replayed_after_a_restart(tmp_path):
    big = "import numpy as np\ndata = np.empty(2**30, dtype=np.uint8)\n"  # 1 GiB of address space
    with StudentSession(tmp_path) as session:
        assert session.limits.memory_bytes < 2 * 2**30 + 2**29  # two at once would not fit
        assert session.load("first.ipynb", [("data", big)])["failed"] == {}
        session.unload("first.ipynb")
        assert session.load("second.ipynb", [("data", big), ("code", CODE)])["failed"] == {}
        with pytest.raises(StudentError):
            RemoteObject(session, "first.ipynb", "first", session.generation).data
        session.worker.kill()  # the next request starts a worker that loads again what is still loaded
        assert RemoteObject(session, "second.ipynb", "second", session.generation).double(4) == 8
        assert [message["notebook"] for message, _ in session.loads] == ["second.ipynb", "second.ipynb"]


def test_a_reply_too_large_to_accept_costs_the_call_not_the_grader(tmp_path):
    with StudentSession(tmp_path) as session:
        session.load("m.ipynb", [("code", "import numpy as np\ndef huge():\n    return np.zeros(40 * 2**20)")])
        module = RemoteObject(session, "m.ipynb", "m", session.generation)
        with pytest.raises(StudentCrash):
            module.huge()  # 320 MB of float64: over the frame limit
        session.load("n.ipynb", [("code", CODE)])
        assert RemoteObject(session, "n.ipynb", "n", session.generation).double(2) == 4


def test_a_function_that_crashed_is_not_run_again(module):
    with pytest.raises(StudentCrash):
        module.leave()
    with pytest.raises(StudentCrash, match="earlier test"):
        module.leave()
    assert module.double(1) == 2


def test_a_session_stops_running_code_once_its_budget_is_spent(tmp_path):
    with StudentSession(tmp_path, budget_seconds=3) as session:
        session.load("m.ipynb", [("code", CODE)])
        module = RemoteObject(session, "m.ipynb", "m", session.generation)
        start = time.monotonic()
        with pytest.raises(StudentTimeout):
            module.forever(_timeout=10)  # cut at the budget, not after 10 s
        assert time.monotonic() - start < 5
        with pytest.raises(StudentTimeout, match="grading time"):
            module.double(1)


# -- _warnings: numpy's floating-point problems and Python's warnings, for one call ---------------

NUMERIC = """
import warnings
import numpy as np

def grow(x):
    return np.exp(x)

def warn():
    warnings.warn("a warning of the student's own", RuntimeWarning)
    return 1

def state():
    return np.geterr(), repr(warnings.filters)

def meddle(x):
    np.seterr(all="ignore")
    warnings.simplefilter("ignore")
    return np.exp(x)
"""


def _numeric(session, code, name="n.ipynb"):
    session.load(name, [("code", code)])
    return RemoteObject(session, name, name.replace(".ipynb", ""), session.generation)


def test_warnings_error_makes_an_overflow_a_student_error_that_names_it_and_only_for_that_call(tmp_path):
    with StudentSession(tmp_path) as session:
        module = _numeric(session, NUMERIC)
        before = module.state()
        with pytest.raises(StudentError) as info:
            module.grow(np.array([1.0, 1000.0]), _warnings="error")
        assert info.value.type_name == "FloatingPointError" and info.value.detail == "overflow encountered in exp"
        assert str(info.value) == ("your code raised FloatingPointError: overflow encountered in exp "
                                   "(cell n.ipynb:code, line 6)")
        assert module.state() == before  # restored after the call that raised
        assert np.array_equal(module.grow(np.array([0.0, 1000.0])), [1.0, np.inf])  # the default: no exception
        with pytest.raises(StudentError, match="RuntimeWarning"):
            module.warn(_warnings="error")  # a Python warning of any kind
        assert module.warn() == 1
        assert np.array_equal(module.meddle(np.array([1000.0]), _warnings="error"), [np.inf])  # its own settings...
        assert module.state() == before  # ...are undone too
        assert module.grow(1000.0, _warnings="ignore") == np.inf and module.state() == before


@pytest.mark.parametrize("code", [
    "import numpy\ndef grow(x):\n    return numpy.exp(x)",
    "from numpy import exp\nnp = 'not numpy'\ndef grow(x):\n    return exp(x)",
])
def test_warnings_error_holds_whatever_the_notebook_calls_numpy(tmp_path, code):
    with StudentSession(tmp_path) as session:
        module = _numeric(session, code)
        with pytest.raises(StudentError, match="overflow encountered in exp"):
            module.grow(1000.0, _warnings="error")
        assert module.grow(1000.0) == np.inf


def test_warnings_ignore_silences_what_the_notebook_made_raise(tmp_path):
    code = "import numpy as np\nnp.seterr(all='raise')\ndef grow(x):\n    return np.exp(x)"
    with StudentSession(tmp_path) as session:
        module = _numeric(session, code)
        with pytest.raises(StudentError, match="FloatingPointError"):
            module.grow(1000.0)  # the default leaves the notebook's own settings
        assert module.grow(1000.0, _warnings="ignore") == np.inf
        with pytest.raises(StudentError, match="FloatingPointError"):
            module.grow(1000.0)


def test_an_unknown_warnings_mode_is_a_grader_error(module):
    with pytest.raises(GraderError, match="_warnings='raise'"):
        module.double(1, _warnings="raise")


def test_only_numpys_own_words_for_a_floating_point_problem_are_shown(tmp_path):
    code = ("def leak(x):\n    raise FloatingPointError(f'overflow encountered in {x}')\n"
            "def secret(x):\n    raise RuntimeWarning(f'hidden {x}')\n")
    with StudentSession(tmp_path) as session:
        module = _numeric(session, code)
        for function in (module.leak, module.secret):
            with pytest.raises(StudentError) as info:
                function("0.123456789", _warnings="error")
            assert info.value.detail is None and "0.123456" not in str(info.value) + repr(info.value.info)
