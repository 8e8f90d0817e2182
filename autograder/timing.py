"""Speed checks: the student's version against the reference's naive one, in CPU time of worker processes.

A speed test asks how many times less CPU time the student's vectorized code
needs than the reference's naive version on the same input. Both run in
worker processes of the same kind (same sandbox, same limits), the reference in
one of its own, so the reference never enters the student's worker. The
trusted side reads each worker's CPU time before and after the calls (its
cgroup's count, where it has one, of everything it ran; else the kernel's clock
of each of its processes, to the nanosecond, or /proc's 10 ms ticks where a
process reaped a child meanwhile; see ``StudentSession.timed``), so
nothing the student's code reports, nothing the student's own naive version
does and nothing else the machine runs can move the figure much: CPU time does
not grow when other processes take turns on the cores, as wall time does.

The reference's time on an input is measured once per grading process and
kept (``_REFERENCE_SECONDS``): every submission is compared with the same yardstick.
A measure that falls short of the check's threshold is taken again, up to
``CONFIRMATIONS`` times, each on a new input of the same shape, and the best
kept: slow code is slow on every input, while a moment in which the machine
slowed the student's worker (a burst of memory traffic, the kernel reclaiming
pages) costs no points. A new input, not the same one again, so that code which
remembers what it returned for an input cannot pass on the second measure.

Where the platform gives no per-process CPU time (no /proc), the check falls
back to how the wall time grows with the input: it times both versions, in
turns, at the input and at twice its size (``scale`` 1 and 2) and compares the
extra time each needs for the extra half, the least of ``WALL_REPEATS`` turns,
each on an input of its own. Fixed costs (the call's round trip) cancel, and a
load that slows both turns alike cancels in the ratio.
"""
from __future__ import annotations

import hashlib
import math
import time

import numpy as np

from autograder.errors import GraderError
from autograder.extract import extract
from autograder.proxy import RemoteObject
from autograder.read import worker_copy
from autograder.run import StudentSession

# Enough CPU time per measurement that the clock's resolution costs a few per cent at most: the
# kernel's process clocks count nanoseconds, /proc's ticks (where a measure has to fall back on them) 10 ms.
MIN_MEASURED_SECONDS = 0.02
MIN_MEASURED_TICKS_SECONDS = 0.1
MAX_STUDENT_CALLS = 20
WALL_REPEATS = 3
CONFIRMATIONS = 2  # measures more, at most, before a speed check fails

_REFERENCE_SECONDS = {}  # (assignment, notebook, method, input digest, isolation, by cgroup) -> seconds per call


class SpeedCheck:
    """The ``speed`` fixture of one notebook's suite.

    Parameters
    ----------
    context : compare.GradingContext
    notebook : str
        The suite's notebook ("knn.ipynb"); the reference's naive version comes from its source.
    student : proxy.RemoteObject
        The student's notebook module (the ``student`` fixture).
    """

    def __init__(self, context, notebook, student):
        self.context, self.notebook, self.student = context, notebook, student

    @property
    def clock(self):
        """"cpu" where /proc gives per-process CPU time, else "wall-growth"."""
        return "cpu" if self.context.session.cpu_now()[1] is not None else "wall-growth"

    def ratio(self, student_method, reference_method, inputs, *, needed, cls=None, timeout=60):
        """How many times less time ``student_method`` needs than the reference's ``reference_method``.

        Parameters
        ----------
        student_method, reference_method : str
            Module-level function names, or method names of ``cls``.
        inputs : callable
            ``inputs(scale, draw) -> (args, attributes)``: the call's arguments, and the attributes
            to set on a new instance of ``cls`` first (``{}`` for a function), for an input of
            ``scale`` (1, or 2 for twice as many examples) drawn from the suite's own seed.
            ``draw`` is 0 for the first measure and 1, 2 for those taken again: each a new input
            of the same shape (``testing.helpers.draws``), so code that remembers an input it
            was timed on gains nothing by it.
        needed : float
            The ratio the check requires: a measure below it is taken again, ``CONFIRMATIONS``
            times at most, and the best one counts.
        cls : str, optional
            The class whose instances hold the methods ("KNearestNeighbor").

        Returns
        -------
        (ratio, result)
            The reference's time over the student's (above 1: the student's version is faster),
            and what the student's version returned for ``inputs(1, 0)``, so the test can check it.
        """
        best, result = self._measure(student_method, reference_method, inputs, 0, cls, timeout)
        for attempt in range(1, 1 + CONFIRMATIONS):
            if best >= needed:
                break
            best = max(best, self._measure(student_method, reference_method, inputs, attempt, cls, timeout)[0])
        return best, result

    def _measure(self, student_method, reference_method, inputs, attempt, cls, timeout):
        """(ratio, result) of measure number ``attempt`` (0 first), as ``ratio`` describes.

        Its inputs are draws of its own: one in CPU time, one per turn of the wall-clock fallback,
        whose turns take the least time each side needed (so each turn needs a new input too).
        """
        if self.clock == "cpu":
            call_input = inputs(1, attempt)
            student_seconds, result = self._student_cpu(student_method, call_input, cls, timeout)
            reference_seconds = self._reference_cpu(reference_method, call_input, cls, timeout)
            return reference_seconds / max(student_seconds, 1e-4), result
        return self._wall_growth(student_method, reference_method,
                                 lambda scale, turn: inputs(scale, attempt * WALL_REPEATS + turn), cls, timeout)

    # -- CPU time -------------------------------------------------------------------------
    def _student_cpu(self, method, call_input, cls, timeout):
        call = _bound(self.student, method, call_input, cls)
        return _cpu_per_call(self.context.session, call, timeout, MAX_STUDENT_CALLS)

    def _reference_cpu(self, method, call_input, cls, timeout):
        # Kept per counting of the student's worker, and only if the reference's was counted alike.
        counting = self.context.session.worker.cpu_counting
        key = (self.context.references.assignment, self.notebook, method, _digest(call_input, cls),
               self.context.session.isolation.level, counting)
        if key in _REFERENCE_SECONDS:
            return _REFERENCE_SECONDS[key]
        with _reference_session(self.context, self.notebook) as (session, module):
            call = _bound(module, method, call_input, cls)
            call(_timeout=timeout)  # once untimed: the first call pays for caches and lazy imports
            seconds = _cpu_per_call(session, call, timeout, 3, at_least=2, best=True)[0]
            if session.worker.cpu_counting == counting:
                _REFERENCE_SECONDS[key] = seconds
        return seconds

    # -- wall time, where there is no CPU time -----------------------------------------------
    def _wall_growth(self, student_method, reference_method, inputs, cls, timeout):
        """(ratio, result) from how wall time grows; ``inputs(scale, turn)`` is the input of each turn."""
        best = {(side, scale): float("inf") for side in ("student", "reference") for scale in (1, 2)}
        result = None
        with _reference_session(self.context, self.notebook) as (_, module):
            for turn in range(WALL_REPEATS):
                for scale in (1, 2):
                    call_input = inputs(scale, turn)
                    calls = (("student", _bound(self.student, student_method, call_input, cls)),
                             ("reference", _bound(module, reference_method, call_input, cls)))
                    for side, call in calls:  # in turns, so a passing load slows both alike
                        start = time.perf_counter()
                        value = call(_timeout=timeout)
                        best[side, scale] = min(best[side, scale], time.perf_counter() - start)
                        if side == "student" and scale == 1 and turn == 0:
                            result = value
        extra = {side: max(best[side, 2] - best[side, 1], 1e-6) for side in ("student", "reference")}
        return extra["reference"] / extra["student"], result


