"""Stage 3, run: the student's code in a separate, resource-limited worker process.

``StudentSession`` starts the worker (see ``sandbox``), loads the student's
definitions into it and forwards calls over a ``channel.Channel``: the trusted
side is on a deadline in both directions and accepts only bounded replies,
whatever the student's code does to the worker process. A timeout or crash
kills the worker's whole process group, and the next call starts a fresh
worker and loads the definitions again, so one fault costs only the tests
that depend on it.

Taint: everything the worker says is the student's code speaking. After the
first call it may carry hidden inputs (stored in a module, ``builtins`` or a
file), and even before, the grader's own paths (the sandbox's command line,
its mounts, the venv's files), or, without a sandbox, the reference itself.
So no text from the worker is ever shown: an exception keeps only its type
(from a fixed list), a line number inside a cell the grader sent and, for a
floating-point problem, numpy's message if it is one of numpy's own phrases; a
syntax error is described by compiling the cell on the trusted side.
"""
from __future__ import annotations

import builtins
import contextlib
import ctypes
import functools
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np

from autograder import cpu_group
from autograder.budget import Budget
from autograder.channel import Channel, ChannelClosed, ChannelOverBudget, ChannelRefused, ChannelTimeout
from autograder.errors import RunError
from autograder.limits import Limits, size_text
from autograder.sandbox import Workspace, apply_limits, detect, worker_command, worker_uid
from autograder.worker import codec

# Exception names that may be shown: Python's own, and those numpy and the kit raise. A class
# the student defines could be named after the hidden inputs, so it shows as "an exception".
SHOWN_EXCEPTIONS = frozenset(
    name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)
) | {"LinAlgError", "AxisError", "NotebookLoadError"}

# numpy's floating-point messages ("overflow encountered in exp"), the one text of an exception that
# may be shown: it is checked against this fixed vocabulary, so it says no more than a type name.
_NUMPY_PROBLEMS = ("overflow", "underflow", "divide by zero", "invalid value")
_NUMPY_UFUNCS = {value.__name__ for value in vars(np).values() if isinstance(value, np.ufunc)}
_NUMPY_OPERATIONS = (
    _NUMPY_UFUNCS | {f"scalar {name}" for name in _NUMPY_UFUNCS}
    | {"cast", "reduce", "accumulate", "reduceat", "outer", "at"}
    | {f"{kind}_scalars" for kind in ("half", "float", "double", "longdouble", "cfloat", "cdouble", "clongdouble",
                                      "byte", "ubyte", "short", "ushort", "int", "uint", "long", "ulong",
                                      "longlong", "ulonglong")}  # numpy before 1.25
)
_NUMERIC_WARNINGS = {"FloatingPointError", "RuntimeWarning"}

# A request that timed out names memory too when the worker's resident memory grew by this share of its limit
# during it: an endless loop that allocates nothing grows by a few MiB, code filling its memory by hundreds.
MEMORY_GROWTH_NAMED = 1 / 8
# A request's first look at the worker (its memory, its CPU clock), this far into it: requests
# shorter than that, nearly all of them, cost no reading at all.
FIRST_LOOK_SECONDS = 0.02
# The most of a request's time before its first look that counts as CPU time. The look can come
# later than asked: the grader served callbacks meanwhile, or the machine starved it; the worker
# was then waiting, or starved alike, and not charged for it.
BEFORE_FIRST_LOOK_SECONDS = 2 * FIRST_LOOK_SECONDS


def numpy_problem(type_name, message):
    """numpy's message of a floating-point problem (``"overflow encountered in exp"``), or None for any other text."""
    if type_name not in _NUMERIC_WARNINGS or not isinstance(message, str):
        return None
    problem, _, operation = message.partition(" encountered in ")
    return message if problem in _NUMPY_PROBLEMS and operation in _NUMPY_OPERATIONS else None


class StudentFault(Exception):
    """The student's code misbehaved; the message is safe to show the student."""

    status = "failed"


class StudentError(StudentFault):
    """The student's code raised an exception.

    Parameters
    ----------
    info : dict
        What the worker reported: type, message, cell, line. The student's code chooses
        every field, so only a known type name and a line inside a cell we sent are kept;
        the message never is, except numpy's own words for a floating-point problem
        (``numpy_problem``), kept as ``detail``.
    known_cells : dict
        "notebook:grade_id" -> number of lines, of every cell sent to the worker.
    """

    def __init__(self, info, known_cells=None):
        known_cells = known_cells or {}
        name = info.get("type")
        self.type_name = name if name in SHOWN_EXCEPTIONS else "an exception"
        cell, line = info.get("cell"), info.get("line")
        cell = cell if cell in known_cells else None
        valid_line = isinstance(line, int) and not isinstance(line, bool) and cell and 0 < line <= known_cells[cell]
        line = line if valid_line else None
        where = f" (cell {cell}, line {line})" if cell and line else ""
        self.detail = numpy_problem(self.type_name, info.get("message"))
        what = f"{self.type_name}: {self.detail}" if self.detail else self.type_name
        super().__init__(f"your code raised {what}{where}")
        self.info = {"type": self.type_name, "cell": cell, "line": line, "detail": self.detail}


class StudentTimeout(StudentFault):
    status = "timeout"


class BudgetSpent(StudentTimeout):
    """The submission used up its grading time (``budget.Budget``), in a request or a worker's start."""


class StudentCrash(StudentFault):
    status = "error"


class StudentOverBudget(StudentCrash):
    """The submission sent back more bytes in all than its limit: nothing more of it runs."""


