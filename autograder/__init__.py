"""The kit's autograder: grades submissions against the reference solutions with hidden pytest suites.

Never shipped to students.
"""
__version__ = "0.1.0"
