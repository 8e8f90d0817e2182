"""Tests of autograder.html_report: feedback pages and the instructor report, on made-up results."""
import base64
import html
import io
from html.parser import HTMLParser

import numpy as np
import pytest
from matplotlib.image import imread

from autograder.outcomes import join_message
from autograder.html_report import (
    GRADER_ERROR_NOTE, INVALID_NOTE, TOP_MISTAKES, common_mistakes, feedback_html, pass_rates,
    write_reports,
)
from autograder.report import safe_name
from autograder.results import SubmissionResult, TestResult

# (notebook, target, test names); every target is worth 4 points, shared by its tests.
TARGETS = [
    ("knn.ipynb", "KNearestNeighbor.compute_distances_no_loops", ["shape", "matches_reference"]),
    ("knn.ipynb", "KNearestNeighbor.predict_labels", ["majority_vote", "ties_go_to_smallest_label"]),
    ("svm.ipynb", "svm_loss_vectorized", ["loss_matches_reference", "gradient_matches_reference"]),
    ("softmax.ipynb", "softmax_loss_vectorized", ["numerically_stable", "gradient_matches_reference"]),
]
MISTAKES = ["it looks like you forgot to divide by N", "dW has shape (3, 5); expected one of shape (5, 3)",
            "your code raised IndexError", "it looks like the margin is 0 instead of 1"]


def make_test(notebook, target, name, passed, message="", points=2.0):
    """One test entry of the result JSON; ``message`` is written "what was checked — what went wrong"."""
    checked, _, problem = message.partition(" — ")
    return TestResult(
        id=f"{notebook.removesuffix('.ipynb')}.{target}.{name}", notebook=notebook, target=target,
        grade_id=f"test_{target}", score=points if passed else 0.0, max_score=points,
        status="passed" if passed else "failed", message=join_message(checked, problem),
        checked=checked, problem=problem,
    )


def make_result(student, tests, status="graded", **extra):
    """A result whose score is the sum of its tests'."""
    return SubmissionResult(student, "assignment1", status, score=sum(t.score for t in tests),
                            max_score=sum(t.max_score for t in tests), tests=tests,
                            grader_version="0.1.0+abc123", **extra)


def make_batch(count=20, seed=0):
    """``count`` graded students with varied skill, plus one invalid submission and one grader error."""
    rng = np.random.default_rng(seed)
    results = []
    for index in range(count):
        skill = rng.uniform(0.1, 1.0)
        tests = []
        for notebook, target, names in TARGETS:
            for name in names:
                passed = bool(rng.random() < skill)
                message = "" if passed else f"{name.replace('_', ' ')} — {MISTAKES[rng.integers(len(MISTAKES))]}"
                tests.append(make_test(notebook, target, name, passed, message))
        results.append(make_result(f"student{index:02d}", tests))
    results.append(make_result("nobody", [], status="invalid_submission",
                               problems={"svm.ipynb": "svm.ipynb is not valid JSON"}))
    results.append(make_result("unlucky", [], status="grader_error", error="worker failed to start"))
    return results


class _Elements(HTMLParser):
    """The attributes of every <img> and <a> of a page, in order."""

    def __init__(self, text):
        super().__init__()
        self.images, self.links = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag == "a":
            self.links.append(dict(attrs))


def decoded_png(img):
    """The PNG bytes of an <img> whose src is a base64 data URL."""
    prefix = "data:image/png;base64,"
    assert img["src"].startswith(prefix)
    return base64.b64decode(img["src"][len(prefix):], validate=True)


# --- feedback pages ----------------------------------------------------------

def test_feedback_page_shows_each_test_message_and_score():
    tests = [make_test("svm.ipynb", "svm_loss_vectorized", "loss_matches_reference", True, points=1.5),
             make_test("svm.ipynb", "svm_loss_vectorized", "gradient_matches_reference", False,
                       "gradient matches reference — it looks like you forgot to divide by N", points=2.5)]
    page = feedback_html(make_result("alice", tests))
    assert "it looks like you forgot to divide by N" in page
    assert "1.5 / 1.5" in page and "0 / 2.5" in page  # each test's score
    assert "1.5 / 4" in page  # the target's and the total
    assert "svm_loss_vectorized" in page and "gradient matches reference" in page


def test_feedback_page_escapes_html_in_messages_and_names():
    tests = [make_test("svm.ipynb", "svm_loss_vectorized", "loss", False, "<script>alert(1)</script>")]
    page = feedback_html(make_result("<b>mallory</b>", tests, problems={"x.ipynb": "<img src=x>"}))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;mallory&lt;/b&gt;" in page and "&lt;img src=x&gt;" in page
    assert "<script" not in page and "<b>" not in page and "<img" not in page


