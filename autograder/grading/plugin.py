"""The pytest plugin that binds hidden suites to a submission and records each test's verdict.

The verdict is taken here, in the grader's process, from pytest's own report:
nothing the student's code does in its worker can mark a test as passed.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

import pytest

from autograder.checks import Mistake
from autograder.reference import reference
from autograder.session import Session, StudentError, WorkerFailure


@dataclass
class Outcome:
    passed: bool
    message: str
    debug: str = ""  # for the instructor's log only: never shown to students


class GradingPlugin:
    def __init__(self, students: dict[str, Session], blocked: dict[tuple[str, str], str]):
        self.students = students
        self.blocked = blocked
        self.outcomes: dict[tuple[str, str], Outcome] = {}

    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> Session:
        module = request.module.MODULE
        message = self.blocked.get((module, request.function.dlkit_item))
        if message:
            raise Mistake(message)
        return self.students[module]

    @pytest.fixture
    def ref(self, request: pytest.FixtureRequest) -> Session:
        return reference(request.module.MODULE)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        key = (item.module.MODULE, item.name)
        if call.when == "call" or (report.failed and key not in self.outcomes):
            if call.excinfo is None:
                self.outcomes[key] = Outcome(True, "")
            else:
                message, debug = explain(call.excinfo.value)
                self.outcomes[key] = Outcome(False, message, debug)
        return report


def explain(exc: BaseException) -> tuple[str, str]:
    """The student-facing message for a failed test, and a debugging trace for the instructor."""
    if isinstance(exc, Mistake):
        return str(exc), ""
    if isinstance(exc, StudentError):
        where = f" ({exc.where})" if exc.where else ""
        if exc.type_name == "NotImplementedError":
            return f"not implemented yet: your code raised NotImplementedError{where}", ""
        if exc.type_name == "MemoryError" or "can't allocate memory" in exc.message:
            return (f"memory limit: your code tried to use more memory than a worker may have "
                    f"({exc.type_name}){where}"), ""
        detail = f": {exc.message}" if exc.message else ""
        return f"your code raised {exc.type_name}{detail}{where}", ""
    if isinstance(exc, WorkerFailure):
        return str(exc), ""
    if isinstance(exc, pytest.fail.Exception):
        return str(exc), ""
    trace = "".join(traceback.format_exception(exc))
    return ("the test could not check your result: it has an unexpected type or structure "
            f"({type(exc).__name__})"), trace
