"""Build the student bundle: the release notebooks, ``utils/`` and the files to install them.

``dist/<assignment>-student.zip`` holds ``<assignment>/*.ipynb``, ``utils/``, a
``pyproject.toml`` and ``environment.yml`` that install only what students
need, and a short README. It is checked for leaks before it is written; a
leak stops the build.

Usage: ``python -m scripts.bundle [--assignment A] [--out dist]`` (``make bundle``:
a zip per assignment).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from scripts.leak_check import find_leaks
from scripts.release import ASSIGNMENT, ROOT
from utils.manifest import load_manifest

STUDENT_PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "nn-course-kit-student"
version = "0.1.0"
description = "Helpers for the assignment notebooks: datasets, plots, the notebook loader."
requires-python = ">=3.10"
dependencies = [
    "numpy>=1.24", "scipy>=1.10", "matplotlib>=3.7", "scikit-learn>=1.3", "tqdm>=4.65",
    "nbformat>=5.9", "ipykernel>=6.25", "jupyterlab>=4.0,<5", "notebook>=7.0,<8", "nbgrader>=0.9.6,<0.10",
]

[tool.setuptools]
packages = ["utils"]
"""
STUDENT_ENVIRONMENT = """name: nn-course-student
channels:
  - conda-forge
dependencies:
  - python>=3.10
  - numpy>=1.24
  - scipy>=1.10
  - matplotlib>=3.7
  - scikit-learn>=1.3
  - tqdm>=4.65
  - nbformat>=5.9
  - ipykernel>=6.25
  - jupyterlab>=4.0,<5
  - notebook>=7.0,<8
  - nbgrader>=0.9.6,<0.10
  - pip
  - pip:
      - -e .
"""
STUDENT_README = """# {title}

1. Install: `python3 -m venv .venv && . .venv/bin/activate && pip install -e .`
   (or `conda env create -f environment.yml && conda activate nn-course-student`).
2. Open the notebooks: `jupyter lab {assignment}`, and work through them in order:
   {notebooks}.
3. Each TODO says what to write; the locked cell after it runs checks you can read.
   Keep the notebooks together in one folder: later notebooks load your earlier code.
"""
CIFAR_NOTE = """4. For CIFAR-10 instead of the digits: `python -m utils.data download cifar10`, then
   start Jupyter with `KIT_DATASET=cifar10`.
"""


def student_readme(assignment):
    """The bundle's README for ``assignment``: its title and notebooks from its manifest."""
    manifest = load_manifest(ROOT / "assignments" / assignment)
    text = STUDENT_README.format(title=manifest.title or assignment, assignment=assignment,
                                 notebooks=", ".join(name.removesuffix(".ipynb") for name in manifest.notebooks))
    return text + (CIFAR_NOTE if "cifar10" in manifest.datasets else "")


def _stage(folder, assignment):
    """Lay the bundle out in ``folder``; returns the list of files."""
    shutil.copytree(ROOT / "assignments" / assignment, folder / assignment)
    shutil.copytree(ROOT / "utils", folder / "utils", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (folder / "pyproject.toml").write_text(STUDENT_PYPROJECT)
    (folder / "environment.yml").write_text(STUDENT_ENVIRONMENT)
    (folder / "README.md").write_text(student_readme(assignment))
    return sorted(p for p in folder.rglob("*") if p.is_file())


def build_bundle(out_dir, assignment=ASSIGNMENT):
    """Write ``<assignment>-student.zip`` into ``out_dir`` and return its path.

    Raises
    ------
    RuntimeError
        If anything in the bundle leaks a solution, a hidden test or the grader.
    """
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "bundle"
        files = _stage(folder, assignment)
        leaks = find_leaks([folder])
        if leaks:
            raise RuntimeError("the bundle leaks:\n" + "\n".join(str(leak) for leak in leaks))
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / f"{assignment}-student.zip"
        partial = target.with_suffix(".zip.part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.relative_to(folder).as_posix())
        partial.replace(target)  # never a half-written zip under the final name
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", help="one assignment (default: every one with a manifest)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    from autograder.reference import assignments

    for assignment in [args.assignment] if args.assignment else assignments():
        try:
            path = build_bundle(args.out, assignment)
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"student bundle written to {path} (checked for leaks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
