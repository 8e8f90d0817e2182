"""The engine's defences, one at a time: the channel, the byte budget, taint, the workspace, the pool, names, versions."""
import dataclasses
import json
import os
import resource
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import batch, channel, cpu_group, pool, run, versioning
from autograder.batch import OutputLock, grade_batch
from autograder.discover import SubmissionFolder
from autograder.pool import run_pool
from autograder.versioning import grader_version
from autograder.worker import codec
from autograder.errors import GraderError, ReadError
from autograder.limits import Limits, load_limits
from autograder.proxy import RemoteObject
from autograder.read import read_notebook
from autograder.report import remove_partial_writes, safe_name, write_atomic
from autograder.results import SubmissionResult
from autograder.run import StudentCrash, StudentError, StudentSession, StudentTimeout, wall_seconds
from autograder.sandbox import Isolation, detect, worker_uid
from tests.notebooks import SOLUTIONS
from utils.manifest import load_manifest
from tests.autograder.pool_helpers import fake_failure, fake_grade, is_running, process_state, where_it_grades

MiB = 2**20


def _module(session, code, name="m.ipynb"):
    session.load(name, [("code", code)])
    return RemoteObject(session, name, name, session.generation)


# -- the channel -----------------------------------------------------------------------

SABOTAGE_READER = '''
import sys, time
def sabotage():
    # The worker's own frame reader: from now on it never reads again.
    sys.modules["codec"].read_frame = lambda stream: time.sleep(10**6)
    return 1

def echo(x):
    return x.shape
'''


