"""The kit's autograder: grades submissions against the reference solutions with hidden pytest suites.

Never shipped to students.
"""
import sys

__version__ = "0.1.0"

# nbformat imports jsonschema, which loads the optional IRI checker rfc3987_syntax when it
# is installed (Jupyter installs it); building that grammar costs about a second in every
# grading process, and notebook schemas check no IRIs. Marked absent, jsonschema skips it.
sys.modules.setdefault("rfc3987_syntax", None)
