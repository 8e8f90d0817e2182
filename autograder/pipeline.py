"""One submission through every stage: read, extract, run, compare, score (report is separate).

``grade_submission`` is the one function that runs the stages top to bottom.
"""
from __future__ import annotations

import copy
import resource
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from autograder.compare import GradingContext, run_hidden_suites
from autograder.errors import CompareError, GraderError
from autograder.extract import extract
from autograder.limits import load_limits
from autograder.read import read_submission, worker_copy
from autograder.reference import SOLUTIONS, infer_assignment, references
from autograder.results import SubmissionResult
from autograder.run import PHASES, StudentSession, sessions_started
from autograder.sandbox import detect
from autograder.score import score
from utils.cells import TUNING_PREFIX, grade_id
from utils.notebook_loader import STARTER_KEY, python_source


def grade_submission(folder, assignment=None, student=None, notebooks=None,
                     limits=None, isolation=None, solutions=SOLUTIONS):
    """Grade one submission folder.

    Parameters
    ----------
    folder : path
        The folder holding the student's notebooks.
    assignment : str, optional
        Default: inferred from the folder (``reference.infer_assignment``).
    notebooks : iterable of str, optional
        Grade only these notebooks (file names); default every notebook of the assignment.
    solutions : path
        The folder of the course's source notebooks, one folder per assignment, each with its manifest.

    Returns
    -------
    SubmissionResult
        ``status`` is ``grader_error`` (never a student's zero) when the grader
        itself failed; ``invalid_submission`` when no notebook could be read.
        ``seconds``, ``cpu_seconds`` (this process's and every worker's, the reference's
        for the speed checks too) and ``timings`` (``_timings``) say what grading it cost.
    """
    start, cpu_start = time.perf_counter(), time.process_time()
    # The grader's own numpy (the tests' inputs, the reference's values) on one BLAS thread, as the
    # workers': the values do not depend on the machine's cores, and idle BLAS threads, which spin
    # between calls, do not take a third of this process's CPU time from the other jobs.
    with threadpool_limits(limits=1), sessions_started() as sessions:
        result, checks_cpu = _grade(folder, assignment, student, notebooks, limits, isolation, solutions)
    seconds, grader_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    result.seconds = seconds
    result.cpu_seconds = grader_cpu + sum(session.cpu_seconds for session in sessions)
    result.cpu_counting = ", ".join(sorted(set().union(*(session.cpu_countings for session in sessions))))
    result.timings = _timings(sessions, seconds, grader_cpu, result.cpu_seconds, checks_cpu)
    return result


def _grade(folder, assignment, student, notebooks, limits, isolation, solutions):
    """(the result, CPU seconds of this process in the hidden tests' own code)."""
    assignment = assignment or infer_assignment([folder], solutions, notebooks or ())
    refs = references(assignment, Path(solutions))
    limits = limits or load_limits(refs.manifest)
    isolation = isolation or detect()
    wanted = tuple(notebooks or refs.notebooks)
    submission = read_submission(folder, wanted, assignment, student)
    points = {key: value for key, value in refs.points().items() if key[0] in wanted}
    max_score = sum(points.values())
    common = dict(problems=submission.problems, isolation=isolation.level, limits=limits.to_dict())
    context = None
    try:
        extracted = {name: extract(name, submission.notebooks.get(name), refs.notebook(name)) for name in wanted}
        # The worker gets the notebooks as read here (any encoding or format repaired), never the files;
        # all of the assignment's, since one notebook may load another (softmax loads svm).
        siblings = read_submission(folder, [n for n in refs.notebooks if n not in wanted], assignment, student)
        copies, stand_ins = worker_copies(refs, {**siblings.notebooks, **submission.notebooks}, extracted)
        with StudentSession(submission.folder, limits, isolation, notebooks=copies) as session:
            context = GradingContext(submission, extracted, session, refs, stand_ins=stand_ins)
            outcomes = run_hidden_suites(context, assignment, wanted)
        tests = score(outcomes, points)
        _check_every_cell_is_tested(tests, points)
    except GraderError as exc:
        return SubmissionResult(submission.student, assignment, "grader_error", 0.0, max_score, error=str(exc),
                                **common), context.checks_cpu if context else 0.0
    status = "graded" if submission.notebooks else "invalid_submission"
    return SubmissionResult(
        submission.student, assignment, status, sum(t.score for t in tests), sum(t.max_score for t in tests),
        tests, **common,
    ), context.checks_cpu


CPU_PARTS = (*PHASES, "checks", "transport", "other")  # what a result's ``<part>_cpu`` timings add up from


