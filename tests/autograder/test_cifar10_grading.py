"""Grading on CIFAR-10: the dataset reaches the sandboxed worker read-only, with the limits declared for it.

The full-size test writes the real layout (``scripts.synthetic_cifar``: 50000 + 10000 images of
32 x 32 x 3 in ``data_batch_1..5`` and ``test_batch``) and grades the reference and one wrong
submission through the command line, as a course would. It takes minutes, so it is marked
``large``: ``make test`` leaves it out, ``make test-large`` and ``.ci/run`` run it.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.limits import load_limits
from autograder.sandbox import SANDBOX_DATA, Workspace, detect, worker_command
from scripts import synthetic_cifar
from tests.autograder.mutants import Mutant
from tests.autograder.submissions import make_edited_submission
from tests.notebooks import ROOT
from utils import cifar10
from utils.manifest import load_manifest

# Right on digits, wrong on CIFAR-10: learning rates too small to leave the random start in 1500 steps.
TIMID_ON_CIFAR = Mutant("timid_learning_rates_on_cifar10", "svm", "tune_best_svm",
                        old="    learning_rates = [1e-7, 3e-7, 1e-6]\n",
                        new="    learning_rates = [1e-13, 1e-12]\n", breaks=("best_svm",))


def _environment(data_dir, md5):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIT_")}
    return {**env, "KIT_CIFAR10_MD5": md5, "PYTHONPATH": str(ROOT)}


# -- the worker sees the dataset, read-only (fast) ----------------------------------------------

READ_AND_TRY_TO_WRITE = """
import os, pathlib
folder = pathlib.Path(os.environ["KIT_DATA_DIR"]) / "cifar-10-batches-py"
print("dataset", os.environ["KIT_DATASET"])
print("data dir", os.environ["KIT_DATA_DIR"])
print("files", sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")))
print("batch bytes", len((folder / "data_batch_1").read_bytes()) > 0)
for target in (folder / "data_batch_1", folder / "new_file"):
    try:
        with open(target, "ab") as handle:
            handle.write(b"x")
        print("wrote", target.name)
    except OSError as exc:
        print("refused", target.name)
print("parent", sorted(p.name for p in folder.parent.iterdir()))
"""


def test_a_cifar10_worker_reads_the_dataset_folder_and_cannot_change_it(tmp_path, monkeypatch):
    if detect().level != "bubblewrap":
        pytest.skip("the read-only data folder is a bubblewrap mount; elsewhere the files' own modes apply")
    data_dir = tmp_path / "data"
    md5 = synthetic_cifar.write(data_dir, batch_size=20)
    (data_dir / "other-course-secrets.txt").write_text("not for the worker")
    monkeypatch.setenv("KIT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KIT_CIFAR10_MD5", md5)
    before = {p.name: p.read_bytes() for p in (data_dir / cifar10.FOLDER_NAME).iterdir()}
    with Workspace({}, dataset="cifar10") as workspace:
        argv, env, cwd = worker_command(workspace, detect(), [sys.executable, "-I", "-c", READ_AND_TRY_TO_WRITE])
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stderr
    assert "dataset cifar10" in lines and f"data dir {SANDBOX_DATA}" in lines
    assert "files ['batches.meta', 'data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', " \
           "'data_batch_5', 'test_batch']" in lines and "batch bytes True" in lines
    assert "refused data_batch_1" in lines and "refused new_file" in lines
    assert "parent ['cifar-10-batches-py']" in lines  # the dataset's folder, nothing else of the data directory
    assert {p.name: p.read_bytes() for p in (data_dir / cifar10.FOLDER_NAME).iterdir()} == before


def test_grading_on_cifar10_without_the_data_is_one_clear_error(tmp_path, reference_submission):
    subs = tmp_path / "subs"
    shutil.copytree(reference_submission, subs / "ada")
    env = _environment(tmp_path, "0" * 32)
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(tmp_path / "out"),
                           "--dataset", "cifar10", "--data-dir", str(tmp_path / "nothing-here"), "--quiet"],
                          env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 1
    assert "grading on CIFAR-10, but" in done.stderr and "python -m utils.data download cifar10" in done.stderr
    assert not list((tmp_path / "out").glob("*.json"))


# -- full size (minutes) ---------------------------------------------------------------------------

@pytest.mark.large
def test_full_size_cifar10_reference_scores_full_marks_and_a_wrong_tuning_loses_exactly_its_target(
        tmp_path, reference_submission):
    data_dir = tmp_path / "data"
    md5 = synthetic_cifar.write(data_dir)
    subs, out = tmp_path / "subs", tmp_path / "out"
    shutil.copytree(reference_submission, subs / "ada")
    make_edited_submission(subs / "timid", reference_submission, TIMID_ON_CIFAR)

    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out),
                           "--dataset", "cifar10", "--data-dir", str(data_dir), "--jobs", "2", "--quiet"],
                          env=_environment(data_dir, md5), capture_output=True, text=True, timeout=2400, cwd=ROOT)

    assert done.returncode == 0, done.stderr
    ada, timid = (json.loads((out / f"{name}.json").read_text()) for name in ("ada", "timid"))
    expected_limits = load_limits(load_manifest(ROOT / "solutions" / "assignment1"), "cifar10").to_dict()
    for result in (ada, timid):
        assert result["status"] == "graded", result.get("error")
        assert result["limits"] == expected_limits and result["limits"]["dataset"] == "cifar10"
    assert ada["score"] == ada["max_score"] > 0, [t for t in ada["tests"] if t["score"] < t["max_score"]]
    lost = {t["target"] for t in timid["tests"] if t["score"] < t["max_score"]}
    assert lost == {"best_svm"}
    assert timid["score"] < ada["score"]
    feedback = (out / "feedback" / "timid.html").read_text()
    assert "graded on the cifar10 dataset" in feedback


def test_a_result_graded_on_another_dataset_is_not_reused(tmp_path, reference_submission):
    from autograder.batch import _already_graded
    from autograder.results import SubmissionResult
    from autograder.versioning import grader_version, submission_fingerprint

    manifest = load_manifest(ROOT / "solutions" / "assignment1")
    on_digits, on_cifar = (load_limits(manifest, name).to_dict() for name in ("digits", "cifar10"))
    fingerprint = submission_fingerprint(reference_submission)
    result = SubmissionResult("ada", "assignment1", "graded", 1.0, 1.0, [], grader_version=grader_version(),
                              fingerprint=fingerprint, limits=on_digits)
    path = tmp_path / "ada.json"
    path.write_text(json.dumps(result.to_dict()))
    assert _already_graded(path, grader_version(), fingerprint, on_digits) is not None
    assert _already_graded(path, grader_version(), fingerprint, on_cifar) is None
