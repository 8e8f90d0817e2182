"""Isolation of the worker process, from what the operating system offers.

Three modes, strongest first; ``detect()`` finds at start-up which works here:

``bubblewrap``  (Debian package ``bubblewrap``) new user, PID, network, IPC and
                UTS namespaces: the worker sees only the Python installation,
                a staged copy of its own code and of ``utils``, a read-only
                copy of the submission's notebooks and its scratch folder.
``landlock``    where namespaces cannot be created (inside Docker or a
                JupyterHub pod): Landlock lets the worker read only those same
                folders and write only its scratch folder, and refuses TCP and
                signals to processes outside it; a seccomp filter refuses
                network sockets and debugging calls (``autograder.confine``).
``rlimits``     resource limits only; the worker can read what the grader can.

Always: a new session (its own process group, killed as a whole), resource
limits (``autograder.limits``), an environment with nothing of the grader's,
and, when the grader runs as root, an unprivileged user id of its own per
grading process, so the process limit applies and the worker cannot touch
the grader. What each mode guarantees is in docs/security.md.
"""
from __future__ import annotations

import functools
import multiprocessing.util
import os
import resource
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import RunError
from autograder.limits import Limits

WORKER_DIR = Path(__file__).resolve().parent / "worker"
UTILS_DIR = Path(__file__).resolve().parents[1] / "utils"
SANDBOX_SUBMISSION = "/submission"
SANDBOX_SCRATCH = "/tmp"
SANDBOX_WORKER = "/grader"
SECCOMP_PROGRAM = "seccomp.bpf"  # in the staged worker folder where ``bubblewrap_filters()``
SANDBOX_DATA = "/data"  # the downloaded datasets' folder (KIT_DATA_DIR), read-only
LEVELS = ("bubblewrap", "landlock", "rlimits")
# Worker user ids when the grader runs as root: one per grading process, owning no file.
WORKER_UID_BASE = 2_000_000
PID_SPAN = 1 << 22  # Linux's largest pid_max: ids of reference workers lie above every student worker's

# One BLAS thread: grades must not depend on how busy the machine is, and
# jobs run in parallel already.
_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

__all__ = ["Isolation", "Workspace", "detect", "worker_command", "apply_limits"]


@dataclass(frozen=True)
class Isolation:
    """Which isolation the worker gets on this machine, and why."""

    level: str  # one of LEVELS
    notes: tuple = field(default_factory=tuple)

    @property
    def sandboxed(self):
        """Whether the worker is kept from the grader's files (the reference, the hidden suites)."""
        return self.level in ("bubblewrap", "landlock")

    def describe(self):
        what = {
            "bubblewrap": "bubblewrap: new namespaces; the worker sees Python, its own code, a copy of the "
                          "submission and its scratch folder only; no network",
            "landlock": "Landlock and seccomp: the worker may read Python, its own code and a copy of the "
                        "submission, write its scratch folder only; no network sockets, no signals out",
            "rlimits": "resource limits and a process group only: NOT a sandbox, the worker can read "
                       "every file the grader can (the reference and the hidden tests included)",
        }[self.level]
        return "\n".join([f"isolation: {what}", *(f"  note: {note}" for note in self.notes)])


def worker_uid(isolation, reference=False):
    """The user id workers of this process run as; None for the grader's own.

    As root, a fresh unprivileged id per grading process, so that the process
    limit applies to each worker alone and the worker cannot touch the grader.
    A worker that runs the reference (``reference``, for the speed checks) gets
    an id of its own, so ending one worker never kills the other.
    Outside bubblewrap that needs a Python installation other users can read;
    where it is not (a Python under /root), the worker keeps root's id.
    """
    if not hasattr(os, "setresuid") or os.geteuid() != 0:  # setresuid: Linux and the BSDs, not macOS
        return None
    if isolation.level != "bubblewrap" and not _readable_by_others(Path(sys.executable).resolve(), *_python_roots()):
        return None
    return WORKER_UID_BASE + (PID_SPAN if reference else 0) + os.getpid()


def _readable_by_others(*paths):
    for path in paths:
        for folder in [*reversed(Path(path).parents), Path(path)]:
            try:
                mode = folder.stat().st_mode
            except OSError:
                return False
            if not mode & stat.S_IXOTH or (folder == Path(path) and not mode & stat.S_IROTH):
                return False
    return True


def detect(weakest=None):
    """The strongest isolation that works here, found by starting trial workers (once per process).

    Parameters
    ----------
    weakest : str, optional
        Use no stronger mode than this (``KIT_ISOLATION`` in the environment
        says the same); for tests of the weaker modes and for machines where
        a stronger mode misbehaves.
    """
    return _detect(weakest or os.environ.get("KIT_ISOLATION") or LEVELS[0])


