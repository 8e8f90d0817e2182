"""The process table the speed checks and the timings read: only the processes under some pids, as the whole table has them."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from autograder import run

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")

# A parent with a child and a grandchild, and a daemon that left the tree (double fork, own
# session); each spins until killed, and the daemon's pid is printed.
TREE = textwrap.dedent("""
    import os, subprocess, sys, time
    spin = [sys.executable, "-c", "while True: pass"]
    child = subprocess.Popen([sys.executable, "-c",
                              "import subprocess, sys; subprocess.Popen(%r).wait()" % (spin,)])
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, spin)
        os._exit(0)
    os.wait()
    time.sleep(0.5)
    print("ready", flush=True)
    child.wait()
""")


@pytest.fixture
def tree():
    run.become_subreaper()  # as a grading process is: the daemon becomes this process's child
    left_before = run.orphans()  # by other tests in this process (test_hardening checks there are none)
    parent = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True)
    assert parent.stdout.readline().strip() == "ready"
    time.sleep(0.3)  # every process has used some CPU
    parent.left_before = left_before
    yield parent
    everyone = {parent.pid} | run.descendants(parent.pid) | run.orphans()
    for pid in everyone:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    parent.wait()
    for pid in run.orphans() | everyone - {parent.pid}:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def _family(table, root):
    return {root} | run.descendants(root, table)


def test_the_table_under_a_process_holds_its_whole_tree_as_the_full_table_does(tree):
    full = run._processes()
    under = run._processes(under={tree.pid})
    assert _family(under, tree.pid) == _family(full, tree.pid)
    assert len(_family(full, tree.pid)) == 3  # the parent, its child and the child's child
    assert set(under) == _family(full, tree.pid)  # nothing else was read


def test_an_orphan_of_the_tree_counts_in_its_cpu_time(tree):
    daemon = run.orphans() - tree.left_before
    assert len(daemon) == 1 and not daemon & _family(run._processes(), tree.pid)
    deadline = time.monotonic() + 30
    while run._processes()[min(daemon)][2] < 0.5 and time.monotonic() < deadline:
        time.sleep(0.05)
    with_daemon = run.tree_cpu_reading(tree.pid, with_orphans=True).ticks
    alone = run.tree_cpu_reading(tree.pid).ticks  # read after: the tree's own growth only lowers the difference
    assert with_daemon - alone >= 0.45  # the daemon's half second of spinning counts


def test_without_children_files_the_whole_table_is_read_with_the_same_result(tree, monkeypatch):
    with_files = _family(run._processes(under={tree.pid}), tree.pid)
    monkeypatch.setattr(run, "_HAS_CHILDREN_FILES", False)
    assert _family(run._processes(under={tree.pid}), tree.pid) == with_files
    assert len(run._processes(under={tree.pid})) > len(with_files)  # the whole table
