"""Resource abuse: endless loops, sleeps, huge allocations, fork and thread bombs, full disks, daemons, floods.

A hostile use of time or memory costs the calls that made it, within the
published limits (5 s a call, 300 s a submission), and nothing it starts
outlives its submission. Fork bombs only run inside the sandbox's own PID
namespace (the working folder is /submission and PIDs are small there) and
stop by themselves when PIDs pass 400, so they cannot escape a broken sandbox.
"""
from tests.autograder.scenarios import CRASH, MEMORY, TIMEOUT, in_batch, inside, returning, top

F = "resources"
DISK = ("wrote more", "disk", "quota", "space", "files")

FORK_BOMB = '''
import os, time
global _bombed
if os.getcwd() == "/submission" and os.getpid() < 100 and not globals().get("_bombed"):
    _bombed = True
    if os.fork() == 0:
        try:
            import ctypes
            ctypes.CDLL(None).prctl(15, b"__MARKER__", 0, 0, 0)  # PR_SET_NAME: inherited by every fork
        except Exception:
            pass
        try:
            while True:  # every process forks until PIDs pass 400 (they count up from 1 in the namespace)
                child = os.fork()
                if (child or os.getpid()) > 400:
                    break
        except OSError:
            pass
        time.sleep(120)
        os._exit(0)
'''

THREAD_BOMB = '''
import threading, time
global _threads
if not globals().get("_threads"):
    _threads = []
    try:
        for _ in range(2000):
            thread = threading.Thread(target=time.sleep, args=(120,))
            thread.start()
            _threads.append(thread)
    except (RuntimeError, MemoryError):
        pass
'''

FILL_THE_DISK = '''
import os
global _filled
if not globals().get("_filled"):
    _filled = True
    chunk = b"\\0" * (1 << 20)
    for folder in ("/tmp", "."):
        for i in range(1024):
            try:
                with open(os.path.join(folder, "__MARKER___%d" % i), "wb") as handle:
                    handle.write(chunk)
            except OSError:
                break
'''

FILL_THE_INODES = '''
import os
global _filled
if not globals().get("_filled"):
    _filled = True
    for folder in ("/tmp/__MARKER__", "./__MARKER__"):
        try:
            os.makedirs(folder, exist_ok=True)
            for i in range(100000):
                open(os.path.join(folder, str(i)), "w").close()
        except OSError:
            pass
'''

DAEMON = '''
import os, sys
if os.fork() == 0:
    try:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-S", "-c", "import time; time.sleep(120)  # __MARKER__"])
    finally:
        os._exit(0)
os.wait()
import subprocess
subprocess.Popen([sys.executable, "-S", "-c", "import time; time.sleep(120)  # __MARKER__ popen"],
                 start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL)
'''

FLOOD = '''
import os, subprocess, sys
block = b"y" * (1 << 20)
for _ in range(50):
    for fd in (1, 2):
        os.write(fd, block)
subprocess.run(["sh", "-c", "head -c 100000000 /dev/zero; head -c 100000000 /dev/zero >&2"])
'''

NESTED = '''
value = worst
for _ in range(10**5):
    value = [value]
return value
'''

