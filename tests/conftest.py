"""Fixtures shared by the project's tests, and how pytest-xdist spreads them over its workers."""
import shutil
from pathlib import Path

import pytest

from tests.notebooks import ASSIGNMENT, RELEASE


@pytest.fixture
def release_copy(tmp_path):
    """The student release in a scratch folder, so runs never write into the repository."""
    return Path(shutil.copytree(RELEASE, tmp_path / ASSIGNMENT))


# Modules whose module-scoped fixtures (an nbgrader course, a graded class, a Dask cluster) cost a
# minute or more: each runs whole on one pytest-xdist worker, so the fixture is built once, not
# once per worker. Every other test is spread one by one. (xdist's own xdist_group marks stopped
# grouping with pytest 9.2, pytest-xdist issue 1386: they are not used.)
WHOLE_MODULES = (
    "tests/autograder/test_nbgrader_parity.py",
    "tests/autograder/test_determinism.py",
    "tests/autograder/test_dask.py",
    "tests/test_solution_notebooks.py",
)


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class WholeModules(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            module = nodeid.split("::", 1)[0]
            return module if module in WHOLE_MODULES else nodeid

    return WholeModules(config, log)
