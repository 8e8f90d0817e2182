"""Every solution notebook runs headless on the embedded dataset and reaches its headline results."""
import pytest

from scripts.notebook_runner import run_notebook
from tests.notebooks import SOLUTIONS
from utils.manifest import load_manifest

MEMORY_BUDGET_MB = 2048

_TARGET = load_manifest(SOLUTIONS).accuracy_target
# Headline results on the digits dataset, per notebook: summary key -> minimum (the tuned ones: the manifest's).
TARGETS = {
    "knn": {"test_accuracy": 0.97},
    "svm": {"svm_val_accuracy": _TARGET("best_svm", "digits")},
    "softmax": {"softmax_val_accuracy": _TARGET("best_softmax", "digits")},
    "two_layer_net": {"net_val_accuracy": _TARGET("best_net", "digits")},
}


@pytest.fixture(scope="module")
def runs():
    return {}


def _run(name, runs):
    if name not in runs:
        runs[name] = run_notebook(SOLUTIONS / f"{name}.ipynb", timeout=300)
    return runs[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_solution_notebook_reaches_its_target_on_digits(name, runs):
    run = _run(name, runs)
    assert run.summary["dataset"] == "digits"
    for key, minimum in TARGETS[name].items():
        assert run.summary[key] >= minimum, f"{name}: {key} = {run.summary[key]} < {minimum}"
    assert run.peak_rss_mb <= MEMORY_BUDGET_MB


@pytest.mark.slow
def test_gradient_check_notebook_confirms_the_lecture_example_and_its_checks(runs):
    run = _run("gradient_check", runs)
    assert run.summary["backprop_f"] == -20.0
    assert run.summary["numerical_vs_analytic_rel_error"] < 1e-7
    assert run.peak_rss_mb <= MEMORY_BUDGET_MB
