"""A control group per worker, where the machine lets the grader make one: the CPU time of all it ran.

/proc knows a process's CPU time while it lives, and a child's only once its parent has
reaped it, in 10 ms ticks: a child the kernel reaps itself (its parent ignores SIGCHLD)
leaves no trace at all. A cgroup's counter holds the time of every task that ever ran in
it, ended, reaped or not (cgroup v2 ``cpu.stat``, in microseconds, or v1 ``cpuacct.usage``,
in nanoseconds; a task still running when it is read may be up to one scheduler tick
behind, as its own clock is). A worker joins its group before it runs anything, so
everything it starts is in it too, daemons that leave its session included.

A group only counts what the worker cannot take out of it: ``Worker.start`` gives one only
to a worker that cannot write the cgroup tree (``holds_every_process``). A worker that could
(one with the grader's user id outside bubblewrap) could move a child into another group,
the reference's included, with ``clone3(CLONE_INTO_CGROUP)``, which Landlock does not see.
And a group has two levels: the worker joins its inner group (``JOINED``), the grader reads
the outer one, which counts the inner one's tasks too. A worker that made itself a cgroup
namespace (a user namespace lets it) sees the inner group as its root, at most: what it can
write there (move tasks into new sub-groups, reset a v1 counter, take the files' permissions
away) does not change the outer group's count.

A group is made in the grader's own cgroup, of v2 or else of v1's ``cpuacct`` hierarchy.
Where neither can be written and joined (an unprivileged user without a delegated cgroup, a
container's read-only cgroup tree, macOS), ``make_group`` returns None and the caller
measures from /proc (``run.CpuReading``); ``accounting`` says which is in use.
"""
from __future__ import annotations

import itertools
import os
import re
import threading
import time
from pathlib import Path

