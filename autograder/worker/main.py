"""The worker loop: execute a student's definitions, then answer calls into them.

Started by the grader as ``python main.py`` in a sandbox whose only view of
the grader is this folder. It reads requests from file descriptor 0 and
answers on file descriptor 1 (see ``codec``); the student's own prints go to
/dev/null so they can neither reach the grader nor corrupt the channel.

``--uid N``: started as root inside a sandbox, become user N before anything
else runs (the grader's sandbox module explains why). ``--seccomp PATH``: then
load the grader's seccomp filter, compiled to BPF (``confine.write_seccomp_program``),
for good; a filter that does not load stops the worker before any student code.
"""
import contextlib
import gc
import os
import sys


def _become(uid):
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # clears every capability: no way back


def _load_seccomp(path):
    import ctypes

    with open(path, "rb") as file:
        program = ctypes.create_string_buffer(file.read())

    class SockFprog(ctypes.Structure):  # struct sock_fprog: instructions of 8 bytes each
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(program.raw) // 8, ctypes.addressof(program))
    libc = ctypes.CDLL(None, use_errno=True)
    # PR_SET_NO_NEW_PRIVS (38), then PR_SET_SECCOMP (22) with SECCOMP_MODE_FILTER (2).
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "the seccomp filter did not load")


if __name__ == "__main__" and "--uid" in sys.argv:
    _become(int(sys.argv[sys.argv.index("--uid") + 1]))
if __name__ == "__main__" and "--seccomp" in sys.argv:
    _load_seccomp(sys.argv[sys.argv.index("--seccomp") + 1])

import random  # noqa: E402
import traceback  # noqa: E402
import types  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

# Started with ``python -I``: the script's own folder is not on sys.path.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import codec  # noqa: E402

CELL_PREFIX = "<cell "  # compiled cells are named "<cell notebook.ipynb:grade_id>"
MAX_REPEAT = 1000  # calls one request may ask for (the speed checks' timed calls)


