"""Confinement of the worker with Landlock and seccomp, where namespaces cannot be made.

Inside Docker or a JupyterHub pod bubblewrap cannot create namespaces, but an
unprivileged process can still restrict itself: ``confine()`` runs in the forked
child just before exec (the last step of a ``preexec_fn``), and what it sets holds
for the exec'd worker and for everything the worker starts, with no way back:

* ``no_new_privs``: setuid programs and file capabilities give nothing;
* capabilities: the bounding and ambient sets are emptied where the grader may do
  so, so a worker of a grader that runs as root has no capability after exec;
* Landlock (file system): files may be read and executed only beneath the
  ``read_only`` paths, and changed only beneath the ``read_write`` paths; every
  access right the running kernel knows is handled (best effort: rights of a
  newer ABI than the kernel's are left out). Landlock also refuses ptrace, and
  reading another process's ``/proc/<pid>/mem``, ``environ`` or ``fd``, for every
  process outside the worker's domain, and any mount;
* Landlock ABI >= 4: no TCP bind or connect at all;
* Landlock ABI >= 6: no signal to, and no connection to an abstract unix socket
  of, a process outside the domain (the grader, other workers);
* seccomp (where libseccomp loads, through ``pyseccomp``): ``socket()`` fails with
  EACCES for every address family but AF_UNIX, the system calls in
  ``SECCOMP_EPERM`` (ptrace, namespaces, keyrings, bpf, modules ...) with EPERM,
  and so does ``clone()`` with a namespace flag (``clone3()`` with ENOSYS). The
  same filter, compiled (``write_seccomp_program``), confines a bubblewrap worker.

Why our own ctypes code rather than the PyPI package ``landlock``: its release is a
development one (1.0.0.dev5), it has file-system rules only, with no best-effort
downgrade by ABI, no TCP rules (ABI 4) and no scoping of signals and abstract unix
sockets (ABI 6). The three system calls and two structures below are all we need.

Everything ``confine()`` does is safe in a ``preexec_fn``: no threads, no imports
(ctypes, pyseccomp and the libc symbols are loaded when this module is imported),
only system calls and libseccomp. The constants are those of the kernel's
``include/uapi/linux/landlock.h``; tests/autograder/test_confine.py checks each
one against what the kernel does.
"""
from __future__ import annotations

import ctypes
import errno
import os
import stat
import sys
import sysconfig
from dataclasses import dataclass

try:
    import pyseccomp
except Exception as exc:  # ImportError; RuntimeError or OSError when libseccomp.so.2 cannot be loaded
    pyseccomp = None
    _SECCOMP_PROBLEM = f"pyseccomp cannot be used: {type(exc).__name__}: {exc}"
else:
    _SECCOMP_PROBLEM = None


class ConfineError(OSError):
    """Landlock (or a seccomp filter that should load) could not be applied."""


# --- Landlock, from include/uapi/linux/landlock.h -------------------------------------

LANDLOCK_CREATE_RULESET_VERSION = 1 << 0
LANDLOCK_RULE_PATH_BENEATH = 1

ACCESS_FS_EXECUTE = 1 << 0
ACCESS_FS_WRITE_FILE = 1 << 1
ACCESS_FS_READ_FILE = 1 << 2
ACCESS_FS_READ_DIR = 1 << 3
ACCESS_FS_REMOVE_DIR = 1 << 4
ACCESS_FS_REMOVE_FILE = 1 << 5
ACCESS_FS_MAKE_CHAR = 1 << 6
ACCESS_FS_MAKE_DIR = 1 << 7
ACCESS_FS_MAKE_REG = 1 << 8
ACCESS_FS_MAKE_SOCK = 1 << 9
ACCESS_FS_MAKE_FIFO = 1 << 10
ACCESS_FS_MAKE_BLOCK = 1 << 11
ACCESS_FS_MAKE_SYM = 1 << 12
ACCESS_FS_REFER = 1 << 13  # ABI 2
ACCESS_FS_TRUNCATE = 1 << 14  # ABI 3
ACCESS_FS_IOCTL_DEV = 1 << 15  # ABI 5

ACCESS_NET_BIND_TCP = 1 << 0  # ABI 4
ACCESS_NET_CONNECT_TCP = 1 << 1  # ABI 4

SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

