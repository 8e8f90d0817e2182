"""Hostile, buggy, resource-abusing and malformed submissions, and the invariants every grading of them keeps.

A ``Scenario`` is a small change to the reference submission (one definition
cell's source, or a change to a whole notebook file made by ``build``),
graded by the real engine in a batch next to untouched reference copies. Its
definition says what it breaks and why: ``hits`` are the targets (or test
ids) that may lose points, ``cause`` the phrases one of which the message of
a zeroed test must contain. Everything else of the submission must score
exactly what the reference scores. The families live in their own modules.

Source texts may hold placeholders, filled per run so that parallel runs never
see each other's files or processes:

``__MARKER__``  a short marker unique to the scenario and the run (fits a process name)
``__LEAK__``    a canary token, put in front of values derived from hidden inputs
``__RUN__``     unique to the run, shared by the scenarios of a run
``__REPO__``    the path of the repository (what a cheat would look for)
``__PORT__``    a loopback port the test listens on (nothing may ever arrive)
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib
import textwrap
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from tests.autograder.mutants import Edit
from tests.notebooks import ASSIGNMENT

REPO = Path(__file__).resolve().parents[3]
NOTEBOOKS = ("gradient_check.ipynb", "svm.ipynb")  # the fast suites: every scenario folder holds these two
FAMILIES = ("malicious", "buggy", "resources", "notebook_format")
REFERENCE_COPIES = ("aaa_ref", "mmm_ref", "zzz_ref")  # before, among and after the scenarios, by student id
CANARIES = (str(REPO), "solutions", "def test_", "hidden_tests", "KITLEAK")
SUBMISSION = "submission"  # hits: any test of the submission may lose points (it sabotaged its own worker)
NOTEBOOK = "notebook"  # hits: any test of the edited notebook may lose points

# What the messages of the engine say for each kind of fault (any one phrase names the cause).
TIMEOUT = ("did not finish", "in time", "time limit", "timed out", "grading time")
MEMORY = ("MemoryError", "memory")
CRASH = ("died", "crash", "stopped", "SIGKILL", "SIGSEGV", "exit")
UNREADABLE = ("not a valid notebook", "not a notebook", "not JSON", "cannot be read", "could not be read", "unreadable")


@dataclass(frozen=True)
class Scenario:
    """One submission built from the reference, and what grading it must give."""

    name: str  # also the student id in its batch
    family: str
    cause: tuple = ()  # phrases; a zeroed test of hits[0] must name one of them (case-insensitive)
    notebook: str = "gradient_check"
    cell: str = ""  # grade_id of the definition cell changed
    old: str = ""  # replaced once by new in that cell (as in tests.autograder.mutants)
    new: str = ""
    source: str = ""  # or the cell's whole new source
    before: str = ""  # top-level code put in front of the cell
    after: str = ""  # top-level code appended to the cell
    build: object = None  # or build(folder, fill) changes the notebook files of the folder itself
    hits: object = ()  # targets or test ids that may lose points; NOTEBOOK; SUBMISSION; () = as the reference
    must_lose: bool = True  # False: the hit tests may keep their points (the attack may just fail)
    whole: bool = False  # the notebook is unusable: every test of it scores 0 naming the cause
    status: str = "graded"  # graded alone; in a batch the other notebook is still there to grade
    max_seconds: float = 30.0  # bound on the submission's "seconds" (published: 5 s a call, 300 s a submission)
    batch: bool = False  # graded in its family's grade_batch (it can reach processes, files, the pool, others)
    network: bool = False  # tries to reach the test's loopback listener
    repeat: bool = False  # graded twice to show the same grades and messages
    # (limit, value) pairs that replace the manifest's when graded alone: a smaller time limit where the
    # scenario needs one reached, not its size (test_hardening cuts a hanging cell at load_seconds=2 too).
    limits: tuple = ()
    why: str = ""

    def __post_init__(self):
        assert self.family in FAMILIES, self.family
        assert self.hits in (NOTEBOOK, SUBMISSION) or isinstance(self.hits, tuple), self.name
        assert not self.hits or self.cause or not self.must_lose or self.hits == NOTEBOOK, \
            f"{self.name}: a scenario that costs points names its cause"
        assert not (self.limits and self.batch), f"{self.name}: limits of its own apply when graded alone only"

    @property
    def notebook_file(self):
        return f"{self.notebook}.ipynb"


# Lines of the reference cells that edits anchor on: code goes in front of the first, the second is the return.
ANCHORS = {
    "eval_numerical_gradient": ("    grad = np.zeros(x.shape)", "    return grad"),
    "rel_error": ("    worst = float(np.max(errors))", "    return worst"),
    "grad_check_sparse": ("    rng = np.random.default_rng(seed)", "    return rel_errors"),
    "sgd_step": ("    new_w = w - learning_rate * dw", "    return new_w"),
    "sample_batch": ("    indices = rng.integers(0, len(X), size=batch_size)", "    return X_batch, y_batch"),
    "svm_loss_naive": ("    num_train = X.shape[0]", "    return float(loss), dW"),
    "svm_loss_vectorized": ("    rows = np.arange(num_train)", "    return float(loss), dW"),
}
SVM_CELLS = {"svm_loss_naive", "svm_loss_vectorized", "linear_classifier", "tune_best_svm"}


def _body(code):
    return textwrap.indent(textwrap.dedent(code).strip("\n"), "    ")


def inside(cell, name, family, code, **kwargs):
    """A scenario whose ``code`` runs inside the function of ``cell``, before its work (it is called)."""
    anchor = ANCHORS[cell][0]
    return Scenario(name, family, notebook="svm" if cell in SVM_CELLS else "gradient_check", cell=cell,
                    old=anchor, new=_body(code) + "\n" + anchor, **kwargs)


def returning(cell, name, family, code, **kwargs):
    """A scenario whose function ends with ``code`` instead of its return (``code`` may use the result)."""
    return Scenario(name, family, notebook="svm" if cell in SVM_CELLS else "gradient_check", cell=cell,
                    old=ANCHORS[cell][1], new=_body(code), **kwargs)


def top(cell, name, family, before="", after="", **kwargs):
    """A scenario whose top-level code runs when the cell runs (before or after its definitions)."""
    return Scenario(name, family, notebook="svm" if cell in SVM_CELLS else "gradient_check", cell=cell,
                    before=textwrap.dedent(before).strip("\n"), after=textwrap.dedent(after).strip("\n"),
                    **kwargs)


def in_batch(scenarios, names):
    """The scenarios, those named in ``names`` marked for the batch (every name must exist)."""
    known = {s.name for s in scenarios}
    assert set(names) <= known, sorted(set(names) - known)
    return [dataclasses.replace(s, batch=s.name in names) for s in scenarios]


def all_scenarios():
    """Every scenario of every family, in a fixed order (their markers follow it)."""
    found = []
    for family in FAMILIES:
        found += importlib.import_module(f"tests.autograder.scenarios.{family}").SCENARIOS
    names = [s.name for s in found]
    assert len(names) == len(set(names)), "scenario names are student ids: they must differ"
    assert not [n for n in names for c in CANARIES if c.lower() in n.lower()], "ids appear in results: no canary"
    return found


@dataclass
class Run:
    """What one test run fills into the scenarios: its unique id, the repository, the listener's port."""

    run: str
    port: int
    index: dict = field(default_factory=dict)  # scenario name -> position in all_scenarios()

    def marker(self, scenario):
        # 15 characters at most: it must fit a process name (/proc/PID/comm) as well as a command line.
        index = self.index.setdefault(scenario.name, len(self.index) + 500)
        return f"KM{self.run[:8]}{index:03d}"

    def leak(self, scenario):
        return f"KITLEAK{self.marker(scenario)}"

    def persist(self):
        return f"KITPERSIST{self.run[:8]}"

    def fill(self, text, scenario):
        for key, value in (("__MARKER__", self.marker(scenario)), ("__LEAK__", self.leak(scenario)),
                           ("__RUN__", self.run[:8]), ("__REPO__", str(REPO)), ("__PORT__", str(self.port))):
            text = text.replace(key, value)
        return text

    def tokens(self, scenario):
        """Strings no file outside the sandbox, no process and no result may carry for this scenario."""
        return (self.marker(scenario), self.leak(scenario))


