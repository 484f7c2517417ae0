"""The hidden test suites, one pytest module per graded module: ``test_<module>.py``.

Each test takes the fixtures ``student`` and ``ref`` (two ``Session``s on the
same module: the submission's, in a worker, and the reference, in the grader)
and carries ``@points(value, item)``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

SUITES = Path(__file__).resolve().parent


@dataclass(frozen=True)
class TestInfo:
    module: str
    item: str
    name: str  # the test function's name
    title: str  # one line for the student: what the test checks
    points: float

    @property
    def nodeid(self) -> str:
        return f"{self.module}::{self.name}"


def suite_path(module: str) -> Path:
    return SUITES / f"test_{module}.py"


def tests_of(module: str) -> list[TestInfo]:
    """Every hidden test of ``module``, in file order."""
    suite = importlib.import_module(f"autograder.suites.test_{module}")
    out = []
    for name, fn in vars(suite).items():
        if name.startswith("test_") and callable(fn):
            if not hasattr(fn, "dlkit_points"):
                raise ValueError(f"{module} suite: {name} has no @points(...)")
            title = (fn.__doc__ or name).strip().splitlines()[0]
            out.append(TestInfo(module, fn.dlkit_item, name, title, fn.dlkit_points))
    return out


tests_of.__test__ = False  # a helper, not a test, when a test module imports it


def points_per_item(module: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for test in tests_of(module):
        totals[test.item] = totals.get(test.item, 0.0) + test.points
    return totals
