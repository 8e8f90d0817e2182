"""Landlock and seccomp confinement (autograder.confine), with real processes and no mocks.

A probe script runs as ``python -I -c`` three times: unconfined, under Landlock alone,
and under ``confine()`` as the sandbox will call it (Landlock and seccomp, from a
``preexec_fn``). Each test compares one probe across the runs, so each one fails if
the confinement stops refusing what it should, or if the probe could never succeed.
Further tests check every Landlock constant against what the kernel does with it.
"""
from __future__ import annotations

import ctypes
import dataclasses
import errno
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import confine as cf
from autograder.confine import ConfineError, Confinement, confine, describe, python_read_paths

ROOT = Path(__file__).resolve().parents[2]
ABI = cf.landlock_abi()
SECCOMP = cf.seccomp_available()

pytestmark = pytest.mark.skipif(ABI == 0, reason="Landlock is not available here: " + "; ".join(cf.missing()))
needs_seccomp = pytest.mark.skipif(not SECCOMP, reason="seccomp is not available here (libseccomp or kernel)")
needs_net = pytest.mark.skipif(ABI < cf.NET_ABI, reason=f"Landlock ABI {ABI} has no TCP rules (ABI 4)")
needs_scope = pytest.mark.skipif(ABI < cf.SCOPE_ABI, reason=f"Landlock ABI {ABI} has no scoping (ABI 6)")

ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")