class Worker:
    """One worker process and its channel.

    Parameters
    ----------
    workspace : sandbox.Workspace
        The submission's copy and scratch folder.
    watchdog : callable, optional
        Called while waiting for the worker (the session checks the scratch quota).
    """

    def __init__(self, workspace, limits=None, isolation=None, watchdog=None, byte_budget=None,
                 with_orphans=True):
        self.workspace = workspace
        self.with_orphans = with_orphans  # whether the grader's orphans are its own (not for the reference's)
        self.limits = limits or Limits()
        self.isolation = isolation or detect()
        self.watchdog = watchdog
        self.byte_budget = byte_budget
        self.callbacks = {}
        self.process = None
        self.killed = False  # whether kill() has run to its end: its pid may belong to another process since
        self.channel = None
        self.last_id = 0  # of the last request; the worker echoes it in its reply
        self.callbacks_served = 0  # each a round trip too, from the worker
        self.cpu_seen = 0.0  # its CPU seconds as last read, from its cgroup or /proc (see cpu_seconds)
        self.peak_rss = 0  # bytes: the largest peak resident set of its processes, as last read
        self.memory_at_start = None  # bytes: its resident memory early in the request under way (see _watch)
        self.cpu_limit = None  # CPU seconds the request under way may use
        self.cpu_base = None  # its CPU seconds at the request's start, as the first look reckons it (see _watch)
        self.first_look = None  # (time.monotonic(), CPU, waited and served seconds) at that look (see _watch)
        self.served_seconds = 0.0  # wall seconds the grader spent serving callbacks in the request under way
        self.request_started = None  # time.monotonic() at the request's start
        self.cpu_group = None  # its cpu_group.CpuGroup, where it has one: its CPU time counted whole
        self.cpu_counting = None  # how its CPU time is counted, once it started (see start)

    def start(self):
        become_subreaper()
        argv, env, cwd = worker_command(self.workspace, self.isolation)
        preexec = apply_limits(self.limits, self.workspace, self.isolation)
        if cpu_group.holds_every_process(self.isolation, self.workspace.uid):
            self.cpu_group = cpu_group.make_group()
        try:
            self.process = self._spawn(argv, env, cwd, preexec)
        except (OSError, subprocess.SubprocessError) as exc:
            raise RunError(f"cannot start the worker process ({argv[0]}): {exc}") from exc
        # For the time limits and the speed checks: "cgroup", "per process" (/proc), or "none" (wall time).
        self.cpu_counting = ("cgroup" if self.cpu_group is not None
                             else "per process" if cpu_time_readable() else "none")
        _LIVE_WORKERS.add(self.process.pid)
        try:
            self.channel = Channel(self.process.stdin.fileno(), self.process.stdout.fileno(), self.limits,
                                   self._watch, self.byte_budget)
            self.request({"op": "ping"}, timeout=self.limits.start_seconds)
        except BudgetSpent:  # the submission's time ran out while it started: the student's timeout
            self.kill()
            raise
        except StudentFault as exc:
            self.kill()
            raise RunError(f"the worker process did not start ({exc}); run `autograder selftest`") from exc
        except BaseException:  # nothing of a start that failed outlives it: not its process, not its group
            self.kill()
            raise

    def _spawn(self, argv, env, cwd, preexec):
        """The worker's process, in its cgroup if it has one.

        Where joining the group is what fails, it starts without one, and so do the rest of this
        process's workers, so that all are measured alike. Any other failure of the start (the
        limits, the user id, Landlock) is raised as it is.
        """
        if self.cpu_group is None:
            return self._popen(argv, env, cwd, preexec)
        try:
            try:
                join = self.cpu_group.join_file()
            except OSError:
                join = None
            if join is not None:
                try:
                    refused, told = os.pipe()  # the child writes a byte to it if it cannot join
                except OSError:
                    os.close(join)
                    raise
                try:
                    return self._popen(argv, env, cwd, _joining(join, told, preexec))
                except subprocess.SubprocessError:  # its preexec_fn failed: the join, or what comes after it
                    if not _join_refused(refused):
                        raise
                finally:
                    for descriptor in (join, refused, told):
                        os.close(descriptor)
            self._drop_group()
            process = self._popen(argv, env, cwd, preexec)
            cpu_group.unusable()
            return process
        except BaseException:
            self._drop_group()
            raise

    @staticmethod
    def _popen(argv, env, cwd, preexec):
        return subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, preexec_fn=preexec)

    @property
    def alive(self):
        return self.process is not None and not self._ended()

    def _ended(self):
        """Whether the worker process has ended, looked at without reaping it.

        Until ``kill`` reaps it, it stays a zombie, and its pid, which is also its process
        group's id, cannot be given to another process: ``kill`` signals that pid and that group.
        """
        if self.process.returncode is not None:
            return True
        try:
            return os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except (AttributeError, OSError):  # no waitid or WNOWAIT here, or reaped elsewhere
            return self.process.poll() is not None

    @property
    def received_bytes(self):
        return self.channel.received_bytes if self.channel else 0

    def callback(self, function):
        """A reference the worker can call back to run ``function`` here."""
        ref = codec.Callback(len(self.callbacks) + 1)
        self.callbacks[ref.id] = function
        return ref

    def request(self, message, timeout=None):
        """Send one request and return the worker's value, serving callbacks meanwhile.

        Parameters
        ----------
        timeout : float, optional
            CPU seconds the worker's processes may use on it (default ``limits.call_seconds``); the
            whole exchange, callbacks included, may take ``wall_seconds(timeout)`` of wall-clock time.

        Raises
        ------
        StudentError, StudentTimeout, StudentCrash
        """
        timeout = self.limits.call_seconds if timeout is None else timeout
        wall_timeout = wall_seconds(self.limits, timeout)
        self.request_started = time.monotonic()
        deadline = self.request_started + wall_timeout
        self.memory_at_start = self.cpu_base = self.first_look = None
        self.served_seconds = 0.0
        self.cpu_limit = timeout
        self.channel.look_in(min(FIRST_LOOK_SECONDS, timeout / 2))  # a tiny limit is looked at in time too
        self.last_id += 1
        message = {**message, "id": self.last_id}
        try:
            self.channel.send(message, deadline)
            while True:
                reply = self.channel.receive(deadline)
                if not isinstance(reply, dict) or reply.get("id") != self.last_id:
                    # Honest code never does this: a fault always ends the worker, so no reply is stale.
                    raise ChannelRefused("your code wrote to the grader's own channel (a frame it did not ask for)")
                if reply.get("op") != "callback":
                    break
                serving = time.monotonic()
                answer = self._serve_callback(reply)
                self.served_seconds += time.monotonic() - serving
                self.channel.send(answer, deadline)
        except ChannelTimeout:
            note = self._memory_note()
            self.kill()
            raise StudentTimeout(self._wall_timeout_message(timeout, wall_timeout) + note) from None
        except _OverCpuLimit:
            note = self._memory_note()
            self.kill()
            raise StudentTimeout(f"your code did not finish within {timeout:g} s of CPU time{note}") from None
        except _Waiting:
            note = self._memory_note()
            self.kill()
            raise StudentTimeout(f"your code did not finish within {timeout:g} s, and it spent most of that time "
                                 f"waiting, not computing: does it sleep, wait for input or for a lock?{note}") from None
        except ChannelOverBudget as exc:
            self.kill()
            raise StudentOverBudget(str(exc)) from None
        except ChannelRefused as exc:
            self.kill()
            raise StudentCrash(str(exc)) from None
        except ChannelClosed:
            self.kill()
            raise StudentCrash(self._crash_message()) from None
        except StudentFault:  # the watchdog gave up on the worker
            self.kill()
            raise
        if not isinstance(reply, dict) or not reply.get("ok"):
            error = reply.get("error") if isinstance(reply, dict) else None
            raise ErrorReply(error if isinstance(error, dict) else {})
        return reply.get("value")

    def _watch(self):
        """The channel's watchdog: the caller's, and the request's CPU time limit; returns the seconds
        until it should look again.

        Its first look in a request, ``FIRST_LOOK_SECONDS`` in, reads the worker's memory and CPU
        time; the time before it counts as CPU time whole, up to ``BEFORE_FIRST_LOOK_SECONDS``,
        which spares the short requests any reading. Since then, it counts as read. Looks come
        as often as the CPU time left requires, ``POLL_SECONDS`` apart at most, so code running
        on several cores at once may overrun its limit by that much per extra core.

        Once the request has taken its CPU limit in wall-clock time, each look also asks whether
        the worker computes: code that spent most of the time since the first look neither running,
        nor waiting for a processor, nor waiting for the grader to serve its callbacks, is waiting
        for itself (a sleep, input, a lock), and is stopped then rather than at the backstop.

        Raises
        ------
        _OverCpuLimit
            Once the worker's processes have used the request's CPU time.
        _Waiting
            Once it is waiting, as above.
        """
        now, used = time.monotonic(), self.cpu_seconds()
        if self.cpu_base is None:
            self.memory_at_start = resident_bytes(self.process.pid)
            self.cpu_base = used - min(now - self.request_started, BEFORE_FIRST_LOOK_SECONDS)
            self.first_look = (now, used, self.waited_seconds(), self.served_seconds)
        if self.watchdog is not None:
            self.watchdog()
        left = self.cpu_limit - (used - self.cpu_base)
        if left <= 0:
            raise _OverCpuLimit
        if now - self.request_started >= self.cpu_limit:
            since = self._since_first_look(now, used)
            if since is not None and sum(since[1:]) < since[0] / 2:
                raise _Waiting
        return left  # one thread cannot use it up any sooner

    def _since_first_look(self, now, used):
        """(wall seconds since the request's first look; of them, CPU seconds the worker's processes used
        (``used`` is their CPU time now), seconds they waited for a processor, and seconds the grader
        spent serving their callbacks), or None where the waiting cannot be read."""
        if self.first_look is None or self.first_look[2] is None:
            return None
        looked, cpu_then, waited_then, served_then = self.first_look
        waited = self.waited_seconds()
        if waited is None:
            return None
        return now - looked, used - cpu_then, waited - waited_then, self.served_seconds - served_then

    def waited_seconds(self):
        """Seconds in which the worker's processes could have run but waited for a processor: its cgroup's
        ``cpu.pressure``; None where it has no cgroup or the kernel no pressure counts.

        Not read per process: /proc's run delays lose ended threads and processes and, on a busy
        core, were seen to fall short, which would stop computing code as waiting.
        """
        return self.cpu_group.waited() if self.cpu_group is not None else None

    def _wall_timeout_message(self, timeout, wall_timeout):
        """What a student is told of a request that took ``wall_timeout`` wall-clock seconds, unfinished."""
        if not cpu_time_readable():  # the limit is wall-clock time itself
            return f"your code did not finish within {wall_timeout:.3g} s"
        return (f"your code did not finish within {wall_timeout:g} s of wall-clock time, and had not used its "
                f"{timeout:g} s of CPU time: was it waiting?")

    def _memory_note(self):
        """For a request that timed out: a clause naming memory if its resident memory grew a lot (else "").

        Code that fills its memory limit slowly (many allocations that are each touched, on a
        machine busy enough to make that slow) can reach the call's time limit before its
        MemoryError: the student is then told about the memory too, not only about the time.
        The growth counts from the first look in the request, ``FIRST_LOOK_SECONDS`` into it.
        The sizes are not shown: student code could set them to spell out the hidden inputs.
        """
        limit = self.limits.memory_bytes
        before = self.memory_at_start
        if not before or resident_bytes(self.process.pid) - before < limit * MEMORY_GROWTH_NAMED:
            return ""
        return (f"; meanwhile the memory it holds grew by more than {MEMORY_GROWTH_NAMED * 100:g}% of its limit "
                f"({size_text(limit)}): does something keep growing?")

    def _serve_callback(self, request):
        self.callbacks_served += 1
        function = self.callbacks.get(request.get("callback"))
        args, kwargs = request.get("args", []), request.get("kwargs", {})
        try:
            if function is None or not isinstance(args, list) or not isinstance(kwargs, dict):
                raise LookupError("no such callback")
            return {"ok": True, "value": function(*args, **kwargs)}
        except Exception as exc:  # a function of the hidden suite failed on the student's input
            return {"ok": False, "error": {"type": type(exc).__name__, "message": "the checker's function failed"}}

    def _crash_message(self):
        try:
            code = self.process.wait(timeout=5) if self.process else None
        except subprocess.TimeoutExpired:
            code = None
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            hint = " (memory limit?)" if name in {"SIGKILL", "SIGSEGV", "SIGABRT"} else ""
            return f"the process running your code died with {name}{hint}"
        return "the process running your code stopped (exit, crash or memory limit)"

    def kill(self):
        """Kill the worker and everything it started, and return once they are gone.

        Its process group is not enough: inside bubblewrap the student's processes
        have a session of their own, and a daemon may leave the group. So every
        descendant is killed by pid and waited for, and a worker with a user id of
        its own has every process of that id killed. Once done, it does nothing: a worker
        whose start failed is killed there, and again when its session replaces it.
        """
        if self.process is None or self.killed:
            return
        self.cpu_seconds()  # the last reading, while its pid is its own (as a zombie too)
        # Reaped already (by a wait(), or by poll() where waitid is missing), its pid may be another's now.
        reaped = self.process.returncode is not None
        family = (set() if reaped else descendants(self.process.pid)) | {
            pid for pid in orphans() if pid != self.process.pid}
        # Whatever left the tree stayed in the group, in other pid namespaces too; its pids are read
        # only where the kernel cannot kill the group itself, since a killed process's pid is soon free.
        if self.cpu_group is not None and not self.cpu_group.kill_all():
            family |= self.cpu_group.pids() - {self.process.pid}
        group = () if reaped else (lambda: os.killpg(self.process.pid, signal.SIGKILL),)
        for kill in (*group, self.process.kill, *(lambda pid=pid: os.kill(pid, signal.SIGKILL) for pid in family)):
            try:
                kill()
            except OSError:
                pass
        if self.workspace.uid is not None:
            kill_user(self.workspace.uid)
        self.process.wait()
        _LIVE_WORKERS.discard(self.process.pid)
        _reap(family)
        if self.cpu_group is not None:  # its count is complete now that all of them are gone
            self.cpu_seen = max(self.cpu_seen, self.cpu_group.seconds() or 0.0)
            self._drop_group()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.killed = True

    def _drop_group(self):
        if self.cpu_group is not None:
            self.cpu_group.remove()
            self.cpu_group = None

    def cpu_seconds(self):
        """CPU time used so far by the worker and every process it started, read by the trusted side.

        From its cgroup where it has one, else from /proc (processes that live, and the children
        they reaped), up to its end: a worker that ended by itself is read as the zombie it stays
        until ``kill`` reaps it. Once reaped, the last reading (``kill`` reads it before killing, and
        its cgroup after); 0.0 where the platform gives no per-process CPU time.
        Each reading also updates ``peak_rss``. Read per process, the grader's orphans (daemons
        that left the worker's tree) count too, unless ``with_orphans`` is off: a student's worker
        is the only one that leaves any.
        """
        # Not yet reaped, an ended worker is a zombie whose /proc entry holds its whole CPU time.
        if self.process is not None and self.process.returncode is None:
            cpu, rss = tree_usage(self.process.pid, with_orphans=self.with_orphans and self.cpu_group is None)
            grouped = self.cpu_group.seconds() if self.cpu_group is not None else None
            cpu = cpu if grouped is None else grouped
            self.cpu_seen, self.peak_rss = max(self.cpu_seen, cpu), max(self.peak_rss, rss)
        return self.cpu_seen

    def cpu_reading(self, with_orphans=False):
        """A ``CpuReading`` of the worker now: of its cgroup, else of its processes (``tree_cpu_reading``)."""
        return tree_cpu_reading(self.process.pid, with_orphans=with_orphans, group=self.cpu_group)


