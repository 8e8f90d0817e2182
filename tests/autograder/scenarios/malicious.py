"""Submissions written to cheat, to spy or to break the grader.

Looking for reference data and hidden tests, forging equality and results,
killing processes, tampering with the worker's channel, reaching the network,
leaving state for later students, exfiltrating hidden inputs, and editing the
nbgrader metadata. None may gain a point, hurt another test or student, or
get anything out.
"""
import nbformat

from tests.autograder.scenarios import (
    CRASH,
    NOTEBOOK,
    SUBMISSION,
    TIMEOUT,
    edit_notebook,
    Scenario,
    cells_with_id,
    in_batch,
    inside,
    returning,
    top,
)

F = "malicious"
REFUSED = ("PermissionError", "ProcessLookupError", "OSError")  # the kill was refused: the student's code raised

# -- looking for reference data and hidden tests ------------------------------------------------------
READ_REFERENCE_FILES = '''
for _path in ("__REPO__/solutions/assignment1/gradient_check.ipynb",
              "__REPO__/autograder/hidden_tests/assignment1/test_gradient_check.py",
              "__REPO__/autograder/reference.py", "/grader/../solutions/assignment1/gradient_check.ipynb"):
    try:
        with open(_path) as _handle:
            _text = _handle.read()
    except OSError:
        continue
    raise ValueError("__LEAK__ " + _text[:400])
'''

LIST_THE_REPOSITORY = '''
import os as _os
_found = []
for _place in ("__REPO__/solutions", "__REPO__/solutions/assignment1", "__REPO__/autograder",
               "__REPO__/autograder/hidden_tests", "__REPO__/tests"):
    try:
        _found.append(_place + ": " + " ".join(sorted(_os.listdir(_place))))
    except OSError:
        pass
if _found:
    raise RuntimeError(" | ".join(_found))
'''

WALK_THE_DISK = '''
import os as _os, sys as _sys, time as _time
_start, _found = _time.monotonic(), []
_skip = {"/proc", "/sys", "/dev", "/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/submission",
         _sys.prefix, _sys.base_prefix, _sys.exec_prefix}
for _root, _dirs, _files in _os.walk("/"):
    _dirs[:] = [d for d in _dirs if _os.path.join(_root, d) not in _skip and not d.startswith(".")]
    _found += [_os.path.join(_root, n) for n in _dirs + _files
               if n in ("solutions", "hidden_tests", "test_gradient_check.py") or n.endswith(".ipynb")]
    if _time.monotonic() - _start > 5:
        break
if _found:
    raise RuntimeError(" ".join(_found[:20]))
'''

PATHS_IN_AN_ERROR = '''
import os as _os, sys as _sys
raise RuntimeError(" ".join([_sys.executable, _os.getcwd(), repr(_sys.path), repr(dict(_os.environ))]))
'''

PARENT_COMMAND_LINE = '''
import os as _os
_seen = []
for _path in ("/proc/%d/cmdline" % _os.getppid(), "/proc/1/cmdline", "/proc/%d/environ" % _os.getppid(),
              "/proc/self/mountinfo"):
    try:
        with open(_path, "rb") as _handle:
            _seen.append(_handle.read().replace(b"\\0", b" ").decode(errors="replace"))
    except OSError:
        pass
# The grader keeps only the start of a message: put the paths that are not the system's first.
_words = " ".join(_seen).split()
_paths = [w for w in _words if "/" in w and not w.startswith(("/usr", "/lib", "/bin", "/sbin", "/etc", "/proc",
                                                              "/dev", "/sys", "/tmp"))]
raise RuntimeError(" ".join(dict.fromkeys(_paths)) or "nothing")
'''

# -- exfiltrating hidden inputs (every such text carries the __LEAK__ canary) -----------------------
FRAME_WALK_TO_HIDDEN_INPUTS = '''
import sys as _sys
_seen = []
_frame = _sys._getframe()
while _frame is not None:
    _objects = getattr(_frame.f_locals.get("self"), "objects", None)
    if isinstance(_objects, dict):
        for _obj in list(_objects.values()):
            for _value in list(getattr(_obj, "__dict__", {}).values()):
                if isinstance(_value, np.ndarray) and _value.size:
                    _seen.append(repr(float(_value.ravel()[0])))
    _frame = _frame.f_back
raise RuntimeError("__LEAK__ " + " ".join(_seen[:5]))
'''