def test_a_worker_that_stops_reading_cannot_block_the_grader_writing_a_large_input(tmp_path):
    limits = Limits(call_seconds=1)
    with StudentSession(tmp_path, limits) as session:
        module = _module(session, SABOTAGE_READER)
        assert module.sabotage() == 1
        start = time.monotonic()
        with pytest.raises(StudentTimeout, match="waiting"):  # a worker that waits uses no CPU time
            module.echo(np.zeros(8 * MiB // 8 * 4))  # 32 MB: far more than a pipe holds
        assert time.monotonic() - start < wall_seconds(limits, 1) + 2


def test_a_worker_that_trickles_a_reply_is_cut_at_the_call_deadline(tmp_path):
    code = '''
import gc, struct, time
def trickle():
    # The worker's own channel, found through the garbage collector: a reply that never ends.
    worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker" and hasattr(o, "outbox"))
    worker.outbox.write(struct.pack(">QI", 10**6, 0))
    while True:
        worker.outbox.write(b" ")
        worker.outbox.flush()
        time.sleep(0.01)
'''
    limits = Limits(call_seconds=1)
    with StudentSession(tmp_path, limits) as session:
        module = _module(session, code)
        start = time.monotonic()
        with pytest.raises(StudentTimeout, match="waiting"):  # it sleeps between bytes, using no CPU time
            module.trickle()
        assert time.monotonic() - start < wall_seconds(limits, 1) + 2


def test_a_worker_that_keeps_both_pipes_moving_is_still_cut_at_the_call_deadline(tmp_path):
    code = '''
import gc, sys, threading
def storm(callback):  # the grader has a callback of id 1 to serve
    # The worker's own channel: callback requests as fast as it can write them, its input drained by a
    # thread, so the grader never has to wait for either pipe.
    worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker" and hasattr(o, "outbox"))
    frame = {"op": "callback", "callback": 1, "args": [], "kwargs": {}, "id": worker.current_id}
    threading.Thread(target=lambda: [worker.inbox.read(1 << 16) for _ in iter(int, 1)], daemon=True).start()
    while True:
        sys.modules["codec"].write_frame(worker.outbox, frame)
'''
    limits = Limits(call_seconds=1, received_bytes=64 * MiB)
    with StudentSession(tmp_path, limits) as session:
        module = _module(session, code)
        start = time.monotonic()
        with pytest.raises(StudentTimeout):  # of CPU time or of wall-clock time, whichever comes first
            module.storm(lambda: 1)
        assert time.monotonic() - start < wall_seconds(limits, 1) + 2


def test_a_frame_already_in_the_pipe_is_read_without_waiting_and_a_late_one_within_the_deadline(monkeypatch):
    waits = []
    real_select = channel.select.select
    monkeypatch.setattr(channel.select, "select", lambda *a: waits.append(a) or real_select(*a))
    to_grader, from_worker = os.pipe()
    to_worker, from_grader = os.pipe()
    wire = channel.Channel(from_grader, to_grader, Limits())
    try:
        os.write(from_worker, codec.encode({"ok": True, "value": np.arange(5)}))
        assert wire.receive(time.monotonic() + 5)["value"].tolist() == [0, 1, 2, 3, 4]
        wire.send({"op": "ping"}, time.monotonic() + 5)
        assert waits == [] and codec.decode(bytes(os.read(to_worker, 1 << 16))[8:]) == {"op": "ping"}
        start = time.monotonic()
        with pytest.raises(channel.ChannelTimeout):  # nothing comes: waited for, up to the deadline only
            wire.receive(start + 0.5)
        assert waits and 0.5 <= time.monotonic() - start < 2
        os.write(from_worker, codec.encode({"ok": True}))  # there at once, but the deadline has passed
        with pytest.raises(channel.ChannelTimeout):
            wire.receive(time.monotonic() - 1)
        with pytest.raises(channel.ChannelTimeout):
            wire.send({"op": "ping"}, time.monotonic() - 1)
    finally:
        for fd in (to_grader, from_worker, to_worker, from_grader):
            os.close(fd)


def test_a_reply_of_nested_lists_is_refused_before_the_grader_builds_it(tmp_path):
    code = "def nested():\n    return [[] for _ in range(10**6)]"  # 3 MB of JSON, ~150 MB as objects
    with StudentSession(tmp_path) as session:
        module = _module(session, code)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with pytest.raises(StudentCrash, match="nested lists"):
            module.nested(_timeout=60)
        grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        assert grown_mib < 64


def test_the_bytes_a_submission_sends_back_are_bounded_in_all(tmp_path):
    code = "import numpy as np\ndef chunk():\n    return np.zeros(MiB // 8)\nMiB = 2**20\ndef small():\n    return 1"
    limits = Limits(received_bytes=8 * MiB)
    with StudentSession(tmp_path, limits) as session:
        module = _module(session, code)
        for _ in range(6):
            module.chunk()
        with pytest.raises(StudentCrash, match="for one submission"):
            for _ in range(4):
                module.chunk()
        with pytest.raises(StudentCrash, match="earlier tests"):
            module.small()  # not even a new worker gets more
        assert session.received_bytes <= limits.received_bytes


def test_a_callback_cannot_be_fed_more_than_the_byte_budget(tmp_path):
    code = "import numpy as np\ndef feed(record):\n    for _ in range(100):\n        record(np.zeros(2**17))\n"
    kept = []
    with StudentSession(tmp_path, Limits(received_bytes=16 * MiB)) as session:
        module = _module(session, code)
        with pytest.raises(StudentCrash, match="for one submission"):
            module.feed(kept.append)
    assert sum(a.nbytes for a in kept) <= 16 * MiB


# -- taint ------------------------------------------------------------------------------

STASH = '''
import builtins
def stash(x):
    builtins.kit_stash = repr(float(x[0]))
    return 0
'''
RAISE_STASH = "import builtins\nraise ValueError('stolen ' + getattr(builtins, 'kit_stash', 'nothing'))\n"


def test_no_text_the_worker_sends_about_an_exception_is_kept_before_or_after_a_call(tmp_path):
    with StudentSession(tmp_path) as session:
        module = _module(session, STASH)
        early = session.load("early.ipynb", [("cell", RAISE_STASH)])
        module.stash(np.array([0.123456789]))
        late = session.load("late.ipynb", [("cell", RAISE_STASH)])
        for result, notebook in ((early, "early.ipynb"), (late, "late.ipynb")):
            error = session.student_error(result["failed"]["cell"])
            assert "stolen" not in repr(error.info) and "0.123456" not in repr(error.info)
            assert error.type_name == "ValueError" and error.info["line"] == 2  # a line inside the cell


def test_a_cell_that_hangs_or_ends_the_worker_costs_only_itself(tmp_path):
    cells = [("first", "a = 1"), ("hangs", "while True:\n    pass"), ("exits", "import os\nos._exit(3)"),
             ("last", "def b():\n    return a + 1")]
    with StudentSession(tmp_path, Limits(load_seconds=2)) as session:
        result = session.load("m.ipynb", cells)
        assert set(result["faults"]) == {"hangs", "exits"}
        assert "did not finish within 2 s" in result["faults"]["hangs"]
        assert {"a", "b"} <= set(result["defined"])
        assert RemoteObject(session, "m.ipynb", "m", session.generation).b() == 2


def test_a_frame_the_grader_did_not_ask_for_costs_the_call_that_wrote_it_only(tmp_path):
    code = '''
import gc, sys
def forge():
    worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker" and hasattr(o, "outbox"))
    sys.modules["codec"].write_frame(worker.outbox, {"ok": True, "value": "forged", "id": -1})
    return "real"

def double(x):
    return 2 * x
'''
    with StudentSession(tmp_path) as session:
        module = _module(session, code)
        with pytest.raises(StudentCrash, match="own channel"):
            module.forge()
        assert module.double(21) == 42  # the next call, in a fresh worker, is in step


def test_a_line_number_outside_the_cell_is_not_shown(tmp_path):
    forged = "exec(compile('\\n' * 123456 + 'raise ValueError()', '<cell x.ipynb:cell>', 'exec'))"
    with StudentSession(tmp_path) as session:
        result = session.load("x.ipynb", [("cell", forged)])
        assert session.student_error(result["failed"]["cell"]).info["line"] is None


def test_without_a_sandbox_nothing_the_worker_says_is_shown(tmp_path):
    with StudentSession(tmp_path, isolation=Isolation("rlimits", ("forced by a test",))) as session:
        result = session.load("x.ipynb", [("cell", "raise ValueError('read from solutions/')")])
        assert "solutions" not in repr(session.student_error(result["failed"]["cell"]).info)


def test_a_class_named_after_the_inputs_is_shown_by_the_graders_label(tmp_path):
    code = "def make(x):\n    return type('LEAK_' + str(int(x * 1000)), (), {})()\n"
    with StudentSession(tmp_path) as session:
        module = _module(session, code)
        made = module.make(0.987)
        assert "987" not in repr(made)


# -- the workspace ----------------------------------------------------------------------

WRITER = '''
import os
def write(path, size):
    with open(path, "wb") as handle:
        handle.write(b"x" * size)
    return os.path.getsize(path)

def fill(folder, count, size):
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        with open(os.path.join(folder, str(i)), "wb") as handle:
            handle.write(b"x" * size)
    return count

def exists(path):
    return os.path.exists(path)

def scratch():
    import tempfile
    return tempfile.gettempdir()

def write_scratch():
    import tempfile
    with tempfile.NamedTemporaryFile(delete=False) as handle:
        handle.write(b"kept for this worker")
    return handle.name
'''


def test_the_submission_folder_is_never_written_and_scratch_is_the_only_place_to_write(tmp_path):
    submission = tmp_path / "alice"
    submission.mkdir()
    (submission / "m.ipynb").write_text("{}")
    with StudentSession(submission) as session:
        module = _module(session, WRITER)
        for path in (str(submission / "m.ipynb"), str(submission / "new.txt"), "m.ipynb"):
            with pytest.raises((StudentError, StudentCrash)):
                module.write(path, 10)
        assert module.exists(module.write_scratch())
    assert sorted(p.name for p in submission.iterdir()) == ["m.ipynb"]
    assert (submission / "m.ipynb").read_text() == "{}"


def test_filling_the_scratch_folder_costs_the_call_and_the_next_worker_starts_empty(tmp_path):
    limits = Limits(scratch_bytes=8 * MiB, scratch_files=200)
    with StudentSession(tmp_path, limits) as session:
        module = _module(session, WRITER)
        with pytest.raises(StudentCrash, match="wrote more than"):  # stopped by the quota, not finished
            module.fill(os.path.join(module.scratch(), "flood"), 2 * 10**4, 64 * 1024)  # 1.25 GiB unless stopped
        # How far past the quota it got depends on how busy the machine is (docs/security.md).
        assert session.workspace.usage(10**6)[0] < 2 * 10**4 * 64 * 1024
        module = RemoteObject(session, "m.ipynb", "m.ipynb", session.current_generation())
        assert module.exists(os.path.join(module.scratch(), "flood")) is False
        # Empty but for the mount points bubblewrap makes when the venv lives under /tmp.
        assert session.workspace.usage(10**6)[0] < 64 * 1024
    assert not session.workspace.root.exists()


@pytest.mark.skipif(os.geteuid() != 0 or detect().level != "bubblewrap", reason="needs root and bubblewrap")
def test_as_root_each_worker_runs_under_an_unprivileged_user_id_with_a_process_limit(tmp_path):
    code = "import os\ndef ids():\n    return [os.getuid(), os.geteuid(), os.getgid()]\n" \
           "def bomb():\n    n = 0\n    try:\n        while True:\n            if os.fork() == 0:\n" \
           "                import time; time.sleep(5); os._exit(0)\n            n += 1\n" \
           "    except OSError:\n        return n\n"
    with StudentSession(tmp_path, Limits(processes=30)) as session:
        module = _module(session, code)
        uid = session.workspace.uid
        assert uid is not None and module.ids() == [uid, uid, uid]
        assert module.bomb() < 30


def test_without_proc_the_grader_still_grades(tmp_path, monkeypatch):
    for module in (run, cpu_group):  # a platform without /proc has no cgroups either
        monkeypatch.setattr(module, "PROC", tmp_path / "no-proc")
    monkeypatch.setattr(cpu_group, "_PARENT", [None])
    with StudentSession(tmp_path) as session:
        module = _module(session, "def f():\n    return 1")
        assert module.f() == 1
        assert session.worker.cpu_seconds() == 0.0


# A daemon tree three levels deep: every process forks two children that start a session of
# their own, and all of them sleep. Killed in whatever order, each orphan is handed to the grader
# (its subreaper) only once its parent has died.
DAEMON_TREE = '''
import os, time
def _grow(levels):
    for _ in range(2 if levels else 0):
        if os.fork() == 0:
            os.setsid()
            _grow(levels - 1)
            os._exit(0)
    time.sleep(120)

def start():
    if os.fork() == 0:
        os.setsid()
        _grow(3)
        os._exit(0)
    return 15
'''


def _children_left():
    """Pids of this process's children that are zombies or in a session of another worker's."""
    zombies = {pid for pid, (ppid, _, _) in run._processes().items()
               if ppid == os.getpid() and process_state(pid) == "Z"}
    return zombies | run.orphans()


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_a_tree_of_daemons_is_killed_and_reaped_to_the_last_process(tmp_path):
    run.become_subreaper()  # as every grading process is
    before = _children_left()
    for isolation in (None, Isolation("rlimits", ("forced by a test",))):
        with StudentSession(tmp_path, isolation=isolation) as session:
            assert _module(session, DAEMON_TREE).start() == 15
            time.sleep(0.5)  # the whole tree has started
        assert _children_left() - before == set()  # neither running nor left as zombies


def test_a_worker_killed_twice_signals_nothing_the_second_time(tmp_path, monkeypatch):
    """Once reaped, its pid and process group may be another process's: a start that failed kills its
    worker, and the session kills it again when it replaces it."""
    with StudentSession(tmp_path) as session:
        _module(session, "x = 1")
        worker = session.worker
        worker.kill()
        signalled = []
        monkeypatch.setattr(run.os, "killpg", lambda *args: signalled.append(("killpg", *args)))
        monkeypatch.setattr(run.os, "kill", lambda *args: signalled.append(("kill", *args)))
        monkeypatch.setattr(run, "kill_user", lambda uid: signalled.append(("kill_user", uid)))
        worker.kill()
        assert signalled == []


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads process states from /proc")
def test_a_worker_that_ends_by_itself_keeps_its_pid_until_it_is_killed(tmp_path):
    """Reaped when it was seen to have ended, its pid and its group's id could be another process's by
    the time ``kill`` signals them; left a zombie until then, they cannot."""
    with StudentSession(tmp_path) as session:
        _module(session, "import os, threading\nthreading.Timer(0.2, os._exit, [0]).start()")
        worker = session.worker
        pid = worker.process.pid
        deadline = time.monotonic() + 10
        while process_state(pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process_state(pid) == "Z"
        assert not worker.alive
        worker.cpu_seconds()
        assert process_state(pid) == "Z"  # looked at twice, still not reaped
        module = _module(session, "x = 1", name="n.ipynb")  # the session replaces the ended worker
        assert module.x == 1 and session.worker is not worker
        assert process_state(pid) is None


def test_a_worker_reaped_before_its_kill_gets_no_signal_for_its_pid_or_group(tmp_path, monkeypatch):
    with StudentSession(tmp_path) as session:
        _module(session, "x = 1")
        worker = session.worker
        pid = worker.process.pid
        worker.process.kill()
        worker.process.wait()
        signalled = []
        monkeypatch.setattr(run.os, "killpg", lambda *args: signalled.append(("killpg", *args)))
        monkeypatch.setattr(run.os, "kill", lambda *args: signalled.append(("kill", *args)))
        reused = 999_999_999  # beyond any pid_max: a child of whatever process has the pid now
        monkeypatch.setattr(run, "descendants", lambda root, table=None: {reused} if root == pid else set())
        worker.kill()
        assert not any(pid in args or reused in args for _, *args in signalled), signalled
        assert worker.killed


# -- reading ---------------------------------------------------------------------------

def _notebook_bytes():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    return nbformat.writes(nb).encode()


@pytest.mark.parametrize("encode", [
    lambda data: b"\xef\xbb\xbf" + data,
    lambda data: data.replace(b"\n", b"\r\n"),
    lambda data: data.decode().encode("utf-16"),
], ids=["bom", "crlf", "utf16"])
def test_notebooks_saved_by_other_editors_are_read(tmp_path, encode):
    path = tmp_path / "knn.ipynb"
    path.write_bytes(encode(_notebook_bytes()))
    assert read_notebook(path).cells[0].source == "x = 1"


@pytest.mark.parametrize("data, message", [
    (b"<!DOCTYPE html><html><body>JupyterLab</body></html>", "web page"),
    (b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "x": "\xff\xfe"}', "not UTF-8"),
    (b'{"cells": [', "not JSON"),
])
def test_unreadable_notebooks_get_a_message_that_names_the_cause(tmp_path, data, message):
    path = tmp_path / "knn.ipynb"
    path.write_bytes(data)
    with pytest.raises(ReadError, match=message):
        read_notebook(path)


# -- the batch -------------------------------------------------------------------------

def test_a_dying_grading_process_costs_no_other_submission(tmp_path):
    students = ["amy", "ben", "killer", "dan", "eve"]
    todo = [SubmissionFolder(name, tmp_path / name) for name in students]
    results = list(run_pool(todo, fake_grade, fake_failure, jobs=2))
    assert sorted(r["student"] for r in results) == sorted(students)  # each exactly once
    statuses = {r["student"]: r["status"] for r in results}
    assert statuses.pop("killer") == "grader_error"
    assert set(statuses.values()) == {"graded"}


@pytest.mark.skipif(len(pool.cores_to_pin(os.cpu_count() or 1)) < 2, reason="needs two processors or more, and affinity")
def test_with_a_job_per_processor_each_grading_process_and_its_workers_keep_to_one(tmp_path):
    cores = sorted(os.sched_getaffinity(0))
    todo = [SubmissionFolder(f"s{i}", tmp_path / f"s{i}") for i in range(2 * len(cores))]
    for submission in todo:
        submission.folder.mkdir()
    results = list(run_pool(todo, where_it_grades, fake_failure, jobs=len(cores)))
    assert all(r["grader"] == r["worker"] and len(r["grader"]) == 1 for r in results), results
    pinned = {r["pid"]: r["grader"][0] for r in results}
    assert len(set(pinned.values())) == len(pinned) > 1  # a processor of its own each
    # Fewer jobs than processors: where they run is left to the kernel.
    results = list(run_pool(todo[:2], where_it_grades, fake_failure, jobs=len(cores) - 1))
    assert all(r["grader"] == r["worker"] == cores for r in results), results


# A grader run as a script: its pool grades four submissions, two at a time, each for a minute.
ENDLESS_GRADER = """
import sys
from pathlib import Path
from autograder.discover import SubmissionFolder
from autograder.pool import run_pool
from tests.autograder.pool_helpers import endless_grade, fake_failure
todo = [SubmissionFolder(p.name, p) for p in sorted(Path(sys.argv[1]).iterdir())]
print(list(run_pool(todo, endless_grade, fake_failure, jobs=2)), flush=True)
"""


def test_a_killed_grader_leaves_no_grading_process_behind(tmp_path):
    """Its pool processes go at once, cleaning up on the way, so nothing holds its output open (a scheduler waits on it)."""
    for name in ("amy", "ben", "cal", "dan"):
        (tmp_path / name).mkdir()
    grader = subprocess.Popen([sys.executable, "-c", ENDLESS_GRADER, str(tmp_path)], cwd=Path(__file__).resolve().parents[2],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    pid_files = [tmp_path / name / "grading.pid" for name in ("amy", "ben")]
    deadline = time.monotonic() + 60
    while not all(path.exists() and path.read_text() for path in pid_files) and time.monotonic() < deadline:
        time.sleep(0.05)
    grading = [int(path.read_text()) for path in pid_files]
    grader.kill()
    ended = select.select([grader.stdout], [], [], 20)[0] and grader.stdout.read() == b""
    grader.wait()
    deadline = time.monotonic() + 5  # one that has closed its files may not have ended yet
    while any(is_running(pid) for pid in grading) and time.monotonic() < deadline:
        time.sleep(0.05)
    still_grading = [pid for pid in grading if is_running(pid)]
    for pid in still_grading:
        os.kill(pid, signal.SIGKILL)
    assert ended, "the grading processes held the killed grader's output open"
    assert not still_grading
    assert all((tmp_path / name / "cleaned").exists() for name in ("amy", "ben"))
    assert not (tmp_path / "cal" / "grading.pid").exists()  # no one graded on after the grader went


def test_two_graders_never_write_into_the_same_folder_at_once(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "knn.ipynb").write_text("{}")
    (tmp_path / "out").mkdir()
    with OutputLock(tmp_path / "out"):
        with pytest.raises(GraderError, match="another autograder"):
            grade_batch([tmp_path / "alice"], tmp_path / "out", progress=False)


def test_the_half_written_files_of_a_killed_grader_are_removed_by_the_next_one(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "knn.ipynb").write_text("{}")
    out = tmp_path / "out"
    stale = [out / ".bob.json.k2j4.part", out / "feedback" / ".bob.html.x9.part",
             out / "gradescope" / "bob" / ".results.json.q1.part"]
    kept = [out / "bob.json", out / "notes.part", out / "feedback" / "bob.html"]
    for path in stale + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"student": "bob", "sta')
    grade_batch([tmp_path / "alice"], out, assignment="assignment1", progress=False)
    assert [path for path in stale if path.exists()] == []
    assert all(path.exists() for path in kept)  # whole files, and names write_atomic never makes
    assert (out / "alice.json").is_file()


def test_a_write_in_progress_is_never_taken_for_a_leftover(tmp_path, monkeypatch):
    removed, real_fsync = [], os.fsync

    def fsync_then_clean(fd):  # another grader starts on the folder while this one writes a page
        real_fsync(fd)
        removed.extend(remove_partial_writes(tmp_path))

    monkeypatch.setattr(os, "fsync", fsync_then_clean)
    write_atomic(tmp_path / "feedback" / "alice.html", "<p>whole</p>")
    assert removed == []
    assert (tmp_path / "feedback" / "alice.html").read_text() == "<p>whole</p>"


def test_without_a_sandbox_grading_can_be_refused(tmp_path, monkeypatch):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "knn.ipynb").write_text("{}")
    # Not KIT_ISOLATION: a forkserver started now would keep it for every later batch of this process.
    monkeypatch.setattr(batch, "detect", lambda: Isolation("rlimits", ("forced by a test",)))
    with pytest.raises(GraderError, match="refusing to grade without a sandbox"):
        grade_batch([tmp_path / "alice"], tmp_path / "out", require_sandbox=True, progress=False)
    assert not (tmp_path / "out" / "alice.json").exists()


def test_the_grader_version_follows_the_shipped_helpers(tmp_path, monkeypatch):
    import shutil

    utils_copy = Path(shutil.copytree(versioning.UTILS_DIR, tmp_path / "utils"))
    monkeypatch.setattr(versioning, "UTILS_DIR", utils_copy)
    before = grader_version()
    (utils_copy / "notebook_loader.py").write_text((utils_copy / "notebook_loader.py").read_text() + "\n# changed\n")
    assert grader_version() != before


def test_ids_that_clean_to_the_same_name_never_share_a_file():
    ids = ["a b", "a_b", "a/b", "A_B", "a\\b", "con", "..", ""]
    names = [safe_name(i) for i in ids]
    assert len({n.lower() for n in names}) == len(ids)
    assert all("/" not in n and "\\" not in n and n not in (".", "..", "") for n in names)


def test_a_full_disk_leaves_no_half_written_result(tmp_path):
    script = ("import resource, sys\n"
              "resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))\n"
              "from autograder.report import write_atomic\n"
              "from autograder.errors import ReportError\n"
              "try:\n    write_atomic(sys.argv[1], 'x' * 5000)\nexcept ReportError as exc:\n    print('refused', exc)\n")
    target = tmp_path / "alice.json"
    target.write_text("earlier result")
    done = subprocess.run([sys.executable, "-c", script, str(target)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert "refused" in done.stdout, done.stderr
    assert target.read_text() == "earlier result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice.json"]


# -- limits ----------------------------------------------------------------------------

def test_an_assignment_can_change_its_limits_and_unknown_ones_are_refused(tmp_path):
    manifest = (SOLUTIONS / "manifest.toml").read_text().split("[limits]")[0]

    def limits_of(table):
        folder = tmp_path / f"a{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        (folder / "manifest.toml").write_text(manifest + "[limits]\n" + table)
        return load_limits(load_manifest(folder))

    limits = limits_of("call_seconds = 20\nprocesses = 32\n")
    assert (limits.call_seconds, limits.processes, limits.memory_bytes) == (20, 32, Limits().memory_bytes)
    with pytest.raises(GraderError, match="unknown limits call_secs"):
        limits_of("call_secs = 20\n")
    with pytest.raises(GraderError, match="whole number"):
        limits_of("processes = 2.5\n")
    assert limits_of("wall_factor = 2\n").wall_factor == 2
    with pytest.raises(GraderError, match="wall_factor must be at least 1, not 0.5"):
        limits_of("wall_factor = 0.5\n")


def test_a_dataset_of_the_assignment_can_change_its_limits_again(tmp_path):
    manifest = (SOLUTIONS / "manifest.toml").read_text().split("[limits]")[0]

    def limits_of(table, dataset):
        folder = tmp_path / f"a{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        (folder / "manifest.toml").write_text(manifest + "[limits]\n" + table)
        return load_limits(load_manifest(folder), dataset)

    table = "call_seconds = 20\nprocesses = 32\n[limits.cifar10]\ncall_seconds = 60\nmemory_bytes = 4294967296\n"
    digits, cifar = limits_of(table, "digits"), limits_of(table, "cifar10")
    assert (digits.call_seconds, digits.processes, digits.memory_bytes) == (20, 32, Limits().memory_bytes)
    assert (cifar.call_seconds, cifar.processes, cifar.memory_bytes) == (60, 32, 4294967296)
    assert (digits.dataset, cifar.dataset) == ("digits", "cifar10")
    assert "graded on the cifar10 dataset" in cifar.describe()
    with pytest.raises(GraderError, match=r"\[limits.imagenet\] is not a dataset of the assignment"):
        limits_of("[limits.imagenet]\ncall_seconds = 60\n", "digits")
    with pytest.raises(GraderError, match=r"\[limits.cifar10\] has unknown limits call_secs"):
        limits_of("[limits.cifar10]\ncall_secs = 60\n", "cifar10")


def test_the_cifar10_limits_of_assignment1_fit_its_data_and_its_tuning():
    limits = load_limits(load_manifest(SOLUTIONS), "cifar10")
    default = Limits()
    # The data cells keep up to 1.3 GB in float32; tuning trains on 49000 images for minutes.
    assert limits.memory_bytes >= 3 * 1024**3 and limits.tuning_seconds > default.tuning_seconds
    assert limits.submission_seconds > default.submission_seconds and limits.cpu_seconds >= limits.tuning_seconds


@pytest.mark.parametrize("memory", [load_limits(load_manifest(SOLUTIONS), "cifar10").memory_bytes, 6 * 1024**3],
                         ids=["cifar10_limit", "6_GiB"])
def test_an_array_of_all_differences_is_refused_under_larger_memory_limits(tmp_path, reference_submission, memory):
    """The wide input grows with the worker's memory limit: under CIFAR-10's 4 GiB, or more, one
    (num_test, num_train, D) array of differences still does not fit (at a fixed 3.2 GB it did)."""
    from autograder.pipeline import grade_submission
    from tests.autograder.mutants import catalog
    from tests.autograder.submissions import make_edited_submission

    mutant = next(m for m in catalog("assignment1")[0] if m.name == "no_loops_one_array_of_differences")
    submission = make_edited_submission(tmp_path / "student", reference_submission, mutant)
    result = grade_submission(submission, notebooks=["knn.ipynb"], limits=Limits(memory_bytes=memory))
    wide = next(t for t in result.tests if "does_not_build_an_array_of_all_differences" in t.id)
    assert wide.score == 0 and "(num_test, num_train, D)" in wide.message
    assert all(t.score == t.max_score for t in result.tests if t is not wide and "no_loops" not in t.id)


def test_results_record_the_limits_and_the_isolation_they_were_graded_under(tmp_path, reference_submission):
    from autograder.pipeline import grade_submission

    result = grade_submission(reference_submission, notebooks=["gradient_check.ipynb"]).to_dict()
    assert result["limits"] == Limits().to_dict() and result["isolation"] == detect().level
    # and how the CPU time its limits and speed checks rest on was counted
    grouped = cpu_group.counts_workers(detect(), worker_uid(detect()))
    assert result["cpu_counting"] == ("cgroup" if grouped else "per process")
    assert json.loads(json.dumps(result))["limits"]["call_seconds"] == Limits().call_seconds


# -- isolation modes ---------------------------------------------------------------------

def _usable(level):
    from autograder import confine

    if level == "bubblewrap":
        return detect().level == "bubblewrap"
    return level == "rlimits" or confine.landlock_abi() > 0


@pytest.mark.parametrize("level", ["bubblewrap", "landlock", "rlimits"])
def test_selftest_proves_what_each_mode_promises_on_this_machine(level):
    from autograder.selftest import promised, run_probes

    if not _usable(level):
        pytest.skip(f"{level} is not usable on this machine")
    found = run_probes(Isolation(level))
    for name, (holds, detail) in found.items():
        if promised(name, level):
            assert holds, f"{level}: {name}: {detail}"
    if level == "rlimits":  # not a sandbox, and selftest says so
        assert not found["grader_files"][0]


PROCESSES = """
import os, subprocess, sys, threading

def exit_code(pid):
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

def start_everything():
    done = []
    thread = threading.Thread(target=lambda: done.append("thread"))  # glibc: clone3, else clone
    thread.start(); thread.join()
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    done.append(("fork", exit_code(pid)))
    pid = os.posix_spawn(sys.executable, [sys.executable, "-I", "-c", "raise SystemExit(5)"], {})
    done.append(("posix_spawn", exit_code(pid)))  # glibc: clone3, else clone
    child = subprocess.run([sys.executable, "-I", "-c", "print('child')"], capture_output=True, text=True)
    done.append(child.stdout.strip() or child.stderr[-300:])
    return done
"""


@pytest.mark.parametrize("level", ["bubblewrap", "landlock"])
def test_a_sandboxed_worker_makes_no_namespace_but_still_starts_threads_and_processes(level, tmp_path):
    # The seccomp filter refuses clone3 outright (its flags are out of its reach): libc must
    # fall back to clone for threads and posix_spawn.
    from autograder import confine
    from autograder.selftest import run_probes

    if not _usable(level):
        pytest.skip(f"{level} is not usable on this machine")
    if not confine.seccomp_available():
        pytest.skip("seccomp is not usable here: namespaces are refused only by bubblewrap's own choices")
    assert run_probes(Isolation(level))["namespaces"] == (True, "blocked")
    with StudentSession(tmp_path, Limits(call_seconds=30), Isolation(level)) as session:
        session.load("processes", [("processes", PROCESSES)])
        worker = RemoteObject(session, "processes", "processes", session.generation)
        assert worker.start_everything() == ["thread", ("fork", 7), ("posix_spawn", 5), "child"]


@pytest.mark.skipif(not _usable("landlock"), reason="the kernel offers no Landlock")
def test_under_landlock_the_reference_scores_full_marks(reference_submission):
    from autograder.pipeline import grade_submission

    result = grade_submission(reference_submission, notebooks=["gradient_check.ipynb"],
                              isolation=Isolation("landlock"))
    assert result.status == "graded" and result.score == result.max_score > 0


def test_the_worker_imports_the_staged_utils_not_the_checkouts(tmp_path):
    from autograder.sandbox import UTILS_DIR, staged_worker_dir

    with StudentSession(tmp_path) as session:
        module = _module(session, "import utils\ndef where():\n    return utils.__file__")
        where = module.where()
    assert str(UTILS_DIR.parent) not in where
    if detect().level != "bubblewrap":  # inside bubblewrap the staged folder is mounted at /grader
        assert where.startswith(str(staged_worker_dir()))


def test_feedback_lists_the_limits_and_the_report_warns_about_unsandboxed_grading(tmp_path):
    from autograder.html_report import UNSANDBOXED_NOTE, feedback_html, report_html

    result = SubmissionResult("ann", "assignment1", "graded", 1.0, 2.0, limits=Limits(call_seconds=7).to_dict(),
                              isolation="rlimits")
    assert "each call into your code: 7 s" in feedback_html(result)
    assert UNSANDBOXED_NOTE[:40] in report_html([result], ["feedback/ann.html"])
    sandboxed = dataclasses.replace(result, isolation="bubblewrap")
    assert UNSANDBOXED_NOTE[:40] not in report_html([sandboxed], ["feedback/ann.html"])


def test_grading_without_a_sandbox_says_so_in_the_terminal(tmp_path, monkeypatch, capsys):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "knn.ipynb").write_text("{}")
    monkeypatch.setattr(batch, "detect", lambda: Isolation("rlimits", ("forced by a test",)))
    grade_batch([tmp_path / "alice"], tmp_path / "out", progress=False)
    assert "NOT sandboxed" in capsys.readouterr().err