# (right, first ABI that knows it)
FS_RIGHTS = (
    ("EXECUTE", ACCESS_FS_EXECUTE, 1), ("WRITE_FILE", ACCESS_FS_WRITE_FILE, 1),
    ("READ_FILE", ACCESS_FS_READ_FILE, 1), ("READ_DIR", ACCESS_FS_READ_DIR, 1),
    ("REMOVE_DIR", ACCESS_FS_REMOVE_DIR, 1), ("REMOVE_FILE", ACCESS_FS_REMOVE_FILE, 1),
    ("MAKE_CHAR", ACCESS_FS_MAKE_CHAR, 1), ("MAKE_DIR", ACCESS_FS_MAKE_DIR, 1),
    ("MAKE_REG", ACCESS_FS_MAKE_REG, 1), ("MAKE_SOCK", ACCESS_FS_MAKE_SOCK, 1),
    ("MAKE_FIFO", ACCESS_FS_MAKE_FIFO, 1), ("MAKE_BLOCK", ACCESS_FS_MAKE_BLOCK, 1),
    ("MAKE_SYM", ACCESS_FS_MAKE_SYM, 1), ("REFER", ACCESS_FS_REFER, 2),
    ("TRUNCATE", ACCESS_FS_TRUNCATE, 3), ("IOCTL_DEV", ACCESS_FS_IOCTL_DEV, 5),
)
NET_ABI = 4
SCOPE_ABI = 6
# The newest ABI whose rights this module knows (7 added only audit-log flags).
KNOWN_ABI = 7

READ_ACCESS = ACCESS_FS_READ_FILE | ACCESS_FS_READ_DIR | ACCESS_FS_EXECUTE
# The rights a rule on a file (not a directory) may carry; others make the rule EINVAL.
FILE_ACCESS = (ACCESS_FS_EXECUTE | ACCESS_FS_WRITE_FILE | ACCESS_FS_READ_FILE
               | ACCESS_FS_TRUNCATE | ACCESS_FS_IOCTL_DEV)


def fs_access(abi):
    """Every file-system right that Landlock ABI ``abi`` knows."""
    return sum(bit for _, bit, first in FS_RIGHTS if first <= abi)


def net_access(abi):
    return ACCESS_NET_BIND_TCP | ACCESS_NET_CONNECT_TCP if abi >= NET_ABI else 0


def scopes(abi):
    return SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= SCOPE_ABI else 0


def ruleset_attr_size(abi):
    """Bytes of struct landlock_ruleset_attr that ABI ``abi`` reads: fs; + net (4); + scoped (6)."""
    return 24 if abi >= SCOPE_ABI else 16 if abi >= NET_ABI else 8


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


# Since Linux 5.1 every architecture but alpha, ia64 and mips numbers new system calls alike.
_LANDLOCK_MACHINES = {"x86_64", "aarch64", "arm64", "riscv64", "s390x", "ppc64le", "ppc64", "loongarch64"}
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446

PR_SET_NO_NEW_PRIVS = 38
PR_GET_SECCOMP = 21
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
CAP_SETPCAP = 8

_libc = _syscall = _prctl = None
_PLATFORM_PROBLEM = None
if not sys.platform.startswith("linux"):
    _PLATFORM_PROBLEM = f"not Linux ({sys.platform})"
elif os.uname().machine not in _LANDLOCK_MACHINES:
    _PLATFORM_PROBLEM = f"system call numbers of {os.uname().machine} are not known here"
else:
    try:
        _libc = ctypes.CDLL(None, use_errno=True)
        _syscall = _libc.syscall
        _syscall.restype = ctypes.c_long
        _prctl = _libc.prctl
        _prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        _prctl.restype = ctypes.c_int
    except (OSError, AttributeError) as exc:
        _libc = _syscall = _prctl = None
        _PLATFORM_PROBLEM = f"libc cannot be used from ctypes: {exc}"


def _cap_last_cap():
    try:
        with open("/proc/sys/kernel/cap_last_cap") as file:
            return int(file.read())
    except (OSError, ValueError):
        return 63


_CAP_LAST_CAP = _cap_last_cap() if _prctl else 0


def _call(number, *args):
    """syscall(number, *args) with every argument a C long; OSError on -1."""
    result = _syscall(ctypes.c_long(number), *(ctypes.c_long(arg) for arg in args))
    if result == -1:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return result