FILE_NAMES = '''
import os as _os
_name = "__LEAK__" + repr(float(w.ravel()[0])).replace("/", "_")
for _folder in (".", "..", "/tmp", _os.path.expanduser("~"), "__REPO__", "/var/tmp", "/dev/shm"):
    try:
        open(_os.path.join(_folder, _name), "w").close()
    except OSError:
        pass
'''

PRINTS = '''
import logging as _logging, os as _os, sys as _sys
_text = "__LEAK__ " + repr(x.ravel()[:3].tolist())
print(_text)
_sys.stderr.write(_text + "\\n")
_sys.__stdout__.write(_text + "\\n") if _sys.__stdout__ else None
_os.write(1, _text.encode())
_os.write(2, _text.encode())
_logging.warning(_text)
'''

# -- forging equality ---------------------------------------------------------------------------------
PATCH_NUMPY = '''
np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.testing.assert_allclose = lambda *args, **kwargs: None
'''

FORGED_NDARRAY = '''
class _Forged(np.ndarray):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

return np.zeros_like(w).view(_Forged)
'''

FORGED_OBJECT = '''
class _Equal:
    def __eq__(self, other):
        return True

    __le__ = __ge__ = __eq__

    def __ne__(self, other):
        return False

    __lt__ = __gt__ = __ne__

    def __float__(self):
        return worst

    def __hash__(self):
        return 0

return _Equal()
'''

FORGED_FLOAT = '''
class _Equal(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = float.__hash__

return _Equal(worst + 1.0)
'''

# -- forging results, tampering with the channel --------------------------------------------------------
FORGE_RESULTS = '''
import json as _json, os as _os


def _forge():
    fake = _json.dumps({"student": "aaa_ref", "assignment": "assignment1", "status": "graded",
                        "score": 100.0, "max_score": 100.0, "tests": []})
    names = ["aaa_ref", "mmm_ref", "zzz_ref", "forged_result_files", _os.path.basename(_os.getcwd())]
    for folder in (".", "..", "../out", "../../out", "/tmp/__MARKER__/out", _os.path.expanduser("~/__MARKER__")):
        for name in names:
            try:
                _os.makedirs(folder, exist_ok=True)
                with open(_os.path.join(folder, name + ".json"), "w") as handle:
                    handle.write(fake)
                with open(_os.path.join(folder, "grades.csv"), "w") as handle:
                    handle.write("student,score\\n" + name + ",100\\n")
            except OSError:
                pass
    print(fake)
    _os.write(1, fake.encode())
    _os.write(2, fake.encode())


_forge()
'''

FORGE_REPLY_FRAME = '''
import sys as _sys
_codec = _sys.modules.get("codec")
_frame = _sys._getframe()
while _frame is not None and not hasattr(_frame.f_locals.get("self"), "outbox"):
    _frame = _frame.f_back
if _codec is not None and _frame is not None:
    _codec.write_frame(_frame.f_locals["self"].outbox, {"ok": True, "value": "forged"})
'''

REPLACE_CODEC = '''
import sys as _sys
_codec = _sys.modules.get("codec")
if _codec is not None:
    def _garbage(stream, message):
        stream.write(b"\\xff" * 64)
        stream.flush()

    _codec.write_frame = _garbage
    _codec.encode = lambda message: b"\\xff" * 64
'''

HIJACK_THE_LOOP = '''
import sys as _sys
_frame = _sys._getframe()
while _frame is not None and not hasattr(_frame.f_locals.get("self"), "handle"):
    _frame = _frame.f_back
if _frame is not None:
    _frame.f_locals["self"].handle = lambda request: {"ok": True, "value": None}
'''

CLOSE_STDIO = '''
import os as _os, sys as _sys
for _fd in (0, 1, 2):
    try:
        _os.close(_fd)
    except OSError:
        pass
_sys.stdin = _sys.stdout = _sys.stderr = None
'''

GARBAGE_TO_EVERY_FD = '''
import os as _os
for _fd in sorted(int(n) for n in _os.listdir("/proc/self/fd")):
    try:
        _os.write(_fd, b"\\xff\\x00garbage" * 512)
    except OSError:
        pass
'''

IGNORE_SIGNALS = '''
import signal as _signal
for _name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGXCPU"):
    _signal.signal(getattr(_signal, _name), _signal.SIG_IGN)
'''

