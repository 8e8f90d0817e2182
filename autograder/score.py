"""Stage 5, score: hidden-test outcomes become points, with partial credit within a target.

A grade cell's points are shared among its target's tests in proportion to
their weights; a test earns its share only when it passed.
"""
from __future__ import annotations

from collections import defaultdict

from autograder.results import TestResult


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
