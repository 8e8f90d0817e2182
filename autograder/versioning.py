"""What a grade depends on: the grader's version and a submission's fingerprint, for resuming a batch."""
from __future__ import annotations

import hashlib
import platform
from importlib import metadata
from pathlib import Path

from autograder import __version__
from autograder.reference import SOLUTIONS
from autograder.sandbox import UTILS_DIR

PACKAGE = Path(__file__).resolve().parent
# What a grade depends on besides the kit's own files.
GRADING_PACKAGES = ("numpy", "pytest", "nbformat")


def grader_version():
    """This grader's version: the release plus a hash of everything a grade depends on.

    The engine, hidden suites and limits (``autograder/``), the references
    (``solutions/``), the shipped helpers the worker and the suites run
    (``utils/``: the extraction rule, the data splits), and the versions of
    Python and of the packages that compute the grades.
    """
    digest = hashlib.sha256()
    for base in (PACKAGE, SOLUTIONS, UTILS_DIR):
        for path in sorted(base.rglob("*")):
            if path.is_file() and path.suffix in {".py", ".ipynb", ".ini", ".toml"} and "__pycache__" not in path.parts:
                digest.update(f"{base.name}/{path.relative_to(base)}".encode())
                digest.update(path.read_bytes())
    digest.update(platform.python_version().encode())
    for package in GRADING_PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}".encode())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def submission_fingerprint(folder):
    """A hash of the notebooks in a submission folder."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.ipynb")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
