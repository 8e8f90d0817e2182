"""The student bundle holds exactly what students need, and nothing that leaks."""
import sys
import zipfile

import pytest

from autograder.reference import assignments
from scripts.bundle import build_bundle
from scripts.leak_check import find_leaks
from tests.notebooks import ROOT
from utils.manifest import load_manifest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@pytest.mark.parametrize("assignment", assignments())
def test_bundle_holds_the_release_utils_and_install_files_only(tmp_path, assignment):
    bundle = zipfile.ZipFile(build_bundle(tmp_path, assignment))
    names = bundle.namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {assignment, "utils", "pyproject.toml", "environment.yml", "README.md"}
    notebooks = load_manifest(ROOT / "solutions" / assignment).notebooks
    assert sorted(n for n in names if n.startswith(f"{assignment}/")) == sorted(
        [f"{assignment}/{nb}" for nb in notebooks] + [f"{assignment}/manifest.toml"])
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    readme = bundle.read("README.md").decode()
    assert f"jupyter lab {assignment}" in readme
    assert ", ".join(nb.removesuffix(".ipynb") for nb in notebooks) in readme


def test_unpacked_bundle_passes_the_leak_check_and_installs_only_utils(tmp_path):
    zipfile.ZipFile(build_bundle(tmp_path)).extractall(tmp_path / "unpacked")
    assert find_leaks([tmp_path / "unpacked"]) == []
    project = tomllib.loads((tmp_path / "unpacked" / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["packages"] == ["utils"]
    assert "scripts" not in project["project"]


def test_a_leak_stops_the_build(tmp_path, monkeypatch):
    import scripts.bundle as bundle

    monkeypatch.setattr(bundle, "STUDENT_README", "from autograder import hidden_tests\n")
    try:
        build_bundle(tmp_path)
    except RuntimeError as exc:
        assert "leaks" in str(exc)
    else:
        raise AssertionError("a leaking bundle was written")
    assert not list(tmp_path.glob("*.zip"))
