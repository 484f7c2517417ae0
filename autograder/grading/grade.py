"""Grade one submission folder: every graded module present, against every hidden test."""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograder.grading.plugin import GradingPlugin, Outcome, without_grader_paths
from autograder.grading.rules import find_violations, notebook_locator
from autograder.grading.submission import ModuleFile, read_submission
from autograder.runner.reference import forget_objects
from autograder.runner.sandbox import Limits
from autograder.runner.session import Budget, Session
from autograder.suites import SUITES, TestInfo, suite_path, tests_of
from autograder.support import ready_made_sources
from autograder.syllabus import BY_MODULE, MODULES
from autograder.runner.transport import ForkedTransport, LoadRequest, WorkerFailure

IMPORT_SECONDS = 60.0  # wall time for a module to import (all of a submission's modules import at once)
# pytest as a test runner only: no cache, no terminal, no assertion rewriting, none of the plugins
# the suites do not use (each is set up anew for every submission), and above all no end-of-session
# gc.collect() hunting unraisable exceptions (none can arise here: students' objects live in their
# workers), which cost a third of a grading's time
UNUSED_PLUGINS = ("cacheprovider", "terminal", "unraisableexception", "threadexception", "logging", "debugging",
                  "doctest", "junitxml", "pastebin", "legacypath", "stepwise", "setuponly", "setupplan", "subtests",
                  "unittest", "anyio")
