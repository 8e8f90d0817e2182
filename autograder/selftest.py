"""``autograder selftest``: can this machine grade, and which guarantees hold for student code here?

It starts a real worker in the mode ``sandbox.detect`` chose and tries, as
hostile student code would, each thing the mode is meant to prevent. Every
line says what was tried and whether the guarantee holds; the exit status is
non-zero when a guarantee the mode promises does not hold, or when
``require_sandbox`` is set and the mode is not a sandbox.
"""
from __future__ import annotations

import os
import tempfile

from autograder import cpu_group
from autograder.compare import HIDDEN_TESTS
from autograder.limits import Limits
from autograder.proxy import RemoteObject
from autograder.reference import SOLUTIONS
from autograder.run import StudentFault, StudentSession
from autograder.sandbox import detect, worker_uid

# probe -> the modes that promise it
PROMISES = {
    "timeout": ("bubblewrap", "landlock", "rlimits"),
    "memory_limit": ("bubblewrap", "landlock", "rlimits"),
    "scratch_only": ("bubblewrap", "landlock"),
    "grader_files": ("bubblewrap", "landlock"),
    "grader_environment": ("bubblewrap", "landlock"),
    "network": ("bubblewrap", "landlock"),
    "signals": ("bubblewrap", "landlock"),
    "namespaces": ("bubblewrap", "landlock"),  # where seccomp works (``NEEDS_SECCOMP``)
}
NEEDS_SECCOMP = ("namespaces",)


def promised(name, level):
    """Whether the mode ``level`` promises what the probe ``name`` tries to be impossible on this machine."""
    if level not in PROMISES[name]:
        return False
    if name in NEEDS_SECCOMP:
        from autograder import confine

        return confine.seccomp_available()
    return True


def run_probes(isolation=None):
    """{probe: (holds, detail)} for a real worker under ``isolation`` (default: the detected mode)."""
    isolation = isolation or detect()
    limits = Limits(memory_bytes=512 * 2**20, call_seconds=5)
    found = {}
    with tempfile.TemporaryDirectory() as folder, StudentSession(folder, limits, isolation) as session:
        session.load("probe", [("probe", PROBE)])
        probe = RemoteObject(session, "probe", "probe", session.generation)
        secret = os.environ.setdefault("KIT_SELFTEST_SECRET", "kit-selftest-secret")
        calls = {
            "timeout": lambda: probe.forever(_timeout=2),
            "memory_limit": lambda: probe.allocate(2**30),
            "scratch_only": lambda: probe.write_outside([os.path.join(folder, "escaped"), "/var/tmp/kit-selftest-escaped"]),
            "grader_files": lambda: probe.read_any([str(HIDDEN_TESTS / "pytest.ini"), str(SOLUTIONS)]),
            "grader_environment": lambda: probe.environment_has(secret, os.getpid()),
            "network": lambda: probe.network(),
            "signals": lambda: probe.signal_grader(os.getpid()),
            "namespaces": lambda: probe.make_namespace(),
        }
        for name, call in calls.items():
            try:
                value = call()
            except StudentFault as exc:
                value = {"timeout": "stopped", "memory_limit": "stopped"}.get(name, f"fault: {exc}")
            holds = value in ("stopped", "blocked", "hidden")
            found[name] = (holds, str(value))
    return found


def selftest(require_sandbox=False):
    """Print what holds here; returns the exit status."""
    isolation = detect()
    print(isolation.describe())
    print("worker CPU time, for the time limits and the speed checks: counted "
          + cpu_group.accounting(isolation, worker_uid(isolation)))
    ok = True
    for name, (holds, detail) in run_probes(isolation).items():
        promise = promised(name, isolation.level)
        mark = "ok " if holds else ("BAD" if promise else "-- ")
        ok &= holds or not promise
        print(f"  {mark} {name}: {detail}{'' if holds or promise else ' (not promised here)'}")
    if require_sandbox and not isolation.sandboxed:
        print("selftest FAILED: a sandbox is required (--require-sandbox) and none works here")
        return 1
    print("selftest passed" if ok else "selftest FAILED")
    return 0 if ok else 1


PROBE = '''
import os, signal, socket, time
from pathlib import Path

def forever():
    while True:
        time.sleep(0.1)

def allocate(n):
    return len(bytearray(n))

def write_outside(paths):
    for path in [*paths, os.path.join(os.getcwd(), "escaped")]:  # the working folder: the submission's copy
        try:
            Path(path).write_text("escaped")
            return "wrote " + path
        except OSError:
            pass
    Path(os.environ["TMPDIR"], "scratch-file").write_text("kept")  # the one folder it may write
    return "blocked"

def read_any(paths):
    for path in paths:
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                open(path).read()
            return "read " + path
        except OSError:
            pass
    return "hidden"

def environment_has(secret, grader_pid):
    if secret in str(os.environ):
        return "inherited the grader's environment"
    try:
        if secret in open(f"/proc/{grader_pid}/environ", errors="replace").read():
            return "read the grader's environment from /proc"
    except OSError:
        pass
    return "hidden"

def network():
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()
    except OSError:
        return "blocked"  # no network socket at all (seccomp)
    names = sorted(name for _, name in socket.if_nameindex())
    # In its own network namespace the worker sees only its private loopback.
    return "blocked" if names in ([], ["lo"]) else "interfaces " + ", ".join(names)

def make_namespace():
    """A user namespace (every capability inside it) made by unshare, clone or clone3, else "blocked"."""
    import ctypes, struct
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    CLONE_NEWUSER, SIGCHLD = 0x10000000, 17
    numbers = {"x86_64": (56, 435), "aarch64": (220, 435)}.get(os.uname().machine)
    pid = os.fork()
    if pid == 0:  # unshare changes the caller: try it in a child that ends at once
        os._exit(0 if libc.unshare(CLONE_NEWUSER) == 0 else 1)
    if os.waitpid(pid, 0)[1] == 0:
        return "made a user namespace with unshare"
    if numbers is None:
        return "blocked"  # the two clones are tried where their numbers are known
    clone, clone3 = numbers
    args = ctypes.create_string_buffer(struct.pack("8Q", CLONE_NEWUSER, 0, 0, 0, SIGCHLD, 0, 0, 0))
    calls = {"clone": lambda: libc.syscall(clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0),
             "clone3": lambda: libc.syscall(clone3, args, 64)}
    for name, call in calls.items():
        pid = call()
        if pid == 0:
            os._exit(0)  # the child, in its new namespace
        if pid > 0:
            os.waitpid(pid, 0)
            return "made a user namespace with " + name
    return "blocked"

def signal_grader(pid):
    try:
        os.kill(pid, 0)
        return "could signal the grader"
    except OSError:
        return "blocked"
'''