detect.cache_clear = lambda: _detect.cache_clear()  # noqa: E731 - for tests that change the machine


@functools.lru_cache(maxsize=None)
def _detect(weakest):
    if weakest not in LEVELS:
        raise RunError(f"unknown isolation {weakest!r}; choose one of {', '.join(LEVELS)}")
    notes = []
    candidates = LEVELS[LEVELS.index(weakest):]
    if weakest != LEVELS[0]:
        notes.append(f"stronger modes not tried (asked for {weakest})")
    for level in candidates[:-1]:
        reason = _probe(level)
        if reason is None:
            return Isolation(level, tuple(notes))
        notes.append(f"{level} unusable: {reason}")
    return Isolation("rlimits", tuple(notes))


def _probe(level):
    """None if a trial worker under ``level`` starts and cannot read the grader's files; else why not."""
    if not sys.platform.startswith("linux"):
        return "not Linux"
    if level == "bubblewrap" and not shutil.which("bwrap"):
        return "not installed (Debian package bubblewrap)"
    if level == "landlock":
        from autograder import confine

        if confine.landlock_abi() < 1:
            return "the kernel offers no Landlock"
    # The trial must start numpy and must not read this file; `autograder selftest` checks the rest.
    code = (f"import numpy\ntry:\n    open({str(Path(__file__))!r}).close()\nexcept OSError:\n    print('ok')\n"
            "else:\n    print('grader files readable')")
    with Workspace({}, worker_uid(Isolation(level))) as workspace:
        argv, env, cwd = worker_command(workspace, Isolation(level), [sys.executable, "-I", "-c", code])
        try:
            done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60,
                                  preexec_fn=apply_limits(Limits(), workspace, Isolation(level)))
        except (OSError, subprocess.SubprocessError) as exc:
            return f"the trial worker did not start ({exc})"
    if done.returncode != 0 or done.stdout.strip() != "ok":
        return (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1][:300]
    return None


# -- the files a worker sees ---------------------------------------------------------

@functools.lru_cache(maxsize=None)
def bubblewrap_filters():
    """Whether a bubblewrap worker loads the seccomp filter: wherever seccomp works on this machine."""
    if not sys.platform.startswith("linux"):
        return False
    from autograder import confine

    return confine.seccomp_available()


@functools.lru_cache(maxsize=None)
def staged_worker_dir():
    """A copy of the worker's code and of ``utils``, outside the checkout, made once per process.

    The worker runs from here, so its own files tell it nothing of where the
    grader, the reference or the hidden suites live.
    """
    stage = Path(tempfile.mkdtemp(prefix="kit-worker-"))
    # A pool process never runs atexit's functions, only multiprocessing's finalizers (as do others at exit).
    multiprocessing.util.Finalize(None, shutil.rmtree, args=(stage,), kwargs={"ignore_errors": True},
                                  exitpriority=0)
    for name in ("main.py", "codec.py"):
        shutil.copy2(WORKER_DIR / name, stage / name)
    if bubblewrap_filters():
        from autograder import confine

        confine.write_seccomp_program(stage / SECCOMP_PROGRAM)
    shutil.copytree(UTILS_DIR, stage / "utils", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _make_readable(stage)
    return stage


def _make_readable(root):
    """Let any user read ``root`` (the worker may run as another user id), never write it."""
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


class Workspace:
    """One submission's folders for its workers, removed when it is closed.

    ``submission`` holds a copy of the notebooks as the grader read them
    (read-only to the worker); ``scratch`` is the only folder it may write.

    Parameters
    ----------
    notebooks : dict
        File name -> notebook text to place in ``submission``.
    uid : int or None
        The user id the worker runs as (it must own ``scratch``).
    dataset : str
        The dataset the notebooks load (``Limits.dataset``): its folder, if it has one, is readable.
    """

    def __init__(self, notebooks, uid=None, dataset="digits"):
        self.dataset = dataset
        self.root = Path(tempfile.mkdtemp(prefix="kit-grade-"))
        _OPEN_WORKSPACES.add(self.root)
        self.submission = self.root / "submission"
        self.scratch = self.root / "scratch"
        self.submission.mkdir()
        self.scratch.mkdir()
        for name, text in notebooks.items():
            (self.submission / Path(name).name).write_text(text, encoding="utf-8")
        _make_readable(self.submission)
        self.root.chmod(0o711)
        self.uid = uid
        if uid is not None:
            os.chown(self.scratch, uid, uid)
        self.scratch.chmod(0o711)  # root inside bubblewrap has no DAC override: it must be able to pass through

    def usage(self, max_entries):
        """(bytes, entries) written under ``scratch``; stops counting past ``max_entries``."""
        total, entries, stack = 0, 0, [str(self.scratch)]
        while stack and entries <= max_entries:
            try:
                with os.scandir(stack.pop()) as found:
                    for entry in found:
                        entries += 1
                        try:
                            info = entry.stat(follow_symlinks=False)
                        except OSError:
                            continue
                        total += info.st_blocks * 512 if hasattr(info, "st_blocks") else info.st_size
                        if stat.S_ISDIR(info.st_mode):
                            stack.append(entry.path)
            except OSError:
                continue
        return total, entries

    def clear_scratch(self):
        """Empty the scratch folder for a new worker, and restore its owner and mode (the last worker owned it)."""
        _remove_tree(self.scratch, keep_root=True)
        if self.uid is not None:
            os.chown(self.scratch, self.uid, self.uid)
        self.scratch.chmod(0o711)

    def close(self):
        _remove_tree(self.root)
        _OPEN_WORKSPACES.discard(self.root)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_OPEN_WORKSPACES = set()  # roots of this process's workspaces not closed yet


def remove_own_folders():
    """Remove every folder this process made, for a grading process that must end now.

    A grading interrupted at the wrong moment (making a workspace, removing one) leaves it open.
    """
    for root in list(_OPEN_WORKSPACES):
        _remove_tree(root)
        _OPEN_WORKSPACES.discard(root)
    if staged_worker_dir.cache_info().currsize:
        shutil.rmtree(staged_worker_dir(), ignore_errors=True)


def _remove_tree(root, keep_root=False):
    """Remove a tree the worker may have made hard to remove (folders without write or search bits)."""
    def unlock(function, path, _):
        try:
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
            function(path)
        except OSError:
            pass

    root = Path(root)
    if keep_root:
        for child in list(root.iterdir()) if root.exists() else []:
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, onerror=unlock)
            else:
                child.unlink(missing_ok=True)
    else:
        shutil.rmtree(root, onerror=unlock)


