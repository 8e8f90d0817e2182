"""Generate the student release ``assignments/<assignment>`` from ``solutions/`` with nbgrader.

Usage: ``python -m scripts.release [--assignment NAME] [--release-dir DIR]`` (default: every assignment).
The gradebook database nbgrader needs for this lives in a temporary folder,
so nothing but the release is written.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.nbgrader_command import nbgrader_command, nbgrader_environment

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "assignment1"


def generate_release(assignment=ASSIGNMENT, release_dir=None, root=ROOT):
    """Run ``nbgrader generate_assignment`` and return the folder of the generated release.

    Parameters
    ----------
    assignment : str
        Assignment folder under ``solutions/``.
    release_dir : path, optional
        Where the release goes (default ``assignments/`` under ``root``, as configured).
    root : path
        The course folder: its ``nbgrader_config.py`` and ``solutions/`` (default this checkout).

    Raises
    ------
    RuntimeError
        With nbgrader's output, if it fails.
    """
    release_dir = Path(release_dir or Path(root) / "assignments").resolve()
    with tempfile.TemporaryDirectory() as tmp:
        command = nbgrader_command("generate_assignment", assignment, "--force", f"--db=sqlite:///{tmp}/gradebook.db",
                                   f"--CourseDirectory.release_directory={release_dir}")
        done = subprocess.run(command, cwd=root, env=nbgrader_environment(), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{done.stdout}\n{done.stderr}")
    return release_dir / assignment


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", help="one assignment (default: every one with a manifest)")
    parser.add_argument("--release-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    from autograder.reference import assignments

    for assignment in [args.assignment] if args.assignment else assignments():
        try:
            folder = generate_release(assignment, args.release_dir)
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"release written to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
