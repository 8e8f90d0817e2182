"""Stage 6, report (HTML): a feedback page per student and the instructor's report with plots.

Every page is self-contained (inline CSS, plots as base64 PNG, no JavaScript)
so it can be mailed, uploaded to a course site or opened from a zip file.
All text taken from a result is HTML-escaped: messages are written to be safe
to show, but student ids and notebook names come from folders that students
named.
"""
from __future__ import annotations

import base64
import dataclasses
import html
import io
import statistics
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from autograder.limits import Limits
from autograder.report import safe_name, target_columns, write_atomic
from autograder.results import STATUSES

# The bar colours appear nowhere in the page's CSS, so a screenshot test can
# tell the plots rendered by looking for them.
HISTOGRAM_COLOR = "#3b6ea8"
PASS_RATE_COLOR = "#e07b39"
TOP_MISTAKES = 15
DPI = 100
GRADER_ERROR_NOTE = "The grader could not grade this submission; your instructor will regrade it."
INVALID_NOTE = ("No notebook of this submission could be read, so nothing in it could be graded. "
                "Check the problems listed below, fix them and submit again, or ask your instructor.")
_STATUSES = ("passed", "failed", "error", "timeout")

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 60em; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
thead th { background: #f4f4f4; }
tr.target th { background: #fafafa; }
table.tests { table-layout: fixed; }  /* the same columns in every notebook's table */
table.tests col.name { width: 26%; } table.tests col.result { width: 10%; }
table.tests col.score { width: 9%; }
td { overflow-wrap: anywhere; }
td.num, th.num { text-align: right; white-space: nowrap; }
.total { font-size: 1.3em; }
.note { border-left: 4px solid #888; background: #f6f6f6; padding: 0.6em 1em; }
.note.grader_error { border-color: #6a5acd; }
.note.invalid_submission { border-color: #c0392b; }
.note.unsandboxed { border-color: #c0392b; background: #fdecea; }
.badge { display: inline-block; padding: 0 0.5em; border-radius: 0.7em; font-size: 0.85em;
         white-space: nowrap; background: #eee; }
.badge.passed, .badge.graded { background: #d4f4dc; color: #145a24; }
.badge.failed, .badge.invalid_submission { background: #fbdada; color: #8a1c1c; }
.badge.error, .badge.grader_error { background: #ece6fb; color: #3d2a80; }
.badge.timeout { background: #fff1c2; color: #6b5200; }
img.plot { display: block; border: 1px solid #eee; }
.muted { color: #666; }
"""


def write_reports(results, out_dir):
    """Write every student's feedback page and the instructor report.

    Parameters
    ----------
    results : list of SubmissionResult
    out_dir : str or Path
        Folder for ``report.html``; feedback pages go to ``out_dir/feedback/``.

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
        write_atomic(out_dir / "feedback" / f"{name}.html", feedback_html(result))
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


# --- feedback page -----------------------------------------------------------

def feedback_html(result):
    """The feedback page for one ``SubmissionResult``, as an HTML document."""
    student, assignment, status = _e(result.student), _e(result.assignment), result.status
    parts = [f"<h1>{assignment}: feedback for {student}</h1>"]
    if status == "grader_error":
        # Whatever the tests recorded, it is not the student's score: show none.
        parts.append('<p class="total">Total score: <strong>not graded yet</strong></p>')
        parts.append(f'<p class="note grader_error">{_e(GRADER_ERROR_NOTE)}</p>')
    else:
        total = _points(result.score, result.max_score)
        parts.append(f'<p class="total">Total score: <strong>{total}</strong></p>')
        if status == "invalid_submission":
            parts.append(f'<p class="note invalid_submission">{_e(INVALID_NOTE)}</p>')
    parts.append(_problems_html(result.problems))
    if status != "grader_error":
        for notebook, tests in _group(result.tests, "notebook").items():
            parts.append(_notebook_html(notebook, tests))
    parts.append(_limits_html(result.limits))
    parts.append(f'<p class="muted">Grader version {_e(result.grader_version)}</p>')
    return _page(f"{result.student}: {result.assignment} feedback", parts)


def _limits_html(limits):
    """What the student's code had to fit in (``limits.Limits``), so a timeout or memory error makes sense."""
    if not limits:
        return ""
    known = {f.name for f in dataclasses.fields(Limits)}
    lines = Limits(**{k: v for k, v in limits.items() if k in known}).describe()
    items = "".join(f"<li>{_e(line)}</li>" for line in lines)
    return f'<h2>Limits your code was graded under</h2><ul class="muted">{items}</ul>'


UNSANDBOXED_NOTE = ("Some submissions were graded WITHOUT a sandbox: their code could read the reference "
                    "solutions and the hidden tests. Install bubblewrap (or use a kernel with Landlock), check "
                    "with `autograder selftest`, and regrade them with --force.")


def _problems_html(problems):
    if not problems:
        return ""
    items = "".join(f"<li><strong>{_e(notebook)}</strong>: {_e(message)}</li>"
                    for notebook, message in problems.items())
    return f"<h2>Problems with your submission</h2><ul>{items}</ul>"


def _notebook_html(notebook, tests):
    total = _points(sum(t.score for t in tests), sum(t.max_score for t in tests))
    rows = []
    for target, target_tests in _group(tests, "target").items():
        score = _points(sum(t.score for t in target_tests), sum(t.max_score for t in target_tests))
        rows.append(f'<tr class="target"><th colspan="3"><code>{_e(target)}</code></th>'
                    f'<th class="num">{score}</th></tr>')
        for test in target_tests:
            rows.append(
                f"<tr><td>{_e(_test_name(test))}</td><td>{_badge(test.status)}</td>"
                f"<td>{_e(test.message)}</td>"
                f'<td class="num">{_points(test.score, test.max_score)}</td></tr>')
    head = ('<colgroup><col class="name"><col class="result"><col><col class="score"></colgroup>'
            '<thead><tr><th>Test</th><th>Result</th><th>Message</th><th class="num">Score</th></tr></thead>')
    return (f'<h2>{_e(notebook)} <span class="muted">({total})</span></h2>'
            f'<table class="tests">{head}<tbody>{"".join(rows)}</tbody></table>')


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
    assignments = ", ".join(sorted({r.assignment for r in results})) or "Assignment"
    parts = [f"<h1>{_e(assignments)}: instructor report</h1>"]
    if not results:
        parts.append('<p class="note">Nothing has been graded yet: there are no results to report.</p>')
        return _page("Instructor report", parts)
    graded = [r for r in results if r.status == "graded"]
    counts = {status: sum(r.status == status for r in results)
              for status in STATUSES}
    versions = sorted({r.grader_version for r in results})
    version_list = ", ".join(f"<code>{_e(v)}</code>" for v in versions)
    unsandboxed = sorted(r.student for r in results if r.isolation == "rlimits")
    if unsandboxed:
        parts.append(f'<p class="note unsandboxed"><strong>Warning:</strong> {_e(UNSANDBOXED_NOTE)} '
                     f"({len(unsandboxed)} of {len(results)})</p>")
    parts.append(
        f"<p>{len(results)} submissions: <strong>{counts['graded']}</strong> graded, "
        f"<strong>{counts['invalid_submission']}</strong> invalid, "
        f"<strong>{counts['grader_error']}</strong> grader errors (regrade these). "
        f"Grader version{'s' if len(versions) > 1 else ''}: {version_list}</p>")
    if graded:
        parts.append(_histogram_html(graded))
        parts.append(_pass_rate_html(graded))
    else:
        parts.append('<p class="note">No submission was graded, so there are no score plots.</p>')
    parts.append(_mistakes_html(common_mistakes(results)))
    parts.append(_students_html(results, links))
    return _page(f"{assignments}: instructor report", parts)


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


def _histogram_html(graded):
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
    mean, median = statistics.fmean(values), statistics.median(values)
    summary = f"Mean {_num(mean)}, median {_num(median)}, range {_num(min(values))} to {_num(max(values))}."
    alt = f"Histogram of the total scores of {len(graded)} graded submissions, {label}. {summary}"
    return f"<h2>Scores</h2>{_img(fig, 'score-histogram', alt)}<p>{_e(summary)}</p>"


def _pass_rate_html(graded):
    rates = pass_rates(graded)
    if not rates:
        return "<h2>Pass rate per target</h2><p>No tests were recorded.</p>"
    labels = [f"{target} ({notebook.removesuffix('.ipynb')})" for (notebook, target), _ in rates]
    values = [100.0 * rate for _, rate in rates]
    fig = Figure(figsize=(8, 1.2 + 0.3 * len(rates)), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    bars = ax.barh(range(len(rates)), values, color=PASS_RATE_COLOR)
    ax.bar_label(bars, labels=[f"{v:.0f}%" for v in values], padding=3, fontsize=8)
    ax.set_yticks(range(len(rates)), labels, fontsize=8)
    ax.invert_yaxis()  # first target at the top, as in the notebooks
    ax.set(xlim=(0, 110), xlabel="% of graded submissions with full marks on the target",
           title="Pass rate per target")
    alt = "Pass rate per target: " + "; ".join(f"{lab} {v:.0f}%" for lab, v in zip(labels, values)) + "."
    return f"<h2>Pass rate per target</h2>{_img(fig, 'pass-rate', alt)}"


def _mistakes_html(rows):
    if not rows:
        return "<h2>Most common mistakes</h2><p>No graded test failed.</p>"
    body = "".join(f"<tr><td>{_e(mistake)}</td><td><code>{_e(target)}</code></td>"
                   f'<td class="num">{count}</td></tr>' for mistake, target, count in rows)
    return ("<h2>Most common mistakes</h2><p class=\"muted\">Messages of tests that did not pass "
            "(failed, error or timeout) in graded submissions, without the test's description.</p>"
            "<table id=\"common-mistakes\"><thead><tr><th>Mistake</th><th>Target</th>"
            f"<th class=\"num\">Students</th></tr></thead><tbody>{body}</tbody></table>")


def _students_html(results, links):
    rows = []
    for result, link in sorted(zip(results, links), key=lambda pair: pair[0].student):
        score = "—" if not result.graded else _points(result.score, result.max_score)
        details = result.error if not result.graded else "; ".join(
            f"{notebook}: {message}" for notebook, message in result.problems.items())
        rows.append(f'<tr><td><a href="{_e(link)}">{_e(result.student)}</a></td>'
                    f'<td class="num">{score}</td><td>{_badge(result.status)}</td><td>{_e(details)}</td></tr>')
    return ("<h2>Students</h2><table id=\"students\"><thead><tr><th>Student</th>"
            "<th class=\"num\">Score</th><th>Status</th><th>Details</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


# --- shared pieces -----------------------------------------------------------

def _page(title, parts):
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(part for part in parts if part) + "\n</body>\n</html>\n")


def _img(fig, element_id, alt):
    """An <img> holding ``fig`` as a base64 PNG, sized to its pixels so nothing rescales it."""
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)
    width, height = (round(v) for v in fig.get_size_inches() * DPI)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<img class="plot" id="{element_id}" alt="{_e(alt)}" width="{width}" height="{height}" '
            f'src="data:image/png;base64,{data}">')


def _group(tests, key):
    """Tests grouped by attribute ``key`` ("notebook" or "target"), in order of first appearance."""
    groups = {}
    for test in tests:
        groups.setdefault(getattr(test, key), []).append(test)
    return groups


def _badge(status):
    known = status if status in _STATUSES + STATUSES else "other"
    return f'<span class="badge {known}">{_e(str(status).replace("_", " "))}</span>'


def _points(score, max_score):
    return f"{_num(score)} / {_num(max_score)}"


def _num(value):
    """A score for people: at most two decimals, no trailing zeros ("41.5", "100", "0.33")."""
    return f"{round(float(value), 2):g}"


def _e(text):
    return html.escape(str(text), quote=True)