# Calls of the seccomp list with arguments that do nothing even where allowed.
PROBE = r'''
import ctypes, errno, json, os, socket, subprocess, sys
p = json.loads(sys.argv[1])
out = {}

def probe(name, action):
    try:
        action()
        out[name] = "ok"
    except OSError as exc:
        out[name] = errno.errorcode.get(exc.errno, str(exc.errno))
    except Exception as exc:
        out[name] = type(exc).__name__

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def syscall(number, *args):
    if libc.syscall(ctypes.c_long(number), *(ctypes.c_long(a) for a in args)) == -1:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))

class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

libc.process_vm_readv.restype = ctypes.c_ssize_t

def read_memory(pid, address, size):
    buffer = ctypes.create_string_buffer(size)
    local, remote = iovec(ctypes.addressof(buffer), size), iovec(address, size)
    if libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return buffer.raw

def grader_memory():
    if p["marker"].encode() not in read_memory(p["grader_pid"], p["marker_address"], p["marker_size"]):
        raise LookupError("marker not found")

def numpy_works():
    import numpy
    assert abs(numpy.linalg.inv(numpy.array([[2.0, 0.0], [0.0, 4.0]])).sum() - 0.75) < 1e-12

def scratch_works():
    path = os.path.join(p["scratch"], "work-" + p["tag"])
    os.mkdir(path)
    with open(path + "/a.txt", "w") as file:
        file.write("data")
    os.rename(path + "/a.txt", path + "/b.txt")
    assert open(path + "/b.txt").read() == "data"
    os.unlink(path + "/b.txt")
    os.rmdir(path)

def tcp_connect():
    socket.create_connection(("127.0.0.1", p["tcp_port"]), timeout=5).close()

def inherited_connect():
    s = socket.socket(fileno=p["connect_fd"])
    s.settimeout(5)
    s.connect(("127.0.0.1", p["tcp_port"]))

probe("numpy", numpy_works)
probe("read_secret", lambda: open(p["secret_file"]).read())
probe("list_secret", lambda: os.listdir(p["secret_dir"]))
probe("stat_secret", lambda: os.stat(p["secret_file"]))
probe("read_repo_file", lambda: open(p["repo_file"]).read())
probe("list_repo", lambda: os.listdir(p["repo"]))
probe("list_solutions", lambda: os.listdir(p["repo"] + "/solutions"))
probe("write_scratch", scratch_works)
probe("create_outside", lambda: open(os.path.join(p["outside_dir"], p["tag"]), "x").close())
probe("create_in_tmp", lambda: open("/tmp/autograder-confine-" + p["tag"], "x").close())
probe("truncate_outside", lambda: os.truncate(p["victim_file"], 0))
probe("tcp_connect", tcp_connect)
if p.get("connect_fd") is not None:
    probe("tcp_connect_inherited", inherited_connect)
    probe("tcp_bind_inherited", lambda: socket.socket(fileno=p["bind_fd"]).bind(("127.0.0.1", 0)))
probe("udp_socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close())
probe("netlink_socket", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close())
probe("unix_socket", lambda: socket.socket(socket.AF_UNIX).close())
probe("unix_socketpair", lambda: [s.close() for s in socket.socketpair()])
probe("unix_path_connect", lambda: socket.socket(socket.AF_UNIX).connect(p["unix_path"]))
probe("abstract_unix_connect", lambda: socket.socket(socket.AF_UNIX).connect("\0" + p["abstract_name"]))
probe("kill_grader", lambda: os.kill(p["grader_pid"], 0))
probe("kill_sibling", lambda: os.kill(p["sibling_pid"], 0))
probe("grader_environ", lambda: open("/proc/%d/environ" % p["grader_pid"], "rb").read())
probe("sibling_environ", lambda: open("/proc/%d/environ" % p["sibling_pid"], "rb").read())
probe("grader_proc_mem", lambda: open("/proc/%d/mem" % p["grader_pid"], "rb").close())
probe("grader_cmdline", lambda: open("/proc/%d/cmdline" % p["grader_pid"], "rb").read())
probe("grader_memory", grader_memory)
own = ctypes.create_string_buffer(b"own memory")
probe("own_memory", lambda: read_memory(os.getpid(), ctypes.addressof(own), 8))
ARGS = {"ptrace": (-1, 0, 0, 0), "process_vm_readv": (os.getpid(), 0, 0, 0, 0, 0),
        "process_vm_writev": (os.getpid(), 0, 0, 0, 0, 0), "mount": (0, 0, 0, 0, 0), "umount2": (0, 0),
        "unshare": (0,), "setns": (-1, 0), "keyctl": (-1, 0, 0, 0, 0), "add_key": (0, 0, 0, 0, 0),
        "request_key": (0, 0, 0, 0), "bpf": (-1, 0, 0), "perf_event_open": (0, 0, -1, -1, 0),
        "personality": (0xFFFFFFFF,), "kexec_load": (0, 0xFFFFFFFF, 0, 0x80000000), "init_module": (0, 0, 0),
        "finit_module": (-1, 0, 0), "delete_module": (0, 0), "userfaultfd": (-1,), "io_uring_setup": (0, 0)}
for name, number in p["syscalls"]:
    probe("sys_" + name, lambda: syscall(number, *ARGS[name]))
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
out["cap_eff"] = int(status["CapEff"], 16)
if p.get("grandchild"):
    sleeper = subprocess.Popen(["sleep", "30"])
    probe("kill_own_child", lambda: os.kill(sleeper.pid, 0))
    sleeper.kill()
    sleeper.wait()
    inner = dict(p, grandchild=False, connect_fd=None, tag=p["tag"] + "-grandchild")
    done = subprocess.run([sys.executable, "-I", "-c", p["source"], json.dumps(inner)],
                          capture_output=True, text=True, timeout=60)
    out["grandchild"] = json.loads(done.stdout) if done.returncode == 0 else done.stderr[-2000:]
print(json.dumps(out))
'''

