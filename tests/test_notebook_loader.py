"""utils.load_notebook: runs only the imports and definition cells, in a fresh module."""
import nbformat
import pytest

from utils import NotebookLoadError, load_notebook
from utils.notebook_loader import STARTER_KEY, python_source, stood_in


def _cell(source, grade_id=None, **flags):
    cell = nbformat.v4.new_code_cell(source)
    if grade_id:
        meta = dict(grade=False, locked=False, solution=False, task=False, schema_version=3, grade_id=grade_id)
        meta.update(flags)
        cell.metadata["nbgrader"] = meta
    return cell


def _write(tmp_path, name, cells):
    nb = nbformat.v4.new_notebook(cells=cells)
    nbformat.write(nb, str(tmp_path / f"{name}.ipynb"))


@pytest.fixture
def notebook(tmp_path):
    _write(tmp_path, "demo", [
        _cell("import math\nCALLS = []", "imports", locked=True),
        _cell("raise RuntimeError('the data cell must not run')", "data", locked=True),
        _cell("def area(r):\n    %time 1\n    !echo hi\n    return math.pi * r ** 2", "area", solution=True),
        _cell("raise RuntimeError('experiments must not run')"),
        _cell("assert False, 'grade cells must not run'", "test_area", grade=True, locked=True, points=1),
        _cell("raise RuntimeError('tuning must not run')", "tune_best_area", solution=True),
        _cell(
            "class Shape:\n    def perimeter(self):\n        raise NotImplementedError('TODO')\n"
            "    def twice(self):\n        return 2 * self.perimeter()\n"
            "    def area(self):\n        raise NotImplementedError('subclasses define the area')",
            "shape", solution=True,
        ),
    ])
    return tmp_path


def test_definitions_are_loaded_and_other_cells_are_not_run(notebook):
    module = load_notebook("demo", directory=notebook)
    assert module.area(1.0) == pytest.approx(3.141592653589793)
    assert module.CALLS == []
    assert hasattr(module, "Shape")


def test_each_call_gives_a_fresh_module(notebook):
    first = load_notebook("demo", directory=notebook)
    first.CALLS.append(1)
    assert load_notebook("demo.ipynb", directory=notebook).CALLS == []


def test_unfinished_todo_names_the_notebook_and_the_function(notebook):
    module = load_notebook("demo", directory=notebook)
    with pytest.raises(NotImplementedError, match=r"Shape\.perimeter in demo\.ipynb is not implemented"):
        module.Shape().perimeter()


def test_unfinished_todo_is_named_where_it_is_even_when_called_indirectly(notebook):
    module = load_notebook("demo", directory=notebook)
    with pytest.raises(NotImplementedError, match=r"Shape\.perimeter in demo\.ipynb") as info:
        module.Shape().twice()
    assert "twice" not in str(info.value)


def test_missing_notebook_says_where_it_looked(tmp_path):
    with pytest.raises(NotebookLoadError, match=r"cannot find notebook svm\.ipynb in .*"):
        load_notebook("svm", directory=tmp_path)


def test_failing_definition_cell_is_named(tmp_path):
    _write(tmp_path, "broken", [_cell("def f(:\n    pass", "f", solution=True)])
    with pytest.raises(NotebookLoadError, match=r"cell 'f' of broken\.ipynb failed while loading it: SyntaxError"):
        load_notebook("broken", directory=tmp_path)


def test_a_cell_that_raises_runs_the_starter_the_grader_put_beside_it_and_says_so(tmp_path):
    """The grader's copies of a notebook that others load carry each cell's released starter."""
    raises = _cell("def f():\n    return 'student'\nraise ValueError('at load')", "f", solution=True)
    raises.metadata[STARTER_KEY] = "def f():\n    raise NotImplementedError('TODO')"
    works = _cell("def g():\n    return 'student'", "g", solution=True)
    works.metadata[STARTER_KEY] = "def g():\n    raise NotImplementedError('TODO')"
    _write(tmp_path, "sibling", [raises, works])
    stood_in.clear()
    module = load_notebook("sibling", directory=tmp_path)
    assert stood_in == [("sibling.ipynb", "f", "ValueError")]
    with pytest.raises(NotImplementedError, match="f in sibling.ipynb is not implemented yet"):
        module.f()
    assert module.g() == "student"  # a cell that loads keeps the student's code


def test_a_cell_that_raises_without_a_starter_still_fails_the_load(tmp_path):
    _write(tmp_path, "plain", [_cell("raise ValueError('at load')", "f", solution=True)])
    stood_in.clear()
    with pytest.raises(NotebookLoadError, match="cell 'f' of plain.ipynb failed while loading it: ValueError"):
        load_notebook("plain", directory=tmp_path)
    assert stood_in == []


def test_malformed_file_is_a_load_error(tmp_path):
    (tmp_path / "junk.ipynb").write_text("{not json")
    with pytest.raises(NotebookLoadError, match=r"cannot read junk\.ipynb"):
        load_notebook("junk", directory=tmp_path)


def test_python_source_drops_magics_and_shell_escapes():
    assert python_source("%matplotlib inline\nx = 1\n  !ls\n") == "x = 1\n"
    assert python_source("%%timeit\nx = 1\n") == ""


def test_a_duplicated_definition_cell_counts_once_and_the_last_copy_wins(tmp_path):
    _write(tmp_path, "dup", [
        _cell("def f():\n    return 'first'", "f", solution=True),
        _cell("def f():\n    return 'second'", "f", solution=True),
    ])
    assert load_notebook("dup", directory=tmp_path).f() == "second"


def test_cells_run_in_the_expected_order_whatever_the_students_order():
    from utils.notebook_loader import select_definition_cells

    nb = nbformat.v4.new_notebook(cells=[
        _cell("B = A + 1", "b", solution=True),
        _cell("A = 1", "a", solution=True),
    ])
    cells, missing = select_definition_cells(nb, expected=[("a", {"A"}), ("b", {"B"})])
    assert [label for label, _ in cells] == ["a", "b"] and missing == []


def test_a_retyped_cell_without_metadata_stands_in_for_a_deleted_one_and_others_are_missing():
    from utils.notebook_loader import select_definition_cells

    nb = nbformat.v4.new_notebook(cells=[
        _cell("def helper():\n    pass"),
        _cell("import numpy as np\ndef loss(w):\n    return w"),
    ])
    cells, missing = select_definition_cells(nb, expected=[("loss", {"loss"}), ("grad", {"grad"})])
    assert cells == [("loss", "import numpy as np\ndef loss(w):\n    return w")]
    assert missing == ["grad"]


def test_a_notebook_loading_a_sibling_finds_it_next_to_itself_from_any_working_directory(tmp_path, monkeypatch):
    _write(tmp_path, "base", [_cell("class Base:\n    KIND = 'base'", "base_class", solution=True)])
    _write(tmp_path, "child", [
        _cell("from utils import load_notebook\nBase = load_notebook('base').Base", "imports", locked=True),
        _cell("class Child(Base):\n    pass", "child_class", solution=True),
    ])
    monkeypatch.chdir(tmp_path.parent)
    assert load_notebook(tmp_path / "child.ipynb").Child.KIND == "base"


def test_source_of_loaded_functions_is_available_to_inspect(notebook):
    import inspect

    module = load_notebook("demo", directory=notebook)
    assert "math.pi * r ** 2" in inspect.getsource(inspect.unwrap(module.area))


def test_a_deliberate_not_implemented_error_keeps_its_own_message(notebook):
    module = load_notebook("demo", directory=notebook)
    with pytest.raises(NotImplementedError, match="^subclasses define the area$"):
        module.Shape().area()
