"""nbgrader configuration of the course kit.

Run nbgrader from the repository root: the source notebooks live in
``solutions/`` and the generated student release in ``assignments/``.
"""
c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "nn-course-kit"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.db_assignments = [dict(name="assignment1")]

# The stub that replaces each solution region in the release. It keeps every
# cell runnable; calling an unfinished function raises a clear error.
c.ClearSolutions.code_stub = dict(
    python='# YOUR CODE HERE\nraise NotImplementedError("TODO: replace this line with your code")'
)
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
