"""`autograder gradescope-bundle` builds a zip Gradescope accepts, and its run_autograder, run in a folder
laid out as Gradescope's, grades any upload layout with `autograder grade`'s scores and always writes a
valid results.json that shows students nothing of the reference or the hidden suites."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.gradescope import build_bundle, project_requirements
from autograder.gradescope_run import MAX_NOTEBOOK_BYTES, choose, find_notebooks
from autograder.reference import references
from autograder.report import gradescope_json
from autograder.results import SubmissionResult
from scripts.leak_check import find_leaks, secret_lines
from tests.notebooks import ROOT

ASSIGNMENT = "assignment0"  # the smaller assignment: a submission grades in seconds
BUGS = ROOT / "examples" / ASSIGNMENT / "bugs"  # partial credit in both notebooks
NOTEBOOKS = ("perceptron.ipynb", "logistic_regression.ipynb")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    assert main(["gradescope-bundle", "--assignment", ASSIGNMENT, "--out", str(out)]) == 0
    return out


def _unpack(bundle, folder):
    """Unzip as Gradescope does, keeping each file's permissions."""
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, folder))
            path.chmod((info.external_attr >> 16) & 0o777)
    return folder


# -- the bundle ------------------------------------------------------------------------

def test_the_bundle_has_the_two_scripts_at_its_root_and_the_kit_with_suites_and_reference_inside(bundle):
    with zipfile.ZipFile(bundle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        reference = archive.read(f"kit/solutions/{ASSIGNMENT}/perceptron.ipynb").decode()
    assert {name.split("/")[0] for name in infos} == {
        "setup.sh", "run_autograder", "requirements.txt", "requirements-ranges.txt", "kit"}
    for script in ("setup.sh", "run_autograder"):
        assert (infos[script].external_attr >> 16) & 0o111, f"{script} is not executable"
    assert {f"kit/autograder/hidden_tests/{ASSIGNMENT}/test_perceptron.py",
            f"kit/autograder/hidden_tests/{ASSIGNMENT}/test_logistic_regression.py",
            "kit/autograder/hidden_tests/pytest.ini", "kit/autograder/worker/main.py", "kit/utils/notebook_loader.py",
            *(f"kit/{folder}/{ASSIGNMENT}/{nb}" for folder in ("solutions", "assignments") for nb in NOTEBOOKS),
            } <= set(infos)
    assert "### BEGIN SOLUTION" in reference  # the reference itself, not the release
    # Only this assignment, and nothing of the checkout that is not the kit.
    assert not [name for name in infos if "assignment1" in name or name.split("/")[1:2] in (
        ["tests"], ["examples"], ["scripts"], ["out"], [".git"]) or "__pycache__" in name or name.endswith(".pyc")]


def test_setup_sh_is_bash_that_installs_the_tested_pins_and_tries_bubblewrap_without_failing(bundle, tmp_path):
    source = _unpack(bundle, tmp_path / "source")
    setup = (source / "setup.sh").read_text()
    assert subprocess.run(["bash", "-n", str(source / "setup.sh")]).returncode == 0
    assert subprocess.run(["bash", "-n", str(source / "run_autograder")]).returncode == 0
    assert "have bwrap || apt_install bubblewrap; then" in setup  # a failed install only logs
    assert "have apt-get || return 1" in setup
    assert 'pip install --quiet -r "$SOURCE/requirements.txt"' in setup
    assert f'TESTED_PYTHON="{sys.version_info.major}.{sys.version_info.minor}"' in setup
    pins = (source / "requirements.txt").read_text().splitlines()
    assert f"numpy=={metadata.version('numpy')}" in pins and f"nbgrader=={metadata.version('nbgrader')}" in pins
    assert f"jinja2=={metadata.version('jinja2')}" in pins  # a dependency of a dependency, pinned too
    requirements = [line for line in pins if line and not line.startswith("#")]
    assert all("==" in line or ";" in line for line in requirements)  # a range only for another Python/platform
    assert (source / "requirements-ranges.txt").read_text().splitlines()[1:] == project_requirements()


def test_the_same_files_give_the_same_bundle(bundle, tmp_path):
    assert build_bundle(ASSIGNMENT, tmp_path / "again.zip").read_bytes() == bundle.read_bytes()


def test_an_unknown_assignment_is_a_one_line_error(tmp_path, capsys):
    assert main(["gradescope-bundle", "--assignment", "nope", "--out", str(tmp_path / "a.zip")]) == 1
    assert capsys.readouterr().err.startswith("autograder: error: no source notebooks for nope")
    assert not (tmp_path / "a.zip").exists()


# -- run_autograder in a folder laid out as Gradescope's -------------------------------

@pytest.fixture
def gradescope(bundle, tmp_path):
    """``(root, run)``: ROOT/source is the unzipped bundle; ``run()`` runs run_autograder, returns results.json."""
    root = tmp_path / "autograder"
    _unpack(bundle, root / "source")
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")  # where Gradescope puts it
    (root / "submission").mkdir()
    (root / "results").mkdir()

    def run(python=sys.executable):
        env = {**os.environ, "AUTOGRADER_ROOT": str(root), "KIT_GRADESCOPE_PYTHON": python}
        done = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                              timeout=300)
        text = (root / "results" / "results.json").read_text()
        return json.loads(text), text, done
    return root, run


