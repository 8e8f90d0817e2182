"""Each result records where its time went (start-up, loading, the hidden tests, their checks, transport, the
rest), and the parts add up."""
import time

import pytest

from autograder.limits import Limits
from autograder.pipeline import CPU_PARTS, grade_submission
from autograder.proxy import RemoteObject
from autograder.results import SubmissionResult
from autograder.run import PHASES, StudentSession, StudentTimeout, unclaimed_cpu

PARTS = CPU_PARTS
ROUNDING = 0.005  # seconds: to_dict rounds each figure to 3 places

# Each spends about 0.3 s of CPU time in the worker: one when its cell runs, one when called.
BUSY = """import time

def _spin(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass

_spin(0.3)

def busy():
    _spin(0.3)
    return 1

def endless():
    while True:
        pass

def quadruple(double, x):
    return double(double(x))
"""


@pytest.fixture(scope="module")
def graded(reference_submission):
    return grade_submission(reference_submission, notebooks=["gradient_check.ipynb"])


def test_a_result_records_every_phase_and_they_add_up_to_its_cpu_time(graded):
    timings = graded.timings
    assert graded.status == "graded" and graded.score == graded.max_score > 0
    assert all(timings[f"{part}_cpu"] >= 0 for part in PARTS), timings
    assert all(timings[f"{part}_wall"] >= 0 for part in (*PHASES, "other")), timings
    assert all(timings[f"{part}_cpu"] > 0 for part in ("startup", "loading", "tests", "checks", "transport")), timings
    assert timings["round_trips"] > 20, timings
    phases = sum(timings[f"{phase}_cpu"] for phase in PHASES)
    assert phases <= graded.cpu_seconds + 1e-9
    assert sum(timings[f"{part}_cpu"] for part in PARTS) == pytest.approx(graded.cpu_seconds, abs=1e-6)
    assert sum(timings[f"{phase}_wall"] for phase in PHASES) <= graded.seconds
    assert 0 < timings["grader_cpu"] <= graded.cpu_seconds
    assert timings["grader_max_rss"] > 0 and timings["worker_max_rss"] > 0


def test_the_timings_are_in_the_json_only_with_the_other_times(graded):
    plain = graded.to_dict(timings=False)
    assert "timings" not in plain and "seconds" not in plain and "cpu_seconds" not in plain
    written = graded.to_dict()
    assert set(written["timings"]) == set(graded.timings)
    assert sum(written["timings"][f"{part}_cpu"] for part in PARTS) == pytest.approx(
        written["cpu_seconds"], abs=len(PARTS) * ROUNDING)
    assert SubmissionResult.from_dict(written).timings == written["timings"]


def test_the_worker_time_of_a_cell_is_loading_and_of_a_call_is_tests(tmp_path):
    with StudentSession(tmp_path) as session:
        session.load("m.ipynb", [("code", BUSY)])
        loaded = dict(session.phases.cpu)
        assert RemoteObject(session, "m.ipynb", "m.ipynb", session.generation).busy() == 1
    assert loaded["loading"] >= 0.25 and loaded["tests"] < 0.1, loaded
    assert session.phases.cpu["tests"] - loaded["tests"] >= 0.25, session.phases
    assert session.phases.cpu["loading"] - loaded["loading"] < 0.1, session.phases
    assert loaded["startup"] > 0 and session.phases.wall["startup"] > 0


SPIN_A_LITTLE = """import time
end = time.process_time() + 0.1
while time.process_time() < end:
    pass
"""


def _spin_here(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_what_no_session_claims_is_the_graders_own_work_and_a_requests_share_is_transport(tmp_path):
    with StudentSession(tmp_path) as session:
        session.load("m.ipynb", [("code", BUSY)])
        module = RemoteObject(session, "m.ipynb", "m.ipynb", session.generation)
        start, process_start = unclaimed_cpu(), time.process_time()
        _spin_here(0.2)  # the test's own work, here
        assert module.busy() == 1  # the worker's 0.3 s; here only the request's encoding and waiting
        # Two callbacks, round trips too; the function they run here is the test's own work.
        assert module.quadruple(lambda x: _spin_here(0.05) or 2 * x, 1) == 4
        session.load("n.ipynb", [("code", SPIN_A_LITTLE)])  # worker and grader time of a cell: loading
        own, spent = unclaimed_cpu() - start, time.process_time() - process_start
    assert 0.3 <= own < 0.3 + 0.05, (own, spent)
    assert 0 < session.phases.transport < 0.05 and session.phases.cpu["tests"] >= 0.25, session.phases
    assert session.round_trips == 9  # ping, load, 2 x (getattr, call), 2 callbacks, load: counted at the end
    assert own + session.phases.transport <= spent + 1e-6


def test_a_call_killed_at_its_deadline_still_counts_its_cpu_time(tmp_path):
    with StudentSession(tmp_path, Limits(call_seconds=2)) as session:
        session.load("m.ipynb", [("code", BUSY)])
        with pytest.raises(StudentTimeout):
            RemoteObject(session, "m.ipynb", "m.ipynb", session.generation).endless()
        # A busy machine gives the loop less than the 2 s, never nothing.
        assert session.phases.cpu["tests"] >= 0.3, session.phases
    assert session.cpu_seconds >= 0.3 + 0.3  # the killed worker's time is in it, its cell's too
