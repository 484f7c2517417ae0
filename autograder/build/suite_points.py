"""The points of each graded name, read from the text of its hidden suite.

The suites' tests carry ``@points(value, "item")`` with literal arguments. The build reads them
here without importing the suite (which would import pytest and torch just to fill a notebook's
test cells); tests/test_registration.py checks that this reading equals
``autograder.suites.points_per_item``, which imports the suite.
"""

from __future__ import annotations

import ast
from pathlib import Path

SUITES = Path(__file__).resolve().parent.parent / "suites"


def declared_points(module: str) -> dict[str, float]:
    """The points per graded name of ``suites/test_<module>.py``, in the order the tests come."""
    totals: dict[str, float] = {}
    for node in ast.parse((SUITES / f"test_{module}.py").read_text(encoding="utf-8")).body:
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "points":
                value, item = (ast.literal_eval(argument) for argument in decorator.args)
                totals[item] = totals.get(item, 0.0) + float(value)
    return totals