_SCENARIOS = [
    top("sgd_step", "endless_loop_at_the_top_of_a_cell", F, after="while True:\n    pass",
        hits=("sgd_step",), cause=TIMEOUT, limits=(("load_seconds", 5.0),), max_seconds=30,
        why="one mistake, one deduction: the cell's own target, not the whole notebook"),
    inside("sgd_step", "endless_loop_in_a_function", F, "while True:\n    pass", hits=("sgd_step",),
           cause=TIMEOUT, max_seconds=40),
    inside("rel_error", "sleeps_1000_seconds", F, "import time\ntime.sleep(1000)", hits=("rel_error",),
           cause=TIMEOUT, max_seconds=40),
    inside("sgd_step", "allocates_80_gigabytes", F, "np.ones(10**10)", hits=("sgd_step",), cause=MEMORY),
    inside("sgd_step", "untouched_3_gigabyte_bytearray", F, "_hog = bytearray(3 << 30)", hits=("sgd_step",),
           cause=MEMORY),
    inside("rel_error", "touched_3_gigabyte_bytearray", F,
           "_hog = bytearray(3 << 30)\nfor _i in range(0, len(_hog), 4096):\n    _hog[_i] = 1",
           hits=("rel_error",), cause=MEMORY, max_seconds=40),
    inside("sample_batch", "memory_grows_until_it_runs_out", F,
           "_hog = []\nwhile True:\n    _hog.append(np.ones(8 << 20))", hits=("sample_batch",), cause=MEMORY,
           max_seconds=40),
    top("sgd_step", "huge_allocation_at_the_top_of_a_cell", F, before="_hog = np.ones((10**5, 10**5))",
        hits=("sgd_step",), cause=MEMORY),
    inside("sgd_step", "bounded_fork_bomb", F, FORK_BOMB, max_seconds=40,
           why="the function still returns the right value; the bomb dies with the sandbox"),
    inside("sgd_step", "thread_bomb", F, THREAD_BOMB, max_seconds=40),
    inside("sgd_step", "fills_the_disk_with_1_gigabyte", F, FILL_THE_DISK, max_seconds=60, hits=("sgd_step",),
           must_lose=False, cause=DISK, why="a scratch quota may stop it, naming the cause; nothing else changes"),
    inside("sgd_step", "fills_the_inodes_with_100000_files", F, FILL_THE_INODES, max_seconds=60, hits=("sgd_step",),
           must_lose=False, cause=DISK, why="a scratch quota may stop it, naming the cause; nothing else changes"),
    inside("sgd_step", "starts_daemons_that_double_fork_and_setsid", F, DAEMON),
    top("rel_error", "starts_daemons_when_the_cell_runs", F, before=DAEMON),
    inside("sgd_step", "opens_10000_files", F,
           "_open = []\ntry:\n    for _ in range(10000):\n        _open.append(open('/dev/null'))\nexcept OSError:\n    pass"),
    inside("sgd_step", "floods_stdout_and_stderr", F, FLOOD, max_seconds=60),
    returning("rel_error", "list_nested_100000_deep", F, NESTED, hits=("rel_error",),
              cause=("single number", "not plain data", "RecursionError", "nested", "deep", "could not use")),
    returning("sgd_step", "returns_a_200_megabyte_array", F, "return np.zeros(25_000_000)", hits=("sgd_step",),
              cause=("shape", "more data", "too large", "too big"), max_seconds=60),
    returning("rel_error", "returns_10_million_small_lists", F, "return [[i] for i in range(10**7)]",
              hits=("rel_error",), cause=("single number", "not plain data", "too large", "too big") + TIMEOUT,
              max_seconds=60),
    inside("sgd_step", "segfault_through_ctypes", F, "import ctypes\nctypes.string_at(0)", hits=("sgd_step",),
           cause=("SIGSEGV",) + CRASH, repeat=True),
    inside("rel_error", "c_stack_overflow", F,
           "import sys\nsys.setrecursionlimit(10**7)\n_deep = []\nfor _ in range(10**6):\n    _deep = [_deep]\n"
           "repr(_deep)",
           hits=("rel_error",), cause=("SIGSEGV", "RecursionError", "MemoryError") + CRASH),
]

# Graded in the family's batch: processes, files, memory of the grading process, the pool. Plain timeouts and
# allocations that fail at once are graded alone.
SCENARIOS = in_batch(_SCENARIOS, {
    "touched_3_gigabyte_bytearray", "memory_grows_until_it_runs_out", "bounded_fork_bomb", "thread_bomb",
    "fills_the_disk_with_1_gigabyte", "fills_the_inodes_with_100000_files", "starts_daemons_that_double_fork_and_setsid",
    "starts_daemons_when_the_cell_runs", "opens_10000_files", "floods_stdout_and_stderr", "returns_a_200_megabyte_array",
    "returns_10_million_small_lists", "segfault_through_ctypes", "c_stack_overflow",
})
