"""``autograder similarity``: rank pairs of submissions by the solution code they share, for a person to read.

Stages, top to bottom in ``compare``: read each submission's solution cells
(definition and tuning cells, found by ``grade_id`` as the grader finds
them), fingerprint them (``autograder.fingerprint``), drop every
fingerprint the release itself contains (starter and given code, so blank
notebooks share nothing), and compare all pairs at once. ``write`` puts the
ranking in ``similarity.csv`` and the pairs to read side by side in
``similarity.html``.

The similarity of two submissions is the Jaccard index of their fingerprint
sets, shared / all, where "all" is at least half of the reference solution's
fingerprints: two barely started notebooks that share one line score little,
however alike that line.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import GraderError, ReadError

HELP = "rank pairs of submissions by the solution code they share (similarity.html, similarity.csv)"
TOP = 20  # pairs shown side by side in the page; the CSV has them all
MIN_SHARE_OF_REFERENCE = 0.5  # the least code a pair is measured against, as a share of the reference's
REFERENCE = "reference solution"
CSV_HEADER = ("student_a", "student_b", "similarity")
DECIMALS = 4
CONTEXT_LINES = 3  # lines of code kept around shared code in the page; longer stretches are elided


@dataclass
class Document:
    """The solution cells of one submission (or of the reference), fingerprinted.

    ``cells`` are (label, CellPrint) in the assignment's order; ``prints``
    the set of its fingerprints that the release does not contain, as a
    sorted array; ``problems`` the notebooks that could not be used.
    """

    name: str
    cells: list
    prints: object  # ndarray of int64; numpy is imported when needed, not with the command
    problems: list = field(default_factory=list)

    def __repr__(self):
        return f"Document({self.name!r}, {len(self.cells)} cells, {len(self.prints)} fingerprints)"


@dataclass
class Comparison:
    """Every pair of submissions compared, and each submission against the reference.

    ``similarity[i, j]`` is the similarity of ``documents[i]`` and
    ``documents[j]``, in [0, 1]; ``to_reference[i]`` that of ``documents[i]``
    and ``reference``; ``given_lines`` the release's lines of code (stripped).
    """

    assignment: str
    documents: list
    reference: Document
    given_lines: frozenset
    similarity: object  # ndarray (n, n)
    to_reference: object  # ndarray (n,)

    def __repr__(self):
        return f"Comparison({self.assignment!r}, {len(self.documents)} submissions)"

    def pairs(self):
        """(i, j, similarity) of every pair i < j, most similar first (ties in the order of the names)."""
        import numpy as np

        first, second = np.triu_indices(len(self.documents), 1)
        values = np.round(self.similarity[first, second], DECIMALS)
        order = np.lexsort((second, first, -values))
        return [(int(first[k]), int(second[k]), float(values[k])) for k in order]

    def reference_ranking(self):
        """(i, similarity to the reference) of every submission, most similar first."""
        import numpy as np

        values = np.round(self.to_reference, DECIMALS)
        return [(int(i), float(values[i])) for i in np.lexsort((np.arange(len(values)), -values))]


def add_arguments(parser):
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="notebooks, a folder per student, or an nbgrader submitted/ folder")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for similarity.html and similarity.csv")
    parser.add_argument("--assignment", help="the assignment (default: inferred from the notebooks)")
    parser.add_argument("--top", type=int, default=TOP, metavar="N",
                        help=f"pairs shown side by side in the page (default {TOP}); the CSV lists every pair")


def run(args):
    """The verb: compare, write, and say where the results are."""
    if args.top < 0:
        raise GraderError("--top must be 0 or more")
    comparison = compare(args.paths, args.assignment)
    csv_path, html_path = write(comparison, args.out, args.top)
    pairs = comparison.pairs()
    i, j, value = pairs[0]
    print(f"{len(comparison.documents)} submissions, {len(pairs)} pairs; most similar: "
          f"{comparison.documents[i].name} and {comparison.documents[j].name} ({value:.2f}); "
          f"written {csv_path} and {html_path}")
    return 0


def compare(paths, assignment=None):
    """Compare the submissions under ``paths`` pair by pair and with the reference solution.

    Parameters
    ----------
    paths : list of path
        Notebooks, folders per student, or an nbgrader ``submitted/`` tree.
    assignment : str, optional
        Default: inferred from the notebooks.

    Returns
    -------
    Comparison

    Raises
    ------
    GraderError
        If a path does not exist, the assignment is unknown, or there are fewer than two submissions.
    """
    return compare_documents(*read_documents(paths, assignment))


def read_documents(paths, assignment=None):
    """The stages before the comparison: find, read and fingerprint every submission, and the reference.

    Returns
    -------
    assignment : str
    documents : list of Document
        One per submission, in the order of the student ids.
    reference : Document
    given_lines : frozenset of str
        The lines of the release's code, stripped: never marked as shared in the page.

    Raises
    ------
    GraderError
        As ``compare``.
    """
    from autograder.discover import find_submissions
    from autograder.read import read_submission
    from autograder.reference import infer_assignment, references

    for raw in paths:  # before inferring the assignment: a wrong path is the first thing to hear about
        if not Path(raw).exists():
            raise ReadError(f"{raw}: no such file or folder")
    assignment = assignment or infer_assignment(paths)
    refs = references(assignment)
    found = find_submissions(paths, assignment)
    if len(found) < 2:
        names = ", ".join(s.student for s in found)
        raise GraderError(f"similarity needs at least two submissions to compare; found {len(found)} ({names})")
    boilerplate, given_lines = _release(refs)
    reference = _document(REFERENCE, {name: refs.notebook(name) for name in refs.notebooks}, refs, boilerplate)
    documents = []
    for submission in found:
        read = read_submission(submission.folder, refs.notebooks, assignment, submission.student)
        document = _document(submission.student, read.notebooks, refs, boilerplate)
        document.problems = [read.problems[name] for name in refs.notebooks if name in read.problems]
        documents.append(document)
    return assignment, documents, reference, given_lines


def compare_documents(assignment, documents, reference, given_lines=frozenset()):
    """The ``Comparison`` of fingerprinted ``documents`` with one another and with ``reference``."""
    similarity, to_reference = _similarities([d.prints for d in documents], reference.prints)
    return Comparison(assignment, documents, reference, given_lines, similarity, to_reference)


def _document(name, notebooks, refs, boilerplate):
    """The solution cells of ``notebooks`` ({file name: notebook}), fingerprinted, the release's own taken out."""
    import numpy as np

    from autograder.extract import extract
    from autograder.fingerprint import fingerprint

    cells = []
    for notebook in refs.notebooks:
        extracted = extract(notebook, notebooks.get(notebook), refs.notebook(notebook))
        cells += [(f"{notebook}: {gid}", fingerprint(source)) for gid, source in extracted.definitions
                  + extracted.tuning]
    hashes = np.unique(np.concatenate([np.zeros(0, dtype=np.int64)] + [cell.hashes for _, cell in cells]))
    return Document(name, cells, np.setdiff1d(hashes, boilerplate, assume_unique=True))


