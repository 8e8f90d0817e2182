"""Load the definitions of an assignment notebook into a fresh module.

A later notebook reuses an earlier one with ``svm = load_notebook("svm")``.
Only the ``imports`` cell and the definition cells (nbgrader solution cells
that are not tuning cells, see ``solutions/README.md``) run, in notebook
order; data loading, experiments, plots and checks do not. The grader
extracts a submission's code with the same rule.
"""
from __future__ import annotations

import functools
import inspect
import types
from pathlib import Path

import nbformat

IMPORTS_CELL = "imports"
TUNING_PREFIX = "tune_"


class NotebookLoadError(ImportError):
    """A notebook could not be found, read or executed as a module."""


def grade_id(cell):
    """The nbgrader ``grade_id`` of a cell, or None."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_definition_cell(cell):
    """True for the ``imports`` cell and for solution code cells that define graded names."""
    if cell.get("cell_type") != "code":
        return False
    meta = cell.get("metadata", {}).get("nbgrader", {})
    gid = meta.get("grade_id") or ""
    if gid == IMPORTS_CELL:
        return True
    return bool(meta.get("solution")) and not meta.get("grade") and not gid.startswith(TUNING_PREFIX)


def python_source(source):
    """Cell source as plain Python: IPython line magics, cell magics and shell escapes are dropped."""
    if source.lstrip().startswith("%%"):
        return ""
    kept = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(kept) + "\n"


def resolve_notebook(name, directory=None):
    """Path of notebook ``name`` ("svm", "svm.ipynb" or a path) relative to ``directory`` (default: cwd)."""
    path = Path(name)
    if path.suffix != ".ipynb":
        path = path.with_suffix(".ipynb")
    if not path.is_absolute():
        path = Path(directory or Path.cwd()) / path
    return path


def load_notebook(name, directory=None):
    """Execute a notebook's definition cells in a fresh module and return it.

    Parameters
    ----------
    name : str or path
        ``"svm"``, ``"svm.ipynb"`` or a path to the notebook.
    directory : path, optional
        Folder to look in; default the current working directory, which in
        Jupyter is the folder of the running notebook.

    Returns
    -------
    types.ModuleType
        Holds every name the definition cells define. A function still left
        as a TODO raises ``NotImplementedError`` naming the notebook and itself.

    Raises
    ------
    NotebookLoadError
        If the notebook is missing or malformed, or a definition cell fails.
    """
    path = resolve_notebook(name, directory)
    if not path.is_file():
        raise NotebookLoadError(
            f"cannot find notebook {path.name} in {path.parent}; "
            "keep the assignment's notebooks together in one folder"
        )
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types
        raise NotebookLoadError(f"cannot read {path.name}: {exc}") from exc

    module = types.ModuleType(f"notebook_{path.stem}")
    module.__file__ = str(path)
    for index, cell in enumerate(nb.cells):
        if not is_definition_cell(cell):
            continue
        label = grade_id(cell) or f"cell {index}"
        try:
            code = compile(python_source(cell.source), f"{path.name}[{label}]", "exec")
            exec(code, module.__dict__)
        except Exception as exc:
            raise NotebookLoadError(
                f"cell {label!r} of {path.name} failed while loading it: {type(exc).__name__}: {exc}"
            ) from exc
    _name_unfinished_todos(module, path.name)
    return module


def _name_unfinished_todos(module, notebook):
    """Wrap the module's functions and methods so an unfinished TODO names itself."""
    for attr, value in list(vars(module).items()):
        if getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(value):
            setattr(module, attr, _naming_wrapper(value, notebook))
        elif inspect.isclass(value):
            for method_name, method in list(vars(value).items()):
                if inspect.isfunction(method):
                    setattr(value, method_name, _naming_wrapper(method, notebook))


def _naming_wrapper(func, notebook):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except NotImplementedError as exc:
            if getattr(exc, "kit_named", False):
                raise  # already named by the function that really is unfinished
            error = NotImplementedError(
                f"{func.__qualname__} in {notebook} is not implemented yet: "
                f"complete its TODO in {notebook}, save it, and run this cell again"
            )
            error.kit_named = True
            raise error from exc

    return wrapper
