"""Every limit a submission is graded under, declared once.

The defaults below hold for every assignment; an assignment may change any
of them in the ``[limits]`` table of its manifest (``solutions/<assignment>/manifest.toml``),
and change them again for one of its datasets in a ``[limits.<dataset>]`` table::

    [limits]
    call_seconds = 20

    [limits.cifar10]
    memory_bytes = 4_294_967_296

The limits are written into each result and printed in the student's
feedback, so a student knows what their code must fit in.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from autograder.errors import GraderError

MiB = 1024**2


@dataclass(frozen=True)
class Limits:
    """What one submission may use.

    The time limits of one request (a call, a cell, a start) are CPU seconds of the worker's
    processes, read by the trusted side, so that a busy machine, which stretches wall time, does
    not change a grade. Code that waits rather than computes (a sleep, input, a lock) is stopped
    once it has taken its limit in wall-clock time, where the grader can read how long the
    worker waited for a processor (``run.Worker._watch``); a wall-clock backstop ``wall_factor``
    times longer stops anything else.
    """

    # Time.
    # One call into the student's code, sending and receiving included. The slowest call the digits
    # suites make of the reference takes under 30 ms; an endless loop costs the whole limit. Code
    # filling its memory can take longer than this to reach its MemoryError on a busy machine: the
    # timeout's feedback then says that its memory grew (see run.MEMORY_GROWTH_NAMED).
    call_seconds: float = 5.0
    load_seconds: float = 30.0  # running one definition cell
    tuning_seconds: float = 120.0  # running one tuning cell
    start_seconds: float = 60.0  # starting a worker process
    # Everything a submission's grading does, in all: its CPU time, and the wall-clock time of code that
    # waits beyond ``wall_factor`` times its CPU time (``budget.Budget``); so at most ``wall_factor`` times
    # this in wall-clock time.
    submission_seconds: float = 300.0
    # The wall-clock time a request may take, as a multiple of its CPU time limit: up to this many
    # processes can take turns on each core before a grade depends on how busy the machine is.
    wall_factor: float = 3.0
    # One worker process (operating-system limits).
    memory_bytes: int = 2048 * MiB  # address space
    cpu_seconds: int = 300  # CPU time
    processes: int = 64  # processes and threads (where it applies: see docs/security.md)
    open_files: int = 256
    file_bytes: int = 16 * MiB  # the largest file it may write
    scratch_bytes: int = 64 * MiB  # everything in its scratch folder
    scratch_files: int = 2000  # files and folders in its scratch folder
    # What the worker may send to the trusted side, which keeps it in memory.
    reply_bytes: int = 64 * MiB  # one reply
    reply_header_bytes: int = 1 * MiB  # the structured part of one reply (lists, dicts, numbers)
    received_bytes: int = 512 * MiB  # all replies of a submission together
    # Not a limit: the dataset the limits were chosen for (the one the submission is graded on).
    dataset: str = "digits"

    def describe(self, cpu_time=True):
        """The limits as short lines for a student: "each call into your code: 5 s of CPU time", ...

        ``cpu_time=False`` where the worker's CPU time could not be read: the time limits were
        wall-clock time (``run.cpu_time_readable``).
        """
        unit = "CPU time" if cpu_time else "wall-clock time"
        whole = f"the whole submission: {self.submission_seconds:g} s of {unit}"
        if cpu_time:  # as the budget is charged (budget.Budget)
            whole += (f", the grader's work on its tests included (time spent waiting, beyond {self.wall_factor:g} "
                      "times that, counts too); "
                      f"{self.wall_factor * self.submission_seconds:g} s of wall-clock time at most")
        return [
            f"graded on the {self.dataset} dataset",
            f"each call into your code: {self.call_seconds:g} s of {unit}",
            f"running a definition cell: {self.load_seconds:g} s of {unit}; a tuning cell: "
            f"{self.tuning_seconds:g} s of {unit}",
            *([f"code that waits (a sleep, input) is stopped once it took as long in wall-clock time; any code "
               f"at {self.wall_factor:g} times as long"] if cpu_time else []),
            whole,
            f"memory: {size_text(self.memory_bytes)}; processes and threads: {self.processes}",
            f"files written: {size_text(self.file_bytes)} each, {size_text(self.scratch_bytes)} "
            f"and {self.scratch_files} files in all",
            f"data your code returns: {size_text(self.reply_bytes)} per call, {size_text(self.received_bytes)} in all",
        ]

    def to_dict(self):
        return dataclasses.asdict(self)


def size_text(n):
    """A byte count as a student reads it: "64 MiB", "2 GiB"."""
    return f"{n / 1024**3:g} GiB" if n >= 1024**3 else f"{n / MiB:g} MiB"


def load_limits(manifest, dataset=None):
    """The limits of an assignment on a dataset: the defaults, changed by the ``[limits]`` of its
    manifest, then by its ``[limits.<dataset>]``.

    Parameters
    ----------
    manifest : utils.manifest.Manifest
    dataset : str, optional
        Default: the dataset the notebooks load (``$KIT_DATASET``, else digits). An assignment
        that does not run on it is graded on its first dataset (assignment 0: always digits).

    Raises
    ------
    GraderError
        If a table names an unknown limit or dataset, or gives a value that is not a positive number.
    """
    from utils.data import dataset_name

    dataset = dataset_name(dataset)
    if dataset not in manifest.datasets:
        dataset = manifest.datasets[0]
    table = {name: value for name, value in manifest.limits.items() if not isinstance(value, dict)}
    per_dataset = {name: value for name, value in manifest.limits.items() if isinstance(value, dict)}
    unknown = sorted(set(per_dataset) - set(manifest.datasets))
    if unknown:
        raise GraderError(f"{manifest.path}: [limits.{unknown[0]}] is not a dataset of the assignment; "
                          f"its datasets: {', '.join(manifest.datasets)}")
    limits = _changed(Limits(dataset=dataset), table, manifest.path, "[limits]")
    return _changed(limits, per_dataset.get(dataset, {}), manifest.path, f"[limits.{dataset}]")


def _changed(limits, table, path, where):
    fields = {f.name: f.type for f in dataclasses.fields(Limits) if f.name != "dataset"}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise GraderError(f"{path}: {where} has unknown limits {', '.join(unknown)}; known: {', '.join(fields)}")
    for name, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise GraderError(f"{path}: {where} {name} must be a positive number, not {value!r}")
        if name == "wall_factor" and value < 1:  # CPU time of one thread cannot outgrow wall time
            raise GraderError(f"{path}: {where} wall_factor must be at least 1, not {value!r}")
        if fields[name] == "int" and not isinstance(value, int):
            raise GraderError(f"{path}: {where} {name} must be a whole number, not {value!r}")
    return dataclasses.replace(limits, **table)
