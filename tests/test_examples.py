"""The committed example class that `make demo` grades is current with the solutions and the release."""
import json

from scripts.make_examples import EXAMPLES, build_from_solutions


def test_committed_example_class_is_what_make_examples_builds(tmp_path):
    fresh = build_from_solutions(tmp_path / "class")
    committed = sorted(p.relative_to(EXAMPLES) for p in EXAMPLES.rglob("*.ipynb"))
    assert sorted(p.relative_to(fresh) for p in fresh.rglob("*.ipynb")) == committed
    stale = [str(path) for path in committed if (EXAMPLES / path).read_text() != (fresh / path).read_text()]
    assert stale == [], f"examples/class is stale for {stale}: run `make release` and commit it"


def test_the_class_has_the_five_kinds_of_student():
    assert sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()) == ["ada", "blank", "broken", "bugs", "partial"]


def test_the_broken_students_knn_notebook_is_really_not_json():
    text = (EXAMPLES / "broken" / "knn.ipynb").read_text()
    try:
        json.loads(text)
    except ValueError:
        return
    raise AssertionError("the truncated notebook parses")
