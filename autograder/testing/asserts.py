"""What hidden tests may say to a student: known mistakes, never hidden inputs or expected values.

A hidden test fails with ``Mistake("...")`` when the outcome matches a known
mistake (the message names it), and with a plain ``assert`` otherwise; the
report then shows the test's docstring, not the assertion's values.

Everything the student's code returns once a hidden input has reached the
worker is tainted: the code can encode the input in any part of it (an array's
shape or dtype, a list's length, a returned number, a type's name). So a
message shows only text the suite wrote, sizes and values the suite chose, and
facts about the student's value drawn from a small fixed set (``describe_type``,
``describe_dtype``, a dimension count up to ``MAX_SHOWN_NDIM``); never a raw
shape, dtype, length, type name or number of the student's.
"""
from __future__ import annotations

import numpy as np

# Exact types a student's value may be named by; a subclass or anything else is "another type".
PLAIN_TYPES = {
    bool: "a bool", int: "an int", float: "a float", complex: "a complex number", str: "a string",
    bytes: "a bytes string", list: "a list", tuple: "a tuple", dict: "a dict", set: "a set",
    type(None): "None", np.ndarray: "a numpy array",
}
# dtype.kind -> what a message may call it.
DTYPE_KINDS = {
    "b": "boolean", "i": "integer", "u": "unsigned integer", "f": "floating-point", "c": "complex",
    "U": "string", "S": "string", "O": "object",
}
# Numeric dtype names that may be shown as they are (a fixed set, unlike '<U123456').
PLAIN_DTYPE_NAMES = frozenset(
    ["bool", "float16", "float32", "float64", "float96", "float128", "complex64", "complex128", "complex192",
     "complex256"] + [f"{sign}int{bits}" for sign in ("", "u") for bits in (8, 16, 32, 64)])
MAX_SHOWN_NDIM = 4


class Mistake(AssertionError):
    """A failed check whose message is written for the student and safe to show."""


def describe_type(value):
    """What a message may call the type of a student's ``value``: a phrase from a fixed set."""
    if type(value) in PLAIN_TYPES:
        return PLAIN_TYPES[type(value)]
    if isinstance(value, np.generic):
        return f"a numpy {describe_dtype(value.dtype)} scalar"
    kind = type(value).__name__  # our own classes, on this side of the boundary
    if kind == "RemoteObject":
        return "an object"
    if kind == "RemoteCallable":
        return "a function or class"
    return "a value of another type"


def describe_dtype(dtype):
    """The kind of a student's dtype, as a message may name it ("floating-point", "string", ...)."""
    return DTYPE_KINDS.get(getattr(dtype, "kind", None), "unusual")


def _a(phrase):
    return f"{'an' if phrase[0] in 'aeiou' else 'a'} {phrase}"


def dtype_name(dtype):
    """A student's dtype by name if it is a plain numeric one (float32), else by its kind."""
    name = getattr(dtype, "name", None)
    return name if name in PLAIN_DTYPE_NAMES else _a(f"{describe_dtype(dtype)} dtype")


def describe_ndim(ndim):
    """ "1 dimension", "3 dimensions", or "more than 4 dimensions" for a student's array."""
    if ndim > MAX_SHOWN_NDIM:
        return f"more than {MAX_SHOWN_NDIM} dimensions"
    return f"{ndim} dimension{'' if ndim == 1 else 's'}"


def close(actual, expected, rtol=1e-6, atol=1e-8):
    """True when ``actual`` has ``expected``'s shape and values (NaN never matches)."""
    try:
        actual = np.asarray(actual, dtype=float)
    except (TypeError, ValueError):
        return False
    expected = np.asarray(expected, dtype=float)
    return actual.shape == expected.shape and bool(np.allclose(actual, expected, rtol=rtol, atol=atol))


def _shape_problem(actual, expected, expected_text):
    """Why ``actual`` (a student's shape) is not ``expected``, in words from a fixed set."""
    want = expected_text or str(expected)
    if len(actual) != len(expected):
        return f"has {describe_ndim(len(actual))} where {len(expected)} {'is' if len(expected) == 1 else 'are'} " \
               f"expected (shape {want})"
    if len(expected) == 2 and actual == expected[::-1]:
        return f"has its axes swapped (it looks transposed); expected shape {want}"
    axis = next(i for i, (a, e) in enumerate(zip(actual, expected)) if a != e)
    return f"has the wrong size along axis {axis}; expected shape {want}"


