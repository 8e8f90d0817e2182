"""Stage 3, run: the student's code in a separate, resource-limited worker process.

``StudentSession`` starts the worker (see ``sandbox``), loads the student's
definitions into it and forwards calls. Every call has a wall-clock limit;
a timeout or crash kills the worker's whole process group, and the next call
starts a fresh worker and loads the definitions again, so one fault costs only
the tests that depend on it.
"""
from __future__ import annotations

import builtins
import os
import select
import signal
import subprocess
import time
from pathlib import Path

from autograder.errors import RunError
from autograder.sandbox import Limits, apply_limits, detect, worker_command
from autograder.worker import codec

DEFAULT_CALL_SECONDS = 10.0
START_SECONDS = 60.0
# A whole submission's time in its worker: far above an honest one's (seconds), far below
# what a hostile one could cost with a timeout in every test.
BUDGET_SECONDS = 300.0


# Exception names that may be shown: Python's own, and those numpy and the kit raise. A class
# the student defines could be named after the hidden inputs, so it shows as "an exception".
SHOWN_EXCEPTIONS = frozenset(
    name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)
) | {"LinAlgError", "AxisError", "NotebookLoadError"}

class StudentFault(Exception):
    """The student's code misbehaved; the message is safe to show the student."""

    status = "failed"


class StudentError(StudentFault):
    """The student's code raised an exception."""

    def __init__(self, info, known_cells=frozenset()):
        # Every field comes from the worker, so the student's code chooses it (even the
        # exception's class name): only known exception names and cells we loaded are shown.
        name = info.get("type")
        self.type_name = name if name in SHOWN_EXCEPTIONS else "an exception"
        cell, line = info.get("cell"), info.get("line")
        cell = cell if cell in known_cells else None
        line = line if isinstance(line, int) and not isinstance(line, bool) and 0 < line < 10**6 else None
        where = f" (cell {cell}, line {line})" if cell and line else ""
        super().__init__(f"your code raised {self.type_name}{where}")
        self.info = {"type": self.type_name, "cell": cell, "line": line,
                     "message": str(info.get("message", ""))[:500]}
        self.student_message = self.info["message"]


class StudentTimeout(StudentFault):
    status = "timeout"


class StudentCrash(StudentFault):
    status = "error"


class Worker:
    """One worker process and its data-only channel."""

    def __init__(self, submission_dir, limits=None, isolation=None):
        self.submission_dir = Path(submission_dir).resolve()
        self.limits = limits or Limits()
        self.isolation = isolation or detect()
        self.callbacks = {}
        self.process = None
        self.known_cells = set()  # "notebook:grade_id" of every cell sent, for error reports

    def start(self):
        argv, env, cwd = worker_command(self.submission_dir, self.isolation)
        try:
            self.process = subprocess.Popen(
                argv, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, preexec_fn=apply_limits(self.limits),
            )
        except OSError as exc:
            raise RunError(f"cannot start the worker process ({argv[0]}): {exc}") from exc
        try:
            self.request({"op": "ping"}, timeout=START_SECONDS)
        except StudentFault as exc:
            self.kill()
            raise RunError(f"the worker process did not start ({exc}); run `autograder selftest`") from exc

    @property
    def alive(self):
        return self.process is not None and self.process.poll() is None

    def callback(self, function):
        """A reference the worker can call back to run ``function`` here."""
        ref = codec.Callback(len(self.callbacks) + 1)
        self.callbacks[ref.id] = function
        return ref

    def request(self, message, timeout=DEFAULT_CALL_SECONDS):
        """Send one request and return the worker's value, serving callbacks meanwhile.

        Raises
        ------
        StudentError, StudentTimeout, StudentCrash
        """
        deadline = time.monotonic() + timeout
        if message.get("op") == "load":
            self.known_cells.update(f"{message['notebook']}:{label}" for label, _ in message["cells"])
        try:
            self.process.stdin.write(codec.encode(message))
            self.process.stdin.flush()
            while True:
                reply = self._read_frame(deadline, timeout)
                if reply.get("op") != "callback":
                    break
                self._serve_callback(reply)
        except (BrokenPipeError, EOFError, codec.CodecError) as exc:
            self.kill()
            raise StudentCrash(self._crash_message(exc)) from None
        if not reply.get("ok"):
            raise StudentError(reply.get("error") or {}, self.known_cells)
        return reply.get("value")

    def _serve_callback(self, request):
        function = self.callbacks.get(request.get("id"))
        try:
            value = function(*request.get("args", []), **request.get("kwargs", {}))
            reply = {"ok": True, "value": value}
        except Exception as exc:  # a function of the hidden suite failed on the student's input
            reply = {"ok": False, "error": {"type": type(exc).__name__, "message": "the checker's function failed"}}
        self.process.stdin.write(codec.encode(reply))
        self.process.stdin.flush()

    def _read_frame(self, deadline, timeout):
        header = self._read(codec._LENGTH.size, deadline, timeout)
        (length,) = codec._LENGTH.unpack(header)
        if length > codec.MAX_FRAME_BYTES:
            raise codec.CodecError("oversized frame")
        return codec.decode(self._read(length, deadline, timeout))

    def _read(self, size, deadline, timeout):
        fd = self.process.stdout.fileno()
        chunks, remaining = [], size
        while remaining:
            left = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                self.kill()
                raise StudentTimeout(f"your code did not finish within {timeout:g} s")
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _crash_message(self, exc):
        code = self.process.returncode if self.process else None
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            hint = " (memory limit?)" if name in {"SIGKILL", "SIGSEGV", "SIGABRT"} else ""
            return f"the process running your code died with {name}{hint}"
        if isinstance(exc, codec.CodecError):
            return "your code returned something that is not plain data (numbers, arrays, lists, dicts)"
        return "the process running your code stopped (exit, crash or memory limit)"

    def kill(self):
        """Kill the worker and everything it started."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def cpu_seconds(self):
        """CPU time used so far by the worker and every process under it, read from /proc here."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        return _tree_cpu_seconds(self.process.pid)

    def close(self, grace=2.0):
        """End the worker: let it exit on end of input, else kill it."""
        if self.process is None:
            return
        try:
            self.process.stdin.close()
            self.process.wait(timeout=grace)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


