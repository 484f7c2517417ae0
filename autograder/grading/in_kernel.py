"""Hidden tests inside a notebook, for ``nbgrader autograde``.

A hidden-test cell calls ``hidden_tests(module, item, globals())``: the hidden
suite of ``item`` runs against the functions the notebook defined, with the
same tests and points as ``dlkit grade``. The cell's value is the points earned,
which nbgrader reads as partial credit; the feedback lines go to stdout,
because anything on stderr would zero the cell.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import types
import warnings

import pytest

from autograder.grading.grade import PYTEST_ARGS
from autograder.grading.notebooks import instructor_setup
from autograder.grading.plugin import GradingPlugin
from autograder.grading.rules import find_violations
from autograder.runner.session import LocalTransport, Session
from autograder.suites import suite_path, tests_of
from autograder.syllabus import BY_MODULE
from autograder.worker.server import Server


def notebook_source(namespace: dict) -> str:
    """The source of every function and class the notebook itself defined."""
    parts = []
    for value in list(namespace.values()):
        if (inspect.isfunction(value) or inspect.isclass(value)) and getattr(value, "__module__", "") == "__main__":
            with contextlib.suppress(OSError, TypeError):
                parts.append(inspect.getsource(value))
    return "\n\n".join(parts)


def run_hidden_tests(module: str, item: str, namespace: dict) -> tuple[float, float, list[str]]:
    assignment = BY_MODULE[module]
    tests = [t for t in tests_of(module) if t.item == item]
    names = types.SimpleNamespace(**{k: v for k, v in namespace.items() if not k.startswith("_")})
    session = Session(LocalTransport(Server(names)), module)
    blocked = {}
    if assignment.from_scratch:
        provided = frozenset(n.name for n in ast.parse(instructor_setup(assignment)).body
                             if isinstance(n, (ast.FunctionDef, ast.ClassDef)))
        for violation in find_violations({module: notebook_source(namespace)}, module, provided=provided):
            if violation.item == item:
                blocked[(module, item)] = violation.message(assignment)
    plugin = GradingPlugin({module: session}, blocked)
    args = [f"{suite_path(module)}::{t.name}" for t in tests] + PYTEST_ARGS
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pytest.main(args, plugins=[plugin])
    earned, lines = 0.0, []
    for test in tests:
        outcome = plugin.outcomes.get((module, test.name))
        if outcome is not None and outcome.passed:
            earned += test.points
            lines.append(f"  passed  {test.title}")
        else:
            lines.append(f"  FAILED  {test.title}: {outcome.message if outcome else 'did not run'}")
    return earned, sum(t.points for t in tests), lines


def hidden_tests(module: str, item: str, namespace: dict) -> float:
    earned, total, lines = run_hidden_tests(module, item, namespace)
    print(f"Hidden tests for `{item}`: {earned:g} of {total:g} points")
    print("\n".join(lines))
    return earned