def _release(refs):
    """The release's code cells, starters and given code alike: (its k-gram hashes sorted, its lines stripped)."""
    import numpy as np

    from autograder.fingerprint import fingerprint

    sources = [cell.source for name in refs.notebooks for cell in refs.release_notebook(name).cells
               if cell.cell_type == "code"]
    kgrams = np.unique(np.concatenate([np.zeros(0, dtype=np.int64)] + [fingerprint(s).kgrams for s in sources]))
    return kgrams, frozenset(line.strip() for source in sources for line in source.splitlines())


def _similarities(prints, reference):
    """The similarity of every pair of fingerprint sets, and of each with ``reference``.

    One sparse product (submissions x fingerprints, times its transpose)
    counts the fingerprints every pair shares: 500 submissions, 124750
    pairs, take about a second, where a Python loop over pairs would take
    minutes.
    """
    import numpy as np
    from scipy import sparse

    sets = list(prints) + [reference]
    vocabulary = np.unique(np.concatenate([np.zeros(0, dtype=np.int64)] + sets))
    columns = np.concatenate([np.zeros(0, dtype=np.int64)] + [np.searchsorted(vocabulary, s) for s in sets])
    rows = np.concatenate([np.zeros(0, dtype=np.int64)] + [np.full(len(s), i) for i, s in enumerate(sets)])
    member = sparse.csr_matrix((np.ones(len(columns), dtype=np.int32), (rows, columns)),
                               shape=(len(sets), len(vocabulary)))
    shared = (member @ member.T).toarray().astype(np.float64)
    sizes = np.diag(shared)
    union = sizes[:, None] + sizes[None, :] - shared
    floor = max(1.0, MIN_SHARE_OF_REFERENCE * len(reference))
    similarity = shared / np.maximum(union, floor)
    return similarity[:-1, :-1], similarity[:-1, -1]


