"""Grading submissions: read the files, check the rules, run the hidden suites, write results."""
