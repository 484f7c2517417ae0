"""Read a student's ``results.json`` (Gradescope's schema, as ``dlkit grade`` writes it) into
assignments, graded functions and tests.

Everything here comes from ``results.json`` itself, from its data: the numbers Gradescope reads
(``score``, ``max_score``, ``number``) and the fields ``dlkit grade`` puts in ``extra_data`` (see
``grading/results.py``: each test's assignment, graded name, status, message and hint id; each
assignment's problem and notes). Nothing parses the text Gradescope displays (``name``,
``output``): that text may change, or be translated, without changing a report. The syllabus only
supplies the assignments' titles and their teaching order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.syllabus import ASSIGNMENTS, BY_FOLDER

# a test's status in its extra_data (grading/grade.py)
PASSED, FAILED, NOT_IMPLEMENTED, NOT_GRADED = "passed", "failed", "not_implemented", "not_graded"
# what reading a broken or foreign results.json raises
UNREADABLE = (OSError, UnicodeDecodeError, ValueError, TypeError, AttributeError, KeyError)
_ORDER = {a.folder: i for i, a in enumerate(ASSIGNMENTS)}


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
    hint: str  # the grader's message when the test failed (what the student read), "" when it passed
    status: str = ""  # PASSED, FAILED (a mistake), NOT_IMPLEMENTED (still the stub), NOT_GRADED (the module)
    mistake: str = ""  # the hint without where in the student's code: the same for the same mistake
    mistake_id: str = ""  # its id: what the class report counts

    @property
    def key(self) -> tuple[str, str, str]:
        """Identifies the hidden test across students."""
        return self.assignment, self.function, self.title

    @property
    def not_implemented(self) -> bool:
        return self.status == NOT_IMPLEMENTED


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
        return bool(self.failed) and all(t.not_implemented for t in self.failed)

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
    extra = data.get("extra_data") or {}
    recorded = {str(a["assignment"]): a for a in extra.get("dlkit_assignments") or []}
    for assignment in ordered:
        assignment.functions.sort(key=lambda f: number_order(f.number))
        about = recorded.get(assignment.folder, {})
        assignment.problem = str(about.get("problem") or "")
        assignment.notes = [str(note) for note in about.get("notes") or []]
    total = sum(t.score for t in tests)
    return StudentResults(student, float(data.get("score", total)),
                          float(data.get("max_score", sum(t.max_score for t in tests))), ordered)


def parse_test(raw: dict) -> TestEntry:
    """One entry of ``tests``, from its ``extra_data`` (``grading/results.test_data``) and the
    numbers Gradescope reads. A results.json without that data (another grader's, or an older
    dlkit's) cannot be read: ``dlkit grade`` again writes it."""
    extra = raw.get("extra_data")
    if not isinstance(extra, dict) or "status" not in extra:
        raise ValueError("a test without dlkit's data (written by another grader or an older dlkit: grade again)")
    status = str(extra["status"])
    passed = status == PASSED
    return TestEntry(str(extra["assignment"]), str(extra["module"]), str(extra["item"]), str(extra["title"]),
                     str(raw.get("number", "")), float(raw.get("score") or 0.0), float(raw.get("max_score") or 0.0),
                     passed, "" if passed else str(extra["message"]), status, str(extra["hint"]), str(extra["hint_id"]))


def assignment_order(folder: str) -> tuple[int, str]:
    """The syllabus order; assignments it does not know come last, by name."""
    return _ORDER.get(folder, len(_ORDER)), folder


def number_order(number: str) -> tuple[int, ...]:
    """``"02.7"`` sorts as ``(2, 7)``; an odd number sorts last."""
    try:
        return tuple(int(part) for part in number.split("."))
    except ValueError:
        return (1 << 30,)