def _bound(module, method, call_input, cls):
    """A function that calls ``method`` with the input (on a new instance of ``cls`` set up first)."""
    args, attributes = call_input
    owner = module
    if cls is not None:
        owner = getattr(module, cls)()
        for name, value in attributes.items():
            setattr(owner, name, value)
    function = getattr(owner, method)
    return lambda _timeout, _repeat=1: function(*args, _timeout=_timeout, _repeat=_repeat)


def _cpu_per_call(session, call, timeout, max_calls, at_least=1, best=False):
    """(CPU seconds per call of ``call``, its last result), measured around the calls (``session.timed``).

    Calls again until ``MIN_MEASURED_SECONDS`` of CPU time is measured (``MIN_MEASURED_TICKS_SECONDS``
    once a measure had to fall back on ticks) or ``max_calls`` is reached. After the first, the
    calls the measure still needs go in one request (``_repeat``), so the input crosses the
    channel two or three times rather than once per call. ``best`` gives the least of single
    calls (each long enough, each a request of its own) instead of the mean.
    """
    used, calls, result, least, needed = 0.0, 0, None, float("inf"), MIN_MEASURED_SECONDS
    while calls < max_calls and (calls < at_least or used < needed):
        count = 1 if best or not calls else _calls_needed(used, calls, max_calls, needed)
        with session.timed() as measure:
            result = call(timeout, count)
        seconds = measure.seconds
        if not measure.fine:  # the whole measure then needs as much time as ticks need
            needed = MIN_MEASURED_TICKS_SECONDS
        used += seconds
        least = min(least, seconds)
        calls += count
    return (least if best else used / calls), result


def _calls_needed(used, calls, max_calls, needed):
    """How many more calls reach ``needed`` seconds at the rate so far, with half as many again to spare
    (a first short call's rate is rough, in ticks above all); all that are left if none was seen."""
    left = max_calls - calls
    if used <= 0:  # below the clock's resolution so far
        return left
    return max(1, min(left, math.ceil(1.5 * (needed - used) / (used / calls))))


def _digest(call_input, cls):
    """A key for an input (the arrays' bytes, shapes and dtypes, and the other values' reprs)."""
    digest = hashlib.sha256(repr(cls).encode())

    def feed(value):
        if isinstance(value, np.ndarray):
            digest.update(f"{value.shape}{value.dtype}".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        elif isinstance(value, dict):
            for key in sorted(value):
                digest.update(repr(key).encode())
                feed(value[key])
        elif isinstance(value, (list, tuple)):
            digest.update(b"[")
            for item in value:
                feed(item)
            digest.update(b"]")
        else:
            digest.update(repr(value).encode())

    feed(call_input)
    return digest.hexdigest()


class _reference_session:
    """The reference solution's notebook in a worker of its own, of the same kind as the student's."""

    def __init__(self, context, notebook):
        self.context, self.notebook = context, notebook

    def __enter__(self):
        refs, student = self.context.references, self.context.session
        # All source notebooks, since one may load another (softmax loads svm).
        copies = {name: worker_copy(refs.notebook(name)) for name in refs.notebooks}
        self.session = StudentSession(refs.folder, student.limits, student.isolation, notebooks=copies,
                                      reference=True)
        try:
            source = refs.notebook(self.notebook)
            result = self.session.load(self.notebook, extract(self.notebook, source, source).load_cells(None))
            if result["failed"] or result["faults"]:
                raise GraderError(f"the reference {self.notebook} did not load in a worker of its own "
                                  f"(cells {sorted(result['failed']) + sorted(result['faults'])})")
        except BaseException:
            self.session.close()
            raise
        module = RemoteObject(self.session, self.notebook, f"reference {self.notebook}", self.session.generation)
        return self.session, module

    def __exit__(self, *exc):
        self.session.close()
