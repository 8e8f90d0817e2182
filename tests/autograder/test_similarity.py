"""`autograder similarity`: a disguised copy ranks first, independent work and blank notebooks do not,
a leaked reference shows, the CSV has every pair once, and student code in the page is inert."""
import csv
import re
import shutil
import textwrap

import nbformat
import pytest

from autograder.cli import main
from autograder.fingerprint import fingerprint
from scripts.paste_solutions import paste_reference
from tests.notebooks import ROOT
from utils.cells import grade_id

ASSIGNMENT = "assignment0"
RELEASE = ROOT / "assignments" / ASSIGNMENT
SOLUTIONS = ROOT / "solutions" / ASSIGNMENT
TODO_LINE = 'raise NotImplementedError("TODO: replace this line with your code")'

# -- one student's solutions: the body that replaces the TODO line, or a whole cell ---------------------------
ORIGIN = {
    "predict_binary": "y_pred[X @ w < 0] = -1",
    "perceptron": """\
        for step in range(num_steps):
            idx = step % num_train
            if y[idx] * np.dot(w, X[idx]) <= 0:
                w += y[idx] * X[idx]""",
    "perceptron_loss": """\
        margins = y * X.dot(w)
        wrong = margins <= 0
        loss = float(np.maximum(0.0, -margins).sum() / num_train)
        grad = -X[wrong].T.dot(y[wrong]) / num_train""",
    "multiclass_perceptron": """\
        for step in range(num_steps):
            idx = step % num_train
            scores = X[idx].dot(W)
            guess = int(np.argmax(scores))
            if guess != y[idx]:
                W[:, y[idx]] = W[:, y[idx]] + X[idx]
                W[:, guess] = W[:, guess] - X[idx]""",
    "sigmoid": """\
        e = np.exp(-np.abs(z))
        positive = z >= 0
        s[positive] = 1.0 / (1.0 + e[positive])
        s[~positive] = e[~positive] / (1.0 + e[~positive])""",
    "sgd": """\
        for iteration in range(num_iters):
            rows = rng.choice(num_train, batch_size)
            batch_loss, batch_grad = loss_fn(w, X[rows], y[rows])
            loss_history.append(float(batch_loss))
            w = w - learning_rate * batch_grad""",
    "tune_best_logistic_w": """\
        for lr in learning_rates:
            for reg in regularization_strengths:
                objective = lambda w, Xb, yb, reg=reg: logistic_loss(w, Xb, yb, reg)
                w, history = sgd(objective, np.zeros(X_train.shape[1]), X_train, y_train,
                                 learning_rate=lr, num_iters=num_iters)
                train_acc = np.mean(predict_binary(w, X_train) == y_train)
                val_acc = np.mean(predict_binary(w, X_val) == y_val)
                results[(lr, reg)] = (train_acc, val_acc)
                if val_acc > best_val:
                    best_val = val_acc
                    best_logistic_w = w
                    best_history = history""",
}
ORIGIN_CELLS = {  # a cell written whole: a helper, then the graded function
    "logistic_loss": '''\
        def _softplus(t):
            # log(1 + exp(t)) without overflow
            return np.logaddexp(0.0, t)


        def logistic_loss(w, X, y, reg=0.0):
            num_train = X.shape[0]
            margins = y * X.dot(w)
            loss = float(_softplus(-margins).mean() + reg * np.dot(w, w))
            weights = y * sigmoid(-margins)
            grad = -X.T.dot(weights) / num_train + 2.0 * reg * w
            return loss, grad
        ''',
}

