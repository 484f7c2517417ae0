"""Read a student's ``results.json`` (Gradescope's schema, as ``dlkit grade`` writes it) into
assignments, graded functions and tests.

Everything here comes from ``results.json`` itself; the syllabus only supplies the assignments'
titles and their teaching order.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.syllabus import ASSIGNMENTS, BY_FOLDER

SEPARATOR = " · "  # between the assignment folder, the graded name and the test title
NOT_IMPLEMENTED = "not implemented yet"  # how the grader's hint for a stub starts (grading/plugin.py)
NOTE_PREFIX = "  note: "  # a line of the summary: a note on the assignment above it
# what reading a broken or foreign results.json raises
UNREADABLE = (OSError, UnicodeDecodeError, ValueError, TypeError, AttributeError, KeyError)
_ORDER = {a.folder: i for i, a in enumerate(ASSIGNMENTS)}
_SUMMARY_LINE = re.compile(r"^(\S+): \S+ / \S+")


@dataclass(frozen=True)
class TestEntry:
    """One hidden test of one student."""

    __test__ = False  # not a pytest test class

    assignment: str  # the assignment folder, e.g. "02_activations"
    module: str  # e.g. "activations"
    function: str  # the graded name, e.g. "softmax"
    title: str  # one line: what the test checks
    number: str  # Gradescope's number of the function, e.g. "02.7"
    score: float
    max_score: float
    passed: bool
    hint: str  # the grader's message when the test failed, "" when it passed

    @property
    def key(self) -> tuple[str, str, str]:
        """Identifies the hidden test across students."""
        return self.assignment, self.function, self.title


@dataclass
class FunctionResult:
    """The tests of one graded function (or class): its partial credit is the sum of their scores."""

    name: str
    number: str
    tests: list[TestEntry] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)

    @property
    def passed(self) -> list[TestEntry]:
        return [t for t in self.tests if t.passed]

    @property
    def failed(self) -> list[TestEntry]:
        return [t for t in self.tests if not t.passed]

    @property
    def not_implemented(self) -> bool:
        """Every failure is the stub's ``NotImplementedError``: the function is still to be written."""
        return bool(self.failed) and all(t.hint.startswith(NOT_IMPLEMENTED) for t in self.failed)

    def hint_groups(self) -> list[tuple[str, list[TestEntry]]]:
        """The failed tests grouped by identical hint, in the order the hints first appear."""
        groups: dict[str, list[TestEntry]] = {}
        for test in self.failed:
            groups.setdefault(test.hint, []).append(test)
        return list(groups.items())


@dataclass
class AssignmentResult:
    """One assignment (one graded module) of one student."""

    folder: str
    module: str
    title: str  # from the syllabus; "" for an assignment the syllabus does not know
    functions: list[FunctionResult] = field(default_factory=list)
    problem: str = ""  # a module-level message (missing module, syntax error, ...): nothing was graded
    notes: list[str] = field(default_factory=list)  # the grader's notes: worth telling, cost nothing

    @property
    def tests(self) -> list[TestEntry]:
        return [t for f in self.functions for t in f.tests]

    @property
    def score(self) -> float:
        return sum(f.score for f in self.functions)

    @property
    def max_score(self) -> float:
        return sum(f.max_score for f in self.functions)

    @property
    def label(self) -> str:
        """``02_activations: Activation functions`` (or just the folder)."""
        return f"{self.folder}: {self.title}" if self.title else self.folder


@dataclass
class StudentResults:
    """Everything ``results.json`` says about one student."""

    student: str
    score: float
    max_score: float
    assignments: list[AssignmentResult] = field(default_factory=list)
    folder: str = ""  # the student's folder in the output (an odd id gets a safe one): the id by default

    def __post_init__(self) -> None:
        self.folder = self.folder or self.student

    @property
    def tests(self) -> list[TestEntry]:
        return [t for a in self.assignments for t in a.tests]


def load_student(student_dir: Path) -> StudentResults:
    """Read ``student_dir/results.json``; the student id is the one it records (``dlkit grade``
    gives an odd id a folder of another name), else the folder's name."""
    data = json.loads((student_dir / "results.json").read_text(encoding="utf-8"))
    extra = data.get("extra_data") if isinstance(data, dict) else None
    recorded = extra.get("dlkit_student") if isinstance(extra, dict) else None
    student = parse_results(recorded if isinstance(recorded, str) and recorded else student_dir.name, data)
    student.folder = student_dir.name
    return student


