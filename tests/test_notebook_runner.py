"""scripts.notebook_runner: a notebook run headless reports its summary, and the kernel keeps quiet."""
import nbformat

from scripts.notebook_runner import run_notebook


def test_a_headless_run_reads_the_summary_and_prints_no_kernel_warnings(tmp_path, capfd):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("summary = {'accuracy': 0.5}")])
    nbformat.write(nb, str(tmp_path / "tiny.ipynb"))
    run = run_notebook(tmp_path / "tiny.ipynb", timeout=60)
    assert run.summary == {"accuracy": 0.5}
    captured = capfd.readouterr()
    assert "WARNING" not in captured.err + captured.out  # e.g. ipykernel's "running over TCP" line
