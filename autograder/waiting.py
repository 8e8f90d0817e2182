"""Time a grading spent waiting for a processor: what a busy machine adds to its wall-clock time.

A submission's budget (``limits.submission_seconds``) is charged with the wall-clock time its
grading takes less this waiting, so that a submission gets as far on a machine busy with other
work (another job, another course's grading) as on an idle one, and keeps its score. Two kinds of
waiting add up, and they hardly overlap, since the grading process and its workers take turns,
each asleep while it waits for the other's reply:

* the grading thread's own, its run delay (``/proc/thread-self/schedstat``, second field);
* each worker's, its cgroup's ``cpu.pressure`` ("some": a task of the group could have run but
  waited for a processor), read while the group lives, and once more before it is removed.

Nothing else is subtracted: where neither can be read (no cgroup with pressure counts, no /proc),
the budget is plain wall-clock time. One grading runs at a time in a grading process (the pool's
processes, a Dask worker's), so the tally of the process is the tally of that submission.
"""
from __future__ import annotations

_SCHEDSTAT = "/proc/thread-self/schedstat"
_live = set()  # workers with a cgroup that runs: their waiting is read when asked
_ended = [0.0]  # seconds the workers whose cgroup is gone waited, in all


def thread_delay():
    """Seconds the calling thread has waited for a processor since it started; 0.0 where unknown."""
    try:
        with open(_SCHEDSTAT, "rb") as file:
            return int(file.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def worker_started(worker):
    """Count ``worker``'s waiting from now on (``worker.waited_seconds()``: seconds, or None)."""
    _live.add(worker)


def worker_ended(worker):
    """Keep what ``worker`` waited, read a last time: call it before its cgroup is removed."""
    if worker in _live:
        _live.discard(worker)
        _ended[0] += worker.waited_seconds() or 0.0


def so_far():
    """Seconds this thread and this process's workers have waited for a processor, in all.

    Only differences mean something: the time waited between two calls.
    """
    return thread_delay() + _ended[0] + sum(worker.waited_seconds() or 0.0 for worker in list(_live))
