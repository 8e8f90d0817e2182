"""What hidden tests may say to a student: known mistakes, never hidden inputs or expected values.

A hidden test fails with ``Mistake("...")`` when the outcome matches a known
mistake (the message names it), and with a plain ``assert`` otherwise; the
report then shows the test's docstring, not the assertion's values.
"""
from __future__ import annotations

import numpy as np


class Mistake(AssertionError):
    """A failed check whose message is written for the student and safe to show."""


def close(actual, expected, rtol=1e-6, atol=1e-8):
    """True when ``actual`` has ``expected``'s shape and values (NaN never matches)."""
    try:
        actual = np.asarray(actual, dtype=float)
    except (TypeError, ValueError):
        return False
    expected = np.asarray(expected, dtype=float)
    return actual.shape == expected.shape and bool(np.allclose(actual, expected, rtol=rtol, atol=atol))


def check_array(value, shape, what, dtype_kind="f"):
    """Return ``value`` as an array after checking its type and shape, or raise a ``Mistake``.

    Parameters
    ----------
    dtype_kind : str
        Allowed ``dtype.kind`` letters: "f" float, "i" integer, "fi" either, ...
    """
    if not isinstance(value, np.ndarray):
        raise Mistake(f"{what} should be a numpy array, not {type(value).__name__}")
    if value.shape != tuple(shape):
        raise Mistake(f"{what} has shape {value.shape}; expected one of shape {tuple(shape)}")
    if value.dtype.kind not in dtype_kind + ("u" if "i" in dtype_kind else ""):
        names = {"f": "floating-point", "i": "integer", "b": "boolean"}
        raise Mistake(f"{what} has dtype {value.dtype}; expected {' or '.join(names.get(k, k) for k in dtype_kind)}")
    if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
        raise Mistake(f"{what} contains NaN or infinity")
    return value


def check_scalar(value, what):
    """Return ``value`` as a Python float, or raise a ``Mistake`` for a non-number."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(())[()]
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise Mistake(f"{what} should be a single number, not {type(value).__name__}")
    if not np.isfinite(value):
        raise Mistake(f"{what} is NaN or infinite")
    return float(value)


def diagnose(actual, expected, known, what, rtol=1e-6, atol=1e-8):
    """Raise a ``Mistake`` naming the known mistake ``actual`` matches, or a plain one.

    Parameters
    ----------
    actual, expected : array_like
    known : dict
        Description of a mistake -> the value that mistake would produce.
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
        raise Mistake(f"{what}: expected {exception_name}, got {exc.type_name}") from None
    raise Mistake(f"{what}: expected {exception_name}, but nothing was raised")


def unchanged(before, after, what):
    """Raise a ``Mistake`` if an input array came back changed from the student's call."""
    if not (isinstance(after, np.ndarray) and after.shape == before.shape and np.array_equal(after, before)):
        raise Mistake(f"{what} was modified; leave the inputs unchanged (work on a copy)")
