"""The class report's CSV files: one row per hidden test, one row per student.

Both go through ``autograder.csv_cells``: text that a spreadsheet would run as a formula (a student
id or a hint starting with ``=``, ``+``, ``-``, ``@``) is neutralised, numbers stay numbers."""

from __future__ import annotations

from autograder.csv_cells import csv_text
from autograder.reports.stats import ClassStats

TESTS_HEADER = ["assignment", "number", "function", "test", "max_points", "students", "failed",
                "failure_rate", "not_graded", "not_implemented", "most_common_hint", "most_common_hint_count"]
STUDENTS_TAIL = ["total", "max_total", "percent", "failed_tests", "not_graded"]


def rate(value: float) -> float:
    """A share rounded to four decimals: ``0.4``, ``0.3333``, ``1``."""
    return round(value, 4)


def tests_csv(stats: ClassStats) -> str:
    """One row per hidden test. ``failed`` counts every failure; of them, ``not_graded`` those where
    the module could not be graded and ``not_implemented`` those where the function was still a
    stub. The most common hint is among the other failures (counted by hint id: wherever in the file)."""
    rows = []
    for test in stats.tests:
        hint, count = test.most_common_hint()
        rows.append([test.assignment, test.number, test.function, test.title, test.max_score,
                     test.students, test.failed, rate(test.failure_rate), test.not_graded,
                     test.not_implemented, hint, count])
    return csv_text(TESTS_HEADER, rows)


def students_csv(stats: ClassStats) -> str:
    """One row per student: the score of each assignment, the total, and what could not be graded."""
    folders = [a.folder for a in stats.assignments]
    rows = []
    for student in stats.students:
        scores = {a.folder: a.score for a in student.assignments}
        problems = [a.folder for a in student.assignments if a.problem]
        percent = round(100 * student.score / student.max_score, 1) if student.max_score else 0.0
        rows.append([student.student, *[scores.get(f, "") for f in folders], student.score,
                     student.max_score, percent, sum(not t.passed for t in student.tests), " ".join(problems)])
    return csv_text(["student", *folders, *STUDENTS_TAIL], rows)
