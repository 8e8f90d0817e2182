"""cpu_group: where a worker's cgroup is made, read and removed."""
import os
import time

import pytest

from autograder import cpu_group
from autograder.sandbox import Isolation

V2_ONLY = ("0::/user.slice/user-1000.slice/session-3.scope\n",
           "35 24 0:30 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n")
HYBRID = ("4:memory:/user.slice/job\n3:cpu,cpuacct:/user.slice/job\n0::/user.slice/job\n",
          "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
          "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
          "40 31 0:35 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n")
# A container that sees its own cgroup as the root of the mount.
CONTAINER_V1 = ("2:cpuacct:/docker/abc\n",
                "50 40 0:40 /docker/abc /sys/fs/cgroup/cpuacct ro - cgroup cgroup rw,cpuacct\n")
NONE = ("", "20 1 8:1 / / rw - ext4 /dev/sda1 rw\n")
# The mount's root is a name that begins like the process's cgroup, not a folder above it.
SIBLING_PREFIX = ("2:cpuacct:/docker/abcdef\n",
                  "50 40 0:40 /docker/abc /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n")
OUTSIDE_NAMESPACE = ("0::/../sibling/x\n", "35 24 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
ESCAPED = ("0::/job\n", "35 24 0:30 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n")
# Two mounts of the v2 tree (the first may be read-only), one with an empty source field; and a
# membership line that is not one.
TWO_MOUNTS = ("garbage\n0::/job\n", "35 24 0:30 / /sys/fs/cgroup ro - cgroup2  ro\n"
                                     "36 24 0:30 / /mnt/cg rw - cgroup2 cgroup2 rw\n")


@pytest.fixture
def fake_proc(tmp_path, monkeypatch):
    def make(memberships, mounts):
        (tmp_path / "self").mkdir(exist_ok=True)
        (tmp_path / "self" / "cgroup").write_text(memberships)
        (tmp_path / "self" / "mountinfo").write_text(mounts)
        monkeypatch.setattr(cpu_group, "PROC", tmp_path)
    return make


@pytest.mark.parametrize("files, expected", [
    (V2_ONLY, [("v2", "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope")]),
    (HYBRID, [("v2", "/sys/fs/cgroup/unified/user.slice/job"), ("v1", "/sys/fs/cgroup/cpu,cpuacct/user.slice/job")]),
    (SIBLING_PREFIX, []),
    (OUTSIDE_NAMESPACE, []),
    (ESCAPED, [("v2", "/mnt/my cgroups/job")]),
    (CONTAINER_V1, [("v1", "/sys/fs/cgroup/cpuacct")]),
    (TWO_MOUNTS, [("v2", "/sys/fs/cgroup/job"), ("v2", "/mnt/cg/job")]),
    (NONE, []),
])
def test_the_graders_own_cgroup_is_found_in_each_tree_as_mounted(fake_proc, files, expected):
    fake_proc(*files)
    assert [(kind, str(folder)) for kind, folder in cpu_group._own_cgroups()] == expected


def test_without_a_writable_cgroup_no_group_is_made(fake_proc, monkeypatch):
    fake_proc(*NONE)
    monkeypatch.setattr(cpu_group, "_PARENT", [None])
    assert cpu_group.make_group() is None and not cpu_group.available()
    assert cpu_group.accounting(Isolation("bubblewrap", ()), None).startswith("per process from /proc (no cgroup")
    assert not cpu_group.counts_workers(Isolation("bubblewrap", ()), None)


@pytest.mark.parametrize("kind, name, text, seconds", [
    ("v2", "cpu.stat", "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n", 1.5),
    ("v1", "cpuacct.usage", "2250000000\n", 2.25),
])
def test_a_groups_count_is_read_in_seconds(tmp_path, kind, name, text, seconds):
    (tmp_path / name).write_text(text)
    assert cpu_group.CpuGroup(tmp_path, kind).seconds() == seconds
    assert cpu_group.CpuGroup(tmp_path / "gone", kind).seconds() is None


def test_groups_that_ended_graders_left_are_removed_and_others_kept(tmp_path):
    ended = 2**22 + 7  # above any pid_max: no such process
    namespace = cpu_group._OWNER.split(".")[0]
    mine = f"nn-kit-{cpu_group._OWNER}-1"
    # Of this pid namespace: a grader that ended, one whose pid a later process has (another start
    # time), and one that lives. Of another pid namespace (a container sharing the cgroup): one
    # whose pid means nothing here. And a folder of someone else.
    other_namespace = f"nn-kit-{int(namespace) + 1}.{ended}.123-1"
    for name in (f"nn-kit-{namespace}.{ended}.123-1", f"nn-kit-{namespace}.{os.getpid()}.1-2", mine,
                 other_namespace, "someone-else"):
        (tmp_path / name).mkdir()
    cpu_group._remove_stale(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine, other_namespace, "someone-else"])


def test_a_grader_hidden_by_hidepid_is_taken_for_alive(monkeypatch):
    monkeypatch.setattr(cpu_group, "_start_time", lambda pid: None)  # /proc shows nothing of it
    assert cpu_group._lives("1", "5")  # pid 1 exists: signalling it is refused or allowed, never "no such"
    assert not cpu_group._lives(str(2**22 + 7), "5")


def test_the_pids_of_a_group_and_its_sub_groups_leave_out_other_pid_namespaces(tmp_path):
    (tmp_path / "w" / "sub").mkdir(parents=True)
    (tmp_path / "cgroup.procs").write_text("")
    (tmp_path / "w" / "cgroup.procs").write_text("0\n41\n")  # 0: a process of another pid namespace
    (tmp_path / "w" / "sub" / "cgroup.procs").write_text("42\n")
    assert cpu_group.CpuGroup(tmp_path, "v2").pids() == {41, 42}