def _landlock_probe():
    """(ABI, "" or why Landlock cannot be used)."""
    if _syscall is None:
        return 0, _PLATFORM_PROBLEM
    try:
        return _call(SYS_LANDLOCK_CREATE_RULESET, 0, 0, LANDLOCK_CREATE_RULESET_VERSION), ""
    except OSError as exc:
        why = {errno.ENOSYS: "the kernel has no Landlock (built without CONFIG_SECURITY_LANDLOCK)",
               errno.EOPNOTSUPP: "Landlock is built in but not enabled (add landlock to the lsm= boot option)",
               errno.EPERM: "landlock_create_ruleset is refused, probably by a container's seccomp profile"}
        return 0, why.get(exc.errno, f"landlock_create_ruleset failed: {exc}")


def landlock_abi() -> int:
    """The Landlock ABI version of the running kernel; 0 where Landlock cannot be used."""
    return _landlock_probe()[0]


def _seccomp_probe():
    if pyseccomp is None:
        return _SECCOMP_PROBLEM
    if _prctl is None:
        return _PLATFORM_PROBLEM
    if _prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0:
        return f"the kernel has no seccomp ({os.strerror(ctypes.get_errno())})"
    return ""


def seccomp_available() -> bool:
    """Whether libseccomp loads (through pyseccomp) and the kernel has seccomp."""
    return not _seccomp_probe()


# --- seccomp -------------------------------------------------------------------------

AF_UNIX = 1
# Fail with EPERM: debugging other processes, namespaces, keyrings, bpf, perf, kernel
# modules and kexec, userfaultfd and io_uring (whose requests seccomp cannot see).
SECCOMP_EPERM = (
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "unshare", "setns",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "personality", "kexec_load",
    "init_module", "finit_module", "delete_module", "userfaultfd", "io_uring_setup",
)


def _seccomp_numbers():
    """(name, number) of the SECCOMP_EPERM calls that libseccomp knows on this architecture."""
    known = []
    for name in SECCOMP_EPERM:
        number = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)
        if number >= 0:  # -1: unknown name; below: a call this architecture does not have
            known.append((name, number))
    return tuple(known)


# clone() fails with EPERM for each flag that makes a namespace (a user namespace gives every
# capability inside it: the usual first step of a kernel exploit). clone3() passes its flags
# in memory, which seccomp cannot read, so it fails with ENOSYS, on which libc (glibc 2.34+
# threads and posix_spawn) falls back to clone().
CLONE_NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
CLONE3_NUMBER = 435
# s390 passes the new stack first and the flags second; every other architecture, flags first.
_CLONE_FLAGS_ARG = 1 if os.uname().machine.startswith("s390") else 0


def _seccomp_filter(numbers):
    """The worker's filter: sockets, the ``numbers`` calls and namespaces refused (pyseccomp.SyscallFilter)."""
    rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    try:
        # A system call of another ABI (int 0x80 on x86_64) ends the process, not just the thread.
        rules.set_attr(pyseccomp.Attr.ACT_BADARCH, pyseccomp.KILL_PROCESS)
    except OSError:
        pass  # an old libseccomp: the default, which kills the thread, still refuses the call
    rules.add_rule(pyseccomp.ERRNO(errno.EACCES), "socket", pyseccomp.Arg(0, pyseccomp.NE, AF_UNIX))
    for _, number in numbers:
        rules.add_rule(pyseccomp.ERRNO(errno.EPERM), number)
    for flag in CLONE_NAMESPACE_FLAGS.values():
        rules.add_rule(pyseccomp.ERRNO(errno.EPERM), "clone",
                       pyseccomp.Arg(_CLONE_FLAGS_ARG, pyseccomp.MASKED_EQ, flag, flag))
    # libseccomp before 2.5 does not know clone3 by name; its number is 435 on every architecture.
    clone3 = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, "clone3")
    rules.add_rule(pyseccomp.ERRNO(errno.ENOSYS), clone3 if clone3 >= 0 else CLONE3_NUMBER)
    return rules


def _load_seccomp(numbers):
    _seccomp_filter(numbers).load()


def write_seccomp_program(path):
    """Write the worker's seccomp filter, compiled to BPF, to ``path`` (where ``seccomp_available()``).

    A bubblewrap worker loads it itself before any student code runs (``worker/main.py
    --seccomp``): the grader cannot load it first, since bubblewrap must still make its
    namespaces after the fork.
    """
    with open(path, "wb") as file:
        _seccomp_filter(_seccomp_numbers()).export_bpf(file)