PROC = Path("/proc")
_PREFIX = "nn-kit-"  # a group's name: nn-kit-<grader's pid namespace>.<grader pid>.<its start time>-<n>
JOINED = "w"  # the inner group a worker joins (see above)
_COUNTER = itertools.count(1)
_PARENT = [None]  # [None]: not looked for yet; [False]: none usable; [(kind, folder)]: where groups are made
_LOOKING = threading.Lock()  # one look per process, whichever thread starts the first worker


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
        """A descriptor of its inner group's ``cgroup.procs``, open for writing: writing ``b"0"`` to it
        moves the writer in."""
        return os.open(self.folder / JOINED / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)

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

    def waited(self):
        """Seconds in which a task of the group could have run but waited for a processor (cgroup v2's
        ``cpu.pressure``, "some"); None where it cannot be read (cgroup v1, a kernel without PSI)."""
        try:
            for line in (self.folder / "cpu.pressure").read_text().splitlines():
                kind, *fields = line.split()
                if kind == "some":
                    return int(dict(field.split("=", 1) for field in fields)["total"]) / 1e6
        except (OSError, ValueError, KeyError):
            pass
        return None

    def pids(self):
        """Pids of the processes in the group and the groups below it now, as far as they can be read.

        A process of another pid namespace shows as 0 there: left out, since ``os.kill(0, ...)``
        would signal the grader's own process group.
        """
        found = set()
        for folder in self._folders():
            try:
                found |= {int(pid) for pid in (folder / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                continue
        return found - {0}

    def kill_all(self):
        """Kill every process in the group and below it, whatever its pid namespace (cgroup v2's
        ``cgroup.kill``, Linux 5.14+); False where the kernel has no such file."""
        try:
            descriptor = os.open(self.folder / "cgroup.kill", os.O_WRONLY | os.O_CLOEXEC)  # never made here
        except OSError:
            return False
        try:
            os.write(descriptor, b"1")
            return True
        except OSError:
            return False
        finally:
            os.close(descriptor)

    def remove(self, seconds=1.0):
        """Remove the group, the groups below it first, once their processes are gone (they leave as
        they die); True if it is gone."""
        deadline = time.monotonic() + seconds
        while True:
            for folder in self._folders():
                try:
                    folder.rmdir()
                except OSError:
                    pass
            if not self.folder.exists():
                return True
            if time.monotonic() >= deadline:
                return False  # left behind: removed by a later grader of this pid namespace (_remove_stale)
            time.sleep(0.005)

    def _folders(self):
        """Its folder and the groups below it, the deepest first (an unreadable folder ends its branch)."""
        return [Path(top) for top, _, _ in os.walk(self.folder, topdown=False)]


def holds_every_process(isolation, uid):
    """Whether a worker's group would count all it runs: the worker cannot write the cgroup tree.

    Inside bubblewrap it sees no /sys and holds no descriptor of a cgroup; elsewhere it needs a
    user id of its own (``uid``), which may not write the grader's cgroups (root's, or a delegated
    user's: the grader's own id).
    """
    return isolation.level == "bubblewrap" or uid is not None


def available():
    """Whether a cgroup can be made and joined here (looked for once per process)."""
    return _parent() is not None


def counts_workers(isolation, uid):
    """Whether workers started here with ``isolation`` and user id ``uid`` get a cgroup each."""
    return holds_every_process(isolation, uid) and available()


def unusable():
    """No more groups in this process: a worker could not join one after all, so that every
    later worker is counted from /proc alike, and the speed checks measure one way."""
    _PARENT[0] = False


def make_group():
    """A new, empty ``CpuGroup``, or None where no cgroup can be made here."""
    parent = _parent()
    if parent is None:
        return None
    kind, folder = parent
    for _ in range(100):  # a name a group left behind holds is skipped
        try:
            return _made(folder / f"{_PREFIX}{_OWNER}-{next(_COUNTER)}", kind)
        except FileExistsError:
            continue
        except OSError:  # the tree is full (cgroup.max.descendants) or went read-only
            break
    unusable()  # so that every later worker of this process is measured alike, from /proc
    return None


def _made(folder, kind):
    """A new ``CpuGroup`` at ``folder``, with its inner group.

    Raises
    ------
    OSError
        If either cannot be made (``FileExistsError``: the name is taken); nothing is left behind.
    """
    folder.mkdir()
    group = CpuGroup(folder, kind)
    try:
        (folder / JOINED).mkdir()
    except OSError:
        group.remove(seconds=0)
        raise
    return group


def accounting(isolation, uid):
    """How the CPU time of workers started with ``isolation`` and user id ``uid`` is counted here,
    for ``autograder selftest``: a sentence."""
    parent = _parent()
    if parent is None:
        return "per process from /proc (no cgroup can be made and joined here: see docs/security.md)"
    kind, folder = parent
    if not holds_every_process(isolation, uid):
        return ("per process from /proc (a cgroup could be made, but these workers could move work out of it: "
                "they have the grader's user id outside bubblewrap)")
    return f"by a cgroup per worker ({kind}, in {folder})"


def _parent():
    """(kind, folder) where groups are made, or None; looked for once, under the lock."""
    with _LOOKING:
        if _PARENT[0] is None:
            _PARENT[0] = _joinable_parent() or False
            if _PARENT[0]:
                _remove_stale(_PARENT[0][1])
        return _PARENT[0] or None


def _start_time(pid):
    """The start time of process ``pid`` in ticks since boot, as a string; None if there is no such process."""
    try:
        return (PROC / str(pid) / "stat").read_text().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return None


def _pid_namespace():
    """This process's pid namespace, as the inode of its /proc entry ("" where there is none)."""
    try:
        return str(os.stat(PROC / "self" / "ns" / "pid").st_ino)
    except OSError:
        return ""


# A pid with its start time names one process only, and only in its own pid namespace.
_OWNER = f"{_pid_namespace()}.{os.getpid()}.{_start_time(os.getpid())}"


def _joinable_parent():
    """(kind, folder) of this process's own cgroup where a child group can be made and a process can join it."""
    for kind, folder in _own_cgroups():
        try:
            probe = _made(folder / f"{_PREFIX}{_OWNER}-probe", kind)
        except OSError:
            continue
        try:
            if probe.seconds() is not None and _can_join(probe):
                return kind, folder
        finally:
            probe.remove()
    return None


def _can_join(group):
    """Whether a process can move itself into ``group`` (a forked child tries, then ends)."""
    try:
        descriptor = group.join_file()
    except OSError:
        return False
    try:
        pid = os.fork()
        if pid == 0:  # the child only writes and exits: safe in a process with threads
            try:
                os.write(descriptor, b"0")
                os._exit(0)
            except BaseException:
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status) == 0
    except OSError:
        return False
    finally:
        os.close(descriptor)


def _own_cgroups():
    """(kind, folder) of this process's cgroup in the v2 tree, then in v1's cpuacct tree, as mounted here."""
    try:
        memberships = (PROC / "self" / "cgroup").read_text().splitlines()
        mounts = (PROC / "self" / "mountinfo").read_text().splitlines()
    except OSError:
        return []
    paths = {}  # "v2" or "v1" -> this process's path in that tree
    for line in memberships:
        if line.count(":") < 2:
            continue  # not a membership line: nothing to find in it
        number, controllers, path = line.split(":", 2)
        if number == "0" and controllers == "":
            paths["v2"] = path
        elif "cpuacct" in controllers.split(","):
            paths["v1"] = path
    found = []
    for kind in ("v2", "v1"):
        for line in mounts:
            # mountinfo: id parent major:minor root mount-point options ... - fstype source super-options
            # (split on single spaces: the source may be empty)
            fields, _, tail = line.partition(" - ")
            fields, tail = fields.split(), tail.split(" ")
            if kind not in paths or len(fields) < 5 or len(tail) < 3:
                continue
            fstype, options = tail[0], tail[2].split(",")
            if (kind == "v2" and fstype != "cgroup2") or (kind == "v1" and (fstype != "cgroup"
                                                                              or "cpuacct" not in options)):
                continue
            folder = _inside(_unescape(fields[3]), _unescape(fields[4]), paths[kind])
            if folder is not None and (kind, folder) not in found:
                found.append((kind, folder))  # every mount of the tree: the first may be read-only
    return found


def _inside(root, mount_point, path):
    """Where cgroup ``path`` is under a mount of the tree's ``root`` at ``mount_point``; None if it is not under it.

    A container may see its own cgroup as the mount's root; a path outside its namespace
    (``/../sibling``) is not under any mount it has.
    """
    parts, root_parts = Path(path).parts, Path(root).parts
    if ".." in parts or parts[:len(root_parts)] != root_parts:
        return None
    return Path(mount_point, *parts[len(root_parts):])


def _unescape(field):
    """A mountinfo field with its octal escapes (``\\040`` for a space) decoded."""
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)


