"""Stage 4, compare: the hidden pytest suites, run in the trusted process.

The suites in ``hidden_tests/<assignment>/`` are ordinary pytest files. Each
names its notebook (``NOTEBOOK = "svm.ipynb"``); the assignment's manifest maps
the notebook's targets to grade cells. Each test is marked
``@pytest.mark.target("svm_loss_naive", weight=1)`` and uses these fixtures:

``student``    the submission's notebook, a proxy into the worker
``reference``  the reference solution, loaded here from ``solutions/``
``tuned``      ``tuned("best_svm")``: runs the student's tuning cell, returns the object
``student_code`` the submission's extracted cells (for source checks such as "no loops")
``rng``        a ``numpy.random.Generator`` seeded from the test's id
``manifest``   the assignment's ``utils.manifest.Manifest`` (accuracy targets, ...)
``speed``      ``speed.ratio(...)``: the student's version against the reference's naive one, in CPU
               time of worker processes (``autograder.timing``)

This module is the pytest plugin (the fixtures and the hook that records
outcomes) and the run of the suites; ``loading`` puts notebooks into the worker,
``outcomes`` decides what a student may read of a failure.
"""
from __future__ import annotations

import os
import sys
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from autograder.errors import CompareError, GraderError
from autograder.loading import load_module, module_name
from autograder.outcomes import Outcome, classify
from autograder.run import StudentFault, unclaimed_cpu
from autograder.timing import SpeedCheck
from utils.manifest import ManifestError

HIDDEN_TESTS = Path(__file__).resolve().parent / "hidden_tests"


@dataclass
class GradingContext:
    """Everything the fixtures need for one submission."""

    submission: object  # read.Submission
    extracted: dict  # notebook file name -> ExtractedNotebook
    session: object  # run.StudentSession
    references: object  # reference.ReferenceSet
    stand_ins: dict = field(default_factory=dict)  # notebook -> why other notebooks load it as released
    loaded: dict = field(default_factory=dict)
    outcomes: list = field(default_factory=list)
    grader_faults: list = field(default_factory=list)  # failures of the suites' own fixtures
    checks_cpu: float = 0.0  # CPU seconds of this process in the tests' own code (``KitPlugin.pytest_runtest_call``)


class KitPlugin:
    """Fixtures for one submission, and the outcome of each hidden test."""

    def __init__(self, context):
        self.context = context

    # -- fixtures -------------------------------------------------------------
    @pytest.fixture
    def student(self, request):
        return self._student_module(request.module.NOTEBOOK)

    @pytest.fixture
    def reference(self, request):
        return self.context.references.module(request.module.NOTEBOOK)

    @pytest.fixture
    def student_code(self, request):
        return self.context.extracted[request.module.NOTEBOOK]

    @pytest.fixture
    def tuned(self, request):
        notebook = request.module.NOTEBOOK
        return lambda name: self._tuned(notebook, name)

    @pytest.fixture
    def speed(self, request):
        notebook = request.module.NOTEBOOK
        return SpeedCheck(self.context, notebook, self._student_module(notebook))

    @pytest.fixture
    def manifest(self):
        return self.context.references.manifest

    @pytest.fixture
    def limits(self):
        return self.context.session.limits

    @pytest.fixture
    def rng(self, request):
        return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))

    # -- loading into the worker ------------------------------------------------
    def _student_module(self, notebook):
        key = (notebook, None)
        if key not in self.context.loaded:
            self.context.loaded[key] = load_module(self.context, notebook, None)
        return self.context.loaded[key]

    def _tuned(self, notebook, name):
        extracted = self.context.extracted[notebook]
        cell = extracted.cell_defining(name)
        key = (notebook, cell)
        if key not in self.context.loaded:
            self.context.loaded[key] = load_module(self.context, notebook, cell, timeout=self.context.session.limits.tuning_seconds)
        return getattr(self.context.loaded[key], name)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        yield
        notebook = getattr(item.module, "NOTEBOOK", None)
        if nextitem is None or getattr(nextitem.module, "NOTEBOOK", None) != notebook:
            # The notebook's suite is done: its tuned modules (each ran the data cell) are not needed again.
            for key in [k for k in self.context.loaded if k[0] == notebook and k[1] is not None]:
                del self.context.loaded[key]
                self.context.session.unload(module_name(notebook, key[1]))

    def preload(self, notebooks):
        """Load every notebook's definitions before the first test, in the assignment's order.

        Every test then meets the same worker state, whichever suite runs first.
        """
        for notebook in notebooks:
            if notebook in self.context.extracted:
                self._student_module(notebook)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        """Count the CPU time of the test's own code: what is left when the sessions have claimed theirs."""
        start = unclaimed_cpu()
        yield
        self.context.checks_cpu += unclaimed_cpu() - start

    # -- outcomes ----------------------------------------------------------------
    # pytest registers only methods named pytest_*, and this class has a wrapper of that hook already.
    @pytest.hookimpl(tryfirst=True, specname="pytest_runtest_makereport")
    def pytest_runtest_makereport_without_traceback(self, item, call):
        """pytest's report of a failure, but with only the exception's type for its text.

        Nothing reads pytest's text (``classify`` takes the exception itself), and building it
        parses the source of every frame: most of a blank submission's grading time.
        """
        if call.excinfo is None or call.excinfo.errisinstance((pytest.skip.Exception, KeyboardInterrupt)):
            return None  # pytest builds it
        return pytest.TestReport(
            item.nodeid, item.location, dict.fromkeys(item.keywords, 1), "failed", call.excinfo.typename,
            call.when, [], call.duration, call.start, call.stop, item.user_properties,
        )

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = (yield).get_result()
        exc = call.excinfo.value if call.excinfo is not None else None
        if report.outcome != "passed" and (
                isinstance(exc, GraderError)
                or report.when == "setup" and exc is not None and not isinstance(exc, (StudentFault, AssertionError))):
            # A fixture of the suite broke before the student's code was involved, or the grader's
            # own machinery failed (the reference's worker): the grader's fault, never the student's.
            self.context.grader_faults.append(f"{item.nodeid}: {type(exc).__name__}: {exc}"[:300])
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.context.outcomes.append(self._outcome(item, call, report))

    def _outcome(self, item, call, report):
        module = item.module
        marker = item.get_closest_marker("target")
        if marker is None:
            raise CompareError(f"hidden test {item.nodeid} has no target marker")
        target = marker.args[0]
        status, checked, problem = "passed", "", ""
        if report.outcome != "passed":
            status, checked, problem = classify(call.excinfo, item)
        test_name = item.name[len("test_"):] if item.name.startswith("test_") else item.name
        return Outcome(
            nodeid=item.nodeid, notebook=module.NOTEBOOK, target=target,
            grade_id=self._grade_cell(module.NOTEBOOK, target, item), name=test_name,
            weight=float(marker.kwargs.get("weight", 1.0)), status=status, checked=checked, problem=problem,
        )


    def _grade_cell(self, notebook, target, item):
        try:
            return self.context.references.manifest.grade_cell(notebook, target)
        except ManifestError as exc:
            raise CompareError(f"hidden test {item.nodeid}: {exc}") from None