class Worker:
    def __init__(self, inbox, outbox):
        self.inbox, self.outbox = inbox, outbox
        self.modules = {}
        self.objects = {}
        self.current_id = None

    # -- the loop -----------------------------------------------------------
    def serve(self):
        while True:
            try:
                request = codec.read_frame(self.inbox)
            except EOFError:
                return
            self.current_id = request.get("id") if isinstance(request, dict) else None
            reply = self.handle(request)
            reply["id"] = self.current_id  # lets the grader tell a reply from a frame student code wrote
            self.outbox_reply(reply)

    def outbox_reply(self, reply):
        try:
            codec.write_frame(self.outbox, reply)
        except codec.CodecError as exc:  # a value that cannot cross: say so instead
            codec.write_frame(self.outbox, {"ok": False, "error": _error_info(exc), "id": reply.get("id")})

    def handle(self, request):
        op = request.get("op")
        try:
            if op == "load":
                return self.load(request["notebook"], request["cells"], request.get("fresh", True))
            if op == "call":
                self._seed(request.get("seed", 0))
                target = self._resolve(request["target"])
                function = getattr(target, request["method"]) if request.get("method") else target
                args = [self._incoming(a) for a in request.get("args", [])]
                kwargs = {k: self._incoming(v) for k, v in request.get("kwargs", {}).items()}
                replacements = {k: self._incoming(v) for k, v in request.get("replace", {}).items()}
                namespace = _globals_of(function, request["target"], self.modules) if replacements else {}
                repeat = request.get("repeat", 1)
                if not (type(repeat) is int and 1 <= repeat <= MAX_REPEAT):
                    raise ValueError(f"repeat must be a whole number from 1 to {MAX_REPEAT}")
                with _replaced(namespace, replacements):
                    with _warnings_as(request.get("warnings")):
                        for _ in range(repeat - 1):  # timed calls: each on its own copy, as if sent anew
                            function(*_copied(args), **_copied(kwargs))
                        result = function(*args, **kwargs)
                    value = self._outgoing(result)
                if request.get("return_args"):  # lets the grader check that inputs were not changed
                    value = {"value": value, "args": [self._outgoing(a) for a in args],
                             "kwargs": {k: self._outgoing(v) for k, v in kwargs.items()}}
                return {"ok": True, "value": value}
            if op == "getattr":
                value = getattr(self._resolve(request["target"]), request["name"])
                if callable(value) and not isinstance(value, np.ndarray):
                    return {"ok": True, "value": {"callable": True, "type": type(value).__name__}}
                return {"ok": True, "value": {"callable": False, "value": self._outgoing(value)}}
            if op == "setattr":
                setattr(self._resolve(request["target"]), request["name"], self._incoming(request["value"]))
                return {"ok": True, "value": None}
            if op == "unload":
                # A notebook whose tests are done: its data (CIFAR-10: 1.2 GB per tuned module) goes.
                self.modules.pop(request["notebook"], None)
                gc.collect()
                return {"ok": True, "value": None}
            if op == "ping":
                return {"ok": True, "value": "pong"}
            return {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op!r}"}}
        except BaseException as exc:  # the student's code may raise anything, SystemExit included
            return {"ok": False, "error": _error_info(exc)}

    # -- requests -----------------------------------------------------------
    def load(self, notebook, cells, fresh=True):
        """Execute cells (label, source) in module ``notebook`` (a new one if ``fresh``).

        A failing cell does not stop the others. The grader sends one cell at a time,
        so a cell that hangs or ends the process costs only itself. ``stood_in`` says
        which cells of other notebooks these cells loaded ran as released, because
        they raised (``utils.notebook_loader.stood_in``).
        """
        if fresh or notebook not in self.modules:
            module = types.ModuleType(notebook.replace(".ipynb", ""))
            module.__file__ = notebook
            self.modules[notebook] = module
        module = self.modules[notebook]
        failed, stood_in = {}, []
        for label, source in cells:
            self._seed(0)
            try:
                exec(compile(source, f"{CELL_PREFIX}{notebook}:{label}>", "exec"), module.__dict__)
            except BaseException as exc:
                failed[label] = _error_info(exc)
            loader = sys.modules.get("utils.notebook_loader")  # imported by the cells, if they load notebooks
            if isinstance(getattr(loader, "stood_in", None), list):
                stood_in += [list(entry) for entry in loader.stood_in if isinstance(entry, tuple)]
                loader.stood_in.clear()
        defined = sorted(name for name in vars(module) if not name.startswith("__"))
        return {"ok": True, "value": {"defined": defined, "failed": failed, "stood_in": stood_in}}

    def _resolve(self, target):
        if isinstance(target, codec.Handle):
            if target.id not in self.objects:
                raise LookupError(f"no object {target.id} in the worker")
            return self.objects[target.id]
        return self.modules[target]  # a notebook's module, by name

    def _incoming(self, value):
        if isinstance(value, codec.Callback):
            return lambda *args, **kwargs: self._call_back(value, args, kwargs)
        if isinstance(value, codec.Handle):
            return self._resolve(value)
        if isinstance(value, list):
            return [self._incoming(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._incoming(v) for v in value)
        if isinstance(value, dict):
            return {k: self._incoming(v) for k, v in value.items()}
        return value

    def _outgoing(self, value):
        """Data as it is; any other object stays here behind a handle."""
        try:
            codec.check(value)
            return value
        except codec.CodecError:
            if isinstance(value, (list, tuple)):
                converted = [self._outgoing(v) for v in value]
                return converted if isinstance(value, list) else tuple(converted)
            if isinstance(value, dict):
                return {k: self._outgoing(v) for k, v in value.items()}
            handle = codec.Handle(len(self.objects) + 1, type(value).__name__)
            self.objects[handle.id] = value
            return handle

    def _call_back(self, callback, args, kwargs):
        codec.write_frame(self.outbox, {"op": "callback", "callback": callback.id, "id": self.current_id,
                                        "args": [self._outgoing(a) for a in args],
                                        "kwargs": {k: self._outgoing(v) for k, v in kwargs.items()}})
        reply = codec.read_frame(self.inbox)
        if not reply.get("ok"):
            raise RuntimeError(reply.get("error", {}).get("message", "the grader's function failed"))
        return reply["value"]

    @staticmethod
    def _seed(seed):
        np.random.seed(seed)
        random.seed(seed)


def _copied(value):
    """``value`` with a copy of every array in it (lists, tuples and dicts rebuilt; other values as they are)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(_copied(item) for item in value)
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    return value


def _globals_of(function, target, modules):
    """The module namespace ``function`` looks its global names up in."""
    if isinstance(target, str):
        return modules[target].__dict__
    namespace = getattr(getattr(function, "__func__", function), "__globals__", None)
    if namespace is None:
        raise LookupError("the grader cannot replace names for this call")
    return namespace


@contextlib.contextmanager
def _replaced(namespace, replacements):
    """Module-level names replaced for one call (by the grader's functions), then restored."""
    missing = object()
    saved = {name: namespace.get(name, missing) for name in replacements}
    namespace.update(replacements)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


# A call's ``warnings``: numpy's floating-point state (overflow, invalid, divide by zero) and Python's filters.
WARNING_SETTINGS = {"error": ("raise", "error"), "ignore": ("ignore", "ignore")}


@contextlib.contextmanager
def _warnings_as(mode):
    """For one call, warnings become exceptions ("error") or are dropped ("ignore"); None leaves them be.

    Set in this process's numpy, not through the student's module, and restored afterwards
    whatever the call did (``np.seterr`` or ``warnings.simplefilter`` included).
    """
    if mode is None:
        yield
        return
    if mode not in WARNING_SETTINGS:
        raise ValueError(f"unknown warnings mode {mode!r}")
    numpy_mode, python_mode = WARNING_SETTINGS[mode]
    with warnings.catch_warnings(), np.errstate(over=numpy_mode, invalid=numpy_mode, divide=numpy_mode):
        warnings.simplefilter(python_mode)
        yield


def _error_info(exc):
    """What the grader may learn of an exception: its type, message and the student's line."""
    info = {"type": type(exc).__name__, "message": str(exc)[:500], "cell": None, "line": None}
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(CELL_PREFIX):
            info["cell"] = frame.filename[len(CELL_PREFIX):-1]
            info["line"] = frame.lineno
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(CELL_PREFIX):
        info["cell"], info["line"] = exc.filename[len(CELL_PREFIX):-1], exc.lineno
    return info


def main():
    # Keep the protocol on private descriptors; fds 0, 1 and 2 become /dev/null
    # so nothing the student's code prints or reads touches the channel.
    inbox = os.fdopen(os.dup(0), "rb", buffering=0)
    outbox = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.stdout = sys.stderr = open(os.devnull, "w")
    Worker(inbox, outbox).serve()


if __name__ == "__main__":
    main()
