"""The kit's way of starting nbgrader: nbgrader itself, without jsonschema's IRI grammar or an ``alembic`` process."""
import os
import sqlite3
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from nbgrader.dbutil import _temp_alembic_ini

from autograder.nbgrader_command import alembic_head, nbgrader_command, nbgrader_environment


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


def test_a_new_gradebook_is_stamped_with_alembics_head_without_starting_alembic(tmp_path):
    # An empty folder as the whole PATH: no alembic anywhere on it (not even a system one), so stock
    # nbgrader's subprocess could not start, and a stamp comes from this process.
    (tmp_path / "empty").mkdir()
    env = {**os.environ, "PATH": str(tmp_path / "empty")}
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    done = subprocess.run(nbgrader_command("db", "student", "add", "amy"), cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with sqlite3.connect(tmp_path / "gradebook.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(alembic_head(),)]
        assert db.execute("SELECT id FROM student").fetchall() == [("amy",)]


def test_alembic_head_is_what_alembic_heads_prints_for_nbgrader():
    """The oracle: alembic's own command, as stock nbgrader starts it (api.get_alembic_version)."""
    with _temp_alembic_ini("sqlite:////nonexistent/gradebook.db") as alembic_ini:
        done = subprocess.run(["alembic", "-c", alembic_ini, "heads"], env=nbgrader_environment(),
                              capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert alembic_head() is not None and done.stdout.split() == [alembic_head(), "(head)"]
