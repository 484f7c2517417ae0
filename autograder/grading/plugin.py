"""The pytest plugin that binds hidden suites to a submission and records each test's verdict.

The verdict is taken here, in the grader's process, from pytest's own report:
nothing the student's code does in its worker can mark a test as passed.
"""

from __future__ import annotations

import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.suites.checks import Mistake
from autograder.runner.reference import reference
from autograder.runner.session import Session, StudentError, WorkerFailure


@dataclass
class Outcome:
    passed: bool
    message: str  # what the student reads: the hint, and where in their code it happened
    debug: str = ""  # for the instructor's log only: never shown to students
    hint: str = ""  # the message without where: the same mistake gets the same hint (the reports group them)
    not_implemented: bool = False  # the stub's NotImplementedError: still to be written, not a mistake


def suite_module(suite) -> str:  # noqa: ANN001 - the suite's Python module
    """The graded module a hidden suite tests: its file is ``test_<module>.py``."""
    return Path(suite.__file__).stem.removeprefix("test_")


class GradingPlugin:
    def __init__(self, students: dict[str, Session], blocked: dict[tuple[str, str], str]):
        self.students = students
        self.blocked = blocked
        self.outcomes: dict[tuple[str, str], Outcome] = {}

    def pytest_configure(self, config: pytest.Config) -> None:
        # the verdict and its message are taken from the exception itself (see makereport): pytest's
        # own report of a failure, its source excerpts parsed anew for each test, would go unread
        config.option.tbstyle = "no"

    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> Session:
        module = suite_module(request.module)
        message = self.blocked.get((module, request.function.dlkit_item))
        if message:
            raise Mistake(message)
        return self.students[module]

    @pytest.fixture
    def ref(self, request: pytest.FixtureRequest) -> Session:
        return reference(suite_module(request.module))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        key = (suite_module(item.module), item.name)
        if call.when == "call" or (report.failed and key not in self.outcomes):
            if call.excinfo is None:
                self.outcomes[key] = Outcome(True, "")
            else:
                self.outcomes[key] = explain(call.excinfo.value)
        return report


def explain(exc: BaseException) -> Outcome:
    """A failed test: the student-facing message (its hint, where it happened), and a debugging
    trace for the instructor."""
    hint, where, debug = _explain(exc)
    hint = without_grader_paths(hint)
    message = f"{hint} ({without_grader_paths(where)})" if where else hint
    not_implemented = isinstance(exc, StudentError) and exc.type_name == "NotImplementedError"
    return Outcome(False, message, debug, hint, not_implemented)


def _explain(exc: BaseException) -> tuple[str, str, str]:
    """The hint, where in the student's code ("" if nowhere), the instructor's trace."""
    if isinstance(exc, Mistake):
        return str(exc), "", ""
    if isinstance(exc, StudentError):
        if exc.type_name == "NotImplementedError":
            return "not implemented yet: your code raised NotImplementedError", exc.where, ""
        if exc.type_name == "MemoryError" or "can't allocate memory" in exc.message:
            return (f"memory limit: your code tried to use more memory than a worker may have "
                    f"({exc.type_name})"), exc.where, ""
        detail = f": {exc.message}" if exc.message else ""
        return f"your code raised {exc.type_name}{detail}", exc.where, ""
    if isinstance(exc, WorkerFailure):
        return str(exc), "", exc.debug
    if isinstance(exc, pytest.fail.Exception):
        return str(exc), "", ""
    trace = "".join(traceback.format_exception(exc))
    return ("the test could not check your result: it has an unexpected type or structure "
            f"({type(exc).__name__})"), "", trace


# Where the kit and its Python live on the grader's machine: no feedback names a file there (a
# message that quotes one, as an exception from inside the runtime may, gets "<grader>" instead).
_GRADER_ROOTS = sorted({str(Path(__file__).resolve().parents[2]), sys.prefix, sys.base_prefix, sys.exec_prefix},
                       key=len, reverse=True)
_GRADER_PATH = re.compile("(?:" + "|".join(re.escape(root) for root in _GRADER_ROOTS) + r")(?![\w.-])(?:/[^\s'\",:)]*)?")


def without_grader_paths(message: str) -> str:
    return _GRADER_PATH.sub("<grader>", message)