def test_a_cgroup_count_that_went_back_is_the_graders_error():
    from autograder.run import CpuReading, RunError

    assert CpuReading(None, {}, 3.5).since(CpuReading(None, {}, 3.0)) == (0.5, True)
    with pytest.raises(RunError, match="went back"):
        CpuReading(None, {}, 2.0).since(CpuReading(None, {}, 3.0))


def _burn_in(folder, seconds):
    """Fork a child that moves itself into the cgroup ``folder``, burns ``seconds`` of CPU time and ends."""
    descriptor = os.open(folder / "cgroup.procs", os.O_WRONLY)
    pid = os.fork()
    if pid == 0:
        os.write(descriptor, b"0")
        end = time.process_time() + seconds
        while time.process_time() < end:
            pass
        os._exit(0)
    os.close(descriptor)
    os.waitpid(pid, 0)


@pytest.mark.skipif(not cpu_group.available(), reason="no cgroup can be made on this machine")
def test_a_process_that_joins_a_group_is_counted_after_it_ended():
    group = cpu_group.make_group()
    try:
        descriptor = group.join_file()  # of the inner group, the one workers join
        assert descriptor >= 0
        os.close(descriptor)
        _burn_in(group.folder / cpu_group.JOINED, 0.05)
        assert 0.04 < group.seconds() < 0.2
    finally:
        assert group.remove() and not group.folder.exists()


@pytest.mark.skipif(not cpu_group.available(), reason="no cgroup can be made on this machine")
def test_work_in_groups_a_worker_made_below_its_own_is_counted_and_removed_with_it():
    """What a worker that took its inner group (a cgroup namespace) can do there: make sub-groups
    and move work into them, or leave a process in one; the outer group counts and removes them all."""
    group = cpu_group.make_group()
    below = group.folder / cpu_group.JOINED / "hidden" / "deeper"
    below.mkdir(parents=True)
    _burn_in(below, 0.05)
    assert 0.04 < group.seconds() < 0.2
    sleeper = os.fork()
    if sleeper == 0:
        os.write(os.open(below / "cgroup.procs", os.O_WRONLY), b"0")
        time.sleep(60)
        os._exit(0)
    try:
        deadline = time.monotonic() + 5
        while sleeper not in group.pids() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert group.pids() == {sleeper}
        assert not group.remove(seconds=0.05)  # a group that holds a process cannot be removed...
        if group.kill_all():  # ...until it is killed (cgroup v2, Linux 5.14+)
            os.waitpid(sleeper, 0)
            sleeper = None
        else:
            os.kill(sleeper, 9)
            os.waitpid(sleeper, 0)
            sleeper = None
        assert group.remove() and not group.folder.exists()
    finally:
        if sleeper is not None:
            os.kill(sleeper, 9)
            os.waitpid(sleeper, 0)
            group.remove()


@pytest.mark.skipif(not cpu_group.available(), reason="no cgroup can be made on this machine")
def test_a_stale_group_of_an_ended_grader_is_removed_with_what_it_still_holds():
    kind, parent = cpu_group._PARENT[0]
    namespace = cpu_group._OWNER.split(".")[0]
    stale = cpu_group._made(parent / f"nn-kit-{namespace}.{2**22 + 7}.123-1", kind)  # its grader ended
    daemon = os.fork()
    if daemon == 0:
        os.write(stale.join_file(), b"0")
        time.sleep(60)
        os._exit(0)
    try:
        deadline = time.monotonic() + 5
        while daemon not in stale.pids() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not stale.kill_all():
            pytest.skip("the kernel has no cgroup.kill (Linux 5.14+): a populated group is left")
        os.waitpid(daemon, 0)
        daemon = None
        # once more, populated, for _remove_stale itself
        daemon = os.fork()
        if daemon == 0:
            os.write(stale.join_file(), b"0")
            time.sleep(60)
            os._exit(0)
        while daemon not in stale.pids() and time.monotonic() < deadline:
            time.sleep(0.01)
        cpu_group._remove_stale(parent)
        os.waitpid(daemon, 0)  # killed by it
        daemon = None
        assert not stale.folder.exists()
    finally:
        if daemon is not None:
            os.kill(daemon, 9)
            os.waitpid(daemon, 0)
        stale.remove()


def test_selftests_sentence_names_the_cgroup_tree_in_use_and_leaves_no_group(monkeypatch):
    monkeypatch.setattr(cpu_group, "_PARENT", [None])  # looked for afresh, probe included
    sentence = cpu_group.accounting(Isolation("bubblewrap", ()), None)
    if cpu_group._PARENT[0] is False:
        assert sentence.startswith("per process from /proc (no cgroup")
        return
    kind, parent = cpu_group._PARENT[0]
    assert sentence == f"by a cgroup per worker ({kind}, in {parent})"
    assert not [p for p in parent.iterdir() if p.name.startswith(f"nn-kit-{cpu_group._OWNER}-probe")]
    # a worker with the grader's user id outside bubblewrap gets none: it could move work out of it
    assert cpu_group.accounting(Isolation("landlock", ()), None).startswith("per process from /proc (a cgroup")
    assert cpu_group.counts_workers(Isolation("landlock", ()), 12345)


def test_where_no_more_groups_can_be_made_none_are_made_for_the_rest_of_the_process(tmp_path, monkeypatch):
    full = tmp_path / "not-a-folder"
    full.write_text("")  # mkdir under a file fails with an error other than EEXIST
    monkeypatch.setattr(cpu_group, "_PARENT", [("v2", full)])
    assert cpu_group.make_group() is None
    assert not cpu_group.available()
