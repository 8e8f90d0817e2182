"""The code that runs inside the sandboxed worker process.

Only this folder is visible to the worker: it holds no reference code, no
hidden test and no expected value, just the wire format and the loop that
executes a student's definitions and answers calls.
"""