# -- the same code disguised: every name changed, literals, comments and layout changed, the helper after the
# function that calls it, and two cells moved to the end of their notebooks ------------------------------------
DISGUISED = {
    "predict_binary": "y_pred[(X @ w) < 0] = -7  # negative side",
    "perceptron": """\
        for k in range(num_steps):
            j = k % num_train
            # update on a mistake
            if y[j] * np.dot(w, X[j]) <= 0: w += y[j] * X[j]""",
    "perceptron_loss": """\
        mm = y * X.dot(w)
        bad = mm <= 0
        loss = float(np.maximum(0, -mm).sum() / num_train)
        grad = -X[bad].T.dot(y[bad]) / num_train""",
    "multiclass_perceptron": """\
        for it in range(num_steps):
            row = it % num_train
            sc = X[row].dot(W)
            c = int(np.argmax(sc))
            if c != y[row]:
                W[:, y[row]] = W[:, y[row]] + X[row]
                W[:, c] = W[:, c] - X[row]""",
    "sigmoid": """\
        q = np.exp( -np.abs(z) )
        pos = (z >= 0)
        s[pos] = 1 / (1 + q[pos])
        s[~pos] = q[~pos] / (1 + q[~pos])""",
    "sgd": """\
        for n in range(num_iters):
            r = rng.choice(num_train, batch_size)
            l, g = loss_fn(w, X[r], y[r])
            loss_history.append(float(l))
            w = w - learning_rate * g""",
    "tune_best_logistic_w": """\
        for a in learning_rates:
            for b in regularization_strengths:
                f = lambda w, P, Q, reg=b: logistic_loss(w, P, Q, reg)
                w, h = sgd(f, np.zeros(X_train.shape[1]), X_train, y_train, learning_rate=a, num_iters=num_iters)
                tr = np.mean(predict_binary(w, X_train) == y_train)
                va = np.mean(predict_binary(w, X_val) == y_val)
                results[(a, b)] = (tr, va)
                if va > best_val:
                    best_val = va
                    best_logistic_w = w
                    best_history = h""",
}
DISGUISED_CELLS = {
    "logistic_loss": '''\
        def logistic_loss(w, X, y, reg=0.0):
            N = X.shape[0]
            m = y * X.dot(w)
            loss = float(smooth(-m).mean() + reg * np.dot(w, w))
            coef = y * sigmoid(-m)
            grad = -X.T.dot(coef) / N + 2 * reg * w
            return loss, grad

        def smooth(u):
            return np.logaddexp(0, u)
        ''',
}
MOVED = ("predict_binary", "sigmoid")

# -- independent, correct work written another way ---------------------------------------------------------------
INDEPENDENT = {
    "predict_binary": "y_pred = np.where(np.dot(X, w) < 0, -1, 1).astype(np.int64)",
    "perceptron": """\
        t = 0
        while t < num_steps:
            x_t, y_t = X[t % num_train], y[t % num_train]
            if y_t * (x_t @ w) <= 0:
                w = w + y_t * x_t
            t += 1""",
    "perceptron_loss": """\
        m = (X @ w) * y
        on_wrong_side = (m <= 0).astype(np.float64)
        loss = float(np.mean(np.maximum(-m, 0)))
        grad = -((on_wrong_side * y) @ X) / num_train""",
    "multiclass_perceptron": """\
        for t in range(num_steps):
            x = X[t % num_train]
            label = y[t % num_train]
            pred = np.argmax(x @ W)
            if pred == label:
                continue
            W[:, label] += x
            W[:, pred] -= x""",
    "sigmoid": """\
        small = np.exp(-np.abs(z))
        s = np.where(z < 0, small, 1.0) / (1.0 + small)""",
    "logistic_loss": """\
        m = y * (X @ w)
        loss = np.mean(np.logaddexp(0, -m)) + reg * (w ** 2).sum()
        loss = float(loss)
        grad = X.T @ (-y * sigmoid(-m)) / num_train + 2 * reg * w""",
    "sgd": """\
        for _ in range(num_iters):
            idx = rng.choice(num_train, batch_size)
            Xb, yb = X[idx], y[idx]
            value, g = loss_fn(w, Xb, yb)
            loss_history += [float(value)]
            w -= learning_rate * g""",
    "tune_best_logistic_w": """\
        from itertools import product

        for lr, reg in product(learning_rates, regularization_strengths):
            def objective(w, Xb, yb, reg=reg):
                return logistic_loss(w, Xb, yb, reg)

            w, hist = sgd(objective, np.zeros(X_train.shape[1]), X_train, y_train, learning_rate=lr,
                          num_iters=num_iters)
            accuracies = tuple(float((predict_binary(w, A) == b).mean()) for A, b in ((X_train, y_train),
                                                                                     (X_val, y_val)))
            results[lr, reg] = accuracies
            if accuracies[1] > best_val:
                best_val, best_logistic_w, best_history = accuracies[1], w, hist""",
}
BARELY_STARTED = "y_pred = np.where(X @ w >= 0, 1, -1).astype(np.int64)"
HOSTILE_LINE = "tag = '</script><script>alert(1)</script>'  # <b>not bold</b>"