NETWORK = '''
import socket as _socket
_payload = ("__LEAK__ " + repr(w.ravel().tolist())).encode()
for _host in ("127.0.0.1", "localhost", "::1"):
    try:
        with _socket.create_connection((_host, __PORT__), timeout=1) as _conn:
            _conn.sendall(_payload)
    except OSError:
        pass
    try:
        _udp = _socket.socket(_socket.AF_INET6 if ":" in _host else _socket.AF_INET, _socket.SOCK_DGRAM)
        _udp.sendto(_payload, (_host, __PORT__))
        _udp.close()
    except OSError:
        pass
'''

# -- leaving state for later tests and later students ----------------------------------------------------
LEAVE_STATE = '''
import builtins as _builtins, os as _os
for _folder in ("/tmp", "/var/tmp", "/dev/shm", _os.path.expanduser("~"), ".", ".."):
    try:
        with open(_os.path.join(_folder, "KITPERSIST__RUN__"), "w") as _handle:
            _handle.write("left by an earlier student")
    except OSError:
        pass
_builtins.KITPERSIST__RUN__ = True
np.KITPERSIST__RUN__ = True
_os.environ["KITPERSIST__RUN__"] = "1"
'''

FIND_STATE = '''
import builtins as _builtins, glob as _glob, os as _os
_left = [p for p in ("/tmp", "/var/tmp", "/dev/shm", _os.path.expanduser("~"), "..")
         if _os.path.exists(_os.path.join(p, "KITPERSIST__RUN__"))] + _glob.glob("../*/KITPERSIST__RUN__")
if _left or hasattr(_builtins, "KITPERSIST__RUN__") or hasattr(np, "KITPERSIST__RUN__") \\
        or "KITPERSIST__RUN__" in _os.environ:
    raise RuntimeError("found what an earlier student left: %s" % _left)
'''


