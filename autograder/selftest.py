"""``autograder selftest``: can this machine grade, and how is the worker isolated?"""
from __future__ import annotations

import tempfile

from autograder.compare import HIDDEN_TESTS
from autograder.run import StudentFault, StudentSession
from autograder.sandbox import detect


def selftest():
    """Start a real worker, check its limits, and print what holds. Returns the exit status."""
    isolation = detect()
    print(isolation.describe())
    checks = []
    with tempfile.TemporaryDirectory() as folder, StudentSession(folder, isolation=isolation) as session:
        session.load("probe", [("probe", PROBE)])
        probes = (("network", [], "blocked"), ("grader_files", [str(HIDDEN_TESTS)], "hidden"),
                  ("timeout", [], "timeout"))
        for name, args, expected in probes:
            try:
                value = session.request({"op": "call", "target": "probe", "method": name, "args": args}, timeout=3)
            except StudentFault as exc:
                value = "timeout" if exc.status == "timeout" else f"fault: {exc}"
            ok = value == expected or (isolation.level != "bubblewrap" and name != "timeout")
            checks.append(ok)
            print(f"  {'ok ' if ok else 'BAD'} {name}: {value}")
    print("selftest passed" if all(checks) else "selftest FAILED")
    return 0 if all(checks) else 1


PROBE = '''
import socket, time
from pathlib import Path

def network():
    # In its own network namespace the worker sees only its private loopback.
    names = sorted(name for _, name in socket.if_nameindex())
    return "blocked" if names in ([], ["lo"]) else "interfaces " + ", ".join(names)

def grader_files(path):
    return "visible" if Path(path).exists() else "hidden"

def timeout():
    while True:
        time.sleep(0.1)
'''
