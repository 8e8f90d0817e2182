"""Faults of the grading environment rather than of a submission.

The grader killed mid-batch and restarted, two graders on one output folder,
student ids that clean to the same file name, and broken hidden suites. Each
entry names what must hold; ``tests/autograder/test_scenarios.py`` stages them.
A broken hidden suite is the grader's fault: a ``grader_error``, never a
student's zero.
"""
from dataclasses import dataclass

from tests.autograder.scenarios import Scenario


@dataclass(frozen=True)
class Breakage:
    """A change to a copy of the hidden suites that breaks the grader, not the student."""

    name: str
    cause: tuple  # phrases the grader error names (any one)

    def apply(self, suites):
        suite = suites / "test_gradient_check.py"
        text = suite.read_text()
        if self.name == "suite_with_a_syntax_error":
            suite.write_text(text + "\ndef broken(:\n    pass\n")
        elif self.name == "suite_that_fails_to_import":
            suite.write_text("import a_module_that_does_not_exist_anywhere\n" + text)
        elif self.name == "suite_file_missing":
            suite.unlink()
        elif self.name == "test_without_a_target_marker":
            suite.write_text(text + "\n\ndef test_unmarked(student):\n    pass\n")
        elif self.name == "fixture_of_the_suite_fails":
            suite.write_text(text + "\n\n@pytest.fixture(autouse=True)\ndef _broken_checker():\n"
                                    "    raise RuntimeError('the checker itself is broken')\n")
        else:
            raise AssertionError(self.name)


BREAKAGES = [
    Breakage("suite_with_a_syntax_error", ("could not run", "exit code", "hidden suite")),
    Breakage("suite_that_fails_to_import", ("could not run", "exit code", "hidden suite")),
    Breakage("suite_file_missing", ("no hidden suites", "hidden suite")),
    Breakage("test_without_a_target_marker", ("target marker", "could not run", "hidden suite")),
    Breakage("fixture_of_the_suite_fails", ("hidden suite", "grader", "fixture", "could not run")),
]

# The batch-level environment scenarios, staged by the tests of the same names.
ENVIRONMENT = {
    "grader_killed_mid_batch_and_restarted": "every submission ends with exactly one complete result; "
                                             "no worker outlives the killed grader",
    "two_graders_on_one_output_folder": "both finish; every submission has exactly one complete result",
    "student_ids_equal_after_cleaning": "'a b' and 'a_b', 'A' and 'a' each keep their own result",
}

# Submissions of those batches: correct but slow (well within the call limit), and two with one mistake.
SLOW = Scenario("slow_but_correct", "buggy", cell="sgd_step", old="    new_w = w - learning_rate * dw",
                new="    import ctypes, time\n"
                    "    try:\n"
                    "        ctypes.CDLL(None).prctl(15, b'__MARKER__', 0, 0, 0)  # PR_SET_NAME: find the worker later\n"
                    "    except Exception:\n"
                    "        pass\n"
                    "    time.sleep(1.5)\n"
                    "    new_w = w - learning_rate * dw")
UPHILL = Scenario("steps_uphill", "buggy", cell="sgd_step", old="    new_w = w - learning_rate * dw",
                  new="    new_w = w + learning_rate * dw")
MEAN_ERROR = Scenario("mean_relative_error", "buggy", cell="rel_error", old="worst = float(np.max(errors))",
                      new="worst = float(np.mean(errors))")
