"""Plain ``pytest`` in this folder imports each module as ``python check.py`` (and the grader) do:
while a test file imports its module, what that module imports from an earlier one is your own
code with the ready-made graded functions (see check.py and ``_kit/siblings.py``). Imports that
run later, inside a function, are plain Python here; ``python check.py`` handles those too."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check  # noqa: E402

RULE = check.siblings()
GRADED = check.course(RULE)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):  # noqa: ANN001, ANN201 - pytest's hook
    module = collector.path.stem.removeprefix("test_") if isinstance(collector, pytest.Module) else ""
    checked_by_check_py = any(type(finder).__name__ == "GradedImports" for finder in sys.meta_path)
    if module not in GRADED or checked_by_check_py:
        yield
        return
    with check.graded_imports(RULE, module).installed():
        yield
