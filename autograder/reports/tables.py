"""The class report's CSV files: one row per hidden test, one row per student."""

from __future__ import annotations

import csv
import io

from autograder.reports.markup import points
from autograder.reports.stats import ClassStats

TESTS_HEADER = ["assignment", "number", "function", "test", "max_points", "students", "failed",
                "failure_rate", "not_graded", "not_implemented", "most_common_hint", "most_common_hint_count"]


def cell(text: str) -> str:
    """Text that a spreadsheet must not run as a formula (a student id or a hint starting with
    ``=``, ``+``, ``@``) gets a leading apostrophe, as OWASP recommends for CSV files."""
    return "'" + text if text[:1] in ("=", "+", "@", "\t", "\r") else text


def rate(value: float) -> str:
    """A share as a short decimal: ``0.4``, ``0.3333``, ``1``."""
    return f"{round(value, 4):g}"


def tests_csv(stats: ClassStats) -> str:
    """One row per hidden test. ``failed`` counts every failure; of them, ``not_graded`` those where
    the module could not be graded and ``not_implemented`` those where the function was still a
    stub. The most common hint is among the other failures (line numbers removed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TESTS_HEADER)
    for test in stats.tests:
        hint, count = test.most_common_hint()
        writer.writerow([test.assignment, test.number, test.function, cell(test.title), points(test.max_score),
                         test.students, test.failed, rate(test.failure_rate), test.not_graded,
                         test.not_implemented, cell(hint), count])
    return buffer.getvalue()


def students_csv(stats: ClassStats) -> str:
    """One row per student: the score of each assignment, the total, and what could not be graded."""
    folders = [a.folder for a in stats.assignments]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *folders, "total", "max_total", "percent", "failed_tests", "not_graded"])
    for student in stats.students:
        scores = {a.folder: a.score for a in student.assignments}
        problems = [a.folder for a in student.assignments if a.problem]
        percent = 100 * student.score / student.max_score if student.max_score else 0.0
        writer.writerow([cell(student.student), *[points(scores[f]) if f in scores else "" for f in folders],
                         points(student.score), points(student.max_score), f"{percent:.1f}",
                         sum(not t.passed for t in student.tests), " ".join(problems)])
    return buffer.getvalue()