def test_grader_error_page_shows_the_regrade_note_and_no_zero_score():
    tests = [make_test("svm.ipynb", "svm_loss_vectorized", "loss", False, "the check crashed")]
    page = feedback_html(make_result("bob", tests, status="grader_error", error="Traceback: secret path"))
    assert GRADER_ERROR_NOTE in page
    assert "0 / " not in page  # neither a total nor a test shown as zero
    assert "not graded yet" in page
    assert "secret path" not in page  # the grader's error is for the instructor


def test_invalid_submission_page_lists_problems_and_explains():
    result = make_result("carol", [], status="invalid_submission",
                         problems={"svm.ipynb": "svm.ipynb is missing from the submission"})
    page = feedback_html(result)
    assert INVALID_NOTE in page
    assert "svm.ipynb is missing from the submission" in page
    # Problems come before anything else the page says about the notebooks.
    assert page.index("svm.ipynb is missing") < page.index("Grader version")


# --- instructor report -------------------------------------------------------

def test_report_embeds_both_plots_as_nonblank_pngs(tmp_path):
    report = write_reports(make_batch(), tmp_path)
    images = {img["id"]: img for img in _Elements(report.read_text(encoding="utf-8")).images}
    assert set(images) == {"score-histogram", "pass-rate"}
    for img in images.values():
        data = decoded_png(img)
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        pixels = imread(io.BytesIO(data))
        # The <img> is sized to the PNG's pixels, so the browser never rescales it.
        assert pixels.shape[:2] == (int(img["height"]), int(img["width"]))
        assert pixels[..., :3].var() > 0.01  # a blank figure has (almost) no variance
        assert len(img["alt"]) > 20


def test_report_histogram_counts_only_graded_submissions(tmp_path):
    report = write_reports(make_batch(count=7), tmp_path)
    images = {img["id"]: img for img in _Elements(report.read_text(encoding="utf-8")).images}
    assert "of 7 graded submissions" in images["score-histogram"]["alt"]


def test_report_counts_graded_invalid_and_grader_errors_and_names_versions(tmp_path):
    results = make_batch(count=5)
    results[0].grader_version = "0.2.0+def456"
    page = write_reports(results, tmp_path).read_text(encoding="utf-8")
    assert "<strong>5</strong> graded" in page
    assert "<strong>1</strong> invalid" in page and "<strong>1</strong> grader errors" in page
    assert "0.1.0+abc123" in page and "0.2.0+def456" in page
    assert "worker failed to start" in page  # the instructor sees why a regrade is needed


def test_common_mistakes_counts_students_per_target_and_mistake(tmp_path):
    divide = "loss matches reference — it looks like you forgot to divide by N"
    results = [
        # ann fails two tests with the same mistake: she counts once.
        make_result("ann", [make_test("svm.ipynb", "svm_loss_vectorized", "loss", False, divide),
                            make_test("svm.ipynb", "svm_loss_vectorized", "grad", False,
                                      "gradient matches — it looks like you forgot to divide by N")]),
        make_result("ben", [make_test("svm.ipynb", "svm_loss_vectorized", "loss", False, divide),
                            make_test("knn.ipynb", "KNearestNeighbor.train", "stores", False,
                                      "train stores the training data")]),
        make_result("cat", [make_test("svm.ipynb", "svm_loss_vectorized", "loss", False, divide),
                            make_test("knn.ipynb", "KNearestNeighbor.train", "stores", False,
                                      "train stores the training data")]),
        # The same mistake on another target is another row.
        make_result("dan", [make_test("softmax.ipynb", "softmax_loss_vectorized", "loss", False, divide),
                            make_test("svm.ipynb", "svm_loss_vectorized", "loss", True, "ignored")]),
        # A grader error is not the student's mistake.
        make_result("eve", [make_test("svm.ipynb", "svm_loss_vectorized", "loss", False, divide)],
                    status="grader_error"),
    ]
    assert common_mistakes(results) == [
        ("it looks like you forgot to divide by N", "svm_loss_vectorized", 3),
        ("train stores the training data", "KNearestNeighbor.train", 2),
        ("it looks like you forgot to divide by N", "softmax_loss_vectorized", 1),
    ]
    page = write_reports(results, tmp_path).read_text(encoding="utf-8")
    row = ('<tr><td>it looks like you forgot to divide by N</td><td><code>svm_loss_vectorized</code></td>'
           '<td class="num">3</td></tr>')
    assert row in page


