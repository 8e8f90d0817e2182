"""Stage 1, read: find a submission's notebooks and parse them, with clear errors.

A submission is a folder of notebooks; its student id comes from the nbgrader
layout (``submitted/<student>/<assignment>/``) or from the folder's name. A
notebook that is missing or cannot be parsed does not stop the others: it is
recorded as a problem and costs only its own tests.
"""
from __future__ import annotations

import codecs
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.errors import ReadError

MAX_NOTEBOOK_BYTES = 20 * 1024**2


@dataclass
class Submission:
    """One student's notebooks for one assignment.

    ``notebooks`` maps a notebook's file name (``svm.ipynb``) to its parsed
    content; ``problems`` maps a file name to why it could not be used.
    """

    student: str
    assignment: str
    folder: Path
    notebooks: dict = field(default_factory=dict)
    problems: dict = field(default_factory=dict)


def student_id(folder, assignment):
    """``alice`` for ``.../submitted/alice/<assignment>`` or for a folder named ``alice``."""
    folder = Path(folder).resolve()
    if folder.name == assignment and folder.parent.parent.name == "submitted":
        return folder.parent.name
    if folder.name == assignment:
        return folder.parent.name
    return folder.name


def read_notebook(path):
    """Parse and validate one notebook; ``ReadError`` says what is wrong with it.

    Accepts what editors save: a byte-order mark, UTF-16, CRLF line endings, nbformat 3 or 4.
    """
    path = Path(path)
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise ReadError(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES // 1024**2} MB; clear its outputs "
                        "(Kernel > Restart Kernel and Clear Outputs), save it and submit it again")
    text = decode_notebook(path.read_bytes(), path.name)
    try:
        nb = nbformat.reads(text, as_version=4)
    except nbformat.reader.NotJSONError as exc:
        if text.lstrip()[:1] == "<":
            raise ReadError(f"{path.name} is a web page (HTML), not a notebook: save it from Jupyter "
                            "(File > Download), not with the browser's Save Page") from exc
        raise ReadError(f"{path.name} is not a valid notebook: it is not JSON "
                        "(a truncated upload, or a file saved in another format)") from exc
    except Exception as exc:  # schema errors, unknown versions
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReadError(f"{path.name} is not a valid notebook: {first_line[:200]}") from exc
    if not isinstance(nb.get("cells"), list):
        raise ReadError(f"{path.name} has no list of cells")
    for cell in nb.cells:
        _repair(cell)
    return nb


def decode_notebook(data, name):
    """The text of a notebook file's bytes: UTF-8 (with or without a byte-order mark) or UTF-16."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            break
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ReadError(f"{name} is not a valid notebook: it is not UTF-8 text (byte {exc.start} is "
                        f"{data[exc.start]:#04x}); save it from Jupyter, not from another editor") from None


def worker_copy(nb):
    """The text of ``nb`` as the worker gets it: version 4, repaired, without outputs or attachments."""
    cells = []
    for cell in nb.cells:
        plain = {key: value for key, value in cell.items() if key not in ("outputs", "attachments")}
        if cell.get("cell_type") == "code":
            plain.update(outputs=[], execution_count=None)
        cells.append(plain)
    return json.dumps({"nbformat": 4, "nbformat_minor": nb.get("nbformat_minor", 5), "metadata": {},
                       "cells": cells}, indent=1)


def _repair(cell):
    """Make a cell's shape safe to read: nbformat tolerates metadata that is not a dict."""
    if not isinstance(cell.get("metadata"), dict):
        cell["metadata"] = nbformat.NotebookNode()
    if "nbgrader" in cell.metadata and not isinstance(cell.metadata["nbgrader"], dict):
        del cell.metadata["nbgrader"]  # unreadable grading metadata: the cell counts as unmarked
    source = cell.get("source", "")
    if not isinstance(source, str):
        cell["source"] = "".join(source) if isinstance(source, list) and all(
            isinstance(line, str) for line in source) else ""


def read_submission(folder, expected_notebooks, assignment, student=None):
    """Read the expected notebooks of one submission folder.

    Parameters
    ----------
    folder : path
    expected_notebooks : iterable of str
        File names the assignment consists of (``knn.ipynb``, ...).

    Raises
    ------
    ReadError
        If ``folder`` is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ReadError(f"{folder} is not a folder of notebooks")
    submission = Submission(student or student_id(folder, assignment), assignment, folder.resolve())
    for name in expected_notebooks:
        path = folder / name
        if not path.is_file():
            submission.problems[name] = f"{name} is missing from the submission"
            continue
        try:
            submission.notebooks[name] = read_notebook(path)
        except (ReadError, OSError) as exc:
            submission.problems[name] = str(exc)
    return submission
