"""Stage 5, score: hidden-test outcomes become points, with partial credit within a target.

A grade cell's points are shared among its target's tests in proportion to
their weights; a test earns its share only when it passed.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass


@dataclass
class TestResult:
    """One hidden test's result, as reported (see DESIGN.md, result JSON)."""

    __test__ = False  # not a pytest test class, despite its name

    id: str
    notebook: str
    target: str
    grade_id: str
    score: float
    max_score: float
    status: str
    message: str  # what was checked — what went wrong (compare.join_message), "" when passed
    checked: str = ""
    problem: str = ""

    def to_dict(self):
        return asdict(self)


def score(outcomes, points):
    """Score outcomes against the points of their grade cells.

    Parameters
    ----------
    outcomes : list of compare.Outcome
    points : dict
        {(notebook, grade_id): points} from the source notebooks.

    Returns
    -------
    list of TestResult
        In the order of ``outcomes``.
    """
    weights = defaultdict(float)
    for outcome in outcomes:
        weights[(outcome.notebook, outcome.grade_id)] += outcome.weight
    results = []
    for outcome in outcomes:
        key = (outcome.notebook, outcome.grade_id)
        share = points.get(key, 0.0) * outcome.weight / weights[key] if weights[key] else 0.0
        results.append(TestResult(
            id=f"{outcome.notebook.removesuffix('.ipynb')}.{outcome.target}.{outcome.name}",
            notebook=outcome.notebook, target=outcome.target, grade_id=outcome.grade_id,
            score=share if outcome.status == "passed" else 0.0, max_score=share,
            status=outcome.status, message=outcome.message, checked=outcome.checked, problem=outcome.problem,
        ))
    return results


def cell_scores(results):
    """{(notebook, grade_id): (score, max_score)} summed over each grade cell's tests."""
    totals = defaultdict(lambda: [0.0, 0.0])
    for result in results:
        totals[(result.notebook, result.grade_id)][0] += result.score
        totals[(result.notebook, result.grade_id)][1] += result.max_score
    return {key: (round(s, 6), round(m, 6)) for key, (s, m) in totals.items()}