def parse_results(student: str, data: dict) -> StudentResults:
    """Group the tests of one ``results.json`` dict by assignment and function."""
    tests = [parse_test(raw) for raw in data.get("tests", [])]
    assignments: dict[str, AssignmentResult] = {}
    for test in tests:
        assignment = assignments.get(test.assignment)
        if assignment is None:
            known = BY_FOLDER.get(test.assignment)
            assignment = assignments[test.assignment] = AssignmentResult(
                test.assignment, test.module, known.title if known else "")
        function = next((f for f in assignment.functions if f.name == test.function), None)
        if function is None:
            function = FunctionResult(test.function, test.number)
            assignment.functions.append(function)
        function.tests.append(test)
    ordered = sorted(assignments.values(), key=lambda a: assignment_order(a.folder))
    summary = str(data.get("output") or "")
    notes = summary_notes(summary)
    for assignment in ordered:
        assignment.functions.sort(key=lambda f: number_order(f.number))
        assignment.problem = module_problem(assignment, summary)
        assignment.notes = notes.get(assignment.folder, [])
    total = sum(t.score for t in tests)
    return StudentResults(student, float(data.get("score", total)),
                          float(data.get("max_score", sum(t.max_score for t in tests))), ordered)


def parse_test(raw: dict) -> TestEntry:
    """One entry of ``tests``: ``name`` is ``"<folder> · <graded name> · <title>"``, ``tags`` is
    ``[module, graded name]``."""
    parts = str(raw.get("name", "")).split(SEPARATOR, 2)
    folder = parts[0] if len(parts) == 3 else "other"
    tags = [str(t) for t in raw.get("tags") or []]
    module = tags[0] if tags else folder.partition("_")[2] or folder
    function = tags[1] if len(tags) > 1 else (parts[1] if len(parts) == 3 else "")
    title = parts[2] if len(parts) == 3 else parts[-1]
    score, max_score = float(raw.get("score") or 0.0), float(raw.get("max_score") or 0.0)
    status = raw.get("status")
    passed = status == "passed" if status in ("passed", "failed") else score >= max_score
    output = str(raw.get("output") or "")
    return TestEntry(folder, module, function, title, str(raw.get("number", "")), score, max_score,
                     passed, "" if passed else output)


def module_problem(assignment: AssignmentResult, summary: str) -> str:
    """The module-level message (a missing module, a syntax error, an import that failed), or "".

    ``dlkit grade`` gives every test of such a module that message, and appends it to the
    module's line of the summary, ``"<folder>: <score> / <max> (<message>)"``: both must hold.
    """
    tests = assignment.tests
    hints = {t.hint for t in tests}
    if not tests or any(t.passed or t.score for t in tests) or len(hints) != 1:
        return ""
    message = hints.pop()
    line = rf"(?m)^{re.escape(assignment.folder)}: \S+ / \S+ \({re.escape(message)}\)$"
    return message if message and re.search(line, summary) else ""


def summary_notes(summary: str) -> dict[str, list[str]]:
    """The ``"  note: ..."`` lines that follow an assignment's line in the summary, per folder."""
    notes: dict[str, list[str]] = {}
    current = ""
    for line in summary.splitlines():
        heading = _SUMMARY_LINE.match(line)
        if heading:
            current = heading.group(1)
        elif current and line.startswith(NOTE_PREFIX) and line[len(NOTE_PREFIX):].strip():
            notes.setdefault(current, []).append(line[len(NOTE_PREFIX):].strip())
    return notes


def assignment_order(folder: str) -> tuple[int, str]:
    """The syllabus order; assignments it does not know come last, by name."""
    return _ORDER.get(folder, len(_ORDER)), folder


def number_order(number: str) -> tuple[int, ...]:
    """``"02.7"`` sorts as ``(2, 7)``; an odd number sorts last."""
    try:
        return tuple(int(part) for part in number.split("."))
    except ValueError:
        return (1 << 30,)