def check_array(value, shape, what, dtype_kind="f", expected_text=None):
    """Return ``value`` as an array after checking its type and shape, or raise a ``Mistake``.

    Parameters
    ----------
    shape : tuple of int
        The expected shape, from the suite's own inputs or the reference (never from the student).
    dtype_kind : str
        Allowed ``dtype.kind`` letters: "f" float, "i" integer, "fi" either, ...
    expected_text : str, optional
        How messages write the expected shape ("(D, H)"), instead of ``shape``'s numbers.
    """
    if not isinstance(value, np.ndarray):
        raise Mistake(f"{what} should be a numpy array, not {describe_type(value)}")
    if value.shape != tuple(shape):
        raise Mistake(f"{what} {_shape_problem(value.shape, tuple(shape), expected_text)}")
    allowed = dtype_kind + ("u" if "i" in dtype_kind else "")
    if value.dtype.kind not in allowed:
        wanted = " or ".join(DTYPE_KINDS.get(k, k) for k in dtype_kind)
        raise Mistake(f"{what} has {_a(describe_dtype(value.dtype))} dtype; expected {wanted} values")
    if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
        raise Mistake(f"{what} contains NaN or infinity")
    return value


def check_labels(value, shape, what):
    """Return predicted labels as an int64 array, judging their values only, or raise a ``Mistake``.

    A list, or an array of whole floats (3.0 for label 3), is accepted here: the type and
    dtype are a contract detail that one test checks with ``check_label_dtype``, so that
    detail never costs the tests of the values.

    Parameters
    ----------
    shape : tuple of int
        The expected shape, (N,), from the suite's own inputs.
    """
    if isinstance(value, (list, tuple)):
        try:
            value = np.asarray(value)
        except (TypeError, ValueError):
            raise Mistake(f"{what} should be an array of labels, not a list of other values") from None
    check_array(value, shape, what, dtype_kind="fi")
    if value.dtype.kind == "f" and not np.array_equal(value, np.round(value)):
        raise Mistake(f"{what} should be labels (whole numbers), not fractions")
    return value.astype(np.int64)


def check_label_dtype(value, shape, what):
    """The contract check of predicted labels: a numpy array of shape ``shape`` with an integer dtype."""
    value = check_array(value, shape, what, dtype_kind="fi")
    if value.dtype.kind == "f":
        raise Mistake(f"{what} has a floating-point dtype; return integer labels, e.g. y_pred.astype(int) "
                      "or an array made with dtype=int")
    return value


def check_scalar(value, what):
    """Return ``value`` as a Python float, or raise a ``Mistake`` for a non-number."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(())[()]
    if isinstance(value, np.ndarray):
        kind = "an empty numpy array" if value.size == 0 else "a numpy array of several values"
        raise Mistake(f"{what} should be a single number, not {kind}")
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, (bool, np.bool_)):
        raise Mistake(f"{what} should be a single number, not {describe_type(value)}")
    if not np.isfinite(value):
        raise Mistake(f"{what} is NaN or infinite")
    return float(value)


def check_number(value, what):
    """The contract check of a returned number: a Python or numpy scalar, never an array (even 0-d).

    Value tests use ``check_scalar``, which accepts a one-element array, so this detail costs one check.
    """
    if isinstance(value, np.ndarray):
        raise Mistake(f"{what} should be a number (e.g. float(loss)), not a numpy array, even of one value")
    return check_scalar(value, what)


def diagnose(actual, expected, known, what, rtol=1e-6, atol=1e-8):
    """Raise a ``Mistake`` naming the known mistake ``actual`` matches, or a plain one.

    Parameters
    ----------
    actual, expected : array_like
    known : dict
        Description of a mistake (the suite's own text) -> the value that mistake would produce.
    what : str
        What is being checked, for the message ("the gradient dW").
    """
    if close(actual, expected, rtol, atol):
        return
    for description, value in known.items():
        if close(actual, value, rtol, atol):
            raise Mistake(f"{what} is wrong; it looks like {description}")
    raise Mistake(f"{what} does not match the expected values")


def student_raises(call, exception_name, what):
    """Run ``call()`` and check the student's code raised ``exception_name``; else a ``Mistake``."""
    from autograder.run import StudentError  # here, not at import: feedback stays numpy-only

    try:
        call()
    except StudentError as exc:
        if exc.type_name == exception_name:
            return
        # type_name is a built-in (or numpy) exception's name, or "an exception": a fixed set.
        raise Mistake(f"{what}: expected {exception_name}, got {exc.type_name}") from None
    raise Mistake(f"{what}: expected {exception_name}, but nothing was raised")


def unchanged(before, after, what):
    """Raise a ``Mistake`` if an input array came back changed from the student's call."""
    if not (isinstance(after, np.ndarray) and after.shape == before.shape and np.array_equal(after, before)):
        raise Mistake(f"{what} was modified; leave the inputs unchanged (work on a copy)")
