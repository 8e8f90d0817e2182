"""A control group per worker, where the machine lets the grader make one: the CPU time of all it ran.

/proc knows a process's CPU time while it lives, and a child's only once its parent has
reaped it, in 10 ms ticks: a child the kernel reaps itself (its parent ignores SIGCHLD)
leaves no trace at all. A cgroup's counter holds the time of every task that ever ran in
it, ended, reaped or not, to the microsecond (cgroup v2 ``cpu.stat``) or the nanosecond
(v1 ``cpuacct.usage``). A worker joins its group before it runs anything, so everything it
starts is in it too, daemons that leave its session included; without write access to
the cgroup tree (the sandboxed worker has another user id and no /sys) nothing can leave.

A group is made in the grader's own cgroup, of v2 or else of v1's ``cpuacct`` hierarchy.
Where neither can be written (an unprivileged user without a delegated cgroup, a
container's read-only cgroup tree, macOS), ``make_group`` returns None and the caller
measures from /proc (``run.CpuReading``); ``accounting`` says which is in use.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path

PROC = Path("/proc")
_PREFIX = "nn-kit-"  # a group's name: nn-kit-<grader pid>-<n>
_COUNTER = itertools.count(1)
_PARENT = [None]  # [None]: not looked for yet; [False]: none usable; [(kind, folder)]: where groups are made
_LOOKING = threading.Lock()  # one look per process, also where threads start workers at once (a Dask worker)


class CpuGroup:
    """One worker's cgroup.

    Parameters
    ----------
    folder : Path
        Its folder in the cgroup tree.
    kind : str
        ``"v2"`` (``cpu.stat``, microseconds) or ``"v1"`` (``cpuacct.usage``, nanoseconds).
    """

    def __init__(self, folder, kind):
        self.folder = Path(folder)
        self.kind = kind

    def __repr__(self):
        return f"CpuGroup({str(self.folder)!r}, {self.kind!r})"

    def join_file(self):
        """A descriptor of its ``cgroup.procs``, open for writing: writing ``b"0"`` to it moves the writer in."""
        return os.open(self.folder / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)

    def seconds(self):
        """CPU seconds of every task that ran in the group so far; None if it cannot be read."""
        try:
            if self.kind == "v2":
                for line in (self.folder / "cpu.stat").read_text().splitlines():
                    name, _, value = line.partition(" ")
                    if name == "usage_usec":
                        return int(value) / 1e6
                return None
            return int((self.folder / "cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError):
            return None

    def holds(self, pid):
        """Whether process ``pid`` is in the group."""
        try:
            return str(pid) in (self.folder / "cgroup.procs").read_text().split()
        except OSError:
            return False

    def remove(self, seconds=1.0):
        """Remove the group once its processes are gone (they leave it as they die); True if it is gone."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.folder.rmdir()
                return True
            except FileNotFoundError:
                return True
            except OSError:
                if time.monotonic() >= deadline:
                    return False  # left behind: removed by the next grader to make a group (_remove_stale)
                time.sleep(0.005)


def available():
    """Whether workers get a cgroup each here (looked for once per process)."""
    with _LOOKING:
        if _PARENT[0] is None:
            _PARENT[0] = _writable_parent() or False
            if _PARENT[0]:
                _remove_stale(_PARENT[0][1])
    return bool(_PARENT[0])


def unusable():
    """No more groups in this process: a worker could not join one (cgroup v2 forbids it where the
    grader's cgroup hands controllers down), so every later worker is counted from /proc alike."""
    _PARENT[0] = False


def make_group():
    """A new, empty ``CpuGroup``, or None where no cgroup can be made here."""
    if not available():
        return None
    kind, parent = _PARENT[0]
    folder = parent / f"{_PREFIX}{os.getpid()}-{next(_COUNTER)}"
    try:
        folder.mkdir()
    except OSError:
        return None
    return CpuGroup(folder, kind)


def accounting():
    """How worker CPU time is counted here, for ``autograder selftest``: a sentence."""
    group = make_group()
    if group is None:
        return "per process from /proc (no cgroup can be made here: see docs/security.md)"
    try:
        return f"by a cgroup per worker ({group.kind}, in {group.folder.parent})"
    finally:
        group.remove()


def _writable_parent():
    """(kind, folder) of this process's own cgroup where a child group can be made and joined, else None."""
    for kind, folder in _own_cgroups():
        probe = folder / f"{_PREFIX}{os.getpid()}-probe"
        try:
            probe.mkdir()
        except OSError:
            continue
        try:
            usable = os.access(probe / "cgroup.procs", os.W_OK) and CpuGroup(probe, kind).seconds() is not None
        finally:
            CpuGroup(probe, kind).remove()
        if usable:
            return kind, folder
    return None


def _own_cgroups():
    """(kind, folder) of this process's cgroup in the v2 tree, then in v1's cpuacct tree, as mounted here."""
    try:
        memberships = (PROC / "self" / "cgroup").read_text().splitlines()
        mounts = (PROC / "self" / "mountinfo").read_text().splitlines()
    except OSError:
        return []
    paths = {}  # "v2" or "v1" -> this process's path in that tree
    for line in memberships:
        number, controllers, path = line.split(":", 2)
        if number == "0" and controllers == "":
            paths["v2"] = path
        elif "cpuacct" in controllers.split(","):
            paths["v1"] = path
    found = []
    for kind in ("v2", "v1"):
        for line in mounts:
            # mountinfo: id parent major:minor root mount-point options ... - fstype source super-options
            fields, _, tail = line.partition(" - ")
            fields, tail = fields.split(), tail.split()
            if kind not in paths or len(fields) < 5 or len(tail) < 3:
                continue
            fstype, options = tail[0], tail[2].split(",")
            if (kind == "v2" and fstype != "cgroup2") or (kind == "v1" and (fstype != "cgroup"
                                                                              or "cpuacct" not in options)):
                continue
            root, mount_point, path = fields[3], fields[4], paths[kind]
            # A container may see its own cgroup as the mount's root.
            relative = os.path.relpath(path, root) if path.startswith(root) else None
            if relative is not None:
                found.append((kind, Path(mount_point) / ("" if relative == "." else relative)))
                break
    return found


def _remove_stale(parent):
    """Remove the groups that graders which have ended left behind (a group left only if its processes lingered)."""
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        owner = entry.name[len(_PREFIX):].split("-")[0]
        if entry.name.startswith(_PREFIX) and owner.isdigit() and not (PROC / owner).exists():
            CpuGroup(entry, "").remove(seconds=0)
