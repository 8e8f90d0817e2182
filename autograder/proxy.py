"""The ``student`` fixture's objects: proxies that forward every use into the worker.

``student.svm_loss_naive(W, X, y, 0.1)`` sends the arrays to the worker, calls
the student's function there and returns the arrays it produced.
``student.KNearestNeighbor()`` returns a ``RemoteObject`` whose methods and
attributes live in the worker. Functions passed as arguments (the ``f`` of a
gradient checker) stay here and are called back. Only data crosses.
"""
from __future__ import annotations

from autograder.errors import CompareError
from autograder.run import StudentCrash, StudentFault
from autograder.worker.codec import Handle

WARNING_MODES = (None, "error", "ignore")  # a call's ``_warnings``; the worker's ``_warnings_as`` applies them


class MissingDefinition(StudentFault):
    """A graded name the submission does not define (its cell is missing or failed)."""


class RemoteObject:
    """A module or object that lives in the worker."""

    def __init__(self, session, target, label, generation, explain_missing=None):
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_label", label)
        object.__setattr__(self, "_generation", generation)
        object.__setattr__(self, "_explain_missing", explain_missing)

    def __repr__(self):
        return f"<student {self._label}>"

    def _check_alive(self):
        if isinstance(self._target, Handle) and self._session.current_generation() != self._generation:
            raise StudentCrash(f"{self._label} was lost when the worker restarted after an earlier fault")

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        self._check_alive()
        try:
            reply = self._session.request({"op": "getattr", "target": self._target, "name": name})
        except StudentFault as exc:
            if self._explain_missing and getattr(exc, "type_name", "") == "AttributeError":
                raise MissingDefinition(self._explain_missing(name)) from None
            raise
        label = f"{self._label}.{name}" if isinstance(self._target, Handle) else name
        if reply["callable"]:
            return RemoteCallable(self, name, label)
        return _wrap(self._session, reply["value"], label)

    def __setattr__(self, name, value):
        self._check_alive()
        self._session.request({"op": "setattr", "target": self._target, "name": name,
                               "value": _outgoing(self._session, value)})


class RemoteCallable:
    """A function, class or method in the worker."""

    def __init__(self, owner, name, label):
        self.owner, self.name, self.label = owner, name, label

    def __repr__(self):
        return f"<student {self.label}>"

    def __call__(self, *args, _timeout=None, _seed=0, _replace=None, _warnings=None, _repeat=1, **kwargs):
        """Call it in the worker.

        Parameters
        ----------
        _timeout : float, optional
            Seconds at most (default ``limits.call_seconds``).
        _seed : int
            The global RNGs (numpy's, random's) are seeded with it first.
        _replace : dict, optional
            Module-level names of the student's notebook -> functions of the grader, which the
            student's code calls back during this call only (the reference in place of another
            graded target, so a test judges its own target alone).
        _warnings : {None, "error", "ignore"}
            During this call only, numpy's floating-point problems (overflow, invalid, divide by
            zero) and Python's warnings raise in the student's code (a ``StudentError`` naming
            the problem, e.g. "overflow encountered in exp"), or are ignored. None (the default)
            leaves them as the notebook set them: numpy warns, and the warning goes nowhere.
        _repeat : int
            Call it this many times in one request (each earlier call on its own copy of the
            arrays, as a request of its own would have them) and return the last call's value:
            the speed checks time many calls without sending their input each time.

        Raises
        ------
        CompareError
            For a ``_warnings`` value other than those.
        """
        return self._call(args, kwargs, _timeout, _seed, _replace, _warnings, return_args=False, repeat=_repeat)

    def inspect(self, *args, _timeout=None, _seed=0, _replace=None, _warnings=None, **kwargs):
        """Like calling it, but also return the arguments as the call left them.

        Returns
        -------
        (value, args_after, kwargs_after)
        """
        reply = self._call(args, kwargs, _timeout, _seed, _replace, _warnings, return_args=True)
        return reply["value"], tuple(reply["args"]), reply["kwargs"]

    def _call(self, args, kwargs, timeout, seed, replace, warnings, return_args, repeat=1):
        if warnings not in WARNING_MODES:
            raise CompareError(f"{self.label}: _warnings={warnings!r} is not one of "
                               f"{', '.join(repr(mode) for mode in WARNING_MODES)}")
        session = self.owner._session
        self.owner._check_alive()
        message = {
            "op": "call", "target": self.owner._target, "method": self.name, "seed": seed,
            "return_args": return_args,
            "args": [_outgoing(session, a) for a in args],
            "kwargs": {k: _outgoing(session, v) for k, v in kwargs.items()},
        }
        if replace:
            message["replace"] = {name: _outgoing(session, value) for name, value in replace.items()}
        if warnings:
            message["warnings"] = warnings
        if repeat != 1:
            message["repeat"] = repeat
        value = session.request(message, **({"timeout": timeout} if timeout else {}))
        return _wrap(session, value, f"{self.label}(...)")


def _wrap(session, value, label):
    if isinstance(value, Handle):
        # Named by the grader's label: the type name comes from the worker, which may name
        # a class after the hidden inputs.
        return RemoteObject(session, value, label, session.generation)
    if isinstance(value, list):
        return [_wrap(session, v, label) for v in value]
    if isinstance(value, tuple):
        return tuple(_wrap(session, v, label) for v in value)
    if isinstance(value, dict):
        return {k: _wrap(session, v, label) for k, v in value.items()}
    return value


def _outgoing(session, value):
    if isinstance(value, RemoteObject):
        return value._target
    if isinstance(value, (list, tuple)):
        converted = [_outgoing(session, v) for v in value]
        return converted if isinstance(value, list) else tuple(converted)
    if isinstance(value, dict):
        return {k: _outgoing(session, v) for k, v in value.items()}
    if callable(value) and not isinstance(value, type):
        return session.callback(value)
    return value
