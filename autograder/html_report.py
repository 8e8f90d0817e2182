"""Stage 6, report (HTML): a feedback page per student and the instructor's report with plots.

The pages are rendered from the Jinja2 templates in ``autograder/templates/``
with autoescaping on, so every text taken from a result is HTML-escaped:
messages are written to be safe to show, but student ids and notebook names
come from folders that students named. This module computes what a page
says; the templates say how it looks.

Every page is self-contained (inline CSS, plots as base64 PNG, no JavaScript)
so it can be mailed, uploaded to a course site or opened from a zip file.
Notebooks (and targets within a notebook) appear in the course's order, the
assignment manifest's, not in the order the grader happened to record them.
"""
from __future__ import annotations

import base64
import dataclasses
import functools
import io
import re
import statistics
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

import jinja2
import markupsafe
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from autograder.limits import Limits
from autograder.reference import SOLUTIONS, assignments
from autograder.report import safe_name, target_columns, write_atomic
from autograder.results import STATUSES
from utils.manifest import ManifestError, load_manifest

# The bar colours appear nowhere in the page's CSS, so a screenshot test can
# tell the plots rendered by looking for them.
HISTOGRAM_COLOR = "#3b6ea8"
PASS_RATE_COLOR = "#e07b39"
TOP_MISTAKES = 15
DPI = 100
GRADER_ERROR_NOTE = "The grader could not grade this submission; your instructor will regrade it."
INVALID_NOTE = ("No notebook of this submission could be read, so nothing in it could be graded. "
                "Check the problems listed below, fix them and submit again, or ask your instructor.")
UNSANDBOXED_NOTE = ("Some submissions were graded WITHOUT a sandbox: their code could read the reference "
                    "solutions and the hidden tests. Install bubblewrap (or use a kernel with Landlock), check "
                    "with `autograder selftest`, and regrade them with --force.")
# Target names up to this long fit any column of the pages on one line and stay one
# string in the HTML (so `grep svm_loss_vectorized feedback/*.html` finds them);
# longer ones may wrap after each "." and "_".
WHOLE_NAME = 24
PLOT_LABEL_WIDTH = 40  # characters per line of a target's label in the pass-rate chart
TEST_STATUSES = ("passed", "failed", "error", "timeout")

_BREAK_AFTER = re.compile(r"(?<=[._])")


def _breakable(name):
    """``name`` escaped, with a <wbr> after each "." and "_" when it is longer than ``WHOLE_NAME``."""
    text = str(name)
    if len(text) <= WHOLE_NAME:
        return markupsafe.escape(text)
    return markupsafe.Markup("<wbr>").join(markupsafe.escape(part) for part in _BREAK_AFTER.split(text))


def _num(value):
    """A score for people: at most two decimals, no trailing zeros ("41.5", "100", "0.33")."""
    return f"{round(float(value), 2):g}"


def _points(score, max_score):
    return f"{_num(score)} / {_num(max_score)}"