class _OverCpuLimit(Exception):
    """The request under way used its CPU time (raised by ``Worker._watch``)."""


class _Waiting(Exception):
    """The request under way took its CPU limit in wall-clock time, waiting for itself (``Worker._watch``)."""


def cpu_time_readable():
    """Whether the worker's CPU time can be read (/proc): if not, the time limits are wall-clock time."""
    return _has_process_stat(PROC)


@functools.cache
def _has_process_stat(proc):
    # Asked at every request: a stat and two path joins each time were a fifth of the grader's side of a
    # trivial round trip (131 against 105 us of CPU, pinned to one core).
    return (proc / "self" / "stat").exists()


def wall_seconds(limits, cpu_seconds):
    """The wall-clock backstop of a request limited to ``cpu_seconds`` of CPU time (``limits.wall_factor``
    times it; the limit itself where CPU time cannot be read)."""
    return cpu_seconds * limits.wall_factor if cpu_time_readable() else cpu_seconds


class ErrorReply(Exception):
    """The worker answered with an error; the session turns it into a ``StudentError``."""

    def __init__(self, info):
        super().__init__("error reply")
        self.info = info


PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK")  # per second, in /proc/PID/stat
# The kernel's CPU clock of another process (glibc, Linux): None where the C library has none.
_CLOCK_GETCPUCLOCKID = getattr(ctypes.CDLL(None), "clock_getcpuclockid", None)
if _CLOCK_GETCPUCLOCKID is not None:
    _CLOCK_GETCPUCLOCKID.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_int)]  # pid_t, clockid_t *
    _CLOCK_GETCPUCLOCKID.restype = ctypes.c_int


