"""Checks the hidden suites share: rules on the student's source, and fair timing.

Source rules read the submitted cell (``student_code.source_of(grade_id)``)
with ``ast``: nothing of the student's code runs here.
"""
from __future__ import annotations

import ast
import builtins
import time

import numpy as np

from autograder.feedback import Mistake, check_array, describe_type
from utils.notebook_loader import python_source

LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
# Calls that run a Python-level loop for you.
DISGUISED_LOOPS = frozenset({"vectorize", "apply_along_axis", "frompyfunc", "fromiter", "map"})
# Ways to run code the source check cannot see.
HIDDEN_CODE = frozenset({"exec", "eval", "compile", "globals", "locals", "vars", "__import__"})
SAFE_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_")) - HIDDEN_CODE


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
    """What breaks a no-loop rule in ``function`` or a helper it calls, as a sentence, or None.

    Parameters
    ----------
    banned : set of str
        Names the function may not use (library functions, the naive version).
    banned_hint : str
        Appended to the sentence when a banned name is used (what to do instead).
    """
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    for node in reachable_functions(function, tree, klass):
        where = function.name if node is function else f"{node.name} (called by it)"
        hidden = sorted(names(node) & HIDDEN_CODE)
        if hidden:
            return f"{where} uses {', '.join(hidden)}, which runs code the check cannot see"
        # A plain-name call must reach a function of this cell (checked too) or a builtin:
        # an alias or a function of another cell could hide a loop.
        elsewhere = sorted({c.func.id for c in ast.walk(node) if isinstance(c, ast.Call)
                            and isinstance(c.func, ast.Name)} - defined - SAFE_BUILTINS - _arguments(node))
        if elsewhere:
            return (f"{where} calls {', '.join(elsewhere)}, which is not a function of this cell; "
                    "write the computation in this cell")
        loops = sorted({type(n).__name__ for n in ast.walk(node) if isinstance(n, LOOP_NODES)})
        if loops:
            return f"{where} uses a Python loop or comprehension ({', '.join(loops)})"
        used = names(node)
        if used & DISGUISED_LOOPS:
            return f"{where} uses {', '.join(sorted(used & DISGUISED_LOOPS))}, a Python loop in disguise"
        if used & set(banned):
            return f"{where} uses {', '.join(sorted(used & set(banned)))}{banned_hint}"
    return None


def _arguments(function):
    """Names of a function's parameters (calling one is not calling a hidden helper)."""
    args = function.args
    return {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a}


def best_seconds(call, repeats, give_up_after=1.0):
    """(the shortest wall-clock time of ``repeats`` calls, the last call's result).

    Timed here, so the student's code cannot fake it; stops early once a call
    takes longer than ``give_up_after`` seconds.
    """
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
        if best > give_up_after:
            break
    return best, result


def seeded(seed, call):
    """Run ``call()`` here with numpy's global generator seeded as the worker seeds it, then restore it."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        return call()
    finally:
        np.random.set_state(state)


ACCURACY_BAND = 0.05  # a tuned object's shortfall is shown only as "at most" or "more than" this


def check_tuned_accuracy(tuned, name, what, targets, with_bias, predict):
    """Run the tuning cell that leaves ``name`` and check its validation accuracy.

    The accuracy is computed here from the weights the object holds (``predict``), never
    from predictions the student's code returns: a lookup table of the validation labels,
    which the tuning cell can see, earns nothing.

    Parameters
    ----------
    tuned : the ``tuned`` fixture
    name : str
        The object the tuning cell must leave (``best_svm``).
    what : str
        What it should be, for messages ("the best trained LinearSVM").
    targets : dict
        Dataset name -> the accuracy the notebook states as its target.
    with_bias : bool
        Whether the notebook's data cell appends the bias column.
    predict : callable
        ``predict(best, X, num_classes)`` -> labels (N,), computed here from ``best``'s weights.
    """
    import utils  # the shipped helpers prepare the split exactly as the notebook's data cell does

    dataset = utils.dataset_name()
    data = utils.load_splits(dataset)
    _, X_val = utils.subtract_mean(data.X_train, data.X_val)
    if with_bias:
        X_val = utils.add_bias(X_val)
    best = tuned(name)
    if best is None:
        raise Mistake(f"{name} is None; the tuning cell must leave {what} in {name}")
    if isinstance(best, (int, float, str, list, tuple, dict, np.ndarray)):
        raise Mistake(f"{name} should be {what}, not {describe_type(best)}")
    accuracy = float(np.mean(predict(best, X_val, len(data.class_names)) == data.y_val))
    target = targets[dataset]
    if not accuracy >= target:
        # The accuracy comes from the student's weights, so it is tainted: only two coarse bands are shown.
        gap = "by at most" if accuracy >= target - ACCURACY_BAND else "by more than"
        raise Mistake(f"{name} does not reach the target accuracy on the validation set: the target is {target}, "
                      f"and its accuracy is below it {gap} {ACCURACY_BAND}; tune the hyperparameters further")


def predict_linear(classifier, X, num_classes):
    """Labels of a linear classifier, from its weights ``W`` (D, C)."""
    W = check_array(classifier.W, (X.shape[1], num_classes), "its weights W")
    return np.argmax(X @ W, axis=1)


def predict_two_layer(net, X, num_classes):
    """Labels of a two-layer net, from its ``params`` (affine - ReLU - affine)."""
    params = net.params
    if not isinstance(params, dict) or not {"W1", "b1", "W2", "b2"} <= set(params):
        raise Mistake("its params should be a dict with W1, b1, W2 and b2")
    # The hidden size H is the student's: messages write it as H, never as a number.
    W1 = params["W1"]
    hidden_size = W1.shape[1] if isinstance(W1, np.ndarray) and W1.ndim == 2 else -1
    W1 = check_array(W1, (X.shape[1], hidden_size), "params['W1']",
                     expected_text=f"({X.shape[1]}, H) for {X.shape[1]} features and H hidden units")
    b1 = check_array(params["b1"], (hidden_size,), "params['b1']", expected_text="(H,), H = the columns of W1")
    W2 = check_array(params["W2"], (hidden_size, num_classes), "params['W2']",
                     expected_text=f"(H, {num_classes}), H = the columns of W1")
    b2 = check_array(params["b2"], (num_classes,), "params['b2']")
    return np.argmax(np.maximum(0.0, X @ W1 + b1) @ W2 + b2, axis=1)
