"""The pages render as meant in a real browser (headless Chromium), not only as valid HTML and PNG data.

The report is screenshotted twice: as written, and with its plots hidden by
CSS (``visibility: hidden`` keeps the layout, since each <img> has a fixed
size). The pixels that differ are the plots as the browser drew them.

The layout tests load a copy of a page with a measuring script appended (the
pages themselves have none) in a 1200 px wide window, and read what it
measured from the DOM Chromium dumps: the page's scroll width, elements
sticking out, where each target name broke across lines, the order of the
sections, and whether any script of the page's own ran.
"""
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.image import imread

from autograder.html_report import HISTOGRAM_COLOR, PASS_RATE_COLOR, WHOLE_NAME, write_reports
from tests.autograder.test_html_report import COURSE, make_batch, make_result, make_test

CHROMIUM = Path("/usr/bin/chromium")
WINDOW = (1200, 2400)  # width, height
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HIDE_PLOTS = "<style>img.plot { visibility: hidden; }</style>"
COLOR_TOLERANCE = 3 / 255  # colour management may move a channel by a step or two

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs headless Chromium at /usr/bin/chromium (Debian package 'chromium')"),
]


def screenshot(page, tmp_path, name):
    """Chromium's screenshot of ``page`` as an (height, width, 3) float array in [0, 1]."""
    shot = tmp_path / f"{name}.png"
    profile = tmp_path / f"profile-{name}"
    command = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
               f"--window-size={WINDOW[0]},{WINDOW[1]}", page.as_uri()]
    run = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert shot.is_file(), f"chromium wrote no screenshot (exit {run.returncode}):\n{run.stderr[-2000:]}"
    shutil.rmtree(profile, ignore_errors=True)
    return imread(shot)[..., :3]


def color_mask(pixels, color):
    """Where ``pixels`` have ``color`` (a matplotlib colour spec)."""
    return np.all(np.abs(pixels - np.array(to_rgb(color))) <= COLOR_TOLERANCE, axis=-1)


