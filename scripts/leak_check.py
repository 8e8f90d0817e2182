"""Check that nothing shipped to students gives away a solution or a hidden test.

Shipped: everything under ``assignments/`` and ``utils/`` (and a student
bundle built from them). A leak is any of:

* an nbgrader solution or hidden-test delimiter, or a mention of the hidden suites;
* an import of ``autograder`` or ``solutions``;
* a line of a reference solution (or of an inline question's model answer)
  from ``solutions/`` that is not also part of the starter code;
* a saved output in a released notebook (the solutions' results).

Usage: ``python -m scripts.leak_check [PATH ...]`` (default: assignments/ and utils/);
exit status 1 and one line per leak when anything leaks.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("assignments", "utils")
MARKERS = re.compile(r"(BEGIN|END) (SOLUTION|HIDDEN TESTS)|hidden_tests")
FORBIDDEN_IMPORT = re.compile(r"^\s*(from|import)\s+(autograder|solutions)\b", re.MULTILINE)
# Solution lines shorter than this (``pass``, ``return x``) prove nothing.
MIN_LINE_CHARS = 16
TEXT_SUFFIXES = {".py", ".ipynb", ".md", ".txt", ".cfg", ".toml", ".yml", ".yaml", ".json", ".csv"}


@dataclass(frozen=True)
class Leak:
    """One thing a student must not receive, and where it was found."""

    path: Path
    what: str

    def __str__(self):
        return f"{self.path}: {self.what}"


def _normalize(line):
    return " ".join(line.split())


def _solution_regions(source):
    """Lines inside ``### BEGIN SOLUTION`` / ``### END SOLUTION`` and lines outside."""
    inside, outside, in_region = [], [], False
    for line in source.splitlines():
        if "BEGIN SOLUTION" in line:
            in_region = True
        elif "END SOLUTION" in line:
            in_region = False
        else:
            (inside if in_region else outside).append(_normalize(line))
    return inside, outside


def secret_lines(solutions_dir):
    """Distinctive lines of the reference solutions: in a solution region and nowhere else in the sources."""
    inside, outside = set(), set()
    for path in sorted(Path(solutions_dir).rglob("*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            cell_inside, cell_outside = _solution_regions(cell.source)
            inside.update(cell_inside)
            outside.update(cell_outside)
    return {
        line for line in inside - outside
        if len(line) >= MIN_LINE_CHARS and not line.startswith("#")
    }


def _shipped_text(path):
    """The text of a shipped file as a student sees it, and leaks of notebook structure."""
    if path.suffix != ".ipynb":
        return path.read_text(errors="replace"), []
    nb = nbformat.read(str(path), as_version=4)
    leaks = [
        Leak(path, f"cell {index} has saved outputs")
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    return "\n".join(cell.source for cell in nb.cells), leaks


def find_leaks(paths=None, solutions_dir=None):
    """Every leak in the files under ``paths``.

    Parameters
    ----------
    paths : list of path, optional
        Files or folders shipped to students; default ``assignments/`` and ``utils/``.
    solutions_dir : path, optional
        The instructor sources whose solution lines must not appear; default ``solutions/``.

    Returns
    -------
    list of Leak
    """
    paths = [Path(p) for p in (paths or [ROOT / name for name in SHIPPED])]
    secrets = secret_lines(solutions_dir or ROOT / "solutions")
    leaks = []
    for base in paths:
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix not in TEXT_SUFFIXES:
                continue
            text, structural = _shipped_text(path)
            leaks.extend(structural)
            if MARKERS.search(text):
                leaks.append(Leak(path, f"contains {MARKERS.search(text).group(0)!r}"))
            if FORBIDDEN_IMPORT.search(text):
                leaks.append(Leak(path, f"imports the grader or the solutions: {FORBIDDEN_IMPORT.search(text).group(0).strip()!r}"))
            for line in sorted({_normalize(line) for line in text.splitlines()} & secrets):
                leaks.append(Leak(path, f"contains a line of a reference solution: {line!r}"))
    return leaks


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    leaks = find_leaks(argv or None)
    for leak in leaks:
        print(leak)
    if leaks:
        print(f"{len(leaks)} leak(s) found", file=sys.stderr)
        return 1
    print("no leaks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
