"""Grade one submission folder: every graded module present, against every hidden test."""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograder.grading.plugin import GradingPlugin, Outcome
from autograder.grading.rules import find_violations
from autograder.grading.submission import ModuleFile, read_submission
from autograder.reference import forget_objects
from autograder.sandbox import Limits
from autograder.session import Session
from autograder.suites import SUITES, TestInfo, suite_path, tests_of
from autograder.syllabus import BY_MODULE, MODULES
from autograder.workers import ForkedTransport, WorkerFailure

PYTEST_ARGS = ["-p", "no:cacheprovider", "-p", "no:terminal", "--assert=plain",
               "-c", str(SUITES / "pytest.ini"), "--rootdir", str(SUITES)]


@dataclass
class TestResult:
    test: TestInfo
    score: float
    output: str
    debug: str = ""


@dataclass
class SubmissionResult:
    student: str
    results: list[TestResult] = field(default_factory=list)
    module_messages: dict[str, str] = field(default_factory=dict)  # why a whole module scored zero
    notes: dict[str, list[str]] = field(default_factory=dict)  # worth telling, cost nothing
    execution_time: float = 0.0

    def score(self, module: str | None = None) -> float:
        return sum(r.score for r in self.results if module in (None, r.test.module))

    def max_score(self, module: str | None = None) -> float:
        return sum(r.test.points for r in self.results if module in (None, r.test.module))


def grade_submission(folder: Path, modules: tuple[str, ...] = MODULES,
                     files: dict[str, ModuleFile] | None = None, limits: Limits = Limits()) -> SubmissionResult:
    started = time.monotonic()
    files = files or read_submission(folder)
    result = SubmissionResult(student=folder.name)
    result.notes = {m: files[m].notes for m in modules if files[m].notes}
    sessions, blocked = start_sessions(files, modules, result.module_messages, limits)
    try:
        outcomes = run_suites(sessions, blocked)
    finally:
        for session in sessions.values():
            session.close()
        forget_objects()
    for module in modules:
        for test in tests_of(module):
            if module in result.module_messages:
                result.results.append(TestResult(test, 0.0, result.module_messages[module]))
                continue
            outcome = outcomes.get((module, test.name), Outcome(False, "this test did not run"))
            result.results.append(TestResult(test, test.points if outcome.passed else 0.0,
                                             outcome.message, outcome.debug))
    result.execution_time = time.monotonic() - started
    return result


def start_sessions(files: dict[str, ModuleFile], modules: tuple[str, ...],
                   messages: dict[str, str], limits: Limits = Limits()
                   ) -> tuple[dict[str, Session], dict[tuple[str, str], str]]:
    """Start a worker per usable module (all at once), and find "from scratch" violations.

    A worker receives its module's source as data: it never sees the submission's folder."""
    transports: dict[str, ForkedTransport] = {}
    blocked: dict[tuple[str, str], str] = {}
    for module in modules:
        file = files[module]
        if file.status != "ok":
            messages[module] = file.message
            continue
        assignment = BY_MODULE[module]
        if assignment.from_scratch:
            for violation in find_violations(file.source, assignment.items, file.provided):
                blocked[(module, violation.item)] = violation.message(assignment.folder[:2])
        for item, problem in file.problems.items():
            blocked[(module, item)] = problem
        transports[module] = ForkedTransport(file.source, module, limits=limits)
        transports[module].launch()
    sessions = {}
    for module, transport in transports.items():
        try:
            transport.wait_ready()
        except WorkerFailure as exc:
            messages[module] = f"importing `{module}.py` failed: {exc}"
            transport.close()
            continue
        if transport.import_error is not None:
            error = transport.import_error
            where = f" ({error.where})" if error.where else ""
            messages[module] = (f"importing `{module}.py` failed with {error.type_name}"
                                f"{': ' + error.message if error.message else ''}{where}; "
                                "none of its functions could be graded")
            transport.close()
            continue
        sessions[module] = Session(transport, module, limits)
    return sessions, blocked


def run_suites(sessions: dict[str, Session], blocked: dict[tuple[str, str], str]) -> dict:
    if not sessions:
        return {}
    plugin = GradingPlugin(sessions, blocked)
    args = [str(suite_path(m)) for m in sessions] + PYTEST_ARGS
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        pytest.main(args, plugins=[plugin])
    return plugin.outcomes


def assignment_of(module: str) -> str:
    return BY_MODULE[module].folder