def test_common_mistakes_keeps_the_most_common_fifteen():
    rng = np.random.default_rng(1)
    results = []
    for index in range(30):
        # Student i makes mistakes 0..i % 20, so mistake k is made by more students the smaller k is.
        tests = [make_test("svm.ipynb", "svm_loss_vectorized", f"t{k}", False, f"check — mistake {k:02d}")
                 for k in range(index % 20 + 1)]
        rng.shuffle(tests)
        results.append(make_result(f"s{index}", tests))
    rows = common_mistakes(results)
    assert len(rows) == TOP_MISTAKES
    assert [mistake for mistake, _, _ in rows] == [f"mistake {k:02d}" for k in range(TOP_MISTAKES)]
    assert [count for _, _, count in rows] == sorted((count for _, _, count in rows), reverse=True)


def test_pass_rate_is_the_fraction_of_graded_submissions_with_full_marks():
    target = ("svm.ipynb", "svm_loss_vectorized")
    results = [
        make_result("a", [make_test(*target, "x", True), make_test(*target, "y", True)]),
        make_result("b", [make_test(*target, "x", True), make_test(*target, "y", False)]),  # partial credit
        make_result("c", [make_test(*target, "x", False), make_test(*target, "y", False)]),
        make_result("d", [make_test(*target, "x", True), make_test(*target, "y", True)]),
        make_result("e", [], status="invalid_submission"),
    ]
    assert pass_rates(results) == [(target, pytest.approx(0.5))]


def test_report_links_to_feedback_files_that_exist(tmp_path):
    results = make_batch(count=6)
    report = write_reports(results, tmp_path)
    hrefs = [a["href"] for a in _Elements(report.read_text(encoding="utf-8")).links]
    assert len(hrefs) == len(results)
    for href in hrefs:
        page = report.parent / href
        assert page.is_file()
        assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("order", [1, -1])
def test_students_whose_names_clean_to_the_same_file_get_their_own_pages_in_any_order(tmp_path, order):
    students = ["a b", "a_b", "A_B", "a/b"]
    results = [make_result(s, [make_test("svm.ipynb", "svm_loss_vectorized", "x", True)]) for s in students]
    write_reports(results[::order], tmp_path)
    pages = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "feedback").iterdir()}
    assert len(pages) == len(students)
    assert len({p.lower() for p in pages}) == len(pages)  # distinct on a case-insensitive disk too
    for student in students:
        page = pages[f"{safe_name(student)}.html"]
        assert f"feedback for {html.escape(student)}" in page


def test_empty_input_writes_a_report_saying_nothing_is_graded(tmp_path):
    report = write_reports([], tmp_path / "out")
    assert report == tmp_path / "out" / "report.html"
    page = report.read_text(encoding="utf-8")
    assert "Nothing has been graded yet" in page
    assert not _Elements(page).images


def test_report_without_graded_submissions_has_no_plots(tmp_path):
    results = [make_result("x", [], status="invalid_submission"), make_result("y", [], status="grader_error")]
    page = write_reports(results, tmp_path).read_text(encoding="utf-8")
    assert not _Elements(page).images
    assert "no score plots" in page