_SUITE_MODULES = {}  # folder of suites -> names of the modules a run imported from it


def _forget_other_suites(folder):
    """Drop suite modules an earlier run imported from another folder.

    pytest's importlib mode names a suite module by its path below the rootdir, so a
    suite of another copy of the hidden suites (a test's, an older checkout's) would be
    reused under the same name in a long-lived grading process.
    """
    for other, names in list(_SUITE_MODULES.items()):
        if other != folder:
            for name in names:
                sys.modules.pop(name, None)
            del _SUITE_MODULES[other]


def _remember_suites(folder, before):
    _SUITE_MODULES.setdefault(folder, set()).update(
        name for name in set(sys.modules) - before
        if Path(getattr(sys.modules[name], "__file__", None) or "/").is_relative_to(folder.parent))


def run_hidden_suites(context, assignment, notebooks=None):
    """Run the hidden suites of ``assignment`` for one submission; returns the ``Outcome`` list.

    Parameters
    ----------
    notebooks : iterable of str, optional
        Only these notebooks' suites (file names); default all.

    Raises
    ------
    CompareError
        If the suites could not be collected or a test lacks its marker.
    """
    folder = HIDDEN_TESTS / assignment
    _forget_other_suites(folder)
    files = sorted(folder.glob("test_*.py"))
    if notebooks is not None:
        wanted = {Path(n).stem for n in notebooks}
        files = [f for f in files if f.stem[len("test_"):] in wanted]
    if not files:
        raise CompareError(f"no hidden suites for {assignment} in {folder}")
    args = [str(f) for f in files] + [
        "-c", str(HIDDEN_TESTS / "pytest.ini"), "--rootdir", str(HIDDEN_TESTS),
        "-p", "no:cacheprovider", "-p", "no:terminal", "--import-mode=importlib",
        # Messages come from docstrings and Mistakes, not from assertion rewriting; the
        # plugins below only cost time per submission (one of them runs gc.collect).
        "--assert=plain", "-p", "no:unraisableexception", "-p", "no:threadexception",
        "-p", "no:faulthandler", "-p", "no:logging", "-p", "no:doctest",
        # Its per-test recording of warnings went to a summary no one prints; they are ignored below.
        "-p", "no:warnings",
    ]
    plugin = KitPlugin(context)
    plugin.preload(notebooks if notebooks is not None else sorted(context.extracted))
    before = set(sys.modules)
    previous = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = pytest.main(args, plugins=[plugin])
    finally:
        _remember_suites(folder, before)
        if previous is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = previous
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise CompareError(f"the hidden suites of {assignment} could not run (pytest exit code {int(code)})")
    if context.grader_faults:
        raise CompareError(f"a fixture of the hidden suites of {assignment} failed, so they could not run: "
                           f"{context.grader_faults[0]}")
    return context.outcomes
