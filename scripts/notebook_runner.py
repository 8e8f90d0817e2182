"""Run a notebook headless in a real Jupyter kernel and read back its ``summary``.

Every assignment notebook ends with a cell that defines ``summary``, a dict of
its headline results. The runner appends one cell that prints that dict as
JSON together with the kernel's peak memory, executes the notebook in its own
folder (so ``load_notebook`` finds its siblings) and parses the line back.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient

MARKER = "__KIT_SUMMARY__"
_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_REPORT_CELL = f"""
import json as _kit_json, resource as _kit_resource
print({MARKER!r} + _kit_json.dumps({{
    "summary": summary,
    "peak_rss_mb": _kit_resource.getrusage(_kit_resource.RUSAGE_SELF).ru_maxrss / 1024,
}}))
"""


class NotebookRunError(RuntimeError):
    """A notebook failed to run to the end, or left no ``summary``."""


@dataclass
class NotebookRun:
    """What one headless run of a notebook produced."""

    name: str
    seconds: float
    peak_rss_mb: float
    summary: dict = field(default_factory=dict)

    def headline(self):
        """One line: notebook, its headline results, run time and peak memory."""
        results = ", ".join(f"{key}={_short(value)}" for key, value in self.summary.items())
        return f"{self.name:<15} {self.seconds:5.1f} s {self.peak_rss_mb:6.0f} MB  {results}"


def _short(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def run_notebook(path, timeout=600, kernel_name="python3"):
    """Execute ``path`` top to bottom in a fresh kernel.

    Parameters
    ----------
    path : path
        The notebook; it runs with its own folder as working directory.
    timeout : float
        Seconds any one cell may take.

    Returns
    -------
    NotebookRun

    Raises
    ------
    NotebookRunError
        If a cell raises, or the notebook defines no ``summary``.
    """
    path = Path(path)
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_REPORT_CELL))
    client = NotebookClient(
        nb, timeout=timeout, kernel_name=kernel_name, resources={"metadata": {"path": str(path.parent)}},
        # The kernel's own warnings (one per kernel that it talks TCP on loopback) would bury the
        # headlines; its errors still show, and a failing cell is reported with its traceback.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    start = time.perf_counter()
    try:
        # One BLAS thread: run times stay comparable on a shared 2-core machine.
        client.execute(env={**os.environ, **{name: "1" for name in _THREAD_VARS}})
    except Exception as exc:  # nbclient raises CellExecutionError, DeadKernelError, timeouts
        raise NotebookRunError(f"{path.name} failed: {exc}") from exc
    seconds = time.perf_counter() - start
    for output in nb.cells[-1].get("outputs", []):
        for line in output.get("text", "").splitlines():
            if line.startswith(MARKER):
                report = json.loads(line[len(MARKER):])
                return NotebookRun(path.stem, seconds, report["peak_rss_mb"], report["summary"])
    raise NotebookRunError(f"{path.name} ran but printed no summary")
