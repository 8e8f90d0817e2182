"""nbgrader configuration of the course kit.

Run nbgrader from the repository root: the source notebooks live in
``solutions/`` and the generated student release in ``assignments/``.
"""
c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "nn-course-kit"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"

# The stub that replaces each solution region in the release. It keeps every
# cell runnable; calling an unfinished function raises a clear error.
c.ClearSolutions.code_stub = dict(
    python='# YOUR CODE HERE\nraise NotImplementedError("TODO: replace this line with your code")'
)
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograding: the kit's engine scores every grade cell (the same scores as
# `autograder grade`) in place of nbgrader's Execute, which would run the
# student's notebook in a kernel. The rest of nbgrader's pipeline stays.
from nbgrader.converters.autograde import Autograde  # noqa: E402
from nbgrader.converters.generate_feedback import GenerateFeedback  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, Execute  # noqa: E402

from autograder.nbgrader_bridge import KitAutograde  # noqa: E402

c.Autograde.autograde_preprocessors = [
    KitAutograde if step is Execute else step for step in Autograde.class_traits()["autograde_preprocessors"].default()
]
# Feedback never shows the hidden-test blocks of the grade cells.
c.GenerateFeedback.preprocessors = [ClearHiddenTests, *GenerateFeedback.class_traits()["preprocessors"].default()]
