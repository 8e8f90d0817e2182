"""Rules on the student's source: what counts as a Python-level loop.

Source rules read the submitted cell (``student_code.source_of(grade_id)``)
with ``ast``: nothing of the student's code runs here.

What counts as a Python-level loop
----------------------------------
A function under the no-loop rule (``compute_distances_no_loops``,
``svm_loss_vectorized``, ``softmax_loss_vectorized``) must leave every step
over the elements, rows or pairs of its arrays to numpy's compiled code. The
rule is an allow-list, applied to the function and to every function of its
cell that it calls (by name, or as ``self.method`` of its class), in turn:

- no ``for``/``while``, comprehension, generator expression, ``yield``,
  ``lambda`` or function defined inside it, and no recursion (a cycle of calls);
- every call is one of: a numpy function in ``ALLOWED_NUMPY`` (every ufunc and
  the array functions a vectorized solution needs), reached through the name
  the cell binds to numpy (``np`` unless the cell binds ``np`` to something
  else); an array method in ``ALLOWED_ARRAY_METHODS`` on a value of the
  function (``X.T.dot(W)``, ``scores.max(axis=1)``), never on a module; a
  builtin in ``ALLOWED_BUILTINS`` or an exception; a function of the same cell
  or a method of the same class, checked in turn;
- it reads only its parameters and local variables, numpy, builtin types and
  constants of its cell. Functions are called, never handed over as values:
  ``map(f, X)``, ``np.vectorize(f)`` or ``key=f`` run ``f`` once per element;
- no dunder names (``__dict__``, ``__class__``), nothing that runs code the
  check cannot see (``exec``, ``eval``), and nothing in the cell that defines
  such a function again or replaces it.

So ``functools.reduce``, ``itertools.product`` (under any alias), ``map``,
``sum`` over a generator, ``sorted``, ``getattr(np, "vectorize")``,
``np.apply_along_axis``, ``np.fromfunction``, ``np.nditer`` and a function that
calls itself are refused, each with a sentence naming what it found.
``range`` is allowed: with every loop construct refused nothing in Python
iterates it, and numpy turns ``scores[range(N), y]`` into an index array in
compiled code.
"""
from __future__ import annotations

import ast
import builtins

import numpy as np

from autograder.testing.asserts import Mistake
from utils.notebook_loader import python_source

LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
# The numpy functions, besides the ufuncs, that a vectorized solution may call (paths inside numpy).
# Never: vectorize, frompyfunc, apply_along_axis, apply_over_axes, fromiter, fromfunction, piecewise,
# nditer, ndindex, ndenumerate (each runs Python code per element), linalg.norm (the notebooks forbid it).
_ARRAY_FUNCTIONS = frozenset({
    # reductions, sorting and counting
    "sum", "mean", "average", "median", "std", "var", "prod", "max", "min", "amax", "amin", "ptp",
    "argmax", "argmin", "argsort", "argpartition", "partition", "sort", "unique", "searchsorted",
    "cumsum", "cumprod", "count_nonzero", "any", "all", "nansum", "nanmax", "nanmin", "nanmean", "bincount",
    # indexing and selection
    "where", "take", "take_along_axis", "put_along_axis", "put", "nonzero", "argwhere", "flatnonzero",
    "diag", "diagonal", "trace", "tril", "triu", "ix_", "indices", "unravel_index", "ravel_multi_index",
    # products
    "dot", "vdot", "matmul", "einsum", "tensordot", "inner", "outer",
    # shapes and joining
    "reshape", "transpose", "swapaxes", "moveaxis", "ravel", "squeeze", "expand_dims", "broadcast_to",
    "broadcast_arrays", "atleast_1d", "atleast_2d", "stack", "vstack", "hstack", "concatenate",
    "column_stack", "tile", "repeat", "flip", "roll", "shape", "ndim", "size",
    # new arrays
    "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like", "eye", "identity",
    "arange", "linspace", "array", "asarray", "asanyarray", "ascontiguousarray", "copy",
    # element-wise helpers that are not ufuncs
    "clip", "round", "around", "nan_to_num", "isclose", "allclose", "array_equal",
    # types and floating-point settings
    "float16", "float32", "float64", "longdouble", "int8", "int16", "int32", "int64", "intp",
    "uint8", "uint16", "uint32", "uint64", "bool_", "dtype", "finfo", "iinfo", "result_type", "errstate",
})
UFUNCS = frozenset(name for name, value in vars(np).items() if isinstance(value, np.ufunc) and not name.startswith("_"))
ALLOWED_NUMPY = _ARRAY_FUNCTIONS | UFUNCS
UFUNC_METHODS = frozenset({"reduce", "accumulate", "outer", "at", "reduceat"})  # np.add.at(...) and the like
ALLOWED_ARRAY_METHODS = frozenset({
    "sum", "mean", "max", "min", "argmax", "argmin", "argsort", "argpartition", "partition", "sort", "searchsorted",
    "std", "var", "prod", "cumsum", "cumprod", "any", "all", "nonzero", "dot", "clip", "round",
    "reshape", "transpose", "swapaxes", "ravel", "flatten", "squeeze", "repeat", "take", "put", "diagonal",
    "trace", "astype", "copy", "fill", "item",
})
# range is harmless here: nothing may iterate it in Python, and as an index numpy converts it in compiled code.
ALLOWED_BUILTINS = frozenset({"len", "int", "float", "bool", "abs", "isinstance", "print", "slice", "range"})
_EXCEPTIONS = frozenset(name for name, value in vars(builtins).items()
                        if isinstance(value, type) and issubclass(value, BaseException))