# -- nbgrader metadata ---------------------------------------------------------------------------------
def _graded(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def _points_1000(nb):
    for cell in _graded(nb):
        cell.metadata.nbgrader["points"] = 1000


def _no_grade_flags(nb):
    for cell in nb.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata.nbgrader["grade"] = False
            cell.metadata.nbgrader.pop("points", None)


def _duplicated_ids(nb):
    real = cells_with_id(nb, "sgd_step")[0]
    wrong = nbformat.from_dict(nbformat.v4.new_code_cell(
        "def sgd_step(w, dw, learning_rate):\n    return w + learning_rate * dw\n"))
    wrong.metadata = nbformat.from_dict({"nbgrader": dict(real.metadata.nbgrader)})
    grade = cells_with_id(nb, "test_sgd_step")[0]
    extra_grade = nbformat.from_dict(nbformat.v4.new_code_cell("assert True\n"))
    extra_grade.metadata = nbformat.from_dict({"nbgrader": dict(grade.metadata.nbgrader, points=1000)})
    nb.cells.insert(nb.cells.index(real), wrong)
    nb.cells.append(extra_grade)


def _checksums(nb):
    for cell in nb.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata.nbgrader["checksum"] = "0" * 32


def _locked_cells(nb):
    imports = cells_with_id(nb, "imports")[0]
    imports.source = "import numpy as np\nnp.allclose = lambda *a, **k: True\nraise SystemExit('locked cell edited')\n"
    grade = cells_with_id(nb, "test_sgd_step")[0]
    grade.source = "sgd_step = lambda *args: None\n"
    for cell in nb.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata.nbgrader["locked"] = False


def _definition_claims_points(nb):
    cell = cells_with_id(nb, "sgd_step")[0]
    cell.metadata.nbgrader.update(grade=True, points=50)


AS_REFERENCE = "nothing is found or nothing it does reaches the grader, so it grades as the reference"

_SCENARIOS = [
    # reading the disk and the environment
    inside("rel_error", "reads_reference_files_when_called", F, READ_REFERENCE_FILES, why=AS_REFERENCE),
    top("sgd_step", "lists_the_repository_when_the_cell_runs", F, before=LIST_THE_REPOSITORY, why=AS_REFERENCE),
    top("rel_error", "walks_the_disk_for_reference_data", F, before=WALK_THE_DISK, max_seconds=40, why=AS_REFERENCE),
    top("rel_error", "paths_and_environment_in_an_error", F, before=PATHS_IN_AN_ERROR,
        hits=("rel_error",), cause=("RuntimeError",), why="the error is shown without the grader's paths"),
    top("grad_check_sparse", "parent_command_line_in_an_error", F, before=PARENT_COMMAND_LINE,
        hits=("grad_check_sparse",), cause=("RuntimeError",), why="the sandbox's command line and mounts stay hidden"),
    returning("grad_check_sparse", "returns_the_environment_it_finds", F,
              "import os, sys\nreturn {'env': dict(os.environ), 'argv': sys.argv, 'path': sys.path}",
              hits=("grad_check_sparse",), cause=("numpy array", "dict")),
    # exfiltrating hidden inputs and reference values
    inside("sgd_step", "hidden_inputs_in_an_exception_message", F,
           'raise ValueError("__LEAK__ " + repr(float(w.ravel()[0])) + " " + repr(learning_rate))',
           hits=("sgd_step",), cause=("ValueError",), repeat=True),
    inside("sgd_step", "hidden_inputs_in_an_exception_class_name", F,
           'raise type("__LEAK___" + str(abs(int(1e6 * float(w.ravel()[0])))), (Exception,), {})("__LEAK__")',
           hits=("sgd_step",), cause=("an exception",)),
    inside("eval_numerical_gradient", "hidden_inputs_printed_everywhere", F, PRINTS, why=AS_REFERENCE),
    returning("rel_error", "hidden_inputs_in_a_returned_string", F,
              'return "__LEAK__ " + repr(float(np.ravel(x)[0])) + " " + repr(worst)',
              hits=("rel_error",), cause=("single number", "str")),
    returning("sgd_step", "hidden_inputs_as_dict_keys", F, 'return {"__LEAK__" + repr(float(w.ravel()[0])): 1.0}',
              hits=("sgd_step",), cause=("numpy array", "dict")),
    inside("sgd_step", "hidden_inputs_in_file_names", F, FILE_NAMES, why=AS_REFERENCE),
    top("tune_best_svm", "hidden_inputs_through_the_tuning_cell", F, before=FRAME_WALK_TO_HIDDEN_INPUTS,
        hits=("best_svm",), cause=("RuntimeError",),
        why="the tuning cell runs after hidden inputs crossed: its error message is tainted"),
    returning("svm_loss_vectorized", "reference_values_in_an_exception_message", F,
              'raise ValueError("__LEAK__ " + repr(float(loss)) + " " + repr(float(dW.ravel()[0])))',
              hits=("svm_loss_vectorized", "best_svm"), cause=("ValueError",)),
    # forging equality
    Scenario("numpy_comparisons_patched_in_the_worker", F, cell="sgd_step",
             old="    new_w = w - learning_rate * dw", new="    new_w = w + learning_rate * dw",
             after=PATCH_NUMPY.strip("\n"), hits=("sgd_step",), cause=("along the gradient", "does not match")),
    returning("sgd_step", "ndarray_subclass_with_forged_equality", F, FORGED_NDARRAY,
              hits=("sgd_step",), cause=("does not match", "is wrong", "along the gradient")),
    returning("rel_error", "object_with_forged_equality", F, FORGED_OBJECT,
              hits=("rel_error",), cause=("single number",)),
    returning("rel_error", "float_subclass_with_forged_equality", F, FORGED_FLOAT,
              hits=("rel_error",), cause=("does not match", "is wrong", "mishandles")),
    # exits and kills
    inside("sgd_step", "calls_sys_exit", F, "import sys\nsys.exit(0)", hits=("sgd_step",), cause=("SystemExit",)),
    inside("sgd_step", "calls_os_exit", F, "import os\nos._exit(0)", hits=("sgd_step",), cause=CRASH, repeat=True),
    top("sgd_step", "calls_os_exit_at_the_top_of_a_cell", F, after="import os as _os\n_os._exit(3)",
        hits=("sgd_step",), cause=CRASH, max_seconds=60,
        why="one mistake, one deduction: the cell's own targets, not the notebook"),
    inside("sgd_step", "kills_its_parent_process", F, "import os, time\nos.kill(os.getppid(), 9)\ntime.sleep(0.2)",
           hits=("sgd_step",), must_lose=False, cause=REFUSED + CRASH),
    inside("sgd_step", "kills_its_own_process_group", F, "import os\nos.killpg(0, 9)",
           hits=("sgd_step",), cause=CRASH, repeat=True),
    inside("sgd_step", "kills_every_process_it_may", F,
           'import os, time\nif os.getcwd() == "/submission" and os.getpid() < 100:  # inside the sandbox only\n'
           '    os.kill(-1, 9)\n    time.sleep(0.2)', hits=("sgd_step",), must_lose=False, cause=REFUSED + CRASH),
    inside("sgd_step", "raises_a_base_exception_subclass", F,
           "class _Escape(BaseException):\n    pass\nraise _Escape()", hits=("sgd_step",), cause=("an exception",)),
    inside("rel_error", "raises_keyboard_interrupt", F, "raise KeyboardInterrupt", hits=("rel_error",),
           cause=("KeyboardInterrupt",)),
    Scenario("ignores_termination_signals_and_loops", F, cell="sgd_step", before=IGNORE_SIGNALS.strip("\n"),
             old="    new_w = w - learning_rate * dw", new="    while True:\n        pass",
             hits=("sgd_step",), cause=TIMEOUT, max_seconds=60),
    # forging results and tampering with the worker's channel
    Scenario("forged_result_files", F, cell="sgd_step", before=FORGE_RESULTS.strip("\n"),
             old="    new_w = w - learning_rate * dw", new="    _forge()\n    new_w = w - learning_rate * dw",
             why=AS_REFERENCE),
    inside("sgd_step", "forged_reply_frame_on_the_channel", F, FORGE_REPLY_FRAME, hits=("sgd_step",),
           cause=("numpy array", "not plain data", "channel", "stopped", "crash"),
           why="a frame nobody asked for costs the call that sent it, never the next test"),
    top("sgd_step", "codec_replaced_when_the_cell_runs", F, after=REPLACE_CODEC, hits=NOTEBOOK,
        cause=("not plain data", "stopped", "crash", "channel", "died", "failed")),
    inside("sgd_step", "worker_loop_hijacked_through_its_frames", F, HIJACK_THE_LOOP, hits=SUBMISSION,
           cause=("numpy array", "NoneType", "single number", "pair", "could not use", "not plain data")),
    top("sgd_step", "closes_and_replaces_stdio", F, after=CLOSE_STDIO, why=AS_REFERENCE),
    inside("sgd_step", "writes_garbage_to_every_descriptor", F, GARBAGE_TO_EVERY_FD, hits=("sgd_step",),
           cause=("not plain data", "more data", "stopped", "crash", "channel", "died")),
    # the network
    inside("sgd_step", "sends_inputs_to_a_loopback_listener", F, NETWORK, network=True, why=AS_REFERENCE),
    # state left for later tests and students (the reader sorts after the writer, far from it)
    top("sgd_step", "persist_1_leaves_files_and_state_for_later", F, before=LEAVE_STATE, why=AS_REFERENCE),
    inside("sgd_step", "zz_persist_2_finds_nothing_left_earlier", F, FIND_STATE, why=AS_REFERENCE),
    # nbgrader metadata: points and flags come from the source notebooks
    Scenario("grade_cells_claim_1000_points", F, build=edit_notebook(_points_1000)),
    Scenario("grade_flags_removed", F, build=edit_notebook(_no_grade_flags)),
    Scenario("grade_ids_duplicated", F, build=edit_notebook(_duplicated_ids),
             why="the last copy of a definition cell counts; a grade cell's points come from the source"),
    Scenario("checksums_changed", F, build=edit_notebook(_checksums)),
    Scenario("locked_cells_edited", F, build=edit_notebook(_locked_cells),
             why="locked cells come from the source; grade cells never run"),
    Scenario("definition_cell_claims_points", F, build=edit_notebook(_definition_claims_points)),
]

# Graded in the family's batch: what they do can reach beyond their own results (files, processes, the
# grading process, the channel, other students). The others are graded alone, notebook by notebook.
SCENARIOS = in_batch(_SCENARIOS, {
    "reads_reference_files_when_called", "lists_the_repository_when_the_cell_runs", "walks_the_disk_for_reference_data",
    "hidden_inputs_printed_everywhere", "hidden_inputs_in_file_names", "hidden_inputs_through_the_tuning_cell",
    "calls_os_exit", "calls_os_exit_at_the_top_of_a_cell", "kills_its_parent_process", "kills_its_own_process_group",
    "kills_every_process_it_may", "ignores_termination_signals_and_loops", "forged_result_files",
    "forged_reply_frame_on_the_channel", "codec_replaced_when_the_cell_runs", "worker_loop_hijacked_through_its_frames",
    "closes_and_replaces_stdio", "writes_garbage_to_every_descriptor", "sends_inputs_to_a_loopback_listener",
    "persist_1_leaves_files_and_state_for_later", "zz_persist_2_finds_nothing_left_earlier",
})