def bounding_box(mask):
    """(top, bottom, left, right) of the True pixels of ``mask``."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return rows[0], rows[-1], cols[0], cols[-1]


def test_report_plots_render_in_headless_chromium(tmp_path):
    report = write_reports(make_batch(count=20, seed=3), tmp_path / "out")
    hidden = report.with_name("report-without-plots.html")
    hidden.write_text(report.read_text(encoding="utf-8").replace("</head>", f"{HIDE_PLOTS}</head>", 1),
                      encoding="utf-8")

    shown, blank = screenshot(report, tmp_path, "shot"), screenshot(hidden, tmp_path, "shot-without-plots")
    assert shown.shape == blank.shape == (WINDOW[1], WINDOW[0], 3)

    # The plots are what differs, and they are far from blank: axes, labels and bars.
    drawn = np.any(np.abs(shown - blank) > 0.05, axis=-1)
    assert drawn.sum() > 20_000
    top, bottom, left, right = bounding_box(drawn)
    assert bottom - top > 400 and right - left > 400  # two figures of 800 px wide, stacked

    histogram, pass_rate = color_mask(shown, HISTOGRAM_COLOR), color_mask(shown, PASS_RATE_COLOR)
    # Each bar colour appears only where a plot was drawn, and the page alone never has it.
    for mask in (histogram, pass_rate):
        assert mask.sum() > 2_000
        assert not (mask & ~drawn).any()
    assert not color_mask(blank, HISTOGRAM_COLOR).any() and not color_mask(blank, PASS_RATE_COLOR).any()

    # The histogram comes first on the page, the pass-rate chart below it.
    assert bounding_box(histogram)[1] < bounding_box(pass_rate)[0]


# --- layout at 1200 px --------------------------------------------------------

# Appended to a copy of a page: measures the laid-out page and writes the figures,
# as JSON, into a <pre id="measured"> that --dump-dom prints.
MEASURE = """<script>
(function () {
  const root = document.documentElement;
  const limit = root.clientWidth + 0.5;
  const sticking = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    const clipped = (el.tagName === "TD" || el.tagName === "TH") && el.scrollWidth > el.clientWidth + 1;
    if (box.right > limit || clipped) sticking.push(el.tagName + " " + el.textContent.slice(0, 80));
  }
  function breaks(el) {  // the character before each line break inside el
    const found = [], range = document.createRange();
    let last = null;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.length; i++) {
        range.setStart(node, i); range.setEnd(node, i + 1);
        const rects = range.getClientRects();
        if (!rects.length) continue;
        if (last && rects[0].top > last.top + 3) found.push(last.ch);
        last = {top: rects[0].top, ch: node.data[i]};
      }
    }
    return found;
  }
  const measured = {
    width: window.innerWidth, height: window.innerHeight,
    scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, sticking: sticking,
    names: Array.from(document.querySelectorAll("code"), c => ({text: c.textContent, breaks: breaks(c)})),
    sections: Array.from(document.querySelectorAll("section"), s => ({
      id: s.id, top: s.getBoundingClientRect().top, heading: s.querySelector("h2").textContent})),
    scripts: document.scripts.length, text: document.body.innerText,
  };
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify(measured);
  document.body.appendChild(out);
})();
</script>"""
LAYOUT_WINDOW = (1200, 900)
HOSTILE = "<script>document.title = 'owned'; document.body.remove()</script>"


def measured_layout(page, tmp_path):
    """What ``MEASURE`` found in ``page`` laid out in a ``LAYOUT_WINDOW`` window."""
    copy = page.with_name(f"measured-{page.name}")
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", f"{MEASURE}</body>", 1), encoding="utf-8")
    profile = tmp_path / f"profile-{copy.stem}"
    command = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
               f"--window-size={LAYOUT_WINDOW[0]},{LAYOUT_WINDOW[1]}", copy.as_uri()]
    run = subprocess.run(command, capture_output=True, text=True, timeout=180)
    shutil.rmtree(profile, ignore_errors=True)
    found = re.search(r'<pre id="measured">(.*?)</pre>', run.stdout, re.S)
    assert found, f"the measuring script wrote nothing (exit {run.returncode}):\n{run.stderr[-2000:]}"
    measured = json.loads(html.unescape(found.group(1)))
    assert measured["width"] == LAYOUT_WINDOW[0]  # the figures below are for a 1200 px window
    return measured


def long_name(prefix, index):
    """A target name far wider than any column, made of short parts joined by "_"."""
    words = "with a deliberately long name that cannot fit on one line of the page however wide".split()
    return f"{prefix}.target_{index}_" + "_".join(words + words[:6])


def assert_fits_and_wraps_names_after_dots_and_underscores(measured):
    assert measured["scrollWidth"] <= measured["clientWidth"], "the page scrolls sideways"
    assert measured["sticking"] == []
    wrapped = [name for name in measured["names"] if name["breaks"]]
    assert len(wrapped) >= 3  # the long names did need wrapping
    for name in measured["names"]:
        if len(name["text"]) > WHOLE_NAME:
            assert set(name["breaks"]) <= {"_", "."}, name
        else:
            assert name["breaks"] == [], name  # a short name stays on one line


def long_named_result():
    """Failed and passed tests on long-named targets in every notebook, recorded against the course's order."""
    tests = []
    for index, notebook in enumerate(reversed(COURSE)):
        target = long_name("LongClassName", index)
        tests.append(make_test(notebook, target, "value_matches_reference", False,
                               "value matches reference — " + ("x" * 300 if index == 0 else HOSTILE)))
        tests.append(make_test(notebook, target, "shape", True))
        tests.append(make_test(notebook, "rel_error", "dtype", index % 2 == 0, "dtype — the dtype is int64"))
    return make_result("a_student_whose_id_is_long_" + "x" * 80, tests)


def test_feedback_page_fits_1200px_opens_with_its_summary_and_keeps_the_course_order(tmp_path):
    write_reports([long_named_result()], tmp_path)
    [page] = (tmp_path / "feedback").iterdir()
    measured = measured_layout(page, tmp_path)

    assert_fits_and_wraps_names_after_dots_and_underscores(measured)
    sections = measured["sections"]
    assert sections[0]["id"] == "summary" and sections[0]["top"] < measured["height"]  # seen on opening
    assert [s["top"] for s in sections] == sorted(s["top"] for s in sections)
    assert [s["heading"].split(" (")[0] for s in sections[1:]] == COURSE
    # The hostile message is shown as text and its script never ran: the measuring one is the only script.
    assert measured["scripts"] == 1 and HOSTILE in measured["text"]


def test_instructor_report_fits_1200px_and_wraps_target_names_after_dots_and_underscores(tmp_path):
    results = [long_named_result()]
    for index in range(1, 4):
        results.append(make_result(f"student{index}", [
            make_test("svm.ipynb", long_name("LinearClassifier", index), "loss", False, f"loss — mistake {index}"),
            make_test("svm.ipynb", "svm_loss_vectorized", "loss", index % 2 == 0, "loss — forgot to divide by N")]))
    measured = measured_layout(write_reports(results, tmp_path), tmp_path)

    assert_fits_and_wraps_names_after_dots_and_underscores(measured)
    assert measured["scripts"] == 1 and HOSTILE in measured["text"]