_BUILTIN_VALUES = ALLOWED_BUILTINS | _EXCEPTIONS | {"complex", "object", "str"}  # also types given as dtype
# Ways to run code the source check cannot see, or to replace a function after it was read.
HIDDEN_CODE = frozenset({"exec", "eval", "compile", "globals", "locals", "vars", "__import__"})
_REPLACERS = HIDDEN_CODE | {"setattr", "delattr"}
_NOT_ON_THE_LIST = "which is not on the list of numpy functions a vectorized solution may use (see the TODO)"


def parse_cell(student_code, cell):
    """The ast of a submitted definition cell; a ``Mistake`` if it is missing or not Python."""
    source = student_code.source_of(cell)
    if source is None:
        raise Mistake(f"the cell '{cell}' is missing; restore it from the released notebook")
    try:
        return ast.parse(python_source(source))
    except SyntaxError:
        raise Mistake(f"the cell '{cell}' is not valid Python") from None


def find_function(tree, name, class_name=None):
    """(the last definition of function ``name``, its class node or None) in a cell's tree."""
    body, klass = tree.body, None
    if class_name:
        classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
        klass = classes[-1] if classes else None
        body = klass.body if klass else []
    functions = [n for n in body if isinstance(n, ast.FunctionDef) and n.name == name]
    if not functions:
        where = f"the class {class_name}" if class_name else "its cell"
        raise Mistake(f"could not find {name} in {where}")
    return functions[-1], klass


def names(node):
    """Every name and attribute a node mentions."""
    return {getattr(n, "attr", None) or getattr(n, "id", None) for n in ast.walk(node)} - {None}


def imported_aliases(tree, modules, banned_names=()):
    """Local names the cell binds to imports from ``modules`` or of ``banned_names``
    (``from scipy.special import logsumexp as lse`` gives ``lse``)."""
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                origin = f"{getattr(node, 'module', None) or ''}.{alias.name}".strip(".").split(".")
                if origin[0] in modules or origin[-1] in banned_names:
                    aliases.add((alias.asname or alias.name).split(".")[0])
    return aliases


def reachable_functions(function, tree, klass=None):
    """``function`` and every function of the cell it calls by name (or as ``self.method``), transitively."""
    helpers = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    methods = {n.name: n for n in klass.body if isinstance(n, ast.FunctionDef)} if klass else {}
    found, todo = {}, [function]
    while todo:
        node = todo.pop()
        if id(node) in found:
            continue
        found[id(node)] = node
        for call in (c.func for c in ast.walk(node) if isinstance(c, ast.Call)):
            if isinstance(call, ast.Name) and call.id in helpers:
                todo.append(helpers[call.id])
            elif isinstance(call, ast.Attribute) and getattr(call.value, "id", None) == "self" and call.attr in methods:
                todo.append(methods[call.attr])
    return list(found.values())


def loop_problem(function, tree, klass=None, banned=frozenset(), banned_hint=""):
    """What breaks the no-loop rule in ``function`` or a function of the cell it calls, as a sentence, or None.

    The rule is the module docstring's "What counts as a Python-level loop".

    Parameters
    ----------
    function : ast.FunctionDef
        The function under the rule (from ``find_function``).
    tree : ast.Module
        Its cell.
    klass : ast.ClassDef, optional
        Its class, when it is a method: ``self.method`` calls are then followed.
    banned : set of str
        Names the function may not use (library functions, the naive version).
    banned_hint : str
        Appended to the sentence when a banned name is used (what to do instead).
    """
    cell = _Cell(tree, klass)
    checked, calls = [function], {}
    for node in checked:  # grows as calls to other functions of the cell are found
        where = function.name if node is function else f"{node.name} (called by it)"
        problem, callees = _function_problem(node, where, cell, set(banned), banned_hint)
        if problem:
            return problem
        calls[id(node)] = callees
        checked += [callee for callee in callees if callee not in checked]
    cycle = _cycle(function, calls)
    if cycle:
        return (f"{function.name} is recursive ({' -> '.join(n.name for n in cycle)}): a function that calls "
                "itself again and again is a Python loop in disguise")
    return _cell_problem(cell, checked)


class _Cell:
    """What the no-loop rule needs to know about a cell: its functions and the names it binds."""

    def __init__(self, tree, klass):
        self.tree, self.klass = tree, klass
        self.functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        self.methods = {n.name: n for n in klass.body if isinstance(n, ast.FunctionDef)} if klass else {}
        self.bindings = {}  # name -> the nodes that bind it anywhere in the cell
        numpy_names, self.imported = {"np": ""}, {}  # local name -> its path inside numpy / its origin
        for node, name in _bindings(tree):
            self.bindings.setdefault(name, []).append(node)
            if isinstance(node, _Import):
                if node.origin == "numpy" or node.origin.startswith("numpy."):
                    numpy_names[name] = node.origin[len("numpy."):]
                else:
                    self.imported[name] = node.origin
        # A name is numpy only if nothing else in the cell binds it.
        self.numpy = {name: path for name, path in numpy_names.items()
                      if all(isinstance(n, _Import) and n.origin.split(".")[0] == "numpy"
                             for n in self.bindings.get(name, []))}
        self.imported = {name: origin for name, origin in self.imported.items() if name not in self.numpy}
        self.constants = self._constants()

    def _constants(self):
        """Top-level names assigned only values built from literals, numpy and builtin types."""
        assigned = {}
        for node in self.tree.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                plain = all(isinstance(n, ast.Name) and (n.id in self.numpy or n.id in _BUILTIN_VALUES)
                            for n in ast.walk(node.value) if isinstance(n, (ast.Name, ast.Lambda)))
                for target in targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(plain)
        return {name for name, plain in assigned.items()
                if all(plain) and len(plain) == len(self.bindings.get(name, []))}

    def unbound(self, name):
        """Whether the cell leaves ``name`` alone (so a builtin of that name is the builtin)."""
        return name not in self.bindings


class _Import:
    """One name an import binds, and what it stands for (``import itertools as it``: it -> itertools)."""

    def __init__(self, alias, origin):
        self.lineno, self.origin = alias.lineno, origin


def _bindings(tree):
    """(node, name) for every name the cell binds anywhere: assignments, parameters, defs, imports."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            yield node, node.id
        elif isinstance(node, ast.arg):
            yield node, node.arg
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node, node.name
        elif isinstance(node, ast.ExceptHandler) and node.name:
            yield node, node.name
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            yield node, node.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    yield _Import(alias, alias.name), alias.asname
                else:  # import numpy.linalg binds numpy
                    yield _Import(alias, alias.name.split(".")[0]), alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                yield _Import(alias, f"{module}.{alias.name}"), alias.asname or alias.name


def _function_problem(node, where, cell, banned, banned_hint):
    """(what breaks the rule in one function as a sentence, or None; the functions of the cell it calls)."""
    inside = list(ast.walk(node))
    hidden = sorted(names(node) & HIDDEN_CODE)
    if hidden:
        return f"{where} uses {', '.join(hidden)}, which runs code the check cannot see", []
    dunders = sorted({n for n in names(node) if n.startswith("__") and n.endswith("__")})
    if dunders:
        return f"{where} uses {', '.join(dunders)}, a dunder name the check cannot follow", []
    for decorator in node.decorator_list:
        if not (isinstance(decorator, ast.Name) and decorator.id == "staticmethod"):
            return f"{where} has the decorator @{_shown(decorator)}, which can wrap it in a loop", []
    loops = sorted({type(n).__name__ for n in inside if isinstance(n, LOOP_NODES)})
    if loops:
        return f"{where} uses a Python loop or comprehension ({', '.join(loops)})", []
    for n in inside:
        if isinstance(n, ast.Lambda):
            return (f"{where} uses a lambda: a function handed to another function can run once per element, "
                    "a Python loop in disguise"), []
        if isinstance(n, (ast.Yield, ast.YieldFrom)):
            return f"{where} uses yield: a generator is a Python loop in disguise", []
        if n is not node and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return f"{where} defines {n.name} inside it; write the computation in {node.name} itself", []
    if names(node) & banned:
        return f"{where} uses {', '.join(sorted(names(node) & banned))}{banned_hint}", []
    local = _local_names(node) - set(cell.imported)
    annotations = {id(n) for a in _annotations(node) for n in ast.walk(a)}  # never called, only read
    inside = [n for n in inside if id(n) not in annotations]
    is_method = cell.methods.get(node.name) is node and node.args.args and not node.decorator_list
    self_name = node.args.args[0].arg if is_method else None
    callees, in_calls = [], set()
    # In source order; of two calls that start together (getattr(np, "vectorize")(f)) the inner one first.
    in_order = sorted((n for n in inside if isinstance(n, ast.Call)),
                      key=lambda n: (n.lineno, n.col_offset, n.end_lineno, n.end_col_offset))
    for call in in_order:
        in_calls.update(id(n) for n in _chain_nodes(call.func))
        problem, callee = _call_problem(call.func, where, cell, local, self_name)
        if problem:
            return problem, []
        if callee is not None:
            callees.append(callee)
    for n in inside:
        if id(n) not in in_calls:
            problem = _value_problem(n, where, cell, local, self_name)
            if problem:
                return problem, []
    return None, callees


def _call_problem(func, where, cell, local, self_name):
    """(why the call of ``func`` breaks the rule, or None; the function of the cell it calls, or None)."""
    shown, chain = _shown(func), _chain(func)
    if chain is None:  # a call on something computed: a method of an array, or unknown
        if isinstance(func, ast.Attribute):
            return _method_problem(func, where), None
        return f"{where} calls {shown}, a call the check cannot follow (see the TODO)", None
    root, rest = chain[0], chain[1:]
    if root in local:
        if rest and root == self_name and len(rest) == 1:
            if rest[0] in cell.methods:
                return None, cell.methods[rest[0]]
            return f"{where} calls {shown}, which is not a method of {cell.klass.name}", None
        if rest:
            return _method_problem(func, where), None
        return (f"{where} calls {shown}, one of its own variables, so the check cannot see what runs; "
                "call numpy functions, array methods or functions of this cell by name"), None
    if root in cell.numpy:
        path = ".".join(filter(None, [cell.numpy[root], *rest]))
        origin = f" (numpy.{path})" if cell.numpy[root] else ""
        return (None if _numpy_allowed(path) else f"{where} calls {shown}{origin}, {_NOT_ON_THE_LIST}"), None
    if root in cell.imported:
        origin = ".".join([cell.imported[root], *rest])
        return f"{where} calls {shown}{f' ({origin})' if origin != shown else ''}, {_NOT_ON_THE_LIST}", None
    if rest:
        if root in cell.constants:
            return _method_problem(func, where), None
        return f"{where} calls {shown}, {_NOT_ON_THE_LIST}", None
    if root in cell.functions:
        return None, cell.functions[root]
    if root in ALLOWED_BUILTINS | _EXCEPTIONS and cell.unbound(root):
        return None, None
    if hasattr(builtins, root):
        return (f"{where} calls {root}, a builtin that is not on the list of builtins a vectorized solution "
                "may use (see the TODO)"), None
    return f"{where} calls {root}, which is not a function of this cell; write the computation in this cell", None


def _method_problem(func, where):
    """Why calling the method ``func`` breaks the rule, or None for an allowed array method."""
    if func.attr in ALLOWED_ARRAY_METHODS:
        return None
    return (f"{where} calls {_shown(func)}, and {func.attr} is not one of the array methods a vectorized "
            "solution may use (see the TODO)")


def _value_problem(node, where, cell, local, self_name):
    """Why using ``node`` (not as the function of a call) breaks the rule, or None."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == self_name \
            and node.attr in cell.methods:
        return f"{where} hands self.{node.attr} over as a value; {_HANDED_OVER}"
    if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load):
        return None
    name = node.id
    if name in local or name in cell.numpy or name in cell.constants:
        return None
    if name in _BUILTIN_VALUES and cell.unbound(name):
        return None
    if name in cell.functions:
        return f"{where} hands {name} over as a value; {_HANDED_OVER}"
    if name in cell.imported:
        origin = f" ({cell.imported[name]})" if cell.imported[name] != name else ""
        return f"{where} uses {name}{origin}; of the imported modules only numpy may be used here"
    return (f"{where} uses {name}, which is neither one of its parameters or variables, nor numpy, nor a "
            "constant of this cell; pass what it needs as an argument")


