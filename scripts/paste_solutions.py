"""Make a "perfect submission": the student release with the reference solutions pasted in.

Each solution cell of a released notebook gets the source notebook's cell of
the same ``grade_id``, without the ``### BEGIN/END SOLUTION`` lines, as a
student who wrote the reference code would have it. Everything else (locked
cells, nbgrader metadata and checksums) stays as released.

Usage: ``python -m scripts.paste_solutions OUT_DIR``.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import nbformat

from scripts.release import ASSIGNMENT, ROOT


def strip_delimiters(source):
    """Source without the nbgrader solution delimiter lines."""
    return "\n".join(
        line for line in source.splitlines() if line.strip() not in {"### BEGIN SOLUTION", "### END SOLUTION"}
    )


def paste_reference(released, source):
    """A copy of notebook ``released`` whose solution cells hold the reference code from ``source``."""
    reference = {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in source.cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution")
    }
    filled = nbformat.from_dict(released)
    for cell in filled.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            cell.source = strip_delimiters(reference[meta["grade_id"]])
    return filled


def write_reference_submission(out_dir, release_dir=None, solutions_dir=None, assignment=ASSIGNMENT):
    """Write every released notebook of ``assignment``, filled with the reference, to ``out_dir``.

    ``release_dir`` and ``solutions_dir`` default to the assignment's folders in this checkout.
    """
    release_dir = Path(release_dir or ROOT / "assignments" / assignment)
    solutions_dir = Path(solutions_dir or ROOT / "solutions" / assignment)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(release_dir.iterdir()):
        if path.suffix != ".ipynb":
            if path.is_file():
                shutil.copy2(path, out_dir / path.name)
            continue
        released = nbformat.read(str(path), as_version=4)
        source = nbformat.read(str(solutions_dir / path.name), as_version=4)
        nbformat.write(paste_reference(released, source), str(out_dir / path.name))
    return out_dir


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--assignment", default=ASSIGNMENT)
    args = parser.parse_args(argv)
    folder = write_reference_submission(args.out_dir, assignment=args.assignment)
    print(f"reference submission written to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
