"""Loading a submission's notebook into the worker, and what the tests learn when it fails.

``load_module`` runs a notebook's extracted cells (and, for a tuned object, its
tuning cell) in the worker and returns a proxy of the module. A notebook the
grader could not use becomes an ``Unavailable`` stand-in whose every use fails
with the reason, so each test of it fails with that reason and nothing else.
Every message is written here from facts the grader holds: the type and line
of an exception, never its text (see ``run``).
"""
from __future__ import annotations

import re

from autograder.proxy import MissingDefinition, RemoteObject
from autograder.run import StudentFault


class Unavailable:
    """Stands in for a notebook the grader could not load: every use fails with the reason."""

    def __init__(self, reason):
        self._reason = reason

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise MissingDefinition(self._reason)

    def __call__(self, *args, **kwargs):
        raise MissingDefinition(self._reason)


def module_name(notebook, tuning_cell=None):
    """The worker's name for ``notebook`` loaded alone, or with its data cell and ``tuning_cell``."""
    return notebook if not tuning_cell else f"{notebook}#{tuning_cell}"


def load_module(context, notebook, tuning_cell=None, timeout=None):
    """The student's ``notebook`` loaded in the worker: a ``RemoteObject``, or an ``Unavailable`` stand-in.

    Parameters
    ----------
    context : compare.GradingContext
    tuning_cell : str, optional
        Also run the data cell and this tuning cell (for the ``tuned`` fixture).
    """
    problem = context.submission.problems.get(notebook)
    if problem:
        return Unavailable(problem)
    extracted = context.extracted[notebook]
    if tuning_cell and tuning_cell in extracted.missing:
        return Unavailable(_missing_message(extracted, tuning_cell))
    worker_name = module_name(notebook, tuning_cell)
    try:
        result = context.session.load(worker_name, extracted.load_cells(tuning_cell), timeout=timeout)
    except StudentFault as exc:
        return Unavailable(f"loading {notebook} failed: {exc}")
    # ``failed`` comes from the student's process: keep only cells we sent, in a plain shape.
    sources = dict(extracted.load_cells(tuning_cell))
    reported = result.get("failed") if isinstance(result.get("failed"), dict) else {}
    failed = {label: _failure_message(notebook, label, context.session.student_error(info).info,
                                      sources[label])
              for label, info in reported.items() if label in sources}
    failed.update({label: f"running the cell '{label}' of {notebook} failed: {fault}"
                   for label, fault in result["faults"].items()})
    stand_ins = {**context.stand_ins, **_stood_in(context.references, result.get("stood_in"))}
    failed = {label: message + _stand_in_note(stand_ins, notebook) for label, message in failed.items()}
    if tuning_cell and tuning_cell in failed:
        return Unavailable(failed[tuning_cell])

    def explain_missing(name):
        cell = extracted.cell_defining(name)
        if cell in extracted.missing:
            return _missing_message(extracted, cell)
        if "imports" in failed:  # the root cause of everything after it
            return failed["imports"]
        if cell in failed:
            return failed[cell]
        for message in failed.values():
            return message
        return f"{name} is not defined in {notebook}"

    return RemoteObject(context.session, worker_name, notebook, context.session.generation,
                        explain_missing)


def _stood_in(references, reported):
    """{notebook: why} of the sibling cells the worker says ran as released, because they raised when loaded.

    ``reported`` comes from the student's process: only notebooks and definition
    cells of the assignment, and exception names that are identifiers, are kept.
    """
    kept = {}
    for entry in reported if isinstance(reported, list) else []:
        if not (isinstance(entry, (list, tuple)) and len(entry) == 3 and all(isinstance(e, str) for e in entry)):
            continue
        notebook, cell, kind = entry
        if notebook in references.notebooks and cell in references.definition_cells(notebook) \
                and _EXCEPTION_NAME.fullmatch(kind):
            kept.setdefault(notebook, []).append(f"its cell '{cell}' raised {kind} when loaded")
    return {notebook: " and ".join(dict.fromkeys(reasons)) for notebook, reasons in kept.items()}


_EXCEPTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,60}")


def _stand_in_note(stand_ins, notebook):
    """Why code loaded from another notebook may be the released starter code, or ""."""
    others = {name: why for name, why in stand_ins.items() if name != notebook}
    if not others:
        return ""
    return "".join(f"; note: {name} is loaded by other notebooks as released, since {why}, and its "
                   "unfinished code may be the cause" for name, why in sorted(others.items()))


def _missing_message(extracted, cell):
    return f"the cell '{cell}' is missing from {extracted.name}; restore it from the released notebook"


def _failure_message(notebook, cell, info, source):
    """What a cell's exception was, in the grader's words: its type and its line.

    The exception's own message came from the worker, so it is never shown (see ``run``);
    a syntax error is described by compiling the cell here.
    """
    kind, line, detail = info.get("type", "an exception"), info.get("line"), ""
    if kind == "SyntaxError":
        try:
            compile(source, cell, "exec")
        except SyntaxError as exc:
            line, detail = exc.lineno, f" ({exc.msg})"
        except ValueError:
            pass
    where = f" at line {line}" if line else ""
    return f"the cell '{cell}' of {notebook} raised {kind}{where}{detail} when run"
