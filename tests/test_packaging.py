"""The set-up a newcomer meets: installable package, conda file, README, Makefile, CI."""
import re
import sys
from pathlib import Path

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _requirement(text):
    """('name', 'specifier') of a requirement string, without spaces."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", text)
    return match.group(1).lower(), match.group(2).replace(" ", "")


def pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + project["optional-dependencies"]["dev"]
    # Backports for old Pythons (a ';' marker) have no conda counterpart.
    return dict(_requirement(item) for item in listed if ";" not in item)


def conda_requirements():
    """What environment.yml installs: its conda packages and the PyPI-only ones of its pip section."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    plain = [item for item in env["dependencies"] if isinstance(item, str)]
    pip = [item for entry in env["dependencies"] if isinstance(entry, dict) for item in entry.get("pip", [])
           if not item.startswith("-") and ";" not in item]
    return {name: spec for name, spec in map(_requirement, plain + pip) if name not in {"python", "pip"}}


def test_environment_yml_lists_the_same_packages_and_versions_as_pyproject():
    assert conda_requirements() == pyproject_requirements()


def test_environment_yml_installs_the_kit_itself_so_notebooks_import_utils():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_items = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert "-e ." in pip_items


def test_python_floor_is_the_same_in_both_files():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert project["requires-python"] == ">=3.10"
    assert "python>=3.10" in env["dependencies"]


def test_nbgrader_pin_admits_0_9_6_with_notebook_7_and_jupyterlab_4():
    requirements = pyproject_requirements()
    assert requirements["nbgrader"] == ">=0.9.6,<0.10"
    assert requirements["notebook"] == ">=7.0,<8"
    assert requirements["jupyterlab"] == ">=4.0,<5"


def test_utils_is_importable_from_outside_the_repository(tmp_path):
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", "import utils, utils.data, utils.notebook_loader; print(utils.__file__)"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).parent == ROOT / "utils"


def test_readme_opens_with_the_kit_and_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    first_screen = readme[:2500]
    assert "make demo" in first_screen and "make test" in first_screen


def test_makefile_targets_create_the_venv_and_ci_runs_make_test():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo:", "test:", "$(STAMP): pyproject.toml"):
        assert target in makefile
    assert "-m venv" in makefile
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), re.MULTILINE)
