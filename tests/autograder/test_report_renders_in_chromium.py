"""The instructor report's plots render in a real browser (headless Chromium), not only as valid PNG data.

The report is screenshotted twice: as written, and with its plots hidden by
CSS (``visibility: hidden`` keeps the layout, since each <img> has a fixed
size). The pixels that differ are the plots as the browser drew them.
"""
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.image import imread

from autograder.html_report import HISTOGRAM_COLOR, PASS_RATE_COLOR, write_reports
from tests.autograder.test_html_report import make_batch

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
