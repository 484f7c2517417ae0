"""Run the public checks and print a friendly summary per function.

    python check.py                 # every assignment
    python check.py activations     # one module
    python check.py softmax         # one function
    python check.py training.train  # one function of one module (`train` is in two)

These are the *public* checks only: a few small cases per function. Your grade
comes from hidden tests that check much more (other inputs, float64, large
values, in-place changes), so passing here is a good sign, not a guarantee.

Each module is checked as the grader grades it: what it imports from an
*earlier* module is your own code, except the graded functions of that module,
which are the ready-made versions in ``_kit/ready_made/`` (so an unfinished
``activations.py`` does not stop ``backprop.py``'s checks). ``_kit/siblings.py``
holds that rule, the same file the grader runs, and ``_kit/course.json`` the graded
modules and names it applies to.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE / "tests"
KIT = HERE / "_kit"


def graded_names(test_file: Path) -> tuple[str, list[str]]:
    """The module a test file checks, and its graded names (what the file imports from it)."""
    tree = ast.parse(test_file.read_text())
    module = test_file.stem.removeprefix("test_")
    names = [a.name for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == module for a in n.names]
    return module, names


def owner(test_name: str, names: list[str]) -> str:
    matches = [n for n in names if test_name == f"test_{n}" or test_name.startswith(f"test_{n}_")]
    return max(matches, key=len) if matches else "?"


class Collector:
    def __init__(self) -> None:
        self.results: dict[str, tuple[bool, str]] = {}
        self.import_errors: list[str] = []  # test files that could not even import their module

    def pytest_runtest_logreport(self, report) -> None:  # noqa: ANN001 - pytest's hook
        if report.when == "call" or (report.failed and report.nodeid not in self.results):
            self.results[report.nodeid] = (report.passed, hint(report))

    def pytest_collectreport(self, report) -> None:  # noqa: ANN001 - pytest's hook
        if report.failed and report.nodeid.endswith(".py"):
            module = Path(report.nodeid).stem.removeprefix("test_")
            errors = [line[1:].strip() for line in str(report.longrepr).splitlines() if line.startswith("E ")]
            self.import_errors.append(f"`{module}.py` could not be imported, so none of its checks ran: "
                                      f"{errors[-1] if errors else 'see `pytest tests`'}")


def hint(report) -> str:  # noqa: ANN001
    if report.passed:
        return ""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash else str(report.longrepr)
    if "NotImplementedError" in text:
        return "not implemented yet"
    text = text.removeprefix("AssertionError: ").strip()
    return text.splitlines()[0] if text else "failed"


def siblings():
    """The grader's import rule (``_kit/siblings.py``), loaded from its file."""
    spec = importlib.util.spec_from_file_location("_dlkit_siblings", KIT / "siblings.py")
    rule = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = rule  # a module must be registered while it runs (dataclasses, typing)
    spec.loader.exec_module(rule)
    return rule


def course(rule) -> dict:
    """The graded modules, in course order, with their graded names."""
    return rule.read_course(json.loads((KIT / "course.json").read_text(encoding="utf-8")))


def graded_imports(rule, module: str):
    """How ``module`` sees the others: your own modules, and the ready-made earlier ones."""
    sources, unusable = {}, {}
    graded = course(rule)
    for name in graded:
        path = HERE / f"{name}.py"
        if path.is_file():
            try:
                sources[name] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                unusable[name] = f"`{name}.py` could not be read: {exc}"
    ready_made = {p.stem: p.read_text(encoding="utf-8") for p in sorted((KIT / "ready_made").glob("*.py"))}
    return rule.GradedImports(module, sources, ready_made, course=graded, unusable=unusable, folder=str(HERE))


def main(argv: list[str]) -> int:
    import pytest

    files, module, name = selection(argv[0] if argv else None, sorted(TESTS.glob("test_*.py")))
    rule = siblings()
    collector = Collector()
    sys.path.insert(0, str(HERE))
    for file in files:  # one module at a time, each with the imports the grader gives it
        args = [str(file), "-q", "-p", "no:cacheprovider", "--rootdir", str(HERE), "-c", str(HERE / "pytest.ini")]
        if name:
            args += ["-k", name]
        with graded_imports(rule, file.stem.removeprefix("test_")).installed():
            with contextlib.redirect_stdout(io.StringIO()):
                pytest.main(args, plugins=[collector])
        sys.modules.pop(file.stem, None)
    rows = summarise(files, collector.results, module, name)
    for error in collector.import_errors:
        print(error)
    print_table(rows)
    return 0 if rows and all(r[2] == r[3] for r in rows) and not collector.import_errors else 1


def selection(selected: str | None, files: list[Path]) -> tuple[list[Path], str | None, str | None]:
    """Which test files to run, and which module and function to report (None: all)."""
    if not selected:
        return files, None, None
    if "." in selected:
        module, name = selected.split(".", 1)
        return [f for f in files if f.stem == f"test_{module}"], module, name
    if any(f.stem == f"test_{selected}" for f in files):
        return [TESTS / f"test_{selected}.py"], selected, None
    return files, None, selected


def summarise(files: list[Path], results: dict, module_wanted: str | None, name_wanted: str | None) -> list[tuple]:
    rows = []
    for file in files:
        module, names = graded_names(file)
        per_name: dict[str, list[tuple[bool, str]]] = {n: [] for n in names}
        for nodeid, outcome in results.items():
            path, _, test = nodeid.partition("::")
            if Path(path).name == file.name:
                per_name.setdefault(owner(test, names), []).append(outcome)
        for name, outcomes in per_name.items():
            if outcomes and module_wanted in (None, module) and name_wanted in (None, name):
                passed = sum(ok for ok, _ in outcomes)
                first_hint = next((h for ok, h in outcomes if not ok), "")
                rows.append((module, name, passed, len(outcomes), first_hint))
    return rows


def print_table(rows: list[tuple]) -> None:
    passed = sum(r[2] for r in rows)
    total = sum(r[3] for r in rows)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        for module, name, ok, n, first_hint in rows:
            mark = "PASS" if ok == n else "TODO" if first_hint == "not implemented yet" else "FAIL"
            print(f"{mark:4}  {module}.{name:24} {ok}/{n}  {first_hint}")
    else:
        table = Table(title="Public checks", show_lines=False)
        for column in ("", "function", "checks", "hint for the first failure"):
            table.add_column(column)
        for module, name, ok, n, first_hint in rows:
            mark = "[green]✓[/]" if ok == n else "[yellow]…[/]" if first_hint == "not implemented yet" else "[red]✗[/]"
            table.add_row(mark, f"{module}.{name}", f"{ok}/{n}", first_hint)
        Console().print(table)
    print(f"\n{passed} of {total} public checks passed: {passed} of {total} public points (one per check).")
    if total and passed == total:
        print("Every public check passed. Your grade comes from the hidden tests, which check much more: "
              "other inputs, float64, large values, and that your inputs are left unchanged.")
    elif total:
        print("These are only the public checks; the hidden tests that grade your work check more.")
    else:
        print("No public check matched what you asked for.")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