@pytest.fixture(scope="module")
def graded_by_autograder_grade(tmp_path_factory):
    """The bugs submission's result from `autograder grade`."""
    out = tmp_path_factory.mktemp("grade") / "out"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(BUGS), "--out", str(out), "--quiet",
                           "--assignment", ASSIGNMENT], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return SubmissionResult.from_dict(json.loads((out / "bugs.json").read_text()))


def _loose(submission):
    for name in NOTEBOOKS:
        shutil.copy2(BUGS / name, submission / name)


def _folder(submission):
    (submission / "my assignment0").mkdir()
    for name in NOTEBOOKS:
        shutil.copy2(BUGS / name, submission / "my assignment0" / name)
    (submission / "my assignment0" / ".ipynb_checkpoints").mkdir()
    (submission / "my assignment0" / ".ipynb_checkpoints" / "perceptron-checkpoint.ipynb").write_text("{}")


def _zip(submission):
    with zipfile.ZipFile(submission / "hw0.zip", "w") as archive:
        for name in NOTEBOOKS:
            archive.write(BUGS / name, f"hw0/{name}")
        archive.writestr("__MACOSX/hw0/._perceptron.ipynb", b"\0\5\26\7 not a notebook")


@pytest.mark.slow
@pytest.mark.parametrize("layout", [_loose, _folder, _zip], ids=["loose", "folder", "zip"])
def test_run_autograder_gives_autograder_grades_scores_for_every_upload_layout(gradescope, layout,
                                                                               graded_by_autograder_grade):
    root, run = gradescope
    layout(root / "submission")
    results, text, done = run()
    assert done.returncode == 0, done.stdout + done.stderr
    expected = json.loads(gradescope_json(graded_by_autograder_grade))
    assert 0 < results["score"] == expected["score"] < graded_by_autograder_grade.max_score
    assert [(t["name"], t["score"], t["max_score"]) for t in results["tests"]] == [
        (t["name"], t["score"], t["max_score"]) for t in expected["tests"]]
    assert {t["visibility"] for t in results["tests"]} == {"visible"} and results["stdout_visibility"] == "hidden"
    assert isinstance(results["execution_time"], int) and results["execution_time"] >= 1
    summary = results["output"]
    assert summary.startswith(f"{ASSIGNMENT}: {expected['score']:.4g} / 40 points.")
    assert summary.index("perceptron.ipynb:") < summary.index("logistic_regression.ipynb:")  # course order
    failed = [t for t in results["tests"] if t["score"] < t["max_score"]]
    assert failed and all(t["output"] != "passed" for t in failed)
    _assert_nothing_for_instructors_only(text, root)


