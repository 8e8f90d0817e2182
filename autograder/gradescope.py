"""``autograder gradescope-bundle``: the zip that Gradescope's autograder accepts, for one assignment.

Gradescope builds an image from the zip once (running ``setup.sh``), then runs
``run_autograder`` for every submission, which must write
``/autograder/results/results.json``. The zip holds, at its root:

``setup.sh``                 installs the dependencies, pinned, and bubblewrap where it can
``run_autograder``           grades ``/autograder/submission/`` (``autograder.gradescope_run``)
``requirements.txt``         the kit's dependencies and theirs, pinned to the versions installed here
``requirements-ranges.txt``  the ranges of ``pyproject.toml``, for an image the pins do not fit
``kit/``                     the engine, ``utils``, the assignment's hidden suites, its reference
                             solutions and its release (the starter code a missing cell falls back to)

The zip is the instructor's: it goes to Gradescope, never to students, and
only the assignment it is built for is in it. It is reproducible: the same
files give the same bytes.
"""
from __future__ import annotations

import sys
import zipfile
from importlib import metadata
from pathlib import Path

from autograder.errors import GraderError
from autograder.report import GRADESCOPE_VISIBILITY as VISIBILITY

HELP = "build the zip Gradescope's autograder accepts (setup.sh, run_autograder, the kit and its hidden suites)"
KIT_ROOT = Path(__file__).resolve().parents[1]
FILES = Path(__file__).resolve().parent / "gradescope_files"
VENV = "/opt/nn-course-kit/venv"  # setup.sh's virtual environment: outside /autograder, readable by the worker
_SKIPPED = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}
_EPOCH = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: the same files give the same zip


def add_arguments(parser):
    parser.add_argument("--assignment", required=True, help="the assignment to grade (a folder of solutions/)")
    parser.add_argument("--out", default="autograder.zip", metavar="ZIP",
                        help="the zip to write (default: autograder.zip)")
    parser.add_argument("--visibility", choices=VISIBILITY,
                        help="when students see their results (default: as the assignment is set on Gradescope)")


def run(args):
    path = build_bundle(args.assignment, args.out, args.visibility)
    print(f"wrote {path}: upload it as the autograder of {args.assignment} on Gradescope "
          "(Configure Autograder > Zip file upload); README.md, 'Grading on Gradescope', says how")
    return 0


def build_bundle(assignment, out, visibility=None):
    """Write Gradescope's autograder zip for ``assignment`` to ``out``.

    Parameters
    ----------
    assignment : str
        An assignment with source notebooks and a manifest in ``solutions/`` and a release in ``assignments/``.
    out : path
        The zip to write (its folder is created).
    visibility : str, optional
        One of ``VISIBILITY``: the top-level ``visibility`` of every ``results.json``; default none
        (Gradescope's assignment settings decide).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    GraderError
        If the assignment, its release or its hidden suites are missing, or the zip cannot be written.
    """
    from autograder.reference import references

    references(assignment)  # a missing or inconsistent assignment is refused here, with its reason
    for folder, fix in ((KIT_ROOT / "assignments" / assignment, "run `make release`"),
                        (KIT_ROOT / "autograder" / "hidden_tests" / assignment, "write its hidden suites")):
        if not folder.is_dir():
            raise GraderError(f"{assignment} has no {folder.relative_to(KIT_ROOT)}/: {fix}")
    if visibility is not None and visibility not in VISIBILITY:
        raise GraderError(f"unknown visibility {visibility!r}; choose one of {', '.join(VISIBILITY)}")
    entries = {**_scripts(assignment, visibility), **_requirements()}
    for name in sorted(kit_files(assignment)):
        entries[f"kit/{name}"] = ((KIT_ROOT / name).read_bytes(), 0o644)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name, (data, mode) in entries.items():
                info = zipfile.ZipInfo(name, _EPOCH)
                info.external_attr = (0o100000 | mode) << 16  # a regular file and its permissions
                info.compress_type = zipfile.ZIP_DEFLATED
                bundle.writestr(info, data)
    except OSError as exc:
        raise GraderError(f"cannot write {out}: {exc}") from exc
    return out