def _badge_class(status):
    """The CSS class of a status badge; an unknown status gets the neutral "other"."""
    return status if status in TEST_STATUSES + STATUSES else "other"


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("autograder", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,  # a misspelt field fails the render instead of printing nothing
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.filters.update(breakable=_breakable, num=_num, badge_class=_badge_class)


def render(template, **context):
    """Render ``autograder/templates/<template>`` with ``context`` (autoescaped; undefined names raise).

    Other pages of the kit render through here too, so that they share the
    environment, its filters and ``base.html.j2``.
    """
    return _ENV.get_template(template).render(**context)


def write_reports(results, out_dir, solutions=SOLUTIONS):
    """Write every student's feedback page and the instructor report.

    Parameters
    ----------
    results : list of SubmissionResult
    out_dir : str or Path
        Folder for ``report.html``; feedback pages go to ``out_dir/feedback/``.
    solutions : str or Path, optional
        The source folder whose manifests give the course's order of notebooks.

    Returns
    -------
    Path
        The path of ``report.html``.

    Raises
    ------
    autograder.errors.ReportError
        When a page cannot be written.
    """
    out_dir = Path(out_dir)
    names = feedback_names(results)
    for result, name in zip(results, names):
        write_atomic(out_dir / "feedback" / f"{name}.html", feedback_html(result, solutions))
    links = [f"feedback/{quote(name)}.html" for name in names]
    path = out_dir / "report.html"
    write_atomic(path, report_html(results, links))
    return path


def feedback_names(results):
    """The file name (without ``.html``) of each result's page: ``safe_name`` of the student.

    ``safe_name`` gives different ids different names on any file system, and a
    student's page keeps its name whatever else is in the folder.
    """
    return [safe_name(result.student) for result in results]


@functools.lru_cache(maxsize=None)
def course_order(assignment, solutions=SOLUTIONS):
    """The course's order of an assignment's notebooks and of each notebook's targets.

    Returns
    -------
    (tuple of str, dict)
        The notebook file names in the manifest's order, and {notebook: tuple of
        targets} in its order; both empty for an assignment without a manifest
        (its pages keep the order the grader recorded).
    """
    if assignment not in assignments(solutions):  # a name from a folder must not pick a path
        return (), {}
    try:
        manifest = load_manifest(Path(solutions) / assignment)
    except ManifestError:
        return (), {}
    return manifest.notebooks, {notebook: tuple(targets) for notebook, targets in manifest.targets.items()}


# --- feedback page -----------------------------------------------------------

def feedback_html(result, solutions=SOLUTIONS):
    """The feedback page for one ``SubmissionResult``, as an HTML document.

    It opens with a summary (the score and the targets that lost points, in the
    course's order of notebooks), then the problems with the files, then one
    table per notebook in the course's order.
    """
    notebooks, targets = course_order(result.assignment, solutions)
    graded = result.status != "grader_error"  # a grader error's tests are not the student's score
    sections = []
    if graded:
        by_notebook = _group(result.tests, "notebook")
        for index, notebook in enumerate(_in_order(by_notebook, notebooks)):
            sections.append(_notebook_view(f"notebook-{index + 1}", notebook, by_notebook[notebook],
                                           targets.get(notebook, ())))
    lost = [dict(section, targets=[t for t in section["targets"] if t["lost"]]) for section in sections]
    return render(
        "feedback.html.j2", result=result, graded=graded,
        total=_points(result.score, result.max_score),
        grader_error_note=GRADER_ERROR_NOTE, invalid_note=INVALID_NOTE,
        problems=[(name, result.problems[name]) for name in _in_order(result.problems, notebooks)],
        lost=[section for section in lost if section["targets"]],
        notebooks=sections, limits=_limit_lines(result.limits, result.cpu_counting),
    )


def _notebook_view(anchor, notebook, tests, order):
    """What the page shows of one notebook: its total, and each target's score and tests."""
    by_target = _group(tests, "target")
    views = []
    for target in _in_order(by_target, order):
        own = by_target[target]
        score, max_score = sum(t.score for t in own), sum(t.max_score for t in own)
        views.append({
            "name": target, "points": _points(score, max_score),
            "lost": score < max_score - 1e-6,  # per-test shares are rounded floats
            "failed": sum(t.status != "passed" for t in own),
            "tests": [{"name": _test_name(t), "status": t.status, "message": t.message,
                       "points": _points(t.score, t.max_score)} for t in own],
        })
    total = _points(sum(t.score for t in tests), sum(t.max_score for t in tests))
    return {"anchor": anchor, "name": notebook, "points": total, "targets": views}


def _limit_lines(limits, cpu_counting):
    """What the student's code had to fit in (``limits.Limits``), so a timeout or memory error makes sense;
    its time limits were wall-clock time where its CPU time was not counted (``cpu_counting``)."""
    if not limits:
        return []
    known = {f.name for f in dataclasses.fields(Limits)}
    return Limits(**{k: v for k, v in limits.items() if k in known}).describe(cpu_time=cpu_counting != "none")


def _test_name(test):
    """"gradient matches reference" from the id "svm.svm_loss_vectorized.gradient_matches_reference"."""
    return test.id.rsplit(".", 1)[-1].replace("_", " ")


# --- instructor report -------------------------------------------------------

def report_html(results, links):
    """The instructor report as an HTML document.

    Parameters
    ----------
    results : list of SubmissionResult
    links : list of str
        The relative link to each result's feedback page, in the order of ``results``.
    """
    assignment_names = ", ".join(sorted({r.assignment for r in results})) or "Assignment"
    graded = [r for r in results if r.status == "graded"]
    students = []
    for result, link in sorted(zip(results, links), key=lambda pair: pair[0].student):
        details = result.error if not result.graded else "; ".join(
            f"{notebook}: {message}" for notebook, message in result.problems.items())
        students.append({"name": result.student, "link": link, "status": result.status, "details": details,
                         "points": _points(result.score, result.max_score) if result.graded else "—"})
    return render(
        "report.html.j2", assignments=assignment_names, results=results, graded=graded,
        counts={status: sum(r.status == status for r in results) for status in STATUSES},
        versions=sorted({r.grader_version for r in results}),
        unsandboxed=sum(r.isolation == "rlimits" for r in results), unsandboxed_note=UNSANDBOXED_NOTE,
        histogram=_histogram(graded) if graded else None,
        pass_rate=_pass_rate_chart(graded) if graded else None,
        mistakes=common_mistakes(results), students=students,
    )


def pass_rates(results):
    """Fraction of graded submissions with full marks on each target.

    Returns
    -------
    list of ((notebook, target), float)
        In the order targets first appear; a submission without tests for a
        target counts as not having full marks on it.
    """
    graded = [r for r in results if r.status == "graded"]
    rates = []
    for key in target_columns(graded):
        full = 0
        for result in graded:
            tests = [t for t in result.tests if (t.notebook, t.target) == key]
            # Tolerance: per-test shares are rounded floats that need not add up exactly.
            if tests and sum(t.score for t in tests) >= sum(t.max_score for t in tests) - 1e-6:
                full += 1
        rates.append((key, full / len(graded)))
    return rates


def common_mistakes(results, top=TOP_MISTAKES):
    """The most common mistakes over graded submissions' tests that did not pass.

    A mistake is what went wrong in a test (its ``problem``; what it checked when
    nothing more is known), counted once per student and target.

    Returns
    -------
    list of (mistake, target, students)
        At most ``top`` rows, most students first, then by target and text.
    """
    students = defaultdict(set)
    for result in results:
        if result.status != "graded":
            continue
        for test in result.tests:
            if test.status != "passed":
                students[(test.target, test.mistake)].add(result.student)
    rows = [(mistake, target, len(who)) for (target, mistake), who in students.items()]
    rows.sort(key=lambda row: (-row[2], row[1], row[0]))
    return rows[:top]


def _histogram(graded):
    """The score histogram as an image, and a sentence of its statistics."""
    maxima = {round(r.max_score, 6) for r in graded}
    if len(maxima) == 1 and max(maxima) > 0:
        top = max(maxima)
        values, label = [r.score for r in graded], f"total score (out of {_num(top)})"
    else:  # mixed maxima (several assignments): compare percentages instead
        top, label = 100.0, "total score (% of maximum)"
        values = [100.0 * r.score / r.max_score if r.max_score else 0.0 for r in graded]
    fig = Figure(figsize=(8, 3.5), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.hist(values, bins=20, range=(0, top), color=HISTOGRAM_COLOR, edgecolor="white")
    ax.set(xlabel=label, ylabel="submissions", xlim=(0, top),
           title=f"Total scores of {len(graded)} graded submissions")
    ax.yaxis.get_major_locator().set_params(integer=True)
    summary = (f"Mean {_num(statistics.fmean(values))}, median {_num(statistics.median(values))}, "
               f"range {_num(min(values))} to {_num(max(values))}.")
    alt = f"Histogram of the total scores of {len(graded)} graded submissions, {label}. {summary}"
    return {"image": _image(fig, "score-histogram", alt), "summary": summary}


def _pass_rate_chart(graded):
    """The pass rate per target as an image, or None when no test was recorded."""
    rates = pass_rates(graded)
    if not rates:
        return None
    labels = [f"{target} ({notebook.removesuffix('.ipynb')})" for (notebook, target), _ in rates]
    wrapped = [_wrap_label(label) for label in labels]
    values = [100.0 * rate for _, rate in rates]
    extra_lines = sum(label.count("\n") for label in wrapped)
    fig = Figure(figsize=(8, 1.2 + 0.3 * len(rates) + 0.15 * extra_lines), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    bars = ax.barh(range(len(rates)), values, color=PASS_RATE_COLOR)
    ax.bar_label(bars, labels=[f"{v:.0f}%" for v in values], padding=3, fontsize=8)
    ax.set_yticks(range(len(rates)), wrapped, fontsize=8)
    ax.invert_yaxis()  # first target at the top, as in the notebooks
    ax.set(xlim=(0, 110), xlabel="% of graded submissions with full marks on the target",
           title="Pass rate per target")
    alt = "Pass rate per target: " + "; ".join(f"{lab} {v:.0f}%" for lab, v in zip(labels, values)) + "."
    return _image(fig, "pass-rate", alt)


def _wrap_label(label, width=PLOT_LABEL_WIDTH):
    """``label`` in lines of about ``width`` characters, broken only after ".", "_" or " "."""
    lines = [""]
    for part in re.split(r"(?<=[._ ])", label):
        if lines[-1] and len(lines[-1]) + len(part) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(line.rstrip() for line in lines)


def _image(fig, element_id, alt):
    """``fig`` as a base64 PNG for an <img> sized to its pixels, so nothing rescales it."""
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)
    width, height = (round(v) for v in fig.get_size_inches() * DPI)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {"id": element_id, "alt": alt, "width": width, "height": height, "src": f"data:image/png;base64,{data}"}


# --- shared pieces -----------------------------------------------------------

def _group(tests, key):
    """Tests grouped by attribute ``key`` ("notebook" or "target"), in order of first appearance."""
    groups = {}
    for test in tests:
        groups.setdefault(getattr(test, key), []).append(test)
    return groups


def _in_order(names, order):
    """``names`` in the order of ``order``; names it does not list follow, as they came."""
    rank = {name: index for index, name in enumerate(order)}
    return sorted(names, key=lambda name: rank.get(name, len(rank)))  # stable: the rest keep their order
