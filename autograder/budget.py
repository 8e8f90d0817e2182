"""A submission's grading budget (``limits.submission_seconds``): what counts against it.

The budget is charged so that a busy machine does not cut a submission short where an idle one
would grade it whole, as the time limit of one request is CPU time (see ``run.Worker``). Over the
grading so far, with W its wall-clock seconds, C the CPU seconds it used (the grading thread's,
which runs the hidden tests' own code, and its workers', ended ones included) and k
``limits.wall_factor``::

    spent = C + max(0, W - k * C)

Code that computes is charged its CPU time, however busy the machine, as long as it gets a k-th
of a processor; code that only waits (a sleep, input) is charged the wall-clock time it takes.
Waiting is free up to k - 1 times the CPU time used so far, so code that waits part of the time
on purpose can stretch its grading to k times its budget, as one request can stretch to k times
its limit, and no further: ``spent`` is at least W / k. CPU time that several threads or processes
use at once counts whole, as for the limit of a request. Where CPU time cannot be read (no /proc),
the budget is wall-clock time.
"""
from __future__ import annotations

import os
import threading
import time


def _thread_clock():
    """A function giving the CPU seconds of the calling thread, read the same from any thread."""
    try:
        clock = time.pthread_getcpuclockid(threading.get_ident())
    except (AttributeError, OSError):  # macOS has no such clock: the thread's own clock, read in it
        return time.thread_time
    return lambda: time.clock_gettime(clock)


def _processors():
    """How many processors this machine has, whatever this process may use of them now."""
    try:
        return max(1, os.sysconf("SC_NPROCESSORS_CONF"))
    except (AttributeError, ValueError, OSError):
        return max(1, os.cpu_count() or 1)


class Budget:
    """The budget of one grading, from now on, charged from the thread that makes it.

    Parameters
    ----------
    seconds : float
        The budget.
    wall_factor : float
        k above.
    workers_cpu : callable or None
        CPU seconds of the grading's workers so far, ended ones included; None where CPU time
        cannot be read (``run.cpu_time_readable``): the budget is then wall-clock time.
    """

    def __init__(self, seconds, wall_factor, workers_cpu):
        self.seconds, self.wall_factor, self.workers_cpu = seconds, wall_factor, workers_cpu
        self._thread_cpu = _thread_clock()
        self._fastest = _processors()  # spent grows by at most this many seconds per second
        self._start = (time.monotonic(), self._thread_cpu(), workers_cpu() if workers_cpu else 0.0)
        self._spent, self._read_at = 0.0, self._start[0]
        self._over = False

    def spent(self):
        """Seconds of the budget spent so far (the formula above); never less than at an earlier reading."""
        now = time.monotonic()
        started, thread_then, workers_then = self._start
        wall = now - started
        if self.workers_cpu is None:
            charged = wall
        else:
            cpu = self._thread_cpu() - thread_then + self.workers_cpu() - workers_then
            charged = cpu + max(0.0, wall - self.wall_factor * cpu)
        self._spent, self._read_at = max(self._spent, charged), now
        return self._spent

    def over(self):
        """Whether the budget is spent; once it is, it stays so.

        Reads CPU time only once the budget could be spent: since the last reading, spent grew by
        at most ``_fastest`` times the wall-clock time since, so a grading far from its end costs
        one clock reading per request.
        """
        if not self._over:
            bound = self._spent + self._fastest * (time.monotonic() - self._read_at)
            self._over = bound >= self.seconds and self.spent() >= self.seconds
        return self._over