def _timings(sessions, seconds, grader_cpu, cpu_seconds, checks_cpu):
    """Where one submission's time went: wall and CPU seconds per phase (``run.PhaseTimes``), and peak memory.

    The phases are summed over the sessions (the student's, and the reference's when the speed
    checks measured it here). CPU seconds of this process also go to ``checks``, the hidden tests'
    own code (``run.unclaimed_cpu``: their inputs, the reference's values, the comparisons), and
    ``transport``, its side of the tests' requests (the worker's side is in ``tests``); ``other``
    is the rest (reading, pytest, reading /proc between phases). ``grader_cpu`` is this process's
    CPU time, in every part; ``grader_max_rss`` this process's peak so far (it may have graded others before),
    ``worker_max_rss`` the largest peak of a worker process, as last read from /proc;
    ``round_trips`` the requests sent to workers and the callbacks they made.
    """
    timings = {}
    for phase in PHASES:
        timings[f"{phase}_wall"] = sum(session.phases.wall[phase] for session in sessions)
        timings[f"{phase}_cpu"] = sum(session.phases.cpu[phase] for session in sessions)
    timings["checks_cpu"] = checks_cpu
    timings["transport_cpu"] = sum(session.phases.transport for session in sessions)
    timings["other_wall"] = max(0.0, seconds - sum(timings[f"{phase}_wall"] for phase in PHASES))
    timings["other_cpu"] = max(0.0, cpu_seconds - sum(timings[f"{part}_cpu"] for part in CPU_PARTS[:-1]))
    timings["round_trips"] = sum(session.round_trips for session in sessions)
    timings["grader_cpu"] = grader_cpu
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS.
    timings["grader_max_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (
        1 if sys.platform == "darwin" else 1024)
    timings["worker_max_rss"] = max((session.peak_rss for session in sessions), default=0)
    return timings


def worker_copies(refs, notebooks, extracted=None):
    """The text of every notebook of the assignment as the worker's folder holds it.

    These copies serve one notebook loading another (softmax loads svm's
    ``LinearClassifier``); the notebook under test reaches the worker as cells.
    Each copy is the released starter notebook with the student's definition cells
    put in where they can be used. A notebook that could not be read, and a cell
    that is missing or does not compile, stay as released (runnable starter code);
    a cell that compiles but raises when loaded is replaced by its starter then
    (``utils.notebook_loader.STARTER_KEY``). So a mistake there costs that
    notebook's own targets, never those of the notebooks that load it.

    Parameters
    ----------
    notebooks : dict
        File name -> the student's notebook as read (``nbformat.NotebookNode``).
    extracted : dict, optional
        File name -> ``ExtractedNotebook`` already taken from those notebooks (not taken again).

    Returns
    -------
    copies : dict
        File name -> notebook text.
    stand_ins : dict
        File name -> what of it stayed as released, for messages ("could not be read", ...).
    """
    copies, stand_ins = {}, {}
    for name in refs.notebooks:
        release = copy.deepcopy(refs.release_notebook(name))
        if name in notebooks:
            taken = (extracted or {}).get(name) or extract(name, notebooks[name], refs.notebook(name))
            usable = dict(_compiling(taken.definitions))
            for cell in release.cells:
                if cell.get("cell_type") == "code" and grade_id(cell) in usable:
                    # The starter runs instead if the student's cell raises when loaded (the loader
                    # records it, and loading.py names it in messages).
                    cell.metadata[STARTER_KEY] = cell.source
                    cell.source = usable[grade_id(cell)]
            unusable = sorted({gid for gid, _ in taken.definitions} - set(usable)) + sorted(
                gid for gid in taken.missing if not gid.startswith(TUNING_PREFIX))
            if unusable:
                stand_ins[name] = f"its cells {', '.join(repr(g) for g in unusable)} could not be used"
        else:
            stand_ins[name] = "it could not be read"
        copies[name] = worker_copy(release)
    return copies, stand_ins


def _compiling(cells):
    """The (label, source) cells that compile as Python (compiled here, never run)."""
    for label, source in cells:
        try:
            compile(python_source(source), label, "exec")
        except (SyntaxError, ValueError):
            continue
        yield label, source


def _check_every_cell_is_tested(tests, points):
    tested = {(t.notebook, t.grade_id) for t in tests}
    untested = sorted(f"{nb}:{gid}" for nb, gid in points if (nb, gid) not in tested)
    if untested:
        raise CompareError(f"grade cells without hidden tests: {', '.join(untested)}")