def _filled(cell, bodies, cells):
    """``cell``'s source with the student's code in place of the TODO line (or written whole)."""
    gid = grade_id(cell)
    if gid in cells:
        return textwrap.dedent(cells[gid])
    if gid not in bodies:
        return cell.source
    lines = cell.source.split("\n")
    (at,) = [k for k, line in enumerate(lines) if line.strip() == TODO_LINE]
    indent = lines[at][:len(lines[at]) - len(lines[at].lstrip())]
    lines[at:at + 1] = textwrap.indent(textwrap.dedent(bodies[gid]), indent).split("\n")
    return "\n".join(lines)


def write_submission(folder, bodies=None, cells=None, moved=()):
    """A submission of assignment 0 built from the real release, its solution cells filled in."""
    folder.mkdir(parents=True)
    for path in sorted(RELEASE.glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            cell.source = _filled(cell, bodies or {}, cells or {})
        nb.cells = ([c for c in nb.cells if grade_id(c) not in moved] +
                    [c for c in nb.cells if grade_id(c) in moved])
        nbformat.write(nb, str(folder / path.name))
    return folder


def write_leak(folder):
    """The release with the reference solutions pasted in, as a student who got hold of them would hand in."""
    folder.mkdir(parents=True)
    for path in sorted(RELEASE.glob("*.ipynb")):
        released = nbformat.read(str(path), as_version=4)
        source = nbformat.read(str(SOLUTIONS / path.name), as_version=4)
        nbformat.write(paste_reference(released, source), str(folder / path.name))


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


class TestAClass:
    """Eight students: a disguised copy, independent work, two blank notebooks, two barely started ones
    (the same one line each) and a leaked reference."""

    @pytest.fixture(scope="class")
    @classmethod
    def out(cls, tmp_path_factory):
        root = tmp_path_factory.mktemp("similarity")
        write_submission(root / "class" / "olga", ORIGIN, ORIGIN_CELLS)
        write_submission(root / "class" / "dmitri", DISGUISED, DISGUISED_CELLS, moved=MOVED)
        write_submission(root / "class" / "ingrid", INDEPENDENT)
        write_submission(root / "class" / "blank1")
        write_submission(root / "class" / "blank2")
        write_submission(root / "class" / "bart1", {"predict_binary": BARELY_STARTED})
        write_submission(root / "class" / "bart2", {"predict_binary": BARELY_STARTED})
        write_leak(root / "class" / "lee")
        assert main(["similarity", str(root / "class"), "--out", str(root / "out")]) == 0
        return root / "out"

    @pytest.fixture(scope="class")
    @classmethod
    def pairs(cls, out):
        return {frozenset(row[:2]): float(row[2]) for row in read_csv(out / "similarity.csv")[1:]}

    def test_the_disguised_copy_ranks_first(self, out, pairs):
        first = read_csv(out / "similarity.csv")[1]
        assert first[:2] == ["dmitri", "olga"]
        assert float(first[2]) > 0.8

    def test_independent_solutions_rank_well_below(self, pairs):
        copied = pairs[frozenset(("dmitri", "olga"))]
        for other in ("olga", "dmitri", "lee"):
            assert pairs[frozenset(("ingrid", other))] < min(0.3, copied / 3)

    def test_blank_notebooks_share_nothing(self, pairs):
        assert pairs[frozenset(("blank1", "blank2"))] < 0.02
        for other in ("olga", "dmitri", "ingrid", "lee"):
            assert pairs[frozenset(("blank1", other))] < 0.02

    def test_two_barely_started_notebooks_with_the_same_line_score_little(self, pairs):
        assert 0 < pairs[frozenset(("bart1", "bart2"))] < 0.2

    def test_a_leaked_reference_shows(self, out):
        page = (out / "similarity.html").read_text()
        table = page[page.index('<table id="reference">'):]
        rows = table[:table.index("</table>")].split("<tr>")[2:]
        ranking = [(row.split("<td>")[1].split("</td>")[0], float(row.split('class="num">')[1].split("<")[0]))
                   for row in rows]
        assert ranking[0][0] == "lee" and ranking[0][1] > 0.9
        assert dict(ranking)["olga"] < 0.5 and dict(ranking)["blank1"] == 0.0

    def test_the_csv_has_every_pair_once_most_similar_first(self, out):
        rows = read_csv(out / "similarity.csv")
        assert rows[0] == ["student_a", "student_b", "similarity"]
        body = rows[1:]
        assert len(body) == 8 * 7 // 2
        assert len({frozenset(row[:2]) for row in body}) == len(body)
        assert all(a < b for a, b, _ in body)
        values = [float(value) for _, _, value in body]
        assert all(0.0 <= value <= 1.0 for value in values)
        assert values == sorted(values, reverse=True)

    def test_the_page_says_it_judges_nothing_and_marks_shared_code(self, out):
        page = (out / "similarity.html").read_text()
        assert "ranks pairs of submissions for a person to read. It judges nothing." in page
        first_pair = page[page.index('id="pair-1"'):page.index('id="pair-2"')]
        assert "dmitri and olga" in first_pair
        assert "<mark>" in first_pair and "np.argmax" in first_pair

    def test_code_the_release_gave_is_never_marked(self, out):
        page = (out / "similarity.html").read_text()
        marks = re.findall(r"<mark>(.*?)</mark>", page, re.S)
        assert any("argmax" in mark for mark in marks)
        for given in ("return W", "return w, loss_history", "return loss, grad"):
            assert given in page and not any(given in mark for mark in marks)


def test_student_code_and_names_in_the_page_are_escaped(tmp_path):
    hostile = dict(ORIGIN, perceptron=ORIGIN["perceptron"] + "\n        " + HOSTILE_LINE)
    write_submission(tmp_path / "class" / "olga", ORIGIN, ORIGIN_CELLS)
    write_submission(tmp_path / "class" / "eve<img src=x onerror=alert(2)>", hostile, ORIGIN_CELLS)
    assert main(["similarity", str(tmp_path / "class"), "--out", str(tmp_path / "out")]) == 0
    page = (tmp_path / "out" / "similarity.html").read_text()
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text
    assert "<script>" not in page and "<b>" not in page and "<img" not in page
    assert "eve&lt;img src=x onerror=alert(2)&gt;" in page


def test_a_cell_that_does_not_parse_still_counts_up_to_its_fault():
    whole = fingerprint("def f(a, b):\n    total = 0\n    for i in range(b):\n        total += a[i] * 2\n"
                        "    return total\n")
    broken = fingerprint("def f(a, b):\n    total = 0\n    for i in range(b):\n        total += a[i] * 2\n"
                         "    return (total\n")
    assert len(broken.hashes) > 0 and set(broken.hashes) & set(whole.hashes)


@pytest.mark.parametrize("students, args, message", [
    ((), ["/nowhere"], "autograder: error: /nowhere: no such file or folder"),
    (("ann",), ["class"], "at least two submissions to compare; found 1 (ann)"),
    (("ann", "bob"), ["class", "--top", "-1"], "--top must be 0 or more"),
])
def test_bad_input_is_a_one_line_error(tmp_path, monkeypatch, capsys, students, args, message):
    for student in students:
        (tmp_path / "class" / student).mkdir(parents=True)
        shutil.copy2(RELEASE / "perceptron.ipynb", tmp_path / "class" / student)
    monkeypatch.chdir(tmp_path)
    assert main(["similarity", *args, "--out", "out"]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