def _assert_nothing_for_instructors_only(text, root):
    """No reference line, hidden-suite mention or path of the container in what students read."""
    path = root / "results" / "results.json"
    assert find_leaks([path], ROOT / "solutions" / ASSIGNMENT) == []
    assert not [line for line in secret_lines(ROOT / "solutions" / ASSIGNMENT) if line in text]
    assert str(root) not in text and "/autograder" not in text and "Traceback" not in text


@pytest.mark.slow
def test_a_renamed_or_duplicated_notebook_is_found_and_the_output_says_what_was_graded(gradescope):
    root, run = gradescope
    (root / "submission" / "hw").mkdir()
    shutil.copy2(BUGS / "perceptron.ipynb", root / "submission" / "hw" / "Perceptron (1).ipynb")
    shutil.copy2(BUGS / "logistic_regression.ipynb", root / "submission" / "hw" / "final.ipynb")
    blank = ROOT / "examples" / ASSIGNMENT / "blank"
    shutil.copy2(blank / "perceptron.ipynb", root / "submission" / "hw" / "old.ipynb")
    results, _, _ = run()
    assert results["output"].splitlines()[3:] == [
        "Graded: hw/Perceptron (1).ipynb, hw/final.ipynb.",
        "hw/final.ipynb was graded as logistic_regression.ipynb (its grade cells are logistic_regression.ipynb's).",
        "Not graded: hw/old.ipynb (perceptron.ipynb was taken from hw/Perceptron (1).ipynb).",
    ]
    assert results["score"] > 0


@pytest.mark.parametrize("upload, message", [
    ({}, "No notebook of assignment0 was found in the upload (expected perceptron.ipynb, logistic_regression.ipynb)"),
    ({"hw0.zip": b"PK\3\4 truncated"}, "hw0.zip is not a zip file that can be opened; it was not graded."),
    ({"essay.txt": b"my answers"}, "No notebook of assignment0 was found in the upload"),
], ids=["blank", "broken-zip", "no-notebook"])
def test_an_upload_without_notebooks_still_gets_a_valid_results_json_that_says_why(gradescope, upload, message):
    root, run = gradescope
    for name, data in upload.items():
        (root / "submission" / name).write_bytes(data)
    results, text, done = run()
    assert done.returncode == 0
    assert results["score"] == 0 and results["tests"] == [] and message in results["output"]
    _assert_nothing_for_instructors_only(text, root)


@pytest.mark.slow
def test_an_unreadable_notebook_costs_its_own_tests_and_the_output_says_what_is_wrong(gradescope):
    root, run = gradescope
    (root / "submission" / "perceptron.ipynb").write_text("<html><body>saved from the browser</body></html>")
    shutil.copy2(BUGS / "logistic_regression.ipynb", root / "submission")
    results, _, _ = run()
    assert "perceptron.ipynb: perceptron.ipynb is a web page (HTML), not a notebook" in results["output"]
    perceptron = [t for t in results["tests"] if t["name"].startswith("perceptron /")]
    assert perceptron and sum(t["score"] for t in perceptron) == 0
    assert results["score"] > 0  # logistic_regression is graded all the same


def test_a_grader_that_cannot_start_still_writes_a_results_json_that_is_not_the_students_fault(gradescope):
    root, run = gradescope
    _loose(root / "submission")
    results, _, done = run(python=str(root / "no-such-python"))
    assert done.returncode != 0
    assert results["score"] == 0 and "the 0 is not your grade" in results["output"]


# -- reading an upload -----------------------------------------------------------------

