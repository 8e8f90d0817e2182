"""Malformed and unusual notebook files: not JSON, other encodings, other versions, moved or missing cells.

A file that cannot be read costs its own notebook's tests, with a message
that says why; a file that only looks different (a byte-order mark, CRLF line
endings, nbformat 3, reordered cells, another kernel) grades as the reference.
"""
import json
import shutil

import nbformat

from tests.autograder.scenarios import NOTEBOOK, UNREADABLE, Scenario, cells_with_id, edit_notebook, in_batch

INVALID = "invalid_submission"  # graded alone, a notebook that cannot be read leaves nothing to grade

F = "notebook_format"
GC = "gradient_check.ipynb"


def _bytes(change, notebook=GC):
    """A build that rewrites the notebook file's bytes."""
    def build(folder, fill, **_):
        path = folder / notebook
        path.write_bytes(change(path.read_bytes()))
    return build


def _non_utf8(data):
    text = json.loads(data)
    marker = "Latin-1 here: caf\u00e9"
    first_markdown = next(c for c in text["cells"] if c["cell_type"] == "markdown")
    first_markdown["source"] = [marker]
    encoded = json.dumps(text, ensure_ascii=False, indent=1).encode("utf-8")
    return encoded.replace(marker.encode("utf-8"), marker.encode("latin-1"))


def _crlf_sources(nb):
    for cell in nb.cells:
        cell.source = cell.source.replace("\n", "\r\n")


def _crlf_both(folder, fill, **_):
    for name in ("gradient_check.ipynb", "svm.ipynb"):
        edit_notebook(_crlf_sources, name)(folder, fill)


def _nbformat3(folder, fill, **_):
    path = folder / GC
    nb = nbformat.read(str(path), as_version=4)
    nbformat.write(nbformat.convert(nb, 3), str(path), version=3)


def _delete(gid):
    def change(nb):
        nb.cells.remove(cells_with_id(nb, gid)[0])
    return change


def _duplicate_every_definition(nb):
    for cell in [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]:
        wrong = nbformat.from_dict(json.loads(json.dumps(cell)))  # same grade_id and the same cell id
        wrong.source = "raise RuntimeError('an older copy of this cell')\n"
        nb.cells.insert(nb.cells.index(cell), wrong)


def _write_duplicated_ids(folder, fill, **_):
    """Duplicated cell ids do not survive nbformat.write's validation: write the JSON directly."""
    path = folder / GC
    nb = nbformat.read(str(path), as_version=4)
    _duplicate_every_definition(nb)
    path.write_text(json.dumps(nb, indent=1))


def _reverse(nb):
    nb.cells.reverse()


def _retype_markdown(gid):
    def change(nb):
        cell = cells_with_id(nb, gid)[0]
        cell.cell_type = "markdown"
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    return change


def _strip_metadata(gid):
    def change(nb):
        cells_with_id(nb, gid)[0].metadata = nbformat.NotebookNode()
    return change


def _huge_outputs(nb):
    cell = next(c for c in nb.cells if c.cell_type == "code" and "nbgrader" not in c.metadata)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (100 << 20))]


def _kernelspec_r(nb):
    nb.metadata["kernelspec"] = {"display_name": "R", "language": "R", "name": "ir"}
    nb.metadata["language_info"] = {"name": "R", "version": "4.3.0", "file_extension": ".r"}


def _empty(folder, fill, **_):
    (folder / GC).write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def _release(folder, fill, release, **_):
    shutil.copy2(release / GC, folder / GC)


def _extras(folder, fill, release, **_):
    shutil.copy2(folder / GC, folder / "Untitled.ipynb")
    (folder / "notes.ipynb").write_text("not a notebook at all")
    checkpoints = folder / ".ipynb_checkpoints"
    checkpoints.mkdir()
    (checkpoints / "gradient_check-checkpoint.ipynb").write_text("{broken")


def _misnamed_beside(folder, fill, release, **_):
    shutil.copy2(release / "svm.ipynb", folder / "SVM.ipynb")
    shutil.copy2(release / "svm.ipynb", folder / "svm (1).ipynb")


