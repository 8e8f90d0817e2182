"""Session fixtures of the autograder's tests: one release and one reference submission for all."""
import pytest

from tests.autograder.submissions import make_reference_submission, make_release


@pytest.fixture(scope="session")
def fresh_release(tmp_path_factory):
    return make_release(tmp_path_factory.mktemp("release"))


@pytest.fixture(scope="session")
def reference_submission(tmp_path_factory, fresh_release):
    return make_reference_submission(tmp_path_factory.mktemp("reference") / "reference", fresh_release)
