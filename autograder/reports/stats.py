"""Class statistics from every student's results: per assignment, per hidden test, per hint.

"Not graded" failures (the module was missing, had a syntax error or failed to import) and
"not implemented yet" failures (the stub's ``NotImplementedError``) are counted apart from the
other failures, the mistakes: an unfinished assignment is not a misconception. Mistakes are
counted by their hint's id, which does not depend on where in the student's file they happened.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder.reports.model import UNREADABLE, StudentResults, assignment_order, load_student, number_order


@dataclass
class TestStats:
    """One hidden test across the class."""

    __test__ = False  # not a pytest test class

    assignment: str
    function: str
    number: str
    title: str
    max_score: float
    students: int = 0  # students whose results hold this test
    failed: int = 0  # of them, how many failed it (graded or not)
    not_graded: int = 0  # of the failures, how many because the module could not be graded
    not_implemented: int = 0  # of the failures, how many because the function was still a stub
    hints: Counter[str] = field(default_factory=Counter)  # the mistakes' hint ids
    hint_texts: dict[str, str] = field(default_factory=dict)  # hint id -> its hint

    @property
    def failure_rate(self) -> float:
        return self.failed / self.students if self.students else 0.0

    @property
    def mistakes(self) -> int:
        """Failures of a function that was graded and implemented."""
        return self.failed - self.not_graded - self.not_implemented

    def most_common_hint(self) -> tuple[str, int]:
        """The most frequent hint among the mistakes (ties: alphabetical), or ``("", 0)``."""
        if not self.hints:
            return "", 0
        hint, count = min(((self.hint_texts[key], n) for key, n in self.hints.items()),
                          key=lambda item: (-item[1], item[0]))
        return hint, count


@dataclass(frozen=True)
class Mistake:
    """A hint that several tests or students got, for one graded function."""

    assignment: str
    function: str
    hint: str
    students: int  # how many students got it (at least once)
    tests: int  # how many failed tests carried it, over the whole class


@dataclass
class AssignmentStats:
    """One assignment across the class."""

    folder: str
    title: str
    max_score: float
    scores: list[float] = field(default_factory=list)
    not_graded: list[str] = field(default_factory=list)  # students whose module could not be graded

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores) if self.scores else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.scores) if self.scores else 0.0

    @property
    def full_marks(self) -> int:
        return sum(s >= self.max_score for s in self.scores)


@dataclass
class ClassStats:
    """Everything the class report shows."""

    students: list[StudentResults]
    unreadable: dict[str, str]  # student folder -> why its results.json could not be read
    assignments: list[AssignmentStats]
    tests: list[TestStats]
    mistakes: list[Mistake]


def load_class(out_dir: Path) -> tuple[list[StudentResults], dict[str, str]]:
    """Every ``out_dir/*/results.json``, by student name; unreadable files are reported, not fatal."""
    students, unreadable = [], {}
    for path in sorted(out_dir.glob("*/results.json")):
        try:
            students.append(load_student(path.parent))
        except UNREADABLE as exc:
            unreadable[path.parent.name] = f"{type(exc).__name__}: {exc}"
    return students, unreadable


def class_stats(students: list[StudentResults], unreadable: dict[str, str] | None = None) -> ClassStats:
    """Aggregate the students' results (in the order given) per assignment, test and hint."""
    assignments: dict[str, AssignmentStats] = {}
    tests: dict[tuple[str, str, str], TestStats] = {}
    mistake_students: dict[tuple[str, str, str], set[str]] = {}  # (assignment, function, hint id)
    mistake_tests: Counter[tuple[str, str, str]] = Counter()
    mistake_texts: dict[tuple[str, str, str], str] = {}
    for student in students:
        for assignment in student.assignments:
            stats = assignments.setdefault(assignment.folder, AssignmentStats(
                assignment.folder, assignment.title, assignment.max_score))
            stats.max_score = max(stats.max_score, assignment.max_score)
            stats.scores.append(assignment.score)
            if assignment.problem:
                stats.not_graded.append(student.student)
            for test in assignment.tests:
                record = tests.setdefault(test.key, TestStats(
                    test.assignment, test.function, test.number, test.title, test.max_score))
                record.students += 1
                if test.passed:
                    continue
                record.failed += 1
                if assignment.problem:
                    record.not_graded += 1
                    continue
                if test.not_implemented:
                    record.not_implemented += 1
                    continue
                record.hints[test.mistake_id] += 1
                record.hint_texts[test.mistake_id] = test.mistake
                key = (test.assignment, test.function, test.mistake_id)
                mistake_students.setdefault(key, set()).add(student.student)
                mistake_tests[key] += 1
                mistake_texts[key] = test.mistake
    mistakes = [Mistake(key[0], key[1], mistake_texts[key], students=len(names), tests=mistake_tests[key])
                for key, names in mistake_students.items()]
    mistakes.sort(key=lambda m: (-m.students, -m.tests, assignment_order(m.assignment), m.function, m.hint))
    seen = {key: index for index, key in enumerate(tests)}  # the order of the results files
    ordered_tests = sorted(tests.values(), key=lambda t: (assignment_order(t.assignment),
                                                          number_order(t.number),
                                                          seen[(t.assignment, t.function, t.title)]))
    return ClassStats(students, dict(unreadable or {}),
                      sorted(assignments.values(), key=lambda a: assignment_order(a.folder)),
                      ordered_tests, mistakes)

