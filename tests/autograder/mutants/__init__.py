"""A catalog of wrong and of correct-but-different implementations, to prove the hidden suites' strength.

Each entry edits one definition cell of the reference solution (a text
replacement that must match exactly once, or a whole new cell source). A
``Mutant`` must lose points on the first of its ``breaks`` targets and keep
full marks everywhere outside ``breaks``; an ``Alternative`` must keep full marks.

One subpackage per assignment (``assignment1/``, ``assignment0/``), one module
per notebook in it (and assignment 1's ``speed``); ``catalog(assignment)``
finds them. ``tests/autograder/test_suite_strength.py`` grades every entry.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

from tests.notebooks import ROOT
from utils.manifest import load_manifest


@dataclass(frozen=True)
class Edit:
    """A change to one definition cell of ``notebook``."""

    name: str
    notebook: str
    cell: str
    old: str = ""
    new: str = ""
    source: str = ""

    def apply(self, source):
        if self.source:
            return self.source
        count = source.count(self.old)
        if count != 1:
            raise AssertionError(f"{self.name}: {self.old!r} occurs {count} times in cell {self.cell!r}")
        return source.replace(self.old, self.new)


@dataclass(frozen=True)
class Mutant(Edit):
    """A wrong implementation; ``breaks[0]`` must lose points, nothing outside ``breaks`` may."""

    breaks: tuple = ()
    mistake: str = ""  # a phrase the feedback of breaks[0] must contain, for a known mistake


@dataclass(frozen=True)
class Alternative(Edit):
    """A correct implementation that differs from the reference; it must score full marks."""


def assignments():
    """The assignments that have a catalog (this package's subpackages), by name."""
    return tuple(sorted(info.name for info in pkgutil.iter_modules(__path__) if info.ispkg))


def catalog(assignment):
    """(mutants, alternatives) of every module of ``assignment``'s catalog, modules in name order."""
    package = importlib.import_module(f"{__name__}.{assignment}")
    mutants, alternatives = [], []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        mutants += module.MUTANTS
        alternatives += getattr(module, "ALTERNATIVES", [])
    return mutants, alternatives


def tuned_objects(assignment):
    """The targets trained by the student's own code by design: the manifest's ``[accuracy.*]`` objects."""
    return frozenset(load_manifest(ROOT / "solutions" / assignment).accuracy)
