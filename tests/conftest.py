"""Fixtures shared by the project's tests."""
import shutil
from pathlib import Path

import pytest

from tests.notebooks import ASSIGNMENT, RELEASE


@pytest.fixture
def release_copy(tmp_path):
    """The student release in a scratch folder, so runs never write into the repository."""
    return Path(shutil.copytree(RELEASE, tmp_path / ASSIGNMENT))