def _only_misnamed(folder, fill, **_):
    (folder / GC).rename(folder / "gradient_check (1).ipynb")


def _text(text):
    return _bytes(lambda data: text.encode())


_SCENARIOS = [
    Scenario("truncated_json", F, build=_bytes(lambda data: data[: len(data) // 2]), whole=True, status=INVALID, cause=UNREADABLE,
             repeat=True),
    Scenario("html_page_saved_as_a_notebook", F, build=_text(
        "<!DOCTYPE html>\n<html><head><title>gradient_check</title></head><body><p>Saved as a web page.</p>"
        "</body></html>\n"), whole=True, status=INVALID, cause=UNREADABLE),
    Scenario("non_utf8_bytes", F, build=_bytes(_non_utf8), whole=True, status=INVALID, cause=("UTF-8", "encoding") + UNREADABLE),
    Scenario("utf8_byte_order_mark", F, build=_bytes(lambda data: b"\xef\xbb\xbf" + data),
             why="a BOM is how some editors save UTF-8: it grades as the reference"),
    Scenario("crlf_line_endings_in_the_file", F, build=_bytes(lambda data: data.replace(b"\n", b"\r\n"))),
    Scenario("crlf_line_endings_in_the_sources", F, build=_crlf_both),
    Scenario("nbformat_3", F, build=_nbformat3),
    Scenario("definition_cell_deleted", F, build=edit_notebook(_delete("sgd_step")), hits=("sgd_step",),
             cause=("missing",)),
    Scenario("duplicated_cells_and_cell_ids", F, build=_write_duplicated_ids,
             why="the last copy of a duplicated cell counts"),
    Scenario("cells_in_reverse_order", F, build=edit_notebook(_reverse), why="cells are taken by grade_id"),
    Scenario("definition_cell_retyped_as_markdown", F, build=edit_notebook(_retype_markdown("rel_error")),
             hits=("rel_error",), cause=("missing",)),
    Scenario("nbgrader_metadata_stripped_from_a_cell", F, build=edit_notebook(_strip_metadata("sgd_step")),
             why="a cell without metadata that defines the same names stands in"),
    Scenario("hundred_megabytes_of_outputs", F, build=edit_notebook(_huge_outputs), whole=True, status=INVALID,
             cause=("larger than", "too large", "too big"), max_seconds=60),
    Scenario("foreign_kernelspec", F, build=edit_notebook(_kernelspec_r), why="the code is Python whatever the kernel"),
    Scenario("empty_notebook", F, build=_empty, whole=True, cause=("missing",)),
    Scenario("zero_byte_file", F, build=_text(""), whole=True, status=INVALID, cause=("empty",) + UNREADABLE),
    Scenario("json_that_is_not_a_notebook", F, build=_text("[1, 2, 3]"), whole=True, status=INVALID,
             cause=("no list of cells",) + UNREADABLE),
    Scenario("cells_not_a_list", F, build=_text('{"cells": {}, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'),
             whole=True, status=INVALID, cause=("no list of cells",) + UNREADABLE),
    Scenario("unmodified_release", F, build=_release, hits=NOTEBOOK,
             why="the starter code loses points on its merits, and nothing else changes"),
    Scenario("extra_notebooks_and_checkpoints", F, build=_extras, why="only the assignment's notebooks count"),
    Scenario("misnamed_copies_beside_the_right_notebook", F, notebook="svm", build=_misnamed_beside,
             why="svm.ipynb is graded, not SVM.ipynb or svm (1).ipynb"),
    Scenario("only_a_misnamed_notebook", F, build=_only_misnamed, whole=True, status=INVALID, cause=("missing",)),
]

# Graded in the family's batch as well: how the batch finds, reads and reports odd files.
SCENARIOS = in_batch(_SCENARIOS, {
    "truncated_json", "html_page_saved_as_a_notebook", "non_utf8_bytes", "utf8_byte_order_mark",
    "hundred_megabytes_of_outputs", "extra_notebooks_and_checkpoints", "only_a_misnamed_notebook",
})