# -- the command line ------------------------------------------------------------------

def _python_roots():
    """Folders the interpreter and its packages live in (the venv and its base Python)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths()[key])
    paths.add(str(Path(sys.executable).resolve().parent))
    return sorted(p for p in paths if p and Path(p).exists())


def bwrap_command(workspace, argv):
    """The bubblewrap command line that runs ``argv`` inside the sandbox.

    As a normal user, bubblewrap makes a user namespace. As root it makes none (so
    the process limit can apply): the worker starts as root inside the sandbox with
    only the capabilities to change its user id, and drops to ``workspace.uid``
    before it runs anything else (``worker/main.py --uid``).
    """
    command = ["bwrap", "--die-with-parent", "--new-session"]
    if workspace.uid is None:
        command += ["--unshare-all", "--cap-drop", "ALL"]
    else:
        command += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                    "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    # The scratch folder first: binds after it may lie inside /tmp (a virtualenv or a
    # checkout there), and a later mount on /tmp would hide them.
    command += ["--bind", str(workspace.scratch), SANDBOX_SCRATCH, "--proc", "/proc", "--dev", "/dev"]
    binds = [(d, d) for d in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/alternatives")
             if Path(d).exists()]
    binds += [(root, root) for root in _python_roots()]
    binds += [(str(staged_worker_dir()), SANDBOX_WORKER), (str(workspace.submission), SANDBOX_SUBMISSION)]
    data = dataset_folder(workspace.dataset)
    if data is not None:  # the dataset's own folder only: nothing else of the data directory
        binds.append((str(data), f"{SANDBOX_DATA}/{data.name}"))
    made = {SANDBOX_SCRATCH}
    for source, target in binds:
        # Folders bubblewrap makes on the way to a mount point would be private to root (also
        # inside the scratch folder, when the venv lives under /tmp: a clone in /tmp).
        for parent in reversed(Path(target).parents[:-1]):
            if str(parent) not in made:
                command += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        command += ["--ro-bind", source, target]
    command += ["--chdir", SANDBOX_SUBMISSION, "--clearenv"]
    for name, value in worker_environment(SANDBOX_SCRATCH, workspace.dataset, SANDBOX_DATA).items():
        command += ["--setenv", name, value]
    return command + list(argv)


def worker_environment(scratch, dataset="digits", data_dir=None):
    """The environment the worker sees: nothing of the grader's but what Python and the dataset need.

    ``data_dir`` is where the worker finds the folder of ``dataset`` (``SANDBOX_DATA`` inside
    bubblewrap); default: where it is on this machine.
    """
    env = {"PATH": "/usr/bin:/bin", "HOME": str(scratch), "TMPDIR": str(scratch), "LANG": "C.UTF-8",
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(scratch), "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONHASHSEED": "0"}
    env.update({name: "1" for name in _THREAD_VARS})
    from utils import cifar10
    from utils.data import ENV_VAR

    env[ENV_VAR] = dataset
    data = dataset_folder(dataset)
    if data is not None:
        env[cifar10.ENV_DATA_DIR] = str(data_dir or data.parent)
        if os.environ.get(cifar10.ENV_MD5):  # a mirror's checksum the grader's own loads trust too
            env[cifar10.ENV_MD5] = os.environ[cifar10.ENV_MD5]
    return env


def dataset_folder(dataset):
    """The folder of ``dataset`` on this machine: None for digits, which ship with scikit-learn.

    Raises
    ------
    RunError
        CIFAR-10 is not in its data directory (``KIT_DATA_DIR``).
    """
    from utils import cifar10

    if dataset != "cifar10":
        return None
    folder = cifar10.resolve_data_dir() / cifar10.FOLDER_NAME
    if not folder.is_dir():
        raise RunError(f"grading on CIFAR-10, but {folder} does not exist; download it with "
                       f"`{cifar10.DOWNLOAD_COMMAND}` or point {cifar10.ENV_DATA_DIR} at its data directory")
    return folder.resolve()


def worker_command(workspace, isolation=None, argv=None):
    """(argv, env, cwd) that start the worker (or ``argv``) for one workspace."""
    isolation = isolation or detect()
    if argv is None:
        folder = SANDBOX_WORKER if isolation.level == "bubblewrap" else staged_worker_dir()
        argv = [sys.executable, "-I", "-B", f"{folder}/main.py"]
        if isolation.level == "bubblewrap" and workspace.uid is not None:
            argv += ["--uid", str(workspace.uid)]
        if isolation.level == "bubblewrap" and bubblewrap_filters():
            # Wherever seccomp works: a worker whose program is missing does not start (Landlock's
            # preexec_fn loads the same filter).
            argv += ["--seccomp", f"{folder}/{SECCOMP_PROGRAM}"]
    if isolation.level == "bubblewrap":
        return bwrap_command(workspace, argv), None, None
    return list(argv), worker_environment(workspace.scratch, workspace.dataset), str(workspace.submission)


def landlock_paths(workspace):
    """(read-only, read-write) folders a worker under Landlock may use."""
    from autograder import confine

    read_only = [*confine.python_read_paths(), *_python_roots(), str(staged_worker_dir()), str(workspace.submission)]
    data = dataset_folder(workspace.dataset)
    if data is not None:
        read_only.append(str(data))
    return read_only, [str(workspace.scratch), "/dev/null"]  # the worker points its fds 0-2 at /dev/null


def apply_limits(limits, workspace=None, isolation=None):
    """A ``preexec_fn``: own session, resource limits, an unprivileged user id, and Landlock if asked.

    Everything it needs is computed before the fork: the function only makes system calls.
    """
    uid = workspace.uid if workspace is not None else None
    # Inside bubblewrap the worker drops to ``uid`` itself, after the sandbox is made.
    drop_to = uid if isolation is not None and isolation.level != "bubblewrap" else None
    confinement = None
    if isolation is not None and isolation.level == "landlock":
        from autograder import confine

        confinement = (confine.confine, *landlock_paths(workspace))
    processes = limits.processes if uid is not None else _own_processes_limit(limits.processes)
    settings = [
        ("RLIMIT_AS", limits.memory_bytes), ("RLIMIT_CPU", limits.cpu_seconds),
        ("RLIMIT_FSIZE", limits.file_bytes), ("RLIMIT_NOFILE", limits.open_files),
        ("RLIMIT_CORE", 0), ("RLIMIT_NPROC", processes),
    ]
    settings = [(getattr(resource, name), value) for name, value in settings
                if hasattr(resource, name) and value is not None]

    def preexec():
        os.setsid()
        for name, value in settings:
            try:
                resource.setrlimit(name, (value, value))
            except (ValueError, OSError):
                pass  # a limit this platform does not enforce (RLIMIT_AS on macOS)
        if drop_to is not None:
            os.setgroups([])
            os.setresgid(drop_to, drop_to, drop_to)
            os.setresuid(drop_to, drop_to, drop_to)
        if confinement is not None:
            function, read_only, read_write = confinement
            function(read_only, read_write)

    return preexec


def _own_processes_limit(extra):
    """RLIMIT_NPROC for a worker that shares the grader's user id: what the user runs now, plus ``extra``.

    The limit counts every process of the user, so it cannot be small; on a
    machine where the count cannot be read (not Linux), it is not set.
    """
    try:
        uid = os.getuid()
        count = sum(1 for entry in os.scandir("/proc") if entry.name.isdigit() and _owner(entry) == uid)
    except OSError:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
    wanted = count + extra
    return None if soft != resource.RLIM_INFINITY and soft < wanted else wanted


def _owner(entry):
    try:
        return entry.stat().st_uid
    except OSError:
        return None
