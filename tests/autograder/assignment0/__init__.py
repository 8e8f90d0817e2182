"""The strength of assignment 0's hidden suites: its catalog of wrong and correct implementations, and the tests."""