# Calls that do nothing even where allowed (the others are only called confined).
HARMLESS_CALLS = ("ptrace", "process_vm_readv", "process_vm_writev", "unshare", "setns", "keyctl",
                  "add_key", "request_key", "bpf", "perf_event_open", "personality", "userfaultfd",
                  "io_uring_setup")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Folders, listeners and a confined sibling worker that the probe runs look at."""
    base = tmp_path_factory.mktemp("confine")
    secret, scratch, outside = base / "secret", base / "scratch", base / "outside"
    for folder in (secret, scratch, outside):
        folder.mkdir()
    (secret / "answer.txt").write_text("the hidden answer")
    (secret / "victim.txt").write_text("not to be truncated")
    listener = socket.create_server(("127.0.0.1", 0), backlog=16)
    abstract_name = f"autograder-confine-test-{os.getpid()}"
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind("\0" + abstract_name)
    abstract.listen(16)
    unix_path = str(outside / "listener.sock")
    named = socket.socket(socket.AF_UNIX)
    named.bind(unix_path)
    named.listen(16)
    read_only, read_write = python_read_paths(), [str(scratch)]
    sibling = subprocess.Popen(["sleep", "60"], preexec_fn=lambda: confine(read_only, read_write))
    marker = f"confine-marker-{os.getpid()}-{id(base)}".encode()
    yield {"base": base, "secret": secret, "scratch": scratch, "outside": outside, "listener": listener,
           "abstract_name": abstract_name, "unix_path": unix_path, "sibling": sibling, "marker": marker,
           "read_only": read_only, "read_write": read_write}
    sibling.kill()
    sibling.wait()
    for sock in (listener, abstract, named):
        sock.close()


def run_probe(world, mode, preexec=None, grandchild=False):
    """Run PROBE once; ``mode`` names the run."""
    connect_sock, bind_sock = socket.socket(), socket.socket()
    tag = f"{mode}-{os.getpid()}"  # unique across pytest-xdist workers too
    syscalls = [[name, number] for name, number in cf._seccomp_numbers()] if SECCOMP else []
    if mode == "unconfined":
        syscalls = [[name, number] for name, number in syscalls if name in HARMLESS_CALLS]
    params = {
        "tag": tag, "source": PROBE, "grandchild": grandchild, "grader_pid": os.getpid(),
        "sibling_pid": world["sibling"].pid, "secret_dir": str(world["secret"]),
        "secret_file": str(world["secret"] / "answer.txt"), "victim_file": str(world["secret"] / "victim.txt"),
        "repo": str(ROOT), "repo_file": str(ROOT / "autograder" / "sandbox.py"), "scratch": str(world["scratch"]),
        "outside_dir": str(world["outside"]), "tcp_port": world["listener"].getsockname()[1],
        "connect_fd": connect_sock.fileno(), "bind_fd": bind_sock.fileno(),
        "abstract_name": world["abstract_name"], "unix_path": world["unix_path"],
        "marker": world["marker"].decode(), "marker_address": id(world["marker"]),
        "marker_size": sys.getsizeof(world["marker"]), "syscalls": syscalls,
    }
    try:
        done = subprocess.run([sys.executable, "-I", "-c", PROBE, json.dumps(params)], capture_output=True,
                              text=True, timeout=120, cwd=world["scratch"], env=ENV, preexec_fn=preexec,
                              pass_fds=(connect_sock.fileno(), bind_sock.fileno()))
    finally:
        connect_sock.close()
        bind_sock.close()
        for suffix in ("", "-grandchild"):
            Path(f"/tmp/autograder-confine-{tag}{suffix}").unlink(missing_ok=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def runs(world):
    """Probe results of each run: "unconfined", "landlock" (no seccomp filter), "confined" (confine())."""
    read_only, read_write = world["read_only"], world["read_write"]
    landlock_only = dataclasses.replace(Confinement.for_paths(read_only, read_write),
                                        seccomp_eperm=(), seccomp_socket=False)
    return {
        "unconfined": run_probe(world, "unconfined"),
        "landlock": run_probe(world, "landlock", preexec=landlock_only.apply),
        "confined": run_probe(world, "confined", preexec=lambda: confine(read_only, read_write), grandchild=True),
    }


def outcomes(runs, probe, modes=("unconfined", "landlock", "confined")):
    return tuple(runs[mode].get(probe) for mode in modes)


def test_numpy_imports_and_computes_in_a_confined_worker(runs):
    assert outcomes(runs, "numpy") == ("ok", "ok", "ok")


def test_a_secret_folder_outside_the_allowed_paths_can_be_neither_read_nor_listed(runs):
    assert outcomes(runs, "read_secret") == ("ok", "EACCES", "EACCES")
    assert outcomes(runs, "list_secret") == ("ok", "EACCES", "EACCES")


def test_the_repository_is_hidden_though_its_venv_is_used(runs):
    for probe in ("read_repo_file", "list_repo", "list_solutions"):
        assert outcomes(runs, probe) == ("ok", "EACCES", "EACCES"), probe
    assert runs["confined"]["numpy"] == "ok"  # numpy comes from the venv, here inside the repository


def test_only_the_scratch_folder_can_be_written(runs):
    assert outcomes(runs, "write_scratch") == ("ok", "ok", "ok")
    assert outcomes(runs, "create_outside") == ("ok", "EACCES", "EACCES")
    assert outcomes(runs, "create_in_tmp") == ("ok", "EACCES", "EACCES")
    if ABI >= 3:  # TRUNCATE is a right of its own from ABI 3 on
        assert outcomes(runs, "truncate_outside") == ("ok", "EACCES", "EACCES")


@needs_net
def test_no_tcp_connect_or_bind_even_on_an_inherited_socket(runs):
    # Landlock alone refuses the connect; with seccomp the socket is not even created.
    assert outcomes(runs, "tcp_connect") == ("ok", "EACCES", "EACCES")
    assert outcomes(runs, "tcp_connect_inherited") == ("ok", "EACCES", "EACCES")
    assert outcomes(runs, "tcp_bind_inherited") == ("ok", "EACCES", "EACCES")


@needs_seccomp
def test_seccomp_refuses_udp_and_netlink_sockets_but_not_unix_ones(runs):
    # Landlock has no UDP rules: only the seccomp filter refuses these.
    assert outcomes(runs, "udp_socket") == ("ok", "ok", "EACCES")
    assert outcomes(runs, "netlink_socket") == ("ok", "ok", "EACCES")
    assert outcomes(runs, "unix_socket") == ("ok", "ok", "ok")
    assert outcomes(runs, "unix_socketpair") == ("ok", "ok", "ok")


@needs_scope
def test_the_grader_and_other_workers_cannot_be_signalled(runs):
    assert outcomes(runs, "kill_grader") == ("ok", "EPERM", "EPERM")
    assert outcomes(runs, "kill_sibling") == ("ok", "EPERM", "EPERM")


@needs_scope
def test_abstract_unix_sockets_of_the_grader_are_out_of_reach(runs):
    assert outcomes(runs, "abstract_unix_connect") == ("ok", "EPERM", "EPERM")


def test_environ_and_memory_of_the_grader_and_siblings_are_refused_by_landlock(runs):
    assert outcomes(runs, "grader_environ") == ("ok", "EACCES", "EACCES")
    assert outcomes(runs, "sibling_environ") == ("ok", "EACCES", "EACCES")
    assert outcomes(runs, "grader_proc_mem") == ("ok", "EACCES", "EACCES")
    assert outcomes(runs, "grader_memory") == ("ok", "EPERM", "EPERM")  # process_vm_readv


@needs_seccomp
def test_seccomp_makes_ptrace_and_the_other_listed_calls_fail_with_eperm(runs):
    confined = {name: runs["confined"].get("sys_" + name) for name in cf.SECCOMP_EPERM}
    known = {name for name, _ in cf._seccomp_numbers()}
    assert {name: confined[name] for name in known} == {name: "EPERM" for name in known}
    if os.uname().machine == "x86_64":
        assert known == set(cf.SECCOMP_EPERM)
    # Unconfined, these (harmless) calls get through to the kernel.
    for name in ("ptrace", "process_vm_readv", "unshare", "setns", "bpf", "personality"):
        assert runs["unconfined"]["sys_" + name] != "EPERM", name
    # Reading its own memory is allowed by Landlock (same domain) but not by the filter.
    assert outcomes(runs, "own_memory") == ("ok", "ok", "EPERM")


@pytest.mark.skipif(os.geteuid() != 0, reason="the grader does not run as root: it has no capability to drop")
def test_a_worker_of_a_root_grader_has_no_capability(runs):
    assert runs["unconfined"]["cap_eff"] != 0
    assert runs["confined"]["cap_eff"] == 0


def test_a_grandchild_of_the_worker_is_confined_too(runs):
    inner = runs["confined"]["grandchild"]
    assert isinstance(inner, dict), inner
    assert runs["confined"]["kill_own_child"] == "ok"  # the worker may still signal its own children
    expected = {"numpy": "ok", "read_secret": "EACCES", "list_repo": "EACCES", "write_scratch": "ok",
                "create_in_tmp": "EACCES", "grader_environ": "EACCES"}
    if ABI >= cf.NET_ABI:
        expected["tcp_connect"] = "EACCES"
    if ABI >= cf.SCOPE_ABI:
        expected.update(kill_grader="EPERM", kill_sibling="EPERM")
    if SECCOMP:
        expected.update(udp_socket="EACCES", sys_unshare="EPERM")
    assert {probe: inner.get(probe) for probe in expected} == expected
    assert {probe: runs["unconfined"].get(probe) for probe in expected} == dict.fromkeys(expected, "ok")


def test_what_the_docs_say_remains_possible_is_still_possible(runs):
    # docs/security-landlock.md: metadata, other processes' command lines, named unix sockets.
    assert runs["confined"]["stat_secret"] == "ok"
    assert runs["confined"]["grader_cmdline"] == "ok"
    assert runs["confined"]["unix_path_connect"] == "ok"


def test_python_read_paths_leave_out_the_repository_and_its_folders():
    paths = [Path(path).resolve() for path in python_read_paths()]
    for path in paths:
        assert not ROOT.is_relative_to(path), f"{path} would expose the repository"
        if path.is_relative_to(ROOT):
            assert path.is_relative_to(Path(sys.prefix).resolve()), f"{path} is in the repository"
    assert Path(sys.prefix).resolve() in paths
    assert Path("/etc") not in paths and Path("/etc/ld.so.cache") in paths


# --- the constants, against the kernel ---------------------------------------------------

OPS = r'''
import errno, fcntl, json, os, socket, stat, subprocess, sys, termios
d = sys.argv[1]

def ioctl_dev():
    with open("/dev/null", "rb") as device:
        try:
            fcntl.ioctl(device.fileno(), termios.TCGETS, bytes(64))
        except OSError as exc:
            if exc.errno != errno.ENOTTY:  # ENOTTY: the driver was reached, so it was allowed
                raise

OPS = {
    "EXECUTE": lambda: subprocess.run([d + "/prog"], check=True),
    "WRITE_FILE": lambda: open(d + "/file", "a").close(),
    "READ_FILE": lambda: open(d + "/file").read(),
    "READ_DIR": lambda: os.listdir(d + "/sub"),
    "REMOVE_DIR": lambda: os.rmdir(d + "/emptydir"),
    "REMOVE_FILE": lambda: os.unlink(d + "/victim"),
    "MAKE_CHAR": lambda: os.mknod(d + "/chr", 0o600 | stat.S_IFCHR, os.makedev(1, 3)),
    "MAKE_DIR": lambda: os.mkdir(d + "/newdir"),
    "MAKE_REG": lambda: open(d + "/new", "x").close(),
    "MAKE_SOCK": lambda: socket.socket(socket.AF_UNIX).bind(d + "/sock"),
    "MAKE_FIFO": lambda: os.mkfifo(d + "/fifo"),
    "MAKE_BLOCK": lambda: os.mknod(d + "/blk", 0o600 | stat.S_IFBLK, os.makedev(7, 200)),
    "MAKE_SYM": lambda: os.symlink("file", d + "/link"),
    "REFER": lambda: os.rename(d + "/a/moved", d + "/b/moved"),
    "TRUNCATE": lambda: os.truncate(d + "/file", 0),
    "IOCTL_DEV": ioctl_dev,
}
out = {}
for name in sys.argv[2:]:
    try:
        OPS[name]()
        out[name] = "ok"
    except OSError as exc:
        out[name] = errno.errorcode.get(exc.errno, str(exc.errno))
print(json.dumps(out))
'''


def make_tree(folder):
    folder.mkdir()
    for sub in ("sub", "emptydir", "a", "b"):
        (folder / sub).mkdir()
    for name in ("file", "victim", "sub/f", "a/moved"):
        (folder / name).write_text("x")
    (folder / "prog").write_text("#!/bin/sh\nexit 0\n")
    (folder / "prog").chmod(0o755)
    return folder


def run_ops(folder, names, confinement=None):
    done = subprocess.run([sys.executable, "-I", "-c", OPS, str(folder), *names], capture_output=True, text=True,
                          timeout=60, env=ENV, preexec_fn=confinement.apply if confinement else None)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def unconfined_ops(tmp_path_factory):
    return run_ops(make_tree(tmp_path_factory.mktemp("ops") / "tree"), [name for name, _, _ in cf.FS_RIGHTS])


@pytest.mark.parametrize("name, bit, first_abi", cf.FS_RIGHTS, ids=[name for name, _, _ in cf.FS_RIGHTS])
def test_each_file_system_right_refuses_what_its_name_says(tmp_path, unconfined_ops, name, bit, first_abi):
    if ABI < first_abi:
        pytest.skip(f"{name} needs Landlock ABI {first_abi}")
    # A ruleset that handles only this right, with the Python installation allowed.
    only = Confinement(read_only=tuple(python_read_paths()), read_write=(), abi=ABI, handled_fs=bit,
                       drop_capabilities=False)
    refused = "EXDEV" if name == "REFER" else "EACCES"
    assert run_ops(make_tree(tmp_path / "tree"), [name], only) == {name: refused}
    assert unconfined_ops[name] != refused


NET_SCOPE = r'''
import errno, json, os, socket, sys
p = json.loads(sys.argv[1])
out = {}
def attempt(name, action):
    try:
        action()
        out[name] = "ok"
    except OSError as exc:
        out[name] = errno.errorcode.get(exc.errno, str(exc.errno))
attempt("bind", lambda: socket.socket().bind(("127.0.0.1", 0)))
attempt("connect", lambda: socket.create_connection(("127.0.0.1", p["port"]), timeout=5).close())
attempt("signal", lambda: os.kill(p["grader_pid"], 0))
attempt("abstract", lambda: socket.socket(socket.AF_UNIX).connect("\0" + p["abstract"]))
print(json.dumps(out))
'''


@pytest.mark.parametrize("net, scoped, refused", [
    (cf.ACCESS_NET_BIND_TCP, 0, {"bind": "EACCES"}),
    (cf.ACCESS_NET_CONNECT_TCP, 0, {"connect": "EACCES"}),
    (0, cf.SCOPE_SIGNAL, {"signal": "EPERM"}),
    (0, cf.SCOPE_ABSTRACT_UNIX_SOCKET, {"abstract": "EPERM"}),
], ids=["NET_BIND_TCP", "NET_CONNECT_TCP", "SCOPE_SIGNAL", "SCOPE_ABSTRACT_UNIX_SOCKET"])
def test_each_network_right_and_scope_refuses_what_its_name_says(world, net, scoped, refused):
    if ABI < (cf.SCOPE_ABI if scoped else cf.NET_ABI):
        pytest.skip(f"Landlock ABI {ABI} does not know this right")
    params = json.dumps({"port": world["listener"].getsockname()[1], "grader_pid": os.getpid(),
                         "abstract": world["abstract_name"]})
    only = Confinement(read_only=(), read_write=(), abi=ABI, handled_net=net, scoped=scoped, drop_capabilities=False)
    results = {}
    for label, preexec in (("unconfined", None), ("confined", only.apply)):
        done = subprocess.run([sys.executable, "-I", "-c", NET_SCOPE, params], capture_output=True, text=True,
                              timeout=60, env=ENV, preexec_fn=preexec)
        assert done.returncode == 0, done.stderr
        results[label] = json.loads(done.stdout)
    assert results["unconfined"] == dict.fromkeys(results["unconfined"], "ok")
    assert results["confined"] == dict(results["unconfined"], **refused)


def _create_ruleset(fs, net=0, scoped=0):
    attr = cf._RulesetAttr(fs, net, scoped)
    return cf._call(cf.SYS_LANDLOCK_CREATE_RULESET, ctypes.addressof(attr), cf.ruleset_attr_size(ABI), 0)


def test_the_kernel_accepts_every_right_of_its_abi_and_no_other():
    os.close(_create_ruleset(cf.fs_access(ABI), cf.net_access(ABI), cf.scopes(ABI)))
    assert cf.fs_access(ABI) == (1 << {1: 13, 2: 14, 3: 15, 4: 15}.get(ABI, 16)) - 1
    if ABI != cf.KNOWN_ABI:
        pytest.skip(f"the next bits are known to be unused only at ABI {cf.KNOWN_ABI}, not {ABI}")
    for fs, net, scoped in ((cf.fs_access(ABI) << 1 | 1, 0, 0), (1, cf.net_access(ABI) << 1 | 1, 0),
                            (1, 0, cf.scopes(ABI) << 1 | 1)):
        with pytest.raises(OSError) as refused:
            os.close(_create_ruleset(fs, net, scoped))
        assert refused.value.errno == errno.EINVAL


def test_rules_on_files_take_file_rights_only(tmp_path):
    (tmp_path / "file").write_text("x")
    ruleset = _create_ruleset(cf.fs_access(ABI))
    try:
        fd = os.open(tmp_path / "file", os.O_PATH | os.O_CLOEXEC)
        try:
            for access, expected in ((cf.FILE_ACCESS & cf.fs_access(ABI), None),
                                     (cf.ACCESS_FS_READ_DIR, errno.EINVAL), (0, errno.ENOMSG)):
                rule = cf._PathBeneathAttr(access, fd)
                try:
                    cf._call(cf.SYS_LANDLOCK_ADD_RULE, ruleset, cf.LANDLOCK_RULE_PATH_BENEATH,
                             ctypes.addressof(rule), 0)
                    outcome = None
                except OSError as exc:
                    outcome = exc.errno
                assert outcome == expected, access
        finally:
            os.close(fd)
    finally:
        os.close(ruleset)


def test_confine_refuses_to_pretend_without_landlock():
    with pytest.raises(ConfineError):
        Confinement(read_only=(), read_write=(), abi=0).apply()  # raises before changing anything


def test_describe_lists_what_holds_here():
    lines = describe()
    assert any(line.startswith(f"landlock ABI {ABI}:") for line in lines)
    assert any(line.startswith("seccomp: socket()") for line in lines) == SECCOMP
    assert any("TCP" in line for line in lines) == (ABI >= cf.NET_ABI)
    assert any("signals" in line for line in lines) == (ABI >= cf.SCOPE_ABI)
    if SECCOMP and ABI >= cf.SCOPE_ABI and cf._capabilities_dropped():
        assert cf.missing() == []


CLONES = r'''
import ctypes, errno, json, os, struct, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
p = json.loads(sys.argv[1])
out = {}

def outcome(pid):
    if pid == 0:
        os._exit(0)  # the child, in its new namespace
    if pid < 0:
        return errno.errorcode[ctypes.get_errno()]
    os.waitpid(pid, 0)
    return "ok"

SIGCHLD = 17
for name, flag in p["flags"].items():
    out["clone " + name] = outcome(libc.syscall(p["clone"], flag | SIGCHLD, 0, 0, 0, 0))
    args = ctypes.create_string_buffer(struct.pack("8Q", flag, 0, 0, 0, SIGCHLD, 0, 0, 0))
    out["clone3 " + name] = outcome(libc.syscall(p["clone3"], args, 64))
thread = threading.Thread(target=lambda: out.setdefault("thread", "ok"))
thread.start()
thread.join()
print(json.dumps(out))
'''


@needs_seccomp
@pytest.mark.skipif(os.geteuid() != 0, reason="only root may make every kind of namespace unfiltered")
@pytest.mark.skipif(os.uname().machine.startswith("s390"), reason="the probe passes clone's flags first")
@pytest.mark.parametrize("knows_clone3", [True, False], ids=["libseccomp", "libseccomp-before-2.5"])
def test_seccomp_refuses_each_namespace_flag_of_clone_and_clone3_yet_threads_start(knows_clone3, monkeypatch):
    # Run as root with every capability, so only the filter can refuse: each flag has a rule of its own.
    numbers = {name: cf.pyseccomp.resolve_syscall(cf.pyseccomp.Arch.NATIVE, name) for name in ("clone", "clone3")}
    if not knows_clone3:  # an old libseccomp, which does not know clone3 by name
        resolve = cf.pyseccomp.resolve_syscall
        monkeypatch.setattr(cf.pyseccomp, "resolve_syscall",
                            lambda arch, name: -1 if name == "clone3" else resolve(arch, name))
    params = json.dumps({"flags": cf.CLONE_NAMESPACE_FLAGS, **numbers})

    def probe(preexec=None):
        done = subprocess.run([sys.executable, "-I", "-c", CLONES, params], capture_output=True, text=True,
                              timeout=60, env=ENV, preexec_fn=preexec)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    every = [f"{call} {name}" for name in cf.CLONE_NAMESPACE_FLAGS for call in ("clone", "clone3")]
    assert probe() == {**dict.fromkeys(every, "ok"), "thread": "ok"}
    filtered = probe(preexec=lambda: cf._load_seccomp(cf._seccomp_numbers()))
    assert filtered == {**{f"clone {name}": "EPERM" for name in cf.CLONE_NAMESPACE_FLAGS},
                        **{f"clone3 {name}": "ENOSYS" for name in cf.CLONE_NAMESPACE_FLAGS}, "thread": "ok"}
