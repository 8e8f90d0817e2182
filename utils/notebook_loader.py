"""Load the definitions of an assignment notebook into a fresh module.

A later notebook reuses an earlier one with ``svm = load_notebook("svm")``.
Only the ``imports`` cell and the definition cells (roles decided by
``utils.cells``, see ``solutions/README.md``) run, chosen by the rule of
``select_definition_cells``; data loading, experiments, plots and checks do
not. The grader extracts a submission's code with the same rule.
"""
from __future__ import annotations

import ast
import contextvars
import functools
import inspect
import json
import linecache
import types
from pathlib import Path

# IMPORTS_CELL, TUNING_PREFIX, grade_id and is_definition_cell are re-exported:
# notebooks and tests import them from here.
from utils.cells import IMPORTS_CELL, TUNING_PREFIX, CellRole, grade_id, is_definition_cell, role  # noqa: F401

# The folder of the notebook being loaded, so that a notebook that loads a
# sibling (softmax loads svm) finds it next to itself, wherever the caller runs.
_loading_from = contextvars.ContextVar("loading_from", default=None)

# Cell metadata the grader writes into its copies of a student's notebooks (never
# read from a student's own file): the released starter source of a definition
# cell, run in its place when the student's version raises while loading.
STARTER_KEY = "kit_starter"
# (notebook, grade_id, exception type) of every cell whose starter stood in, in order;
# the grader's worker reads and clears it after each cell it runs.
stood_in = []


class NotebookLoadError(ImportError):
    """A notebook could not be found, read or executed as a module."""


def cell_source(cell):
    """A cell's source as one string (the notebook format may store a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def python_source(source):
    """Cell source as plain Python: IPython line magics, cell magics and shell escapes are dropped."""
    if source.lstrip().startswith("%%"):
        return ""
    kept = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(kept) + "\n"


def defined_names(source):
    """Names a cell defines at top level (functions, classes, assignments, imports)."""
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def expected_definitions(nb):
    """[(grade_id, names)] of a notebook's definition cells, in notebook order (first of duplicates)."""
    expected = {}
    for cell in nb["cells"]:
        if is_definition_cell(cell) and grade_id(cell) not in expected:
            expected[grade_id(cell)] = defined_names(cell_source(cell))
    return list(expected.items())


def select_definition_cells(nb, expected=None):
    """Pick the cells that define a notebook's graded names, by the documented rule.

    For each expected definition cell (``grade_id``, names), in the expected order:

    1. the code cell with that ``grade_id``; if the student duplicated it, the
       last one in the notebook wins (as in a kernel run top to bottom);
    2. otherwise, a retyped cell: the last code cell without nbgrader metadata
       that defines all of the expected names;
    3. otherwise the cell is missing.

    Cells are returned in the expected order, whatever the student's order.

    Parameters
    ----------
    nb : dict
        A notebook as parsed JSON (an ``nbformat.NotebookNode`` works too).
    expected : list of (str, set of str), optional
        Default: the notebook's own definition cells (``expected_definitions``).
        The grader passes those of the instructor's source notebook.

    Returns
    -------
    cells : list of (str, str)
        (grade_id, source) of each cell found.
    missing : list of str
        ``grade_id`` of each expected cell not found.
    """
    expected = expected_definitions(nb) if expected is None else expected
    code_cells = [cell for cell in nb["cells"] if cell.get("cell_type") == "code"]
    cells, missing = [], []
    for gid, names in expected:
        matches = [cell for cell in code_cells if grade_id(cell) == gid]
        if not matches and names:
            matches = [
                cell for cell in code_cells
                if role(cell) is CellRole.UNMARKED and names <= defined_names(cell_source(cell))
            ]
        if matches:
            cells.append((gid, cell_source(matches[-1])))
        else:
            missing.append(gid)
    return cells, missing


def resolve_notebook(name, directory=None):
    """Path of notebook ``name`` ("svm", "svm.ipynb" or a path) relative to ``directory`` (default: cwd)."""
    path = Path(name)
    if path.suffix != ".ipynb":
        path = path.with_suffix(".ipynb")
    if not path.is_absolute():
        path = Path(directory or _loading_from.get() or Path.cwd()) / path
    return path


def load_notebook(name, directory=None):
    """Execute a notebook's definition cells in a fresh module and return it.

    Parameters
    ----------
    name : str or path
        ``"svm"``, ``"svm.ipynb"`` or a path to the notebook.
    directory : path, optional
        Folder to look in; default the folder of the notebook being loaded
        when one notebook loads another, else the current working directory
        (in Jupyter, the folder of the running notebook).

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
    # Plain JSON, not nbformat: this runs in students' kernels and in every grading
    # worker, where importing nbformat would cost more than the rest of the load.
    try:
        with open(path, encoding="utf-8-sig") as handle:  # editors may add a BOM
            nb = json.load(handle)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("it has no list of cells")
    except (OSError, ValueError, AttributeError) as exc:
        raise NotebookLoadError(f"cannot read {path.name}: {exc}") from exc

    module = types.ModuleType(f"notebook_{path.stem}")
    module.__file__ = str(path)
    cells, _ = select_definition_cells(nb)
    starters = {grade_id(cell): cell["metadata"][STARTER_KEY] for cell in nb["cells"]
                if isinstance(cell.get("metadata"), dict) and isinstance(cell["metadata"].get(STARTER_KEY), str)}
    token = _loading_from.set(path.parent)
    try:
        _execute_cells(module, cells, path.name, starters)
    finally:
        _loading_from.reset(token)
    _name_unfinished_todos(module, path.name)
    return module


def _execute_cells(module, cells, notebook, starters=None):
    """Run each (label, source) cell in ``module``; a failing cell with a starter in ``starters`` runs that."""
    for label, source in cells:
        try:
            _execute_cell(module, label, source, notebook)
        except Exception as exc:
            failure = NotebookLoadError(
                f"cell {label!r} of {notebook} failed while loading it: {type(exc).__name__}: {exc}")
            if label not in (starters or {}):
                raise failure from exc
            stood_in.append((notebook, label, type(exc).__name__))
            try:
                _execute_cell(module, label, starters[label], notebook)
            except Exception:
                raise failure from exc


def _execute_cell(module, label, source, notebook):
    filename = f"{notebook}[{label}]"
    plain = python_source(source)
    # Registered so that tracebacks and inspect.getsource can show the cell's lines.
    linecache.cache[filename] = (len(plain), None, plain.splitlines(True), filename)
    exec(compile(plain, filename, "exec"), module.__dict__)


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
            # Only the release's stubs ("TODO: ...", or nbgrader's bare default) are unfinished
            # TODOs; a deliberate NotImplementedError (an abstract method) passes through.
            unfinished = not exc.args or str(exc.args[0]).startswith("TODO")
            if getattr(exc, "kit_named", False) or not unfinished:
                raise
            error = NotImplementedError(
                f"{func.__qualname__} in {notebook} is not implemented yet: "
                f"complete its TODO in {notebook}, save it, and run this cell again"
            )
            error.kit_named = True
            raise error from exc

    return wrapper