# -- building submissions --------------------------------------------------------------------------
def copy_reference(reference_submission, folder):
    """A submission folder with the reference's two fast notebooks."""
    folder = Path(folder)
    folder.mkdir(parents=True)
    for name in NOTEBOOKS:
        shutil.copy2(Path(reference_submission) / name, folder / name)
    return folder


def edit_notebook(change, notebook="gradient_check.ipynb"):
    """A build that changes the parsed notebook (``change(nb)``) and writes it back."""
    def build(folder, fill, **_):
        path = folder / notebook
        nb = nbformat.read(str(path), as_version=4)
        change(nb)
        nbformat.write(nb, str(path))
    return build


def cells_with_id(nb, gid):
    return [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == gid]


def build(scenario, folder, reference_submission, release, run):
    """Write the scenario's submission into ``folder``; returns the folder."""
    folder = copy_reference(reference_submission, folder)
    fill = lambda text: run.fill(text, scenario)  # noqa: E731
    if scenario.cell:
        path = folder / scenario.notebook_file
        nb = nbformat.read(str(path), as_version=4)
        cells = cells_with_id(nb, scenario.cell)
        assert len(cells) == 1, f"{scenario.name}: no single cell {scenario.cell!r}"
        edit = Edit(scenario.name, scenario.notebook, scenario.cell, fill(scenario.old), fill(scenario.new),
                    fill(scenario.source))
        source = edit.apply(cells[0].source) if (scenario.old or scenario.source) else cells[0].source
        cells[0].source = "\n".join(part for part in (fill(scenario.before), source, fill(scenario.after)) if part)
        nbformat.write(nb, str(path))
    if scenario.build:
        scenario.build(folder, fill, release=Path(release) if release else None, reference=Path(reference_submission))
    return folder


