"""cpu_group: where a worker's cgroup is made, read and removed."""
import os
import time

import pytest

from autograder import cpu_group

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
    (NONE, []),
])
def test_the_graders_own_cgroup_is_found_in_each_tree_as_mounted(fake_proc, files, expected):
    fake_proc(*files)
    assert [(kind, str(folder)) for kind, folder in cpu_group._own_cgroups()] == expected


def test_without_a_writable_cgroup_no_group_is_made(fake_proc, monkeypatch):
    fake_proc(*NONE)
    monkeypatch.setattr(cpu_group, "_PARENT", [None])
    assert cpu_group.make_group() is None and not cpu_group.available()
    assert cpu_group.accounting().startswith("per process from /proc")


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
    mine = f"nn-kit-{cpu_group._OWNER}-1"
    # A grader that ended, one whose pid a later process has (another start time), and one that lives.
    for name in (f"nn-kit-{ended}.123-1", f"nn-kit-{os.getpid()}.1-2", mine, "someone-else"):
        (tmp_path / name).mkdir()
    cpu_group._remove_stale(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [mine, "someone-else"]


@pytest.mark.skipif(not cpu_group.available(), reason="no cgroup can be made on this machine")
def test_a_process_that_joins_a_group_is_counted_after_it_ended():
    group = cpu_group.make_group()
    try:
        descriptor = group.join_file()
        pid = os.fork()
        if pid == 0:
            os.write(descriptor, b"0")
            end = time.process_time() + 0.05
            while time.process_time() < end:
                pass
            os._exit(0)
        os.close(descriptor)
        os.waitpid(pid, 0)
        assert 0.04 < group.seconds() < 0.2
    finally:
        assert group.remove() and not group.folder.exists()


@pytest.mark.skipif(not cpu_group.available(), reason="no cgroup can be made on this machine")
def test_selftests_sentence_names_the_cgroup_tree_in_use_and_leaves_no_group():
    kind, parent = cpu_group._PARENT[0]
    before = set(parent.iterdir())
    assert cpu_group.accounting().startswith(f"by a cgroup per worker ({kind}, in {parent})")
    assert set(parent.iterdir()) == before


def test_where_no_more_groups_can_be_made_none_are_made_for_the_rest_of_the_process(tmp_path, monkeypatch):
    full = tmp_path / "not-a-folder"
    full.write_text("")  # mkdir under a file fails with an error other than EEXIST
    monkeypatch.setattr(cpu_group, "_PARENT", [("v2", full)])
    assert cpu_group.make_group() is None
    assert not cpu_group.available()