# --- the confinement -----------------------------------------------------------------

@dataclass(frozen=True)
class Confinement:
    """What ``apply()`` enforces: the paths, and the rights, scopes and calls it handles."""

    read_only: tuple[str, ...]
    read_write: tuple[str, ...]
    abi: int = 0
    handled_fs: int = 0  # denied unless a path rule allows it
    handled_net: int = 0  # denied outright (no port rules)
    scoped: int = 0
    seccomp_eperm: tuple[tuple[str, int], ...] = ()  # (name, number) failing with EPERM
    seccomp_socket: bool = False  # socket() fails with EACCES unless AF_UNIX
    drop_capabilities: bool = True

    @classmethod
    def for_paths(cls, read_only, read_write):
        """The strongest confinement this machine allows; paths that do not exist are left out."""
        abi = landlock_abi()
        seccomp = seccomp_available()
        return cls(
            read_only=tuple(str(p) for p in read_only if os.path.exists(p)),
            read_write=tuple(str(p) for p in read_write if os.path.exists(p)),
            abi=abi, handled_fs=fs_access(abi), handled_net=net_access(abi), scoped=scopes(abi),
            seccomp_eperm=_seccomp_numbers() if seccomp else (), seccomp_socket=seccomp,
        )

    def apply(self):
        """Confine the calling process (one thread: a forked child before exec) for good."""
        if self.abi < 1:
            raise ConfineError(errno.EOPNOTSUPP, f"Landlock is not available: {_landlock_probe()[1]}")
        if _prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise ConfineError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if self.drop_capabilities:
            _drop_capabilities()
        self._restrict_landlock()
        if self.seccomp_socket or self.seccomp_eperm:
            try:
                _load_seccomp(self.seccomp_eperm)
            except OSError as exc:
                raise ConfineError(exc.errno or errno.EINVAL, f"the seccomp filter did not load: {exc}") from None

    def _restrict_landlock(self):
        attr = _RulesetAttr(self.handled_fs, self.handled_net, self.scoped)
        size = ruleset_attr_size(self.abi)
        try:
            ruleset = _call(SYS_LANDLOCK_CREATE_RULESET, ctypes.addressof(attr), size, 0)
        except OSError as exc:
            raise ConfineError(exc.errno, f"landlock_create_ruleset failed: {exc.strerror}") from None
        try:
            rules = [(path, READ_ACCESS) for path in self.read_only]
            rules += [(path, self.handled_fs) for path in self.read_write]
            for path, access in rules:
                self._add_path_rule(ruleset, path, access & self.handled_fs)
            try:
                _call(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0)
            except OSError as exc:
                raise ConfineError(exc.errno, f"landlock_restrict_self failed: {exc.strerror}") from None
        finally:
            os.close(ruleset)

    @staticmethod
    def _add_path_rule(ruleset, path, access):
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except FileNotFoundError:
            return  # gone since for_paths(): nothing to allow
        except OSError as exc:
            raise ConfineError(exc.errno, f"cannot open {path} for a Landlock rule: {exc.strerror}") from None
        try:
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                access &= FILE_ACCESS
            if not access:
                return  # the kernel refuses an empty rule (ENOMSG)
            beneath = _PathBeneathAttr(access, fd)
            try:
                _call(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.addressof(beneath), 0)
            except OSError as exc:
                raise ConfineError(exc.errno, f"landlock_add_rule for {path} failed: {exc.strerror}") from None
        finally:
            os.close(fd)


def _drop_capabilities():
    """Empty the ambient and (with CAP_SETPCAP) the bounding set: exec then grants no capability."""
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)  # EINVAL before Linux 4.3: nothing to clear
    for cap in range(_CAP_LAST_CAP + 1):
        if _prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == errno.EPERM:
            return  # no CAP_SETPCAP, so none to keep either (see _capabilities_dropped)


def _capabilities_dropped():
    """Whether the worker of this process ends up with no capability after exec."""
    try:
        with open("/proc/self/status") as file:
            fields = dict(line.split(":", 1) for line in file if ":" in line)
        effective = int(fields["CapEff"], 16)
    except (OSError, KeyError, ValueError):
        return False
    # With CAP_SETPCAP the bounding set is emptied; a non-root user without one gains none at exec.
    return bool(effective >> CAP_SETPCAP & 1) or (os.getuid() != 0 and os.geteuid() != 0 and effective == 0)