def _remove_stale(parent):
    """Remove the groups that ended graders of this pid namespace left behind, with what they still hold
    (a grader that crashed leaves its workers' daemons in them).

    A grader is known by its pid namespace, pid and start time: a later process with its pid is
    not taken for it, and groups of graders in other pid namespaces (other containers sharing
    this cgroup) are left alone, since their pids mean nothing here.
    """
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        owner = entry.name[len(_PREFIX):].rpartition("-")[0].split(".")
        if not entry.name.startswith(_PREFIX) or not owner[-2:-1] or not owner[-2].isdigit():
            continue
        if len(owner) == 3 and owner[0] == _OWNER.split(".")[0] and not _lives(*owner[1:]):
            group = CpuGroup(entry, "")
            group.kill_all()
            group.remove(seconds=0.2)
        elif len(owner) == 2 and not _lives(*owner):  # named before names had the namespace: only if empty
            CpuGroup(entry, "").remove(seconds=0)


def _lives(pid, started):
    """Whether process ``pid`` that started at ``started`` (ticks since boot) still runs; also True where
    it may (its /proc entry is hidden from this user, ``hidepid``, but the pid is taken)."""
    now = _start_time(pid)
    if now is not None:
        return now == started
    try:
        os.kill(int(pid), 0)
    except PermissionError:
        return True
    except OSError:
        return False
    return True  # it exists, yet /proc shows nothing of it: it may be the grader, so it is left alone