def snapshot(folder):
    """{relative path: sha256} of every file under ``folder``."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def grade_alone(folder, notebook, limits=()):
    """Grade one notebook of a submission with ``grade_submission`` (run in a pool process): its result dict.

    ``limits``: (limit, value) pairs that replace those of the assignment's manifest.
    """
    from autograder.limits import load_limits
    from autograder.pipeline import grade_submission
    from autograder.reference import SOLUTIONS, references

    start = time.monotonic()
    try:
        changed = dataclasses.replace(load_limits(references(ASSIGNMENT, SOLUTIONS).manifest), **dict(limits)) \
            if limits else None
        result = grade_submission(folder, notebooks=[notebook], limits=changed)
    except Exception as exc:  # noqa: BLE001 - the grader's own failure, reported as such
        return {"student": Path(folder).name, "status": "grader_error", "score": 0.0, "max_score": 0.0,
                "tests": [], "error": f"{type(exc).__name__}: {exc}", "seconds": time.monotonic() - start}
    data = result.to_dict()
    data["seconds"] = result.seconds
    return data


# -- what is left behind ----------------------------------------------------------------------------
def processes_with(needles):
    """{pid: command line} of every process whose command line or name holds one of ``needles``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            text = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            text += " " + (entry / "comm").read_text(errors="replace").strip()
        except OSError:
            continue
        if any(needle in text for needle in needles):
            found[int(entry.name)] = text[:300]
    return found


def wait_for_no_processes(needles, grace=3.0):
    """Processes still holding a needle after ``grace`` seconds (a killed tree may take a moment to go)."""
    deadline = time.monotonic() + grace
    while True:
        left = processes_with(needles)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def outside_places(extra=()):
    """Folders a submission's code must never leave a file in (checked by name, one level deep)."""
    places = [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path.home(), REPO, REPO / "tests",
              REPO / "tests" / "autograder", Path.cwd(), *extra]
    return [p for p in dict.fromkeys(places) if p.is_dir()]


def files_named(needles, places):
    """Paths in ``places`` whose names hold one of ``needles``."""
    found = []
    for place in places:
        try:
            entries = list(place.iterdir())
        except OSError:
            continue
        found += [str(p) for p in entries if any(needle in p.name for needle in needles)]
    return sorted(found)


# -- judging results ---------------------------------------------------------------------------------
LOCK_FILE = ".autograder.lock"  # the grader's lock on its results folder (one grader at a time)
RESULT_KEYS = {"student", "assignment", "status", "score", "max_score", "tests"}
TEST_KEYS = {"id", "notebook", "target", "grade_id", "score", "max_score", "status", "message"}


def complete_result_problems(data):
    """Why a parsed result JSON is not a complete result (empty list when it is)."""
    if not isinstance(data, dict):
        return ["the result is not a JSON object"]
    problems = [f"the result lacks {key!r}" for key in sorted(RESULT_KEYS - set(data))]
    for test in data.get("tests", []) if isinstance(data.get("tests"), list) else []:
        if not TEST_KEYS <= set(test):
            problems.append(f"test {test.get('id')!r} lacks {sorted(TEST_KEYS - set(test))}")
    return problems


def _is_hit(scenario, test):
    if scenario.whole:
        return test["notebook"] == scenario.notebook_file
    if scenario.hits == SUBMISSION:
        return True
    if scenario.hits == NOTEBOOK:
        return test["notebook"] == scenario.notebook_file
    return any(test["target"] == h or test["id"] == h or test["id"].startswith(h + "[") for h in scenario.hits)