_HANDED_OVER = "a function given to another function can run once per element, a Python loop in disguise"


def _chain(func):
    """``["np", "linalg", "norm"]`` for ``np.linalg.norm``; None unless ``func`` is names joined by dots."""
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    return [func.id, *reversed(parts)] if isinstance(func, ast.Name) else None


def _chain_nodes(func):
    """The Attribute and Name nodes of a called ``a.b.c`` (they are not values handed over)."""
    nodes = [func]
    while isinstance(nodes[-1], ast.Attribute):
        nodes.append(nodes[-1].value)
    return nodes if isinstance(nodes[-1], ast.Name) else nodes[:1]


def _numpy_allowed(path):
    """Whether the numpy function at ``path`` (``"sum"``, ``"add.at"``, ``"linalg.norm"``) is allowed."""
    head, _, method = path.partition(".")
    return path in ALLOWED_NUMPY or (head in UFUNCS and method in UFUNC_METHODS)


def _shown(node, limit=60):
    """The source of ``node``, shortened for a sentence."""
    text = ast.unparse(node)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _annotations(function):
    """The type annotations of a function's parameters, its return and its annotated variables."""
    args = function.args
    found = [a.annotation for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
             if a is not None and a.annotation is not None]
    found += [n.annotation for n in ast.walk(function) if isinstance(n, ast.AnnAssign)]
    return found + [function.returns] if function.returns else found


def _local_names(function):
    """The names a function binds itself: its parameters and the variables it assigns."""
    return {name for node, name in _bindings(function) if not isinstance(node, (ast.FunctionDef, _Import))}


def _cycle(function, calls):
    """A cycle of calls reachable from ``function`` (``[f, g, f]``), or None."""
    path, done = [], set()

    def visit(node):
        if node in path:
            return path[path.index(node):] + [node]
        if id(node) in done:
            return None
        path.append(node)
        for callee in calls.get(id(node), []):
            cycle = visit(callee)
            if cycle:
                return cycle
        path.pop()
        done.add(id(node))
        return None

    return visit(function)


def _cell_problem(cell, checked):
    """What elsewhere in the cell could change the checked functions after they were read, or None."""
    for node in ast.walk(cell.tree):
        if isinstance(node, ast.Name) and node.id in _REPLACERS:
            return f"the cell uses {node.id}, which could replace a function after the check has read it"
        if isinstance(node, ast.Name) and node.id == "__builtins__":
            return "the cell uses __builtins__, through which it could replace an allowed builtin"
        if isinstance(node, ast.FunctionDef) and node.name in ALLOWED_ARRAY_METHODS:
            return (f"the cell defines a function named {node.name}; a class of its own could make "
                    f".{node.name}() run a Python loop, so choose another name")
    for function in checked:
        body = cell.klass.body if function is cell.methods.get(function.name) else cell.tree.body
        for node in cell.bindings.get(function.name, []):
            if not (isinstance(node, ast.FunctionDef) and node in body):
                return (f"the cell binds {function.name} again (line {node.lineno}), so the function that runs "
                        "may not be the one checked")
        stores = [n for n in ast.walk(cell.tree) if isinstance(n, ast.Attribute)
                  and not isinstance(n.ctx, ast.Load) and n.attr == function.name]
        if stores:
            return (f"the cell assigns {_shown(stores[0])} (line {stores[0].lineno}), so the function that runs "
                    "may not be the one checked")
    klass = cell.klass
    if klass and (klass.decorator_list or klass.keywords
                  or any(not (isinstance(b, ast.Name) and b.id == "object") for b in klass.bases)):
        return (f"the class {klass.name} has a decorator, a base class or a metaclass, so the check cannot see "
                "all of its methods")
    special = sorted(set(cell.methods) & {"__getattr__", "__getattribute__"})
    if special:
        return f"the class {klass.name} defines {special[0]}, which changes what self.<name> means"
    return None
