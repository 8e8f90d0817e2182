"""An assignment's manifest: the one declaration of what the assignment is.

``manifest.toml`` sits beside the assignment's source notebooks
(``solutions/<assignment>/``); ``nbgrader generate_assignment`` copies it into
the release, where the notebooks' visible checks read it too. It declares:

- ``name``, ``title`` and the ``datasets`` the assignment runs on;
- ``notebooks``: the notebooks in the order students work through them;
- ``[targets.<notebook>]``: each graded target of a notebook and the grade
  cell (``grade_id``) that holds its points;
- ``[accuracy.<tuned object>]``: a tuned object's validation-accuracy target
  per dataset;
- ``[limits]``: the grader's limits that differ from its defaults
  (``autograder/limits.py`` names them), and ``[limits.<dataset>]`` for one dataset.

Points live in the source notebooks' grade cells and nowhere else.
"""
from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FILE_NAME = "manifest.toml"
KEYS = {"name", "title", "datasets", "notebooks", "targets", "accuracy", "limits"}


class ManifestError(ValueError):
    """A manifest is missing or does not say what it must; the message names the file and the fix."""


@dataclass(frozen=True)
class Manifest:
    """One assignment's declaration (see the module docstring).

    ``notebooks`` holds file names ("knn.ipynb"); ``targets`` maps a notebook's file name
    to {target: grade_id}; ``accuracy`` maps a tuned object to {dataset: accuracy}.
    """

    path: Path
    name: str
    title: str
    datasets: tuple
    notebooks: tuple
    targets: dict = field(default_factory=dict)
    accuracy: dict = field(default_factory=dict)
    limits: dict = field(default_factory=dict)

    def grade_cell(self, notebook, target):
        """The grade_id of ``target`` in ``notebook`` ("svm.ipynb"); ``ManifestError`` if it is not declared."""
        try:
            return self.targets[notebook][target]
        except KeyError:
            raise ManifestError(f"{self.path}: {target} is not a target of {notebook}; declare it under "
                                f"[targets.{Path(notebook).stem}]") from None

    def accuracy_target(self, name, dataset):
        """The validation accuracy ``name`` must reach on ``dataset``."""
        try:
            return self.accuracy[name][dataset]
        except KeyError:
            raise ManifestError(f"{self.path}: no accuracy target for {name} on {dataset}; declare it under "
                                f"[accuracy.{name}]") from None


def load_manifest(folder):
    """The manifest in ``folder`` (an assignment's folder of notebooks), checked.

    Raises
    ------
    ManifestError
        If the file is missing, is not TOML, or its parts do not agree.
    """
    return _load(Path(folder).resolve() / FILE_NAME)


@functools.lru_cache(maxsize=None)
def _load(path):
    if not path.is_file():
        raise ManifestError(f"no {FILE_NAME} in {path.parent}: every assignment declares its notebooks and "
                            "targets there (see docs/authoring.md)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError(f"{path}: not a readable TOML file: {exc}") from None
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise ManifestError(f"{path}: unknown keys {', '.join(unknown)}; known: {', '.join(sorted(KEYS))}")
    notebooks = _strings(path, data, "notebooks")
    datasets = _strings(path, data, "datasets")
    targets = _tables(path, data, "targets")
    for stem, table in targets.items():
        if stem not in notebooks:
            raise ManifestError(f"{path}: [targets.{stem}] names a notebook that is not in notebooks")
        if not all(isinstance(v, str) and v for v in table.values()):
            raise ManifestError(f"{path}: [targets.{stem}] must map each target to its grade cell's grade_id")
    missing = [stem for stem in notebooks if not targets.get(stem)]
    if missing:
        raise ManifestError(f"{path}: no [targets.<notebook>] for {', '.join(missing)}")
    declared = {target for table in targets.values() for target in table}
    accuracy = _tables(path, data, "accuracy")
    for name, table in accuracy.items():
        if name not in declared:
            raise ManifestError(f"{path}: [accuracy.{name}] names no target of any notebook")
        strange = sorted(set(table) - set(datasets))
        bad = [d for d, v in table.items() if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1]
        if strange or bad:
            raise ManifestError(f"{path}: [accuracy.{name}] must give a fraction in (0, 1] per dataset of "
                                f"{list(datasets)}")
    limits = data.get("limits", {})
    if not isinstance(limits, dict):
        raise ManifestError(f"{path}: [limits] must be a table")
    return Manifest(
        path=path, name=str(data.get("name") or path.parent.name), title=str(data.get("title", "")),
        datasets=datasets, notebooks=tuple(f"{stem}.ipynb" for stem in notebooks),
        targets={f"{stem}.ipynb": dict(table) for stem, table in targets.items()},
        accuracy={name: {d: float(v) for d, v in table.items()} for name, table in accuracy.items()},
        limits=dict(limits),
    )


def _strings(path, data, key):
    value = data.get(key)
    if not (isinstance(value, list) and value and all(isinstance(v, str) and v for v in value)) \
            or len(set(value)) != len(value):
        raise ManifestError(f"{path}: {key} must be a non-empty list of distinct names")
    return tuple(value)


def _tables(path, data, key):
    value = data.get(key, {})
    if not (isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())):
        raise ManifestError(f"{path}: [{key}.<name>] entries must be tables")
    return value


def accuracy_target(name, dataset=None, folder=None):
    """The validation accuracy the tuned object ``name`` must reach, as the assignment's manifest declares.

    For the notebooks' visible checks: ``assert accuracy >= accuracy_target("best_svm")``.

    Parameters
    ----------
    dataset : str, optional
        Default: the dataset the notebooks use (``utils.dataset_name()``).
    folder : path, optional
        The assignment's folder; default the current one (in Jupyter, the notebook's).
    """
    from utils.data import dataset_name

    return load_manifest(folder or Path.cwd()).accuracy_target(name, dataset_name(dataset))
