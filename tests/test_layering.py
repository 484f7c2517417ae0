"""The kit's layering, read statically from the package's import statements (nothing is imported).

Every ``import`` counts, also one inside a function: a lazy import still runs whenever that
function does, so "``build/`` does not import torch" has to hold for all of build's code paths,
not only for its import time. ``importlib.import_module(f"autograder.suites.test_{m}")`` counts
as importing every kit module its constant prefix names. Imports under ``if TYPE_CHECKING:`` never
run and do not count.

One exception, by name: ``build/pictures.py`` draws the release notebooks' reference pictures by
running the notebooks' code with the solutions, which needs torch and matplotlib. It imports them
inside the functions that draw, so reading TOML, notebooks and source files never loads torch;
only its lazy torch imports are exempt (see ``RUNS_THE_SOLUTIONS``).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

import autograder

pytestmark = pytest.mark.fast

PACKAGE = Path(autograder.__file__).resolve().parent
ROOT = PACKAGE.parent
# build modules whose job is to run the solutions' code: their lazy imports of torch do not count
RUNS_THE_SOLUTIONS = {"autograder.build.pictures": {"torch", "matplotlib"}}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def kit_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}


def _runtime_nodes(tree: ast.AST, exempt: set[str] = set(), lazy: bool = False) -> Iterator[ast.AST]:
    """Every node, except what sits under ``if TYPE_CHECKING:`` and the lazy imports of ``exempt``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                yield child
                yield from _runtime_nodes(child, exempt, lazy)
            continue
        if lazy and isinstance(node, ast.Import) and {a.name.split(".")[0] for a in node.names} <= exempt:
            continue
        yield node
        yield from _runtime_nodes(node, exempt, lazy or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))


def _dynamic_import(node: ast.AST) -> str | None:
    """The constant prefix of ``importlib.import_module(...)``'s argument, if it names the kit."""
    if not (isinstance(node, ast.Call) and node.args and ast.unparse(node.func).endswith("import_module")):
        return None
    argument = node.args[0]
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    if isinstance(argument, ast.JoinedStr) and argument.values and isinstance(argument.values[0], ast.Constant):
        return str(argument.values[0].value)
    return None


@functools.cache
def imports_of(module: str) -> frozenset[str]:
    """The absolute names ``module`` imports: kit modules (with the packages that hold them, whose
    ``__init__`` runs first) and, for anything else, its top-level name (``torch``, ``pytest``)."""
    path = kit_modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in _runtime_nodes(tree, RUNS_THE_SOLUTIONS.get(module, set())):
        prefix = _dynamic_import(node)
        if prefix is not None and prefix.startswith("autograder."):
            names.update(m for m in kit_modules() if m.startswith(prefix))
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in kit_modules())
    out: set[str] = set()
    for name in names:
        if name.split(".")[0] != "autograder":
            out.add(name.split(".")[0])
            continue
        while name not in kit_modules():  # `from autograder.x import y`, y a function: the module x
            name = name.rpartition(".")[0]
        parts = name.split(".")
        out.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    out.discard(module)
    return frozenset(out)


def closure(modules: set[str]) -> dict[str, str]:
    """Everything ``modules`` import, directly or through kit modules: each name with the kit
    module that imports it (to say where a forbidden import comes from)."""
    found: dict[str, str] = {}
    todo = sorted(modules)
    while todo:
        module = todo.pop()
        for name in imports_of(module):
            if name not in found and name not in modules:
                found[name] = module
                if name in kit_modules():
                    todo.append(name)
    return found


def chain(name: str, found: dict[str, str], start: set[str]) -> str:
    path = [name]
    while path[-1] not in start:
        path.append(found[path[-1]])
    return " <- ".join(path)


def under(prefix: str) -> set[str]:
    return {m for m in kit_modules() if m == prefix or m.startswith(prefix + ".")}


def part_of(module: str) -> str:
    """The layer a kit module belongs to: its subpackage, or itself for a top-level module."""
    return ".".join(module.split(".")[:2])


def test_the_analysis_sees_imports_of_every_kind():
    # a plain import, a relative one, `from package import module`, and one inside a function
    assert {"torch", "autograder.worker.fixtures", "autograder.worker.protocol"} <= imports_of("autograder.worker.server")
    assert "autograder.grading.grade" in imports_of("autograder.mutants.mutation")
    assert "pytest" in closure(under("autograder.grading"))
    assert "autograder.suites.test_mlp" in imports_of("autograder.suites")  # import_module(f"...{module}")


def test_the_worker_imports_nothing_else_of_the_kit():
    """Only ``worker/`` is mounted in the sandbox: an import of the rest would fail there."""
    worker = under("autograder.worker")
    outside = {name: module for module in worker for name in imports_of(module)
               if name.startswith("autograder.") and name not in worker}
    assert outside == {}, f"worker/ imports kit modules outside worker/: {outside}"


def test_the_build_imports_neither_pytest_nor_torch():
    """``dlkit build`` reads TOML, notebooks and source files; it must not need the grading stack."""
    build = under("autograder.build")
    found = closure(build)
    heavy = [chain(name, found, build) for name in ("pytest", "torch") if name in found]
    assert heavy == [], "build/ imports " + "; ".join(heavy)


def test_the_runner_does_not_import_grading():
    runner = under("autograder.runner")
    found = closure(runner)
    grading = [chain(name, found, runner) for name in found if name.startswith("autograder.grading")]
    assert grading == [], "runner/ imports grading: " + "; ".join(grading)


def test_no_import_cycle_between_the_kit_s_packages():
    edges: dict[str, set[str]] = {}
    for module in kit_modules():
        for name in imports_of(module):
            if name.startswith("autograder.") and part_of(name) != part_of(module):
                edges.setdefault(part_of(module), set()).add(part_of(name))

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(edges.get(node, ()))
        return False

    cycles = sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if reaches(b, a)})
    assert cycles == [], f"packages that import each other (directly or round about): {cycles}"


def test_the_grader_does_not_build_jsonschemas_iri_grammar():
    """nbformat imports jsonschema, which would build rfc3987-syntax's grammar (with lark) at import:
    over a second in every grader process, CLI run and grading kernel. The kit tells jsonschema the
    optional package is absent (autograder/__init__.py); an import placed before that would undo it."""
    import subprocess
    import sys

    probe = ("import sys, autograder.cli, autograder.grading.grade, autograder.grading.in_kernel, nbformat; "
             "print(sorted(m for m in ('lark', 'rfc3987_syntax') if sys.modules.get(m) is not None))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "[]"
