"""dlkit's instructor side: build, hidden suites, sandboxed grading and reports.

Never shipped to students: this package holds the reference's location, the
hidden tests and the grader.
"""