def test_write_reports_leaves_no_pyplot_figures_open(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    write_reports(make_batch(count=3), tmp_path)
    assert plt.get_fignums() == []


def test_pages_need_no_external_resources_or_javascript(tmp_path):
    report = write_reports(make_batch(count=3), tmp_path)
    for page in [report, *(tmp_path / "feedback").iterdir()]:
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text and "<link" not in text
        assert "http://" not in text and "https://" not in text
        assert all(img["src"].startswith("data:") for img in _Elements(text).images)


# --- course order, summary, long names, escaping --------------------------------

COURSE = ["knn.ipynb", "gradient_check.ipynb", "svm.ipynb", "softmax.ipynb", "two_layer_net.ipynb"]


class _Sections(HTMLParser):
    """The id of each <section> of a page and the text of its first <h2>, in document order."""

    def __init__(self, text):
        super().__init__()
        self.sections, self._heading = [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.sections.append([dict(attrs).get("id"), ""])
        elif tag == "h2" and self.sections and not self.sections[-1][1]:
            self._heading = ""

    def handle_data(self, data):
        if self._heading is not None:
            self._heading += data

    def handle_endtag(self, tag):
        if tag == "h2" and self._heading is not None:
            self.sections[-1][1], self._heading = self._heading.split(" (")[0].strip(), None


def scrambled_result():
    """A result whose tests were recorded in an order unlike the course's: notebooks and targets reversed."""
    tests = [
        make_test("two_layer_net.ipynb", "TwoLayerNet.loss", "loss", False, "loss — it looks like you forgot the bias"),
        make_test("svm.ipynb", "svm_loss_vectorized", "loss", True),
        make_test("knn.ipynb", "cross_validate_knn", "folds", False, "folds — the folds are not in order"),
        make_test("knn.ipynb", "KNearestNeighbor.train", "stores", True),
        make_test("gradient_check.ipynb", "rel_error", "value", True),
    ]
    return make_result("alice", tests)


def test_feedback_page_lists_notebooks_and_targets_in_the_course_order():
    page = feedback_html(scrambled_result())
    headings = [heading for _, heading in _Sections(page).sections[1:]]
    assert headings == ["knn.ipynb", "gradient_check.ipynb", "svm.ipynb", "two_layer_net.ipynb"]
    # Within a notebook, the manifest's order of targets: train is declared before cross_validate_knn.
    assert page.index("<code>KNearestNeighbor.train</code></th>") < page.index("<code>cross_validate_knn</code></th>")


def test_notebooks_the_manifest_does_not_list_follow_the_others_as_recorded():
    tests = [make_test(name, "f", "x", True) for name in ["zeta.ipynb", "svm.ipynb", "alpha.ipynb", "knn.ipynb"]]
    headings = [h for _, h in _Sections(feedback_html(make_result("ann", tests))).sections[1:]]
    assert headings == ["knn.ipynb", "svm.ipynb", "zeta.ipynb", "alpha.ipynb"]


def test_feedback_page_opens_with_a_summary_of_the_score_and_the_targets_that_lost_points():
    page = feedback_html(scrambled_result())
    sections = _Sections(page).sections
    assert sections[0] == ["summary", "Summary"]
    summary = page[page.index('<section id="summary"'):page.index("</section>")]
    assert page.index('<section id="summary"') < page.index("<table")  # before any notebook's table
    assert "Total score: <strong>6 / 10</strong>" in summary
    # What lost points, in the course's order (knn before two_layer_net), and nothing that passed.
    assert summary.index("cross_validate_knn") < summary.index("TwoLayerNet.loss")
    assert "svm_loss_vectorized" not in summary and "rel_error" not in summary
    assert "0 / 2, 1 test not passed" in summary
    # Each notebook named there links to its table further down.
    anchors = {section_id for section_id, _ in sections}
    links = [a["href"] for a in _Elements(summary).links]
    assert links and all(href.startswith("#") and href[1:] in anchors for href in links)


def test_summary_of_a_submission_that_passed_everything_says_so():
    tests = [make_test("svm.ipynb", "svm_loss_vectorized", "loss", True)]
    summary = feedback_html(make_result("ann", tests)).split("</section>")[0]
    assert "Every test passed." in summary and "Points were lost" not in summary


def test_long_target_names_may_wrap_only_after_dots_and_underscores():
    long = "KNearestNeighbor.compute_distances_with_an_unusually_long_name"
    page = feedback_html(make_result("ann", [make_test("knn.ipynb", long, "x", False, "x — wrong")]))
    expected = "KNearestNeighbor.<wbr>compute_<wbr>distances_<wbr>with_<wbr>an_<wbr>unusually_<wbr>long_<wbr>name"
    assert f"<code>{expected}</code></th>" in page
    assert page.count("<wbr>") == 2 * expected.count("<wbr>")  # in the summary and in the table, nowhere else
    # Short names stay whole (they fit any column) so that a search of the pages finds them.
    assert "<code>svm_loss_vectorized</code>" in feedback_html(make_result("b", [make_test(
        "svm.ipynb", "svm_loss_vectorized", "x", True)]))


def test_report_escapes_hostile_text_from_submissions(tmp_path):
    hostile = "<script>alert(1)</script>"
    results = [
        make_result(f"x{hostile}", [make_test("svm.ipynb", f"loss_{hostile}_with_a_long_name", "t", False,
                                              f"checked — {hostile}")]),
        make_result("y", [], status="grader_error", error=f"worker said {hostile}"),
        make_result("z", [], status="invalid_submission", problems={f"{hostile}.ipynb": hostile}),
    ]
    report = write_reports(results, tmp_path)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    text = report.read_text(encoding="utf-8")
    # The student id, the target, the mistake, the grader's error and the problem, each shown as text.
    assert text.count(escaped) >= 5 and "<script" not in text
    for page in (tmp_path / "feedback").iterdir():
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text, page.name
        if not page.name.startswith("y"):  # a grader error's page shows no error text at all
            assert escaped in text, page.name


def test_templates_render_with_autoescape_and_fail_on_undefined_names():
    import jinja2

    from autograder.html_report import render

    with pytest.raises(jinja2.UndefinedError):
        render("feedback.html.j2")  # no result given: an error, not a page with blanks


def test_every_template_ships_as_package_data():
    import fnmatch
    import sys
    from pathlib import Path

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["autograder"]
    templates = sorted((root / "autograder" / "templates").iterdir())
    assert {"base.html.j2", "feedback.html.j2", "report.html.j2"} <= {t.name for t in templates}
    for template in templates:
        relative = template.relative_to(root / "autograder").as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative
