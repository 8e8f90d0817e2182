"""Similarity report speed: `autograder similarity` on a class of 500 assignment 1 submissions.

Each generated student fills every solution cell with one of its variants (the
reference, an alternative or a mutant of the test catalog, or the untouched
starter), then renames its local variables at random, so that almost no two
cells are alike as text. A few students hand in a disguised copy of another's
work (renamed, cells moved). Prints the seconds of the whole run and of each
stage, and where the planted copies rank. Figures only; nothing is asserted.

Usage: ``python -m benchmarks.similarity [--students N] [--copies N]``
"""
from __future__ import annotations

import argparse
import os
import random
import re
import tempfile
import time
from pathlib import Path

import nbformat

from autograder import similarity
from scripts.paste_solutions import strip_delimiters
from tests.autograder.mutants import catalog
from utils.cells import grade_id, role, CellRole

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "assignment1"
SEED = 0
_ASSIGNED = re.compile(r"^\s*([a-z_]\w*)\s*(?:[-+*/]?=[^=])|\bfor\s+([a-z_]\w*)\s+in\b", re.MULTILINE)


def _variants():
    """{(notebook, grade_id): [sources]} for every solution cell: the reference, catalog edits, the starter."""
    variants = {}
    for path in sorted((ROOT / "assignments" / ASSIGNMENT).glob("*.ipynb")):
        release = nbformat.read(str(path), as_version=4)
        source = {grade_id(c): c.source for c in nbformat.read(str(ROOT / "solutions" / ASSIGNMENT / path.name),
                                                                as_version=4).cells}
        for cell in release.cells:
            if role(cell) in (CellRole.DEFINITION, CellRole.TUNING):
                reference = strip_delimiters(source[grade_id(cell)])
                variants[(path.stem, grade_id(cell))] = [reference, reference, cell.source]
    mutants, alternatives = catalog(ASSIGNMENT)
    for edit in mutants + alternatives:
        key = (edit.notebook, edit.cell)
        if key in variants:
            try:
                variants[key].append(edit.apply(variants[key][0]))
            except AssertionError:  # an edit written against another edit's text
                pass
    return variants


def _renamed(source, rng):
    """``source`` with each variable it assigns renamed, consistently, to a name of ``rng``'s choosing."""
    names = {name for pair in _ASSIGNED.findall(source) for name in pair if name}
    for name in sorted(names):
        new = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 8)))
        source = re.sub(rf"(?<![\w.]){re.escape(name)}\b", new, source)
    return source


def _write(folder, cells, moved_first=False):
    """A submission: the release with ``cells`` ({(notebook, grade_id): source}) in its solution cells."""
    folder.mkdir(parents=True)
    for path in sorted((ROOT / "assignments" / ASSIGNMENT).glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            cell.source = cells.get((path.stem, grade_id(cell)), cell.source)
        if moved_first:  # the disguised copy moves its solution cells to the end of the notebook
            solution = [c for c in nb.cells if (path.stem, grade_id(c)) in cells]
            nb.cells = [c for c in nb.cells if c not in solution] + solution
        nbformat.write(nb, str(folder / path.name))


def make_class(root, students, copies, seed=SEED):
    """Write ``students`` submissions under ``root``; returns the planted (original, copy) pairs."""
    rng = random.Random(seed)
    variants = _variants()
    work = {}
    for k in range(students - copies):
        name = f"s{k:03d}"
        work[name] = {key: _renamed(rng.choice(options), rng) for key, options in variants.items()}
        _write(root / name, work[name])
    planted = []
    for k in range(copies):
        original = f"s{k:03d}"
        copy = f"z{k:03d}"
        _write(root / copy, {key: _renamed(source, rng) for key, source in work[original].items()}, moved_first=True)
        planted.append((original, copy))
    return planted


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--copies", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        start = time.perf_counter()
        planted = make_class(scratch / "class", args.students, args.copies)
        print(f"{args.students} submissions of {ASSIGNMENT} written in {time.perf_counter() - start:.1f} s "
              f"({os.cpu_count()} cores)")

        times = {}
        start = time.perf_counter()
        stages = similarity.read_documents([scratch / "class"], ASSIGNMENT)
        documents = stages[1]
        times["find, read and fingerprint"] = time.perf_counter() - start
        start = time.perf_counter()
        comparison = similarity.compare_documents(*stages)
        times["compare every pair"] = time.perf_counter() - start
        start = time.perf_counter()
        pairs = comparison.pairs()
        times["rank the pairs"] = time.perf_counter() - start
        start = time.perf_counter()
        similarity.write(comparison, scratch / "out")
        times["write CSV and HTML"] = time.perf_counter() - start
        page_mb = (scratch / "out" / "similarity.html").stat().st_size / 1e6
        csv_mb = (scratch / "out" / "similarity.csv").stat().st_size / 1e6

    names = [d.name for d in documents]
    rank = {frozenset((names[i], names[j])): r for r, (i, j, _) in enumerate(pairs, 1)}
    print(f"{len(pairs)} pairs; {sum(len(d.cells) for d in documents)} cells, "
          f"{sum(len(d.prints) for d in documents)} fingerprints outside the release")
    for stage, seconds in times.items():
        print(f"  {stage:28s} {seconds:7.2f} s")
    print(f"  {'whole run':28s} {sum(times.values()):7.2f} s   (similarity.html {page_mb:.1f} MB, "
          f"similarity.csv {csv_mb:.1f} MB)")
    ranks = sorted(rank[frozenset(pair)] for pair in planted)
    print(f"planted copies rank {ranks} of {len(pairs)}")


if __name__ == "__main__":
    main()