def confine(read_only, read_write) -> None:
    """Confine this process and its future children; for a ``preexec_fn``.

    ``read_only`` paths may be read and executed beneath, ``read_write`` paths
    changed too; paths that do not exist are skipped. Raises ConfineError where
    Landlock cannot be applied (or a seccomp filter that should load does not).
    """
    Confinement.for_paths(read_only, read_write).apply()


# --- what the worker needs, and what holds ---------------------------------------------

# From /etc, only what the dynamic linker, locale, time zone, user names, MIME types and
# fonts need: not /etc itself, where a grader running as root could read /etc/shadow or
# ssh host keys. (Symbolic links out of /etc, such as /etc/localtime, work wherever the
# target is allowed.)
ETC_READ_PATHS = (
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone",
    "/etc/locale.alias", "/etc/locale.conf", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group",
    "/etc/mime.types", "/etc/fonts", "/etc/alternatives",
)


def python_read_paths():
    """Existing paths a Python worker with numpy must be able to read, for ``confine(read_only=...)``.

    The venv and its base Python (only the venv's own folder, never its parent,
    which may be the repository), the system libraries, the few files of /etc the
    C library reads, /dev/null and /dev/urandom, /proc (numpy and OpenBLAS read
    /proc/self and /proc/cpuinfo; other processes' memory, environ and fds stay
    refused by Landlock) and /sys/devices/system/cpu (OpenBLAS counts CPUs there).
    """
    paths = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable))]
    installed = sysconfig.get_paths()
    paths += [installed[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")]
    paths += ["/usr", "/lib", "/lib64", "/lib32", *ETC_READ_PATHS,
              "/dev/null", "/dev/urandom", "/proc", "/sys/devices/system/cpu"]
    seen = []
    for path in paths:
        if path and os.path.exists(path) and os.path.abspath(path) not in seen:
            seen.append(os.path.abspath(path))
    return seen


def describe() -> list[str]:
    """One line per guarantee that holds for a confined worker on this machine."""
    abi = landlock_abi()
    if abi < 1:
        return []
    lines = ["no_new_privs: setuid programs and file capabilities give the worker nothing"]
    if _capabilities_dropped():
        lines.append("capabilities: the worker has none, even when the grader runs as root")
    names = ", ".join(name for name, bit, _ in FS_RIGHTS if bit & fs_access(abi))
    lines.append(f"landlock ABI {abi}: files are read or executed only beneath the allowed paths and changed "
                 f"only beneath the writable ones ({names})")
    lines.append("landlock: no ptrace, /proc/<pid>/mem, environ or fd of processes outside the worker; no mount")
    if abi >= NET_ABI:
        lines.append("landlock: no TCP bind or connect")
    if abi >= SCOPE_ABI:
        lines.append("landlock: no signals to, and no abstract unix sockets of, the grader or other workers")
    if seccomp_available():
        blocked = ", ".join(name for name, _ in _seccomp_numbers())
        lines.append("seccomp: socket() only for AF_UNIX (no UDP, raw, netlink or packet sockets)")
        lines.append(f"seccomp: {blocked} fail with EPERM")
        lines.append("seccomp: no new namespace (clone with a namespace flag fails with EPERM, clone3 with "
                     "ENOSYS, on which libc falls back to clone)")
    return lines


def missing() -> list[str]:
    """One line per guarantee of this module that does not hold here, and why."""
    abi, why = _landlock_probe()
    lines = [f"landlock: {why}"] if abi < 1 else []
    if 0 < abi < NET_ABI:
        lines.append(f"landlock ABI {abi} < {NET_ABI}: TCP is not restricted by Landlock")
    if 0 < abi < SCOPE_ABI:
        lines.append(f"landlock ABI {abi} < {SCOPE_ABI}: signals and abstract unix sockets are not scoped")
    if not seccomp_available():
        lines.append(f"seccomp: {_seccomp_probe()}")
    if abi >= 1 and not _capabilities_dropped():
        lines.append("capabilities: the grader has some but not CAP_SETPCAP, so the worker may keep them")
    return lines