def _names_cause(scenario, message):
    return any(phrase.lower() in message.lower() for phrase in scenario.cause)


def score_problems(scenario, result, baseline):
    """Invariant 1: the hit tests lose (naming the cause); every other test scores as for the reference."""
    problems = []
    status = "graded" if scenario.batch and scenario.status == "invalid_submission" else scenario.status
    if result.get("status") != status:
        problems.append(f"status {result.get('status')!r} (expected {status!r}); "
                        f"error: {result.get('error', '')[:300]}")
    if result.get("max_score") != baseline["max_score"]:
        problems.append(f"max_score {result.get('max_score')} instead of the reference's {baseline['max_score']}")
    base = {t["id"]: t for t in baseline["tests"]}
    got = {t["id"]: t for t in result.get("tests", [])}
    if set(got) != set(base):
        problems.append(f"test ids differ from the reference's: missing {sorted(set(base) - set(got))[:5]}, "
                        f"extra {sorted(set(got) - set(base))[:5]}")
    hit = [t for t in got.values() if t["id"] in base and _is_hit(scenario, t)]
    for test_id, test in got.items():
        if test_id not in base:
            continue
        expected = base[test_id]["score"]
        if test in hit:
            if test["score"] > expected:
                problems.append(f"{test_id} scored {test['score']}, more than the reference's {expected}")
        elif test["score"] != expected:
            problems.append(f"{test_id} scored {test['score']} instead of the reference's {expected} "
                            f"({test['status']}: {test['message'][:200]})")
    if scenario.whole:
        nb_tests = [t for t in got.values() if t["notebook"] == scenario.notebook_file]
        for test in nb_tests:
            if test["score"] != 0 or not _names_cause(scenario, test["message"]):
                problems.append(f"{test['id']} should score 0 naming the cause {scenario.cause}: "
                                f"{test['score']} ({test['message'][:200]})")
        return problems
    if not scenario.hits:
        return problems
    primary = hit if not isinstance(scenario.hits, tuple) else [
        t for t in hit if t["target"] == scenario.hits[0] or t["id"] == scenario.hits[0]
        or t["id"].startswith(scenario.hits[0] + "[")]
    zeroed = [t for t in primary if t["score"] == 0 and base[t["id"]]["score"] > 0]
    lost = [t for t in hit if t["score"] < base[t["id"]]["score"]]
    if scenario.must_lose and not zeroed:
        problems.append(f"no test of {scenario.hits if isinstance(scenario.hits, str) else scenario.hits[0]} "
                        f"scored 0: " + "; ".join(f"{t['id']} {t['score']}" for t in primary[:4]))
    elif (zeroed or lost) and scenario.cause and not any(_names_cause(scenario, t["message"]) for t in zeroed or lost):
        problems.append(f"no zeroed test names the cause {scenario.cause}: "
                        + " | ".join(f"{t['id']}: {t['message'][:160]}" for t in (zeroed or lost)[:3]))
    return problems


def leak_problems(texts, needles):
    """Invariant 6: (where, needle) for every needle found in the texts {where: text}."""
    return [f"{where} contains {needle!r}" for where, text in texts.items() for needle in needles if needle in text]


def result_files(out):
    """{relative path: text} of every file in a results folder."""
    out = Path(out)
    return {str(p.relative_to(out)): p.read_text(errors="replace") for p in sorted(out.rglob("*")) if p.is_file()}


def load_results(out):
    """{student: parsed JSON} of the top-level result files, and the problems of unreadable or doubled ones."""
    results, problems = {}, []
    for path in sorted(Path(out).glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except ValueError as exc:
            problems.append(f"{path.name} is not complete JSON: {exc}")
            continue
        student = data.get("student") if isinstance(data, dict) else None
        if student in results:
            problems.append(f"two result files for {student!r}")
        results[student] = data
        problems += [f"{path.name}: {p}" for p in complete_result_problems(data)]
    return results, problems


def unexpected_files(out):
    """Files of a results folder that no grader writes (a forged result, a partial write)."""
    odd = []
    for rel in result_files(out):
        parts = Path(rel).parts
        ok = (len(parts) == 1 and (rel.endswith(".json") or rel in ("grades.csv", "report.html"))
              or len(parts) == 3 and parts[0] == "gradescope" and parts[2] == "results.json"
              or len(parts) == 2 and parts[0] == "feedback" and rel.endswith(".html"))
        if rel == LOCK_FILE:
            continue
        if not ok or Path(rel).name.startswith("."):
            odd.append(rel)
    return odd