def _processes(under=None):
    """{pid: (parent pid, session id, CPU seconds with reaped children)} from /proc; empty where there is none.

    With ``under`` (pids), only those processes and their descendants, found through each
    thread's ``/proc/PID/task/TID/children`` where the kernel has it: the speed checks read this
    table around every timed call, and a busy machine has hundreds of other processes.
    """
    if not cpu_time_readable():
        return {}
    if under is None or not _HAS_CHILDREN_FILES:
        return _stat_rows(name for name in os.listdir(PROC) if name.isdigit())
    table, frontier = {}, [str(pid) for pid in under]
    while frontier:
        rows = _stat_rows(pid for pid in frontier if int(pid) not in table)
        table.update(rows)
        frontier = [child for pid in rows for child in _children(pid)]
    return table


# Fields of /proc/PID/stat, counted from the one after the command name (proc(5) numbers them from 3 there).
_PPID, _SESSION, _CPU, _CHILDREN_CPU, _START = 1, 3, slice(11, 15), slice(13, 15), 19  # CPU: utime .. cstime


def _joining(descriptor, told, then):
    """A ``preexec_fn``: join the cgroup whose ``cgroup.procs`` is open as ``descriptor``, then ``then``.

    Joining comes first, before the user id is dropped and before anything else runs. If it
    cannot join, it writes a byte to the pipe ``told`` and fails, and so does the start, which
    ``Worker._spawn`` then tries without the group: a worker outside its group would be
    measured at nothing.
    """
    def preexec():
        try:
            os.write(descriptor, b"0")
        except OSError:
            os.write(told, b"!")
            raise
        then()

    return preexec


def _join_refused(descriptor):
    """Whether a child told on the pipe ``descriptor`` that it could not join its cgroup (``_joining``)."""
    os.set_blocking(descriptor, False)
    try:
        return os.read(descriptor, 1) == b"!"
    except BlockingIOError:
        return False


