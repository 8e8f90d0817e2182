"""nbgrader's command line as the kit's scripts and tests start it: ``python -m autograder.nbgrader_command ARGS``.

It is nbgrader itself, ARGS as for ``nbgrader``, with one difference: started as a module of
``autograder``, it imports that package first, whose import makes jsonschema skip its optional
IRI grammar (``autograder/__init__.py``).
nbgrader imports jsonschema through nbformat, and building that grammar costs every nbgrader
command about 1.5 s of start-up (a ``generate_assignment`` of assignment 1 measured 7.3 s
stock, 5.8 s this way). Instructors may start nbgrader this way too; the stock ``nbgrader``
does the same, only slower to start.
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

    nbgrader starts ``alembic`` through PATH when it creates a gradebook.
    """
    environ = dict(os.environ if environ is None else environ)
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
    return environ


if __name__ == "__main__":
    sys.argv[0] = "nbgrader"
    runpy.run_module("nbgrader", run_name="__main__", alter_sys=True)