def kit_files(assignment):
    """The kit's files the bundle carries, relative to the checkout (posix strings).

    The engine (``autograder/``, with only this assignment's hidden suites), ``utils/``,
    this assignment's source notebooks and release, and ``pyproject.toml``.
    """
    other_suites = {p for p in (KIT_ROOT / "autograder" / "hidden_tests").iterdir()
                    if p.is_dir() and p.name != assignment}
    roots = [KIT_ROOT / "autograder", KIT_ROOT / "utils", KIT_ROOT / "solutions" / assignment,
             KIT_ROOT / "assignments" / assignment]
    names = {"pyproject.toml"}
    for root in roots:
        for path in root.rglob("*"):
            parts = set(path.relative_to(KIT_ROOT).parts)
            if (path.is_file() and not parts & _SKIPPED and path.suffix != ".pyc"
                    and not any(suite in path.parents for suite in other_suites)):
                names.add(path.relative_to(KIT_ROOT).as_posix())
    return names


def _scripts(assignment, visibility):
    values = {"@ASSIGNMENT@": assignment, "@VENV@": VENV, "@PYTHON@": "%d.%d" % sys.version_info[:2],
              "@VISIBILITY@": f" --visibility {visibility}" if visibility else ""}
    scripts = {}
    for name in ("setup.sh", "run_autograder"):
        text = (FILES / name).read_text()
        for key, value in values.items():
            text = text.replace(key, value)
        scripts[name] = (text.encode(), 0o755)
    return scripts


# -- the pins ------------------------------------------------------------------------

def _requirements():
    ranges = project_requirements()
    header = (f"# The kit's dependencies and theirs, as installed where the bundle was built "
              f"(Python {'%d.%d' % sys.version_info[:2]}): the versions its tests ran with.\n")
    return {"requirements.txt": ((header + "\n".join(pinned_requirements(ranges)) + "\n").encode(), 0o644),
            "requirements-ranges.txt": (("# The ranges of the kit's pyproject.toml.\n" + "\n".join(ranges)
                                         + "\n").encode(), 0o644)}


def project_requirements():
    """The runtime dependencies of the kit, as ``pyproject.toml`` states them."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return list(tomllib.loads((KIT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


def pinned_requirements(requirements):
    """``requirements`` and everything they need, pinned to the versions installed here, sorted.

    A requirement whose marker does not hold here (a backport for an older Python,
    a package for another platform) keeps its range and its marker, for the image
    to decide. One that is needed here but not installed is a ``GraderError``:
    its tested version is unknown.
    """
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins, ranges, seen = {}, {}, set()
    todo = [(Requirement(text), ("",)) for text in requirements]
    while todo:
        requirement, extras = todo.pop()
        name = canonicalize_name(requirement.name)
        marker = requirement.marker
        if marker is not None and not any(marker.evaluate({"extra": extra}) for extra in extras):
            if "extra" not in str(marker):  # not needed here, maybe there: its range and marker
                ranges.setdefault(name, str(requirement))
            continue
        if (name, frozenset(requirement.extras)) in seen:
            continue
        seen.add((name, frozenset(requirement.extras)))
        try:
            pins[name] = f"{name}=={metadata.version(requirement.name)}"
        except metadata.PackageNotFoundError:
            raise GraderError(f"{requirement.name} is not installed here, so its tested version is unknown: "
                              "build the bundle in the kit's environment (make install)") from None
        todo.extend((Requirement(text), ("", *requirement.extras))
                    for text in metadata.requires(requirement.name) or ())
    lines = {**ranges, **pins}  # a package needed here is pinned, whatever other paths ask
    return [lines[name] for name in sorted(lines)]
