"""Session fixtures of the autograder's tests: one release and one reference submission per assignment for all."""
import functools

import pytest

from autograder import cpu_group
from autograder.sandbox import detect, worker_uid
from tests.autograder.submissions import ASSIGNMENT, make_reference_submission, make_release


@pytest.fixture(params=["cgroup", "per process"])
def accounting(request, monkeypatch):
    """Each way a worker's CPU time is counted: by its cgroup, or from /proc where it gets none."""
    isolation = detect()
    if request.param == "cgroup" and not cpu_group.counts_workers(isolation, worker_uid(isolation)):
        pytest.skip("this machine's workers get no cgroup (none can be made, or they could write the tree)")
    if request.param == "per process":
        monkeypatch.setattr(cpu_group, "make_group", lambda: None)
    return request.param


@pytest.fixture(scope="session")
def release_of(tmp_path_factory):
    """``release_of(assignment)``: the student release generated from the solutions, once per session."""
    @functools.cache
    def release(assignment):
        return make_release(tmp_path_factory.mktemp(f"release_{assignment}"), assignment)
    return release


@pytest.fixture(scope="session")
def reference_of(tmp_path_factory, release_of):
    """``reference_of(assignment)``: that release with every reference solution pasted in, once per session."""
    @functools.cache
    def reference(assignment):
        folder = tmp_path_factory.mktemp(f"reference_{assignment}") / "reference"
        return make_reference_submission(folder, release_of(assignment), assignment)
    return reference


@pytest.fixture(scope="session")
def fresh_release(release_of):
    """Assignment 1's release."""
    return release_of(ASSIGNMENT)


@pytest.fixture(scope="session")
def reference_submission(reference_of):
    """Assignment 1's reference submission."""
    return reference_of(ASSIGNMENT)
