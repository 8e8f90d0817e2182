"""One base exception for the grader, a subclass per stage.

A ``GraderError`` means the grader itself could not do its job (bad
arguments, a missing reference, a broken hidden suite). Faults of a
submission are not exceptions of this kind: they become that submission's
``invalid_submission`` status or its failed tests.
"""


class GraderError(Exception):
    """The grader could not run; the message says what failed and what to do next."""


class ReadError(GraderError):
    """A notebook or submission folder could not be read."""


class ExtractError(GraderError):
    """Code could not be taken from a notebook."""


class RunError(GraderError):
    """The worker process could not be started or talked to."""


class CompareError(GraderError):
    """The hidden suite itself failed (a fault of the grader, not of the student)."""


class ReportError(GraderError):
    """Results could not be written."""