def similarity_csv(comparison):
    """The text of ``similarity.csv``: a row per pair, most similar first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    names = [d.name for d in comparison.documents]
    writer.writerows((names[i], names[j], f"{value:.{DECIMALS}f}") for i, j, value in comparison.pairs())
    return out.getvalue()


def write(comparison, out, top=TOP):
    """Write ``similarity.csv`` and ``similarity.html`` into folder ``out``; returns their paths."""
    from autograder.report import write_atomic

    out = Path(out)
    write_atomic(out / "similarity.csv", similarity_csv(comparison))
    write_atomic(out / "similarity.html", render_page(comparison, top))
    return out / "similarity.csv", out / "similarity.html"


def render_page(comparison, top=TOP):
    """The text of ``similarity.html``: the rankings, and the ``top`` pairs side by side, shared code marked."""
    from autograder.html_report import render  # the kit's one template environment, autoescaped

    documents, pairs = comparison.documents, comparison.pairs()
    ranking = comparison.reference_ranking()
    given = comparison.given_lines
    return render(
        "similarity.html.j2",
        assignment=comparison.assignment,
        submissions=len(documents),
        pairs=len(pairs),
        top=[(documents[i].name, documents[j].name, value) for i, j, value in pairs[:top]],
        side_by_side=[_side_by_side(documents[i], documents[j], value, given)
                      for i, j, value in pairs[:top] if value > 0],
        to_reference=[(documents[i].name, value) for i, value in ranking],
        reference_side_by_side=[_side_by_side(documents[i], comparison.reference, value, given)
                                for i, value in ranking[:top] if value > 0],
        problems=[(d.name, problem) for d in documents for problem in d.problems],
        reference_name=REFERENCE,
        decimals=DECIMALS,
    )


def _side_by_side(a, b, value, given):
    """What the page shows of one pair: each cell in which either side has code the other shares."""
    import numpy as np

    from autograder.fingerprint import highlight

    shared = np.intersect1d(a.prints, b.prints, assume_unique=True)
    cells_a, cells_b = dict(a.cells), dict(b.cells)
    labels = list(cells_a) + [label for label in cells_b if label not in cells_a]
    rows = []
    for label in labels:
        left = highlight(cells_a[label], shared, given) if label in cells_a else []
        right = highlight(cells_b[label], shared, given) if label in cells_b else []
        if any(marked for _, marked in left + right):
            rows.append((label, _elided(left), _elided(right)))
    return {"a": a.name, "b": b.name, "similarity": value, "shared": len(shared), "rows": rows}


def _elided(pieces, context=CONTEXT_LINES):
    """(text, kind) pieces to show, kind "shared", "plain" or "gap": code far from shared code becomes a gap.

    ``pieces`` are ``fingerprint.highlight``'s; a stretch of code that is not
    shared keeps ``context`` lines next to the shared code on either side.
    """
    shown = []
    for k, (text, marked) in enumerate(pieces):
        if marked:
            shown.append((text, "shared"))
            continue
        # The first line of a stretch ends a shared line and its last begins one: keep those too.
        lines = text.split("\n")
        head = context + 1 if k > 0 else 0
        tail = context + 1 if k < len(pieces) - 1 else 0
        hidden = len(lines) - head - tail
        if hidden < 2:
            shown.append((text, "plain"))
            continue
        if head:
            shown.append(("\n".join(lines[:head]) + "\n", "plain"))
        shown.append((f"({hidden} lines not shown)" + ("\n" if tail else ""), "gap"))
        if tail:
            shown.append(("\n".join(lines[-tail:]), "plain"))
    return shown
