"""The kit's way of starting nbgrader: nbgrader itself, without jsonschema's IRI grammar."""
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from autograder.nbgrader_command import nbgrader_command, nbgrader_environment


def _imported_modules(stderr):
    """The module names of ``python -X importtime`` output."""
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def _installed(distribution):
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


# Looked up as installed, not imported: importing autograder (as this process has) marks it absent.
@pytest.mark.skipif(not _installed("rfc3987-syntax"), reason="rfc3987-syntax is not installed: no grammar to skip")
def test_the_kits_nbgrader_command_is_nbgrader_without_jsonschemas_iri_grammar():
    command = nbgrader_command("--version")
    assert command[0] == sys.executable
    done = subprocess.run([sys.executable, "-X", "importtime", *command[1:]], env=nbgrader_environment(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"nbgrader version {metadata.version('nbgrader')}" in done.stdout
    imported = _imported_modules(done.stderr)
    assert {"nbgrader.apps", "jsonschema"} <= imported  # nbgrader loaded what it always loads
    assert "rfc3987_syntax.syntax_helpers" not in imported  # but built no IRI grammar


def test_nbgraders_environment_puts_this_interpreters_folder_first_on_path():
    env = nbgrader_environment({"PATH": "/usr/bin", "HOME": "/somewhere"})
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env["HOME"] == "/somewhere" and env["PATH"].endswith(f"{os.pathsep}/usr/bin")
