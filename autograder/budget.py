"""A submission's grading budget (``limits.submission_seconds``): what counts against it.

The budget is charged so that a busy machine does not cut a submission short where an idle one
would grade it whole, as the time limit of one request is CPU time (see ``run.Worker``). Over the
grading so far, with W its wall-clock seconds, C the CPU seconds it used (the grading thread's own,
and every worker's of this process: the student's and the reference's, ended ones included) and k
``limits.wall_factor``::

    spent = C + max(0, W - k * C)

Code that computes is charged its CPU time, however busy the machine, as long as it gets a k-th
of a processor; code that waits (a sleep, input) is charged the wall-clock time it takes, less k
times what it computed meanwhile. ``spent`` is at least W / k, so a submission ends by k times
its budget in wall-clock time whatever it does; code that waits part of the time on purpose can
stretch its grading that far, as one request can stretch to k times its limit. CPU time that
several threads or processes use at once counts whole, as it does for the limit of a request.
Where CPU time cannot be read (no /proc), the budget is wall-clock time.

One grading runs at a time in a grading process (the pool's processes, a Dask worker's), so the
CPU time of this process's workers is that submission's.
"""
from __future__ import annotations

import os
import time

_live = set()  # workers that run: their CPU time is read when the budget is
_ended = [0.0]  # CPU seconds of this process's workers that have ended, in all


def worker_started(worker):
    """Count ``worker``'s CPU time (``worker.cpu_seconds()``) from now on."""
    _live.add(worker)


def worker_ended(worker):
    """Keep ``worker``'s CPU time, read a last time (``worker.cpu_seen``): call it once it is gone."""
    if worker in _live:
        _live.discard(worker)
        _ended[0] += worker.cpu_seen


def workers_cpu_seconds():
    """CPU seconds of every worker this process started, in all (only differences mean something)."""
    return _ended[0] + sum(worker.cpu_seconds() for worker in list(_live))


class Budget:
    """The budget of one grading, from now on.

    Parameters
    ----------
    seconds : float
        The budget.
    wall_factor : float
        k above.
    cpu_time : bool
        Whether CPU time can be read (``run.cpu_time_readable``); if not, the budget is wall-clock time.
    """

    def __init__(self, seconds, wall_factor, cpu_time):
        self.seconds, self.wall_factor, self.cpu_time = seconds, wall_factor, cpu_time
        # Spent grows by at most this many seconds per second: every processor busy for it.
        self._fastest = max(1, os.cpu_count() or 1)
        self._start = (time.monotonic(), time.thread_time(), workers_cpu_seconds() if cpu_time else 0.0)
        self._spent, self._read_at = 0.0, self._start[0]
        self._over = False

    def spent(self):
        """Seconds of the budget spent so far (the formula above); never less than at an earlier reading."""
        now = time.monotonic()
        started, thread_then, workers_then = self._start
        wall = now - started
        if self.cpu_time:
            cpu = time.thread_time() - thread_then + workers_cpu_seconds() - workers_then
            charged = cpu + max(0.0, wall - self.wall_factor * cpu)
        else:
            charged = wall
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