def _stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (which may hold spaces); OSError once it has ended."""
    # Plain file descriptors, not pathlib: this runs around every timed call.
    stat = _read_small(f"{PROC}/{pid}/stat")
    return stat[stat.rindex(b")") + 2:].split()


def _stat_rows(pids):
    """{pid: (parent pid, session id, CPU seconds)} of those of ``pids`` (strings) that still exist."""
    rows = {}
    for name in pids:
        try:
            fields = _stat_fields(name)
            rows[int(name)] = (int(fields[_PPID]), int(fields[_SESSION]), sum(map(int, fields[_CPU])) / _TICKS)
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
    return rows


def _children(pid):
    """Pids (strings) of the children of every thread of ``pid``; none once it has ended."""
    try:
        threads = os.listdir(f"{PROC}/{pid}/task")
    except OSError:
        return []
    found = []
    for thread in threads:
        try:
            found.extend(_read_small(f"{PROC}/{pid}/task/{thread}/children", 1 << 16).decode().split())
        except OSError:
            continue
    return found


_HAS_CHILDREN_FILES = os.path.exists(f"/proc/self/task/{os.getpid()}/children")


def _read_small(path, size=8192):
    """The bytes of a small /proc file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def _status_bytes(pid, field):
    """Bytes: one size of process ``pid`` from /proc/PID/status (``b"VmHWM"``, ...), 0 if unknown."""
    try:
        for line in _read_small(f"{PROC}/{pid}/status").splitlines():
            if line.startswith(field + b":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _peak_rss(pid):
    """Bytes: the peak resident set of process ``pid`` (VmHWM), 0 if unknown."""
    return _status_bytes(pid, b"VmHWM")


def resident_bytes(root):
    """Bytes: the largest resident set (VmRSS) of ``root`` and its descendants, 0 if unknown.

    Memory in use, not reserved: threads reserve tens of MiB of address space each, untouched.
    """
    table = _processes(under={root})
    family = ({root} | descendants(root, table)) & table.keys()
    return max((_status_bytes(pid, b"VmRSS") for pid in family), default=0)


def descendants(root, table=None):
    """Pids of every process under ``root``."""
    table = _processes() if table is None else table
    found, frontier = set(), [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _, _) in table.items() if ppid == parent and pid not in found]
        found.update(children)
        frontier.extend(children)
    return found


def become_subreaper():
    """Make this process the reaper of its orphaned descendants (Linux), once.

    A daemon that double-forks and calls setsid leaves the worker's process tree;
    orphaned, it would be reparented to init and outlive the submission. As a
    subreaper, this process inherits it instead, so ``orphans`` can find and kill it.
    """
    global _SUBREAPER
    if _SUBREAPER is None:
        try:
            _SUBREAPER = ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
        except (OSError, AttributeError):
            _SUBREAPER = False
    return _SUBREAPER


_SUBREAPER = None


_LIVE_WORKERS = set()  # pids of this process's workers that are running (their own session each)


def orphans(table=None):
    """Pids of this process's children in a session other than its own, not a live worker: workers' leftovers.

    The grader starts no other children in a session of their own (workers have theirs).
    """
    me, my_session = os.getpid(), os.getsid(0)
    table = _processes() if table is None else table
    return {pid for pid, (ppid, session, _) in table.items()
            if ppid == me and session != my_session and pid not in _LIVE_WORKERS}