PYTEST_ARGS = [*(arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")), "--assert=plain",
               "-c", str(SUITES / "pytest.ini"), "--rootdir", str(SUITES)]


# A hidden test's status, in results.json for the reports (see grading/results.py)
PASSED, FAILED, NOT_IMPLEMENTED, NOT_GRADED = "passed", "failed", "not_implemented", "not_graded"


@dataclass
class TestResult:
    test: TestInfo
    score: float
    output: str  # what the student reads
    debug: str = ""  # the grader-side traceback, for the instructor's grader.log only
    status: str = ""  # PASSED, FAILED (a mistake), NOT_IMPLEMENTED (the stub), NOT_GRADED (the module)
    hint: str = ""  # ``output`` without where in the student's code: the same mistake, the same hint

    def __post_init__(self) -> None:
        self.status = self.status or (PASSED if self.score >= self.test.points else FAILED)
        self.hint = "" if self.status == PASSED else self.hint or self.output


@dataclass
class SubmissionResult:
    student: str
    results: list[TestResult] = field(default_factory=list)
    module_messages: dict[str, str] = field(default_factory=dict)  # why a whole module scored zero
    notes: dict[str, list[str]] = field(default_factory=dict)  # worth telling, cost nothing
    execution_time: float = 0.0
    worker_output: dict[str, str] = field(default_factory=dict)  # what each module's worker printed: instructor's only

    def score(self, module: str | None = None) -> float:
        return sum(r.score for r in self.results if module in (None, r.test.module))

    def max_score(self, module: str | None = None) -> float:
        return sum(r.test.points for r in self.results if module in (None, r.test.module))


def grade_submission(folder: Path, modules: tuple[str, ...] = MODULES,
                     files: dict[str, ModuleFile] | None = None, limits: Limits = Limits()) -> SubmissionResult:
    started = time.monotonic()
    budget = Budget(limits.submission_seconds)  # the wall time its code may take, imports included
    files = files or read_submission(folder)
    result = SubmissionResult(student=folder.name)
    result.notes = {m: list(files[m].notes) for m in modules if files[m].notes}
    sessions, blocked = start_sessions(files, modules, result.module_messages, limits, result.notes, budget,
                                       result.worker_output)
    try:
        outcomes = run_suites(sessions, blocked)
    finally:
        for module, session in sessions.items():
            session.close()
            result.worker_output[module] = printed(session.transport)
        forget_objects()
    for module in modules:
        for test in tests_of(module):
            if module in result.module_messages:
                result.results.append(TestResult(test, 0.0, without_grader_paths(result.module_messages[module]),
                                                 status=NOT_GRADED))
                continue
            outcome = outcomes.get((module, test.name), Outcome(False, "this test did not run"))
            result.results.append(TestResult(test, test.points if outcome.passed else 0.0, outcome.message,
                                             outcome.debug, NOT_IMPLEMENTED if outcome.not_implemented else "",
                                             outcome.hint))
    result.execution_time = time.monotonic() - started
    return result


def start_sessions(files: dict[str, ModuleFile], modules: tuple[str, ...],
                   messages: dict[str, str], limits: Limits = Limits(),
                   notes: dict[str, list[str]] | None = None, budget: Budget | None = None,
                   output: dict[str, str] | None = None
                   ) -> tuple[dict[str, Session], dict[tuple[str, str], str]]:
    """Start a worker per usable module (all at once), and find "from scratch" violations.

    A worker receives its sources as data (``load_request``): it never sees the submission's
    folder. A notebook's cells that raised become ``notes``; what the worker of a module that
    failed to import printed goes to ``output`` (for the instructor)."""
    transports: dict[str, ForkedTransport] = {}
    blocked: dict[tuple[str, str], str] = {}
    for module in modules:
        file = files[module]
        if file.status != "ok":
            messages[module] = file.message
            continue
        assignment = BY_MODULE[module]
        if assignment.from_scratch:  # the rule sees the sources the worker loads (see load_request)
            sources = {module: file.source} if file.cells is not None else student_modules(files)
            locate = notebook_locator(file.cells, file.cell_labels) if file.cells is not None else None
            for violation in find_violations(sources, module, provided=file.provided):
                blocked[(module, violation.item)] = violation.message(assignment, locate)
        for item, problem in file.problems.items():
            blocked[(module, item)] = problem
        transports[module] = ForkedTransport(load_request(files, module), limits=limits)
        transports[module].launch()
    sessions = {}
    for module, transport in transports.items():
        waited, failure = time.monotonic(), None
        try:
            transport.wait_ready(min(IMPORT_SECONDS, budget.left()) if budget else IMPORT_SECONDS)
        except WorkerFailure as exc:
            failure = exc
        if budget is not None:
            budget.charge(time.monotonic() - waited)
        if failure is not None:
            messages[module] = budget.message() if budget and budget.spent() else \
                f"importing `{module}.py` failed: {failure}"
            transport.close()
            if output is not None:
                output[module] = printed(transport)
            continue
        if transport.import_error is not None:
            error = transport.import_error
            where = f" ({error.where})" if error.where else ""
            messages[module] = (f"importing `{module}.py` failed with {error.type_name}"
                                f"{': ' + error.message if error.message else ''}{where}; "
                                "none of its functions could be graded")
            transport.close()
            if output is not None:
                output[module] = printed(transport)
            continue
        sessions[module] = Session(transport, module, limits, budget)
        if transport.cell_errors and notes is not None:
            notes.setdefault(module, []).extend(cell_notes(files[module], transport.cell_errors))
    return sessions, blocked


def load_request(files: dict[str, ModuleFile], module: str) -> LoadRequest:
    """What the worker of ``module`` loads: the module itself, the student's other usable ``.py``
    modules (what it imports from them is the student's own), and the ready-made versions of the
    earlier modules (their graded names replace the student's). A notebook is graded on its own:
    its cells, and no other module of the student's."""
    file = files[module]
    ready_made = ready_made_sources(module)
    if file.cells is not None:
        return LoadRequest(module, ready_made=ready_made, cells=list(file.cells))
    unusable = {m: f.message for m, f in files.items() if f.status == "rejected" and f.cells is None}
    return LoadRequest(module, sources=student_modules(files), ready_made=ready_made, unusable=unusable)


def student_modules(files: dict[str, ModuleFile]) -> dict[str, str]:
    """The sources of the student's usable ``.py`` modules: what a module folder's worker loads."""
    return {m: f.source for m, f in files.items() if f.status == "ok" and f.cells is None}


def printed(transport: ForkedTransport) -> str:
    """What a closed worker printed (its stdout and stderr, the first ``MAX_OUTPUT_BYTES``)."""
    transport.output.settle()
    return transport.output.text()


def cell_notes(file: ModuleFile, errors: list[dict]) -> list[str]:
    """``cell 7 (`x = y`) raised NameError: name 'y' is not defined (line 3)``, as Jupyter would show it."""
    notes = []
    for error in errors:
        index = error.get("cell")
        if type(index) is not int or not 0 <= index < len(file.cells or []):
            continue
        label = file.cell_labels[index] if index < len(file.cell_labels) else f"cell {index + 1}"
        kind, message, line = str(error.get("type", "")), str(error.get("message", "")), error.get("line")
        where = f" (line {line})" if type(line) is int else ""
        notes.append(f"{label} raised {kind}{': ' + message if message else ''}{where}; "
                     "the cells after it still ran, as in Jupyter")
    return notes


def run_suites(sessions: dict[str, Session], blocked: dict[tuple[str, str], str]) -> dict:
    if not sessions:
        return {}
    plugin = GradingPlugin(sessions, blocked)
    args = [str(suite_path(m)) for m in sessions] + PYTEST_ARGS
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        pytest.main(args, plugins=[plugin])
    return plugin.outcomes