def _tree_cpu_seconds(root):
    """utime + stime (and those of reaped children) of ``root`` and its descendants, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents, times = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended meanwhile
        fields = stat[stat.rindex(")") + 2:].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = sum(int(value) for value in fields[11:15]) / ticks
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in tree)


def _function_key(message):
    """Which student function a call request runs (module-level functions and class methods)."""
    if message.get("op") != "call":
        return None
    target = message.get("target")
    owner = target if isinstance(target, str) else getattr(target, "type_name", "")
    return (owner, message.get("method"))


class StudentSession:
    """A submission's code in a worker, restarted and reloaded after a fault.

    ``load`` requests are remembered and replayed into a fresh worker, so a
    test after a timeout or crash runs against a clean copy of the code.
    Objects created before a restart are gone; using them raises ``StudentCrash``.
    A function that timed out or crashed once is not called again in this session:
    later calls fail at once, so a hanging or crashing function costs its tests, not
    minutes. The whole session has a wall-clock budget that every call and every
    reload counts against.
    """

    def __init__(self, submission_dir, limits=None, isolation=None, budget_seconds=BUDGET_SECONDS):
        self.submission_dir = Path(submission_dir)
        self.limits, self.isolation = limits, isolation
        self.loads = []
        self.worker = None
        self.generation = 0
        self.hung, self.crashed = set(), set()
        self.cpu_seconds = 0.0  # of workers that have ended
        self.deadline = time.monotonic() + budget_seconds
        self.budget_seconds = budget_seconds

    def _within_budget(self, timeout):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise StudentTimeout(f"your submission used up its grading time ({self.budget_seconds:g} s) "
                                 "in earlier tests, so this one was not run")
        return min(timeout, left)

    def _ensure_worker(self):
        if self.worker is None or not self.worker.alive:
            if self.worker is not None:
                self.worker.kill()  # its CPU time is lost with it: it crashed or timed out
            self._within_budget(START_SECONDS)
            self.worker = Worker(self.submission_dir, self.limits, self.isolation)
            self.worker.start()
            self.generation += 1
            for message, timeout in self.loads:
                try:
                    self.worker.request(message, self._within_budget(timeout))
                except StudentFault:
                    pass  # the load's own outcome was recorded the first time
        return self.worker

    def current_generation(self):
        """The generation of the live worker (starting one if needed)."""
        self._ensure_worker()
        return self.generation

    def load(self, notebook, cells, timeout=DEFAULT_CALL_SECONDS):
        """Execute (label, source) cells as module ``notebook``; returns {"defined", "failed"}."""
        message = {"op": "load", "notebook": notebook, "cells": [list(c) for c in cells]}
        result = self._ensure_worker().request(message, self._within_budget(timeout))
        # Replayed after a restart only if it worked: a load that hangs or crashes would
        # otherwise cost its time again at every restart.
        self.loads.append((message, timeout))
        return result

    def request(self, message, timeout=DEFAULT_CALL_SECONDS):
        key = _function_key(message)
        if key in self.hung:
            raise StudentTimeout("your code did not finish in time in an earlier test, so it was not run again")
        if key in self.crashed:
            raise StudentCrash("your code crashed the process in an earlier test, so it was not run again")
        try:
            return self._ensure_worker().request(message, self._within_budget(timeout))
        except StudentTimeout:
            if key:
                self.hung.add(key)
            raise
        except StudentCrash:
            if key:
                self.crashed.add(key)
            raise

    def callback(self, function):
        return self._ensure_worker().callback(function)

    @property
    def known_cells(self):
        return self.worker.known_cells if self.worker else set()

    def close(self):
        if self.worker is not None:
            self.cpu_seconds += self.worker.cpu_seconds()
            self.worker.close()
            self.worker = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
