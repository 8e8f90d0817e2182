"""Isolation of the worker process, from what the operating system offers.

Always: a new session (its own process group, killed as a whole) and
``resource`` limits on memory, CPU time, file size and open files. On Linux
with bubblewrap (Debian package ``bubblewrap``) usable: a read-only view of
only the Python installation, the shipped ``utils`` package, the worker's own
code and the one submission, a private /tmp, no network and new PID, IPC and
UTS namespaces. ``detect()`` finds out at start-up which of these hold.
"""
from __future__ import annotations

import functools
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

WORKER_DIR = Path(__file__).resolve().parent / "worker"
UTILS_DIR = Path(__file__).resolve().parents[1] / "utils"
SANDBOX_SUBMISSION = "/submission"
SANDBOX_WORKER = "/grader"

# One BLAS thread: grades must not depend on how busy the machine is, and
# jobs run in parallel already.
_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker process."""

    memory_bytes: int = 2 * 1024**3
    cpu_seconds: int = 300
    file_bytes: int = 16 * 1024**2
    open_files: int = 256


@dataclass(frozen=True)
class Isolation:
    """Which isolation the worker gets on this machine, and why."""

    level: str  # "bubblewrap" or "rlimits"
    notes: tuple = field(default_factory=tuple)

    def describe(self):
        if self.level == "bubblewrap":
            what = ("bubblewrap: read-only view of Python, utils and the submission only, private /tmp, "
                    "no network, new PID/IPC/UTS namespaces; plus resource limits and a process group")
        else:
            what = "resource limits and a process group only (the worker can read files the grader can read)"
        return "\n".join([f"isolation: {what}", *(f"  note: {note}" for note in self.notes)])


@functools.lru_cache(maxsize=None)
def detect():
    """The strongest isolation that works here, found by starting a trial sandbox."""
    bwrap = shutil.which("bwrap")
    if not sys.platform.startswith("linux"):
        return Isolation("rlimits", ("not Linux: no bubblewrap",))
    if not bwrap:
        return Isolation("rlimits", ("bubblewrap is not installed (Debian package bubblewrap)",))
    probe = bwrap_command(Path("/"), [sys.executable, "-I", "-c", "import numpy, socket; print('ok')"])
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Isolation("rlimits", (f"bubblewrap failed to start: {exc}",))
    if done.returncode != 0 or done.stdout.strip() != "ok":
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Isolation("rlimits", (f"bubblewrap is installed but cannot create a sandbox here: {reason}",))
    return Isolation("bubblewrap")


def _python_roots():
    """Folders the interpreter and its packages live in (the venv and its base Python)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths()[key])
    paths.add(str(Path(sys.executable).resolve().parent))
    return sorted(p for p in paths if p and Path(p).exists())


def bwrap_command(submission_dir, argv, worker_dir=WORKER_DIR):
    """The bubblewrap command line that runs ``argv`` inside the sandbox."""
    command = ["bwrap", "--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL",
               # First the private /tmp, /proc and /dev: binds after them may lie inside /tmp
               # (a virtualenv or a checkout there), and a later tmpfs would hide them.
               "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
    for system_dir in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/alternatives"):
        if Path(system_dir).exists():
            command += ["--ro-bind", system_dir, system_dir]
    for root in _python_roots():
        command += ["--ro-bind", root, root]
    command += [
        "--ro-bind", str(UTILS_DIR), str(UTILS_DIR),
        "--ro-bind", str(worker_dir), SANDBOX_WORKER,
        "--ro-bind", str(submission_dir), SANDBOX_SUBMISSION,
        "--chdir", SANDBOX_SUBMISSION,
        "--clearenv",
    ]
    for name, value in worker_environment().items():
        command += ["--setenv", name, value]
    return command + list(argv)


def worker_environment():
    """The environment the worker sees: nothing of the grader's but what Python needs."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
           "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    env.update({name: "1" for name in _THREAD_VARS})
    if os.environ.get("KIT_DATASET"):
        env["KIT_DATASET"] = os.environ["KIT_DATASET"]
    return env


def worker_command(submission_dir, isolation=None):
    """(argv, env, cwd) that start the worker for one submission folder."""
    isolation = isolation or detect()
    python = [sys.executable, "-I", "-B"]
    if isolation.level == "bubblewrap":
        return bwrap_command(submission_dir, python + [f"{SANDBOX_WORKER}/main.py"]), None, None
    env = dict(worker_environment(), HOME=str(submission_dir))
    return python + [str(WORKER_DIR / "main.py")], env, str(submission_dir)


def apply_limits(limits):
    """A ``preexec_fn`` that puts the child in its own session under ``limits``."""

    def preexec():
        os.setsid()
        for name, value in (
            (resource.RLIMIT_AS, limits.memory_bytes),
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_FSIZE, limits.file_bytes),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_CORE, 0),
        ):
            resource.setrlimit(name, (value, value))

    return preexec
