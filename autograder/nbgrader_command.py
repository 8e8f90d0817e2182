"""nbgrader's command line as the kit's scripts and tests start it: ``python -m autograder.nbgrader_command ARGS``.

It is nbgrader itself, ARGS as for ``nbgrader``, with two differences, both in start-up time:

* started as a module of ``autograder``, it imports that package first, whose import makes
  jsonschema skip its optional IRI grammar (``autograder/__init__.py``). nbgrader imports
  jsonschema through nbformat, and building that grammar costs every nbgrader command about
  1.5 s (a ``generate_assignment`` of assignment 1 measured 7.3 s stock, 5.8 s this way);
* a new gradebook is stamped with the newest revision of nbgrader's schema read in this process
  (``alembic_head``), where nbgrader starts ``alembic heads`` in a new one, which imports
  nbgrader again, grammar included: about 4 s for every command that creates a gradebook, as
  ``generate_assignment`` does in a fresh course or with a ``--db`` of its own.

Instructors may start nbgrader this way too; the stock ``nbgrader`` does the same, only slower.
"""
from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path


def nbgrader_command(*args):
    """The command line that runs ``nbgrader ARGS`` with this interpreter, as a list for ``subprocess``."""
    return [sys.executable, "-m", "autograder.nbgrader_command", *args]


def nbgrader_environment(environ=None):
    """``environ`` (default ``os.environ``) with this interpreter's folder first on PATH.

    nbgrader starts ``alembic`` through PATH when it upgrades a gradebook (``nbgrader db upgrade``),
    and stock nbgrader when it creates one.
    """
    environ = dict(os.environ if environ is None else environ)
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
    return environ


def alembic_head():
    """The revision a new gradebook is stamped with, as ``alembic heads`` prints it; None unless there is one.

    Read by alembic's own ``ScriptDirectory`` from nbgrader's migration scripts, in this process.
    """
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    heads = ScriptDirectory.from_config(config).get_heads()
    return heads[0] if len(heads) == 1 else None


def stamp_new_gradebooks_in_process():
    """Have nbgrader stamp a new gradebook with ``alembic_head``; where that finds no single head, nbgrader
    reads it its own way (a subprocess), as it would stock. An nbgrader without ``api.get_alembic_version``
    is left as it is (its own test, ``test_nbgrader_command``, then fails)."""
    import nbgrader.api

    stock = getattr(nbgrader.api, "get_alembic_version", None)
    if stock is None:
        return

    def get_alembic_version():
        return alembic_head() or stock()

    nbgrader.api.get_alembic_version = get_alembic_version


if __name__ == "__main__":
    stamp_new_gradebooks_in_process()
    sys.argv[0] = "nbgrader"
    runpy.run_module("nbgrader", run_name="__main__", alter_sys=True)