def kill_user(uid):
    """Kill every process of user ``uid`` (a worker's own id): a forked child becomes it and kills them all."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _wait_gone(pids, seconds=5.0):
    """Wait until none of ``pids`` exists (killed processes of another parent die asynchronously)."""
    deadline = time.monotonic() + seconds
    for pid in pids:
        while (PROC / str(pid)).exists() and time.monotonic() < deadline:
            try:
                if (PROC / str(pid) / "stat").read_text().split(") ")[-1][:1] == "Z":
                    break  # a zombie holds no resources; its parent reaps it
            except OSError:
                break
            time.sleep(0.005)


def _reap(family, seconds=5.0):
    """Wait for the killed ``family`` to die, then kill and reap every leftover handed to this process.

    A process whose parent is killed becomes this subreaper's child only once that parent has
    died, so leftovers are looked for again after each round of deaths until none is left;
    reaped at once, they would be missed and stay as zombies, counted as orphans later.
    """
    deadline = time.monotonic() + seconds
    pending = set(family)
    while pending and time.monotonic() < deadline:
        _wait_gone(pending, deadline - time.monotonic())  # each dead or a zombie: its children handed over
        for pid in pending:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass  # not ours: its own parent reaps it
        pending = orphans()
        for pid in pending:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _family(root, with_orphans):
    """(the /proc table, the pids of ``root``, its descendants and, with ``with_orphans``, the workers' leftovers)."""
    # The orphans are this process's children (it is their subreaper), the worker is one too.
    table = _processes(under={os.getpid()} if with_orphans else {root})
    roots = {root} | (orphans(table) if with_orphans else set())
    family = set(roots)
    for pid in roots:
        family |= descendants(pid, table)
    return table, family & table.keys()


class CpuReading:
    """The CPU time of a worker's processes at one moment, to compare with a later reading (``since``).

    Where the worker has a cgroup, its count (``group``): every task that ran in it, ended or not.
    Else two figures of its processes. ``ticks``: utime + stime of every process with its reaped
    children, from /proc/PID/stat, in clock ticks (10 ms). ``clocks``: for each process, the kernel's
    CPU clock of the process (every thread, ended ones too, to the nanosecond) and its reaped children's ticks.
    """

    def __init__(self, ticks, clocks, group=None):
        self.ticks = ticks  # seconds
        self.clocks = clocks  # pid -> (start time, process clock seconds, reaped children's seconds); None: unknown
        self.group = group  # seconds, of the worker's cgroup; None: read from /proc

    def since(self, earlier):
        """(CPU seconds used from ``earlier`` to this reading, whether they are to the nanosecond).

        Of the cgroup where both readings have it: to the microsecond, whatever ended meanwhile.
        Else to the nanosecond when all processes have a clock and none has reaped a child meanwhile:
        the sum can then only grow, as each clock does; a new process counts whole, with the
        children it reaped. Where a child was reaped, its time moved into its parent's ticks:
        the difference of the ticks, which stays consistent across that.

        Returns ``(None, False)`` if a process of ``earlier`` has ended (or another has its pid):
        its time since ``earlier`` may be lost with it.
        """
        if self.group is not None and earlier.group is not None:
            if self.group < earlier.group:  # a count only grows: something reset it
                raise RunError(f"the CPU count of the worker's cgroup went back from {earlier.group} to {self.group} s")
            return self.group - earlier.group, True
        if any(pid not in self.clocks or self.clocks[pid][0] != start
               for pid, (start, _, _) in earlier.clocks.items()):
            return None, False
        known = all(None not in values for reading in (self, earlier) for values in reading.clocks.values())
        if known and all(self.clocks[pid][2] == children for pid, (_, _, children) in earlier.clocks.items()):
            return sum(clock + children for _, clock, children in self.clocks.values()) - sum(
                clock + children for _, clock, children in earlier.clocks.values()), True
        return self.ticks - earlier.ticks, False


def tree_cpu_reading(root, with_orphans=False, group=None):
    """A ``CpuReading`` of ``root``, its descendants and, with ``with_orphans``, the workers' leftovers.

    Of ``group`` alone (a ``cpu_group.CpuGroup`` that ``root`` is in) where given: it holds all of
    them, orphans included. None where there is no /proc (macOS): the caller then has no
    per-process CPU time.

    Raises
    ------
    RunError
        If ``group`` cannot be read.
    """
    if group is not None:
        seconds = group.seconds()
        if seconds is None:  # its folder went away: nothing the student's code can do
            raise RunError(f"cannot read the CPU time of the worker's cgroup {group.folder}")
        return CpuReading(None, {}, seconds)
    table, family = _family(root, with_orphans)
    if not table:
        return None
    return CpuReading(sum(table[pid][2] for pid in family), {pid: _process_clock(pid) for pid in family})


class Measure:
    """What ``StudentSession.timed`` measured: CPU ``seconds`` (None where there is no per-process CPU
    time) and whether they are to the nanosecond (``fine``) or in ticks."""

    seconds = None
    fine = False


def _process_clock(pid):
    """(start time in ticks, CPU seconds by the kernel's clock of process ``pid``, its reaped children's seconds).

    The start time tells a process from a later one with its pid. Each is None where it cannot be
    read: no such clock (not Linux with glibc), or the process ended.
    """
    start, clock, children = None, None, None
    try:
        fields = _stat_fields(pid)
        start, children = int(fields[_START]), sum(map(int, fields[_CHILDREN_CPU])) / _TICKS
        clock_id = ctypes.c_int()  # clockid_t
        if _CLOCK_GETCPUCLOCKID is not None and _CLOCK_GETCPUCLOCKID(pid, ctypes.byref(clock_id)) == 0:
            clock = time.clock_gettime(clock_id.value)
    except (OSError, ValueError, IndexError):
        pass
    return start, clock, children


def tree_usage(root, with_orphans=False):
    """(CPU seconds, peak resident bytes) of ``root`` and its descendants and, with ``with_orphans``, the
    workers' leftovers, from /proc; (0.0, 0) where there is none.

    The CPU seconds are in ticks, with reaped children's; the peak is the largest of the processes'
    own peaks (VmHWM), a bound of what one process held at once, not their sum.
    """
    table, family = _family(root, with_orphans)
    return sum(table[pid][2] for pid in family), max((_peak_rss(pid) for pid in family), default=0)


def _function_key(message):
    """Which student function a call request runs (module-level functions and class methods)."""
    if message.get("op") != "call":
        return None
    target = message.get("target")
    owner = target if isinstance(target, str) else getattr(target, "type_name", "")
    return (owner, message.get("method"))


PHASES = ("startup", "loading", "tests")
_READ_AT = ("startup", "loading")  # the worker's CPU time is read where these begin and end
_CLAIMED = [0.0]  # this process's CPU seconds that sessions have put in a phase, in transport or in reading /proc


def unclaimed_cpu():
    """This process's CPU seconds so far that no ``StudentSession`` has claimed as its own.

    What it grows by around a hidden test's body is the test's own work in this process (its
    inputs, the reference's values, the functions the student's code calls back, the comparisons,
    and for a speed check its measuring: reading /proc around the timed calls, setting up the
    reference's session), whatever sessions the test used meanwhile.
    """
    return time.process_time() - _CLAIMED[0]


class PhaseTimes:
    """Wall and CPU seconds a session spent per phase, all measured on the trusted side.

    ``startup``: starting a worker until it answers its first ping (process, sandbox,
    imports); ``loading``: running notebook cells in it, again too after a restart;
    ``tests``: every other request (the calls the hidden tests make). A worker's CPU time is
    read (``Worker.cpu_seconds``) where start-up or loading begins or ends, and when the worker ends; what
    it used since the previous reading goes to the phase that ran, and to ``tests`` when it
    was between those. This process's own CPU time counts for start-up and loading; during a
    test's request it is ``transport`` (encoding, the pipes, decoding, and ending a worker that
    hung or crashed), the grader's overhead, except while a callback runs the test's own function.
    """

    def __init__(self):
        self.wall = dict.fromkeys(PHASES, 0.0)
        self.cpu = dict.fromkeys(PHASES, 0.0)
        self.transport = 0.0  # CPU seconds of this process during the tests' requests

    def __repr__(self):
        return "PhaseTimes(" + ", ".join(f"{p}={self.wall[p]:.3f}s/{self.cpu[p]:.3f}s" for p in PHASES) + ")"


_COLLECTORS = []  # lists that every StudentSession made meanwhile joins (see sessions_started)


@contextlib.contextmanager
def sessions_started():
    """A list of every ``StudentSession`` made in this process meanwhile (the reference's for speed checks too)."""
    started = []
    _COLLECTORS.append(started)
    try:
        yield started
    finally:
        _COLLECTORS.remove(started)


class StudentSession:
    """A submission's code in a worker, restarted and reloaded after a fault.

    ``load`` requests are remembered and replayed into a fresh worker, so a
    test after a timeout or crash runs against a clean copy of the code (and
    an empty scratch folder). Objects created before a restart are gone; using
    them raises ``StudentCrash``. A function that timed out or crashed once is
    not called again in this session: later calls fail at once, so a hanging
    or crashing function costs its tests, not minutes. The whole session has a
    budget of time that every call and every reload counts against (its CPU time,
    and the wall-clock time of code that waits: ``budget.Budget``), and a
    budget of bytes its workers may send back, which bounds what the
    submission makes the trusted process hold. A name that was a function,
    class or method is remembered as one until its module is loaded again or
    dropped, the grader sets it, or the worker restarts: asking costs a round trip.
    (Student code that rebinds such a name itself is seen when the name is called.)

    Parameters
    ----------
    submission_dir : path
        The submission's folder; its notebooks are copied, never touched.
    notebooks : dict, optional
        File name -> notebook text as the grader read it (default: the folder's notebooks as they are).
    reference : bool
        The session runs the reference (the speed checks' yardstick): its workers get a user id of
        their own, apart from the student's.
    """

    def __init__(self, submission_dir, limits=None, isolation=None, budget_seconds=None, notebooks=None,
                 reference=False):
        self.submission_dir = Path(submission_dir)
        self.limits = limits or Limits()
        self.isolation = isolation or detect()
        if notebooks is None:
            notebooks = {path.name: path.read_text(encoding="utf-8-sig", errors="replace")
                         for path in sorted(self.submission_dir.glob("*.ipynb")) if path.is_file()}
        self.workspace = Workspace(notebooks, worker_uid(self.isolation, reference), self.limits.dataset)
        self.reference = reference
        self.loads = []
        self.worker = None
        self.generation = 0
        self.hung, self.crashed = set(), set()
        self.callables = {}  # (generation, target, name) -> the worker's getattr reply, for callables only
        self.cpu_seconds = 0.0  # of workers that have ended
        self.peak_rss = 0  # bytes: the largest peak of its workers' processes, as last read
        self.cpu_countings = set()  # how its workers' CPU time was counted (Worker.cpu_counting)
        self.phases = PhaseTimes()
        self._running = [None]  # phases under way, innermost last; None: between requests
        self._mark = (time.perf_counter(), time.process_time())  # where the running phase's segment began
        self._charged = 0.0  # of the live worker's CPU seconds, what is in self.phases already
        self.received_bytes = 0  # of workers that have ended
        self.round_trips = 0  # requests sent to workers that have ended, and callbacks they made
        self.known_cells = {}  # "notebook:grade_id" -> number of lines, of every cell sent
        self.over_budget = False
        self.budget_seconds = self.limits.submission_seconds if budget_seconds is None else budget_seconds
        self.budget = Budget(self.budget_seconds, self.limits.wall_factor,
                             self._workers_cpu_seconds if cpu_time_readable() else None)
        for started in _COLLECTORS:
            started.append(self)

    @contextlib.contextmanager
    def _phase(self, phase):
        """Time what runs inside as ``phase`` (nested phases take their own time out of it)."""
        self._segment_ends(phase)
        self._running.append(phase)
        try:
            yield
        finally:
            self._segment_ends(self._running[-2])
            self._running.pop()

    def _segment_ends(self, following):
        """Charge the time since the last mark to the running phase; the next segment is ``following``'s."""
        running = self._running[-1]
        wall, cpu = time.perf_counter(), time.process_time()
        if running is not None:
            self.phases.wall[running] += wall - self._mark[0]
            if running in _READ_AT:
                self.phases.cpu[running] += cpu - self._mark[1]
            else:
                self.phases.transport += cpu - self._mark[1]
            _CLAIMED[0] += cpu - self._mark[1]
        if self.worker is not None and (running in _READ_AT or following in _READ_AT or not self.worker.alive):
            self._charge_worker(running)
        self._mark = (time.perf_counter(), time.process_time())
        _CLAIMED[0] += self._mark[1] - cpu  # the reading above: the session's overhead, in no phase

    def _charge_worker(self, running):
        """Put the live worker's CPU seconds since the last charge into phase ``running`` (else ``tests``)."""
        seen = self.worker.cpu_seconds()
        self.phases.cpu[running if running in _READ_AT else "tests"] += seen - self._charged
        self._charged = seen

    def _workers_cpu_seconds(self):
        """CPU seconds of this session's workers so far: those that ended, and the one that runs."""
        return self.cpu_seconds + (self.worker.cpu_seconds() if self.worker is not None else 0.0)

    def _check_budget(self):
        """Before a request: raise unless the submission has budget left and its workers sent back no
        more than it may."""
        if self.budget.over():
            raise BudgetSpent(f"your submission used up its grading time ({self.budget_seconds:g} s) "
                              "in earlier tests, so this one was not run")
        if self.over_budget:
            raise StudentCrash("your code sent back more data in earlier tests than the grader accepts for one "
                               f"submission ({size_text(self.limits.received_bytes)}), so this one was not run")

    def _watch_request(self):
        """The watchdog of every wait: the scratch folder stays within its quota, the submission within
        its budget (a request under way is stopped where the budget ends)."""
        size, entries = self.workspace.usage(self.limits.scratch_files)
        if size > self.limits.scratch_bytes or entries > self.limits.scratch_files:
            raise StudentCrash(f"your code wrote more than the grader allows "
                               f"({size_text(self.limits.scratch_bytes)}, {self.limits.scratch_files} files)")
        if self.budget.over():
            raise BudgetSpent(f"your code did not finish before your submission used up its grading time "
                              f"({self.budget_seconds:g} s)")

    def _retire_worker(self):
        if self.worker is not None:
            self.worker.kill()  # its CPU time is read first: up to its end, or to the last reading if it died
            self._charge_worker(self._running[-1])
            self._add_totals(self.worker)
            self.worker = None

    def _add_totals(self, worker):
        """Add what ``worker``, ending now, used (CPU, memory, bytes, round trips) to the session's totals."""
        self.cpu_seconds += worker.cpu_seen
        self.peak_rss = max(self.peak_rss, worker.peak_rss)
        self.received_bytes += worker.received_bytes
        self.round_trips += worker.last_id + worker.callbacks_served

    def _ensure_worker(self):
        if self.worker is None or not self.worker.alive:
            self._retire_worker()
            self._check_budget()
            self.workspace.clear_scratch()
            with self._phase("startup"):
                self.worker = Worker(self.workspace, self.limits, self.isolation, self._watch_request,
                                     byte_budget=self.limits.received_bytes - self.received_bytes,
                                     with_orphans=not self.reference)
                self._charged = 0.0
                self.worker.start()
                self.cpu_countings.add(self.worker.cpu_counting)
            self.generation += 1
            with self._phase("loading"):
                for message, timeout in self.loads:
                    self._check_budget()
                    try:
                        self.worker.request(message, timeout)
                    except BudgetSpent:
                        raise
                    except (StudentFault, ErrorReply):
                        pass  # the load's own outcome was recorded the first time
        return self.worker

    def cpu_now(self, with_orphans=True):
        """(worker generation, ``CpuReading`` of its processes and, by default, their leftovers).

        The reading is None where the platform gives no per-process CPU time. Two readings of
        one generation bracket what the worker did between them (``later.since(earlier)``).
        """
        worker = self._ensure_worker()
        return self.generation, worker.cpu_reading(with_orphans=with_orphans)

    @contextlib.contextmanager
    def timed(self):
        """Measure the CPU time the worker uses while the body runs: yields a ``Measure``, filled at the end.

        A reference session does not count the grader's orphans: they are leftovers of a student's
        worker, not the reference's.

        Raises
        ------
        StudentCrash
            If the worker restarted meanwhile, or, where it has no cgroup, one of its processes ended
            (its time may be lost).
        """
        generation, before = self.cpu_now(with_orphans=not self.reference)
        measure = Measure()
        yield measure
        after_generation, after = self.cpu_now(with_orphans=not self.reference)
        if after_generation != generation:
            raise StudentCrash("the process running your code restarted while it was being timed")
        if before is not None and after is not None:
            measure.seconds, measure.fine = after.since(before)
            if measure.seconds is None:
                raise StudentCrash("a process of your code ended while it was being timed, so its CPU time "
                                   "cannot be measured")

    def current_generation(self):
        """The generation of the live worker (starting one if needed)."""
        self._ensure_worker()
        return self.generation

    def student_error(self, info):
        """A ``StudentError`` for an error the worker reported, with what may be shown of it."""
        return StudentError(info if isinstance(info, dict) else {}, self.known_cells)

    def load(self, notebook, cells, timeout=None):
        """Execute (label, source) cells as module ``notebook``, one cell per request.

        ``timeout`` holds for each cell (default ``limits.load_seconds``). A cell that
        hangs or ends the worker costs only itself: the worker restarts with the cells
        before it and goes on with the next.

        Returns
        -------
        dict
            ``defined``: the names the module holds; ``failed``: label -> what the
            worker reported of the exception a cell raised (check it with
            ``student_error``); ``faults``: label -> the grader's sentence for a cell
            that hung or crashed; ``stood_in``: what the worker said of cells of other
            notebooks run as released (unchecked: see ``loading``).
        """
        cells = [[str(label), str(source)] for label, source in cells]
        self._forget_callables(notebook)
        self.known_cells.update({f"{notebook}:{label}": source.count("\n") + 1 for label, source in cells})
        timeout = self.limits.load_seconds if timeout is None else timeout
        defined, failed, faults, stood_in, fresh = [], {}, {}, [], True
        with self._phase("loading"):
            for cell in cells:
                message = {"op": "load", "notebook": notebook, "cells": [cell], "fresh": fresh}
                try:
                    result = self._exchange(message, timeout)
                except (StudentTimeout, StudentCrash) as exc:
                    if self.over_budget or self.budget.over():
                        raise
                    faults[cell[0]] = str(exc)
                    continue
                # Replayed after a restart only if it worked: a cell that hangs or crashes would
                # otherwise cost its time again at every restart.
                self.loads.append((message, timeout))
                fresh = False
                if isinstance(result, dict):
                    defined = result.get("defined", defined)
                    reported = result.get("failed")
                    failed.update(reported if isinstance(reported, dict) else {})
                    stood_in += result.get("stood_in") if isinstance(result.get("stood_in"), list) else []
        return {"defined": defined, "failed": failed, "faults": faults, "stood_in": stood_in}

    def unload(self, notebook):
        """Drop module ``notebook`` from the worker, and from what a restarted worker loads again.

        For modules no later test needs: a submission's memory is then its largest notebook's,
        not the sum of all of them.
        """
        self.loads = [(message, timeout) for message, timeout in self.loads if message["notebook"] != notebook]
        self._forget_callables(notebook)
        if self.worker is not None and self.worker.alive:
            try:
                self._exchange({"op": "unload", "notebook": notebook}, self.limits.call_seconds)
            except StudentFault:
                pass  # a worker that cannot even drop a module is replaced at the next request

    def request(self, message, timeout=None):
        """Send one request (call, getattr, setattr) and return the worker's value.

        Raises
        ------
        StudentError, StudentTimeout, StudentCrash
        """
        attribute = (self.generation, message.get("target"), message.get("name"))
        if message.get("op") == "getattr" and attribute in self.callables and self.worker and self.worker.alive:
            # A function, class or method asked for again: the reply would only say "callable" again,
            # and these were nearly 40 % of a submission's requests. A call looks its name up anew.
            return self.callables[attribute]
        if message.get("op") == "setattr":
            self.callables.pop(attribute, None)
        key = _function_key(message)
        if key in self.hung:
            raise StudentTimeout("your code did not finish in time in an earlier test, so it was not run again")
        if key in self.crashed:
            raise StudentCrash("your code crashed the process in an earlier test, so it was not run again")
        try:
            with self._phase("tests"):
                value = self._exchange(message, self.limits.call_seconds if timeout is None else timeout)
        except StudentTimeout:
            if key:
                self.hung.add(key)
            raise
        except StudentCrash:
            if key:
                self.crashed.add(key)
            raise
        if message.get("op") == "getattr" and isinstance(value, dict) and value.get("callable") is True:
            self.callables[(self.generation, *attribute[1:])] = value
        return value

    def _forget_callables(self, module):
        """Ask the worker again about the names of ``module``, which is loaded anew or dropped."""
        self.callables = {key: value for key, value in self.callables.items() if key[1] != module}

    def _exchange(self, message, timeout):
        worker = self._ensure_worker()
        try:
            self._check_budget()
            return worker.request(message, timeout)
        except ErrorReply as exc:
            raise self.student_error(exc.info) from None
        except StudentOverBudget:
            self.over_budget = True
            raise

    def callback(self, function):
        """A reference the worker can call back to run ``function`` (the hidden test's) here.

        While ``function`` runs, no phase does: its time is the test's own, not this session's transport.
        """
        def outside_the_session(*args, **kwargs):
            with self._phase(None):
                return function(*args, **kwargs)

        return self._ensure_worker().callback(outside_the_session)

    def close(self):
        if self.worker is not None:
            self._charge_worker(self._running[-1])  # read while it still runs
            self._add_totals(self.worker)
            # Killed, not left to exit on end of input: nothing it does after its last reply counts, and
            # shutting its interpreter down (and any thread student code left running) took 0.1 to 0.3 s.
            self.worker.kill()
            self.worker = None
        self.workspace.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
