"""Fill the generated cells of the course notebooks in source/ from solutions/ and the suites.

A notebook's narrative is written by hand; its setup, answer, check and test
cells are marked (see docs/AUTHORING.md) and regenerated on every build, so
they always match solutions/, the public checks and the hidden suites.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from autograder.build.code import SolutionModule, read_solution
from autograder.cells import ROLES, WRITTEN, role_of
from autograder.files import atomic_write
from autograder.build.suite_points import declared_points
from autograder.syllabus import MODULES, SOLUTIONS, SOURCE, Assignment

SUPPORT = Path(__file__).resolve().parent.parent / "support"
PUBLIC = Path(__file__).resolve().parent.parent / "public"


class NotebookError(Exception):
    pass


def nbgrader_meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
                  points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return meta


def fill(notebook: nbformat.NotebookNode, assignment: Assignment) -> nbformat.NotebookNode:
    solution = read_solution(SOLUTIONS / f"{assignment.module}.py", MODULES)
    checks = public_checks(assignment)
    points = declared_points(assignment.module)
    seen: dict[str, list[str]] = {role: [] for role in ROLES}
    for cell in notebook.cells:
        role = role_of(cell)
        if role is None:
            if "nbgrader" in cell.get("metadata", {}):
                raise NotebookError(f"{assignment.folder}: a hand-written cell carries nbgrader metadata; "
                                    "graded cells must be generated (docs/AUTHORING.md)")
            continue
        kind, name = role["role"], role.get("name", "")
        if kind not in ("setup", "written") and name not in assignment.items:
            raise NotebookError(f"{assignment.folder}: `{kind} {name}` is not a graded name of this assignment")
        seen[kind].append(name)
        cell.metadata["dlkit"] = role
        if kind == "setup":
            cell.source = setup_code(solution)
            cell.metadata["nbgrader"] = nbgrader_meta("setup", locked=True)
        elif kind == "answer":
            cell.source = solution.definitions[name].source.rstrip("\n")
            cell.metadata["nbgrader"] = nbgrader_meta(name, solution=True)
        elif kind == "check":
            cell.source = checks.get(name) or f"# `{name}` has no visible checks: run the cells below to try it."
            cell.metadata["nbgrader"] = nbgrader_meta(f"check_{name}", locked=True)
        elif kind == "tests":
            cell.source = hidden_test_code(assignment.module, name, points[name])
            cell.metadata["nbgrader"] = nbgrader_meta(f"test_{name}", grade=True, locked=True, points=points[name])
        else:  # written: keep only the model answer in the source
            lines = cell.source.split("\n")
            if WRITTEN.match(lines[0].strip()):
                cell.source = "\n".join(lines[1:]).strip("\n")
            cell.metadata["nbgrader"] = nbgrader_meta(name, grade=True, solution=True, points=role["points"])
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    validate_roles(assignment, seen)
    return notebook


def validate_roles(assignment: Assignment, seen: dict[str, list[str]]) -> None:
    if len(seen["setup"]) != 1:
        raise NotebookError(f"{assignment.folder}: needs exactly one `# dlkit: setup` cell")
    for kind in ("answer", "check", "tests"):
        if sorted(seen[kind]) != sorted(assignment.items):
            raise NotebookError(f"{assignment.folder}: `{kind}` cells are {seen[kind]}; "
                                f"expected each of {list(assignment.items)} once")
    if len(set(seen["written"])) != len(seen["written"]):
        raise NotebookError(f"{assignment.folder}: two written questions share an id")


def setup_code(solution: SolutionModule) -> str:
    parts = ["# Setup: run this cell first (it is read-only).", *solution.setup_statements]
    ready_made = []
    for sibling, names in solution.sibling_imports.items():
        support = (SUPPORT / f"{sibling}.py").read_text()
        tree = ast.parse(support)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in names:
                ready_made.append(ast.get_source_segment(support, node))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):  # what the ready-made code needs
                statement = ast.get_source_segment(support, node)
                if statement not in parts:
                    parts.insert(1, statement)
    if ready_made:
        siblings = ", ".join(solution.sibling_imports)
        parts += ["", "# Ready-made versions of what this assignment uses from earlier ones (" + siblings + ").",
                  "# They are built on PyTorch's own functions, so they are not the from-scratch answers:",
                  "# those you write yourself in their own assignments.", ""]
        parts.append("\n\n\n".join(ready_made))
    return "\n".join(parts)


def public_checks(assignment: Assignment) -> dict[str, str]:
    """The visible check cell of each graded name, from the public tests of its module (if any)."""
    path = PUBLIC / f"test_{assignment.module}.py"
    if not path.is_file():
        return {}
    text = path.read_text()
    tree = ast.parse(text)
    imports = [ast.get_source_segment(text, n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
               and not (isinstance(n, ast.ImportFrom) and n.module == assignment.module)]
    tests: dict[str, list[ast.FunctionDef]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            item = owner_of(node.name, assignment.items)
            if item is None:
                raise NotebookError(f"{path.name}: {node.name} names no graded function of {assignment.module}")
            tests.setdefault(item, []).append(node)
    cells = {}
    for item, nodes in tests.items():
        body = [f"# Visible checks for `{item}`: run this cell after your answer above.",
                "# They try a few small cases; the hidden tests that grade your work check more.",
                *imports, ""]
        body += [ast.get_source_segment(text, n) + "\n" for n in nodes]
        body += [f"{n.name}()" for n in nodes]
        body.append(f'print("{item}: the visible checks passed.")')
        cells[item] = "\n".join(body)
    return cells


def owner_of(test_name: str, items: tuple[str, ...]) -> str | None:
    """The graded name a public test belongs to: the longest one that prefixes it."""
    matches = [i for i in items if test_name == f"test_{i}" or test_name.startswith(f"test_{i}_")]
    return max(matches, key=len) if matches else None


def hidden_test_code(module: str, item: str, points: float) -> str:
    return "\n".join([
        f"# Hidden tests for `{item}` ({points:g} points) run here when your notebook is graded.",
        "### BEGIN HIDDEN TESTS",
        "from autograder.grading.in_kernel import hidden_tests",
        f'hidden_tests("{module}", "{item}", globals())',
        "### END HIDDEN TESTS",
    ])


def source_notebook(assignment: Assignment) -> tuple[Path, str]:
    """The source notebook with its generated cells filled in, as text."""
    path = SOURCE / assignment.folder / assignment.notebook
    notebook = nbformat.read(path, as_version=4)
    fill(notebook, assignment)
    nbformat.validate(notebook)
    return path, nbformat.writes(notebook) + "\n"


def write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text() == text:
        return False
    atomic_write(path, text)
    return True