def test_a_zip_is_read_never_unpacked_so_no_member_lands_outside_and_a_bomb_is_cut_short(tmp_path):
    upload = tmp_path / "submission"
    upload.mkdir()
    notebook = (BUGS / "perceptron.ipynb").read_bytes()
    with zipfile.ZipFile(upload / "hw.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("hw/perceptron.ipynb", notebook)
        archive.writestr("../../escape.ipynb", notebook)
        archive.writestr("/etc/absolute.ipynb", notebook)
        archive.writestr("hw/.ipynb_checkpoints/perceptron-checkpoint.ipynb", notebook)
        archive.writestr("hw/logistic_regression.ipynb", b" " * (MAX_NOTEBOOK_BYTES * 3))  # compresses to kB
    found, notes = find_notebooks(upload)
    assert [(f.where, f.depth) for f in found] == [("hw.zip: hw/perceptron.ipynb", 2),
                                                  ("hw.zip: hw/logistic_regression.ipynb", 2)]
    assert found[0].data == notebook and len(found[1].data) == MAX_NOTEBOOK_BYTES + 1  # the reader says "too large"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["hw.zip", "submission"] and notes == []


def test_notebooks_are_matched_by_name_before_content_and_the_shallowest_copy_wins(tmp_path):
    upload = tmp_path / "submission"
    (upload / "deep").mkdir(parents=True)
    shutil.copy2(BUGS / "perceptron.ipynb", upload / "deep" / "perceptron.ipynb")
    shutil.copy2(BUGS / "perceptron.ipynb", upload / "PERCEPTRON (2).ipynb")
    (upload / "notes.ipynb").write_text('{"cells": []}')
    chosen, notes = choose(find_notebooks(upload)[0], references(ASSIGNMENT))
    assert {name: item.where for name, item in chosen.items()} == {"perceptron.ipynb": "PERCEPTRON (2).ipynb"}
    assert notes == ["Graded: PERCEPTRON (2).ipynb.",
                     "Not graded: deep/perceptron.ipynb (perceptron.ipynb was taken from PERCEPTRON (2).ipynb).",
                     "Not graded: notes.ipynb (not a notebook of assignment0)."]


def test_an_upload_too_large_is_read_up_to_its_limit_and_the_output_says_so(tmp_path, monkeypatch):
    import autograder.gradescope_run as run

    monkeypatch.setattr(run, "MAX_UPLOAD_BYTES", 1500)
    upload = tmp_path / "submission"
    upload.mkdir()
    for name in ("a.ipynb", "b.ipynb"):
        (upload / name).write_bytes(b"x" * 1000)
    found, notes = find_notebooks(upload)
    assert [f.where for f in found] == ["a.ipynb"] and notes == ["Not read, the upload is too large: b.ipynb."]


# -- results.json ----------------------------------------------------------------------

def test_visibility_chosen_for_the_bundle_reaches_every_results_json(tmp_path):
    with zipfile.ZipFile(build_bundle(ASSIGNMENT, tmp_path / "a.zip", visibility="after_due_date")) as archive:
        assert '--assignment "assignment0" --visibility after_due_date' in archive.read("run_autograder").decode()
    result = SubmissionResult("s", ASSIGNMENT, "invalid_submission", 0.0, 40.0)
    assert json.loads(gradescope_json(result, visibility="after_due_date"))["visibility"] == "after_due_date"
    assert "visibility" not in json.loads(gradescope_json(result))  # Gradescope's settings decide


def test_a_grader_error_shows_students_that_it_is_not_their_grade_and_nothing_of_the_error():
    result = SubmissionResult("s", ASSIGNMENT, "grader_error", 0.0, 40.0,
                              error="CompareError: /autograder/source/kit/autograder/hidden_tests/x.py failed")
    data = json.loads(gradescope_json(result, execution_time=3.4))
    assert data["output"].startswith("The grader itself failed on this submission: the 0 is not your grade.")
    assert "hidden_tests" not in json.dumps(data) and data["execution_time"] == 3 and data["tests"] == []
