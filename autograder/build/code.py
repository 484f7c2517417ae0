"""Read a solution module: its header, its graded definitions and their solution regions."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


@dataclass(frozen=True)
class Definition:
    name: str
    source: str  # the full text of the top-level def or class, solution markers included


@dataclass(frozen=True)
class SolutionModule:
    name: str
    path: Path
    text: str
    header: str  # module docstring and imports: everything before the first definition
    setup_statements: list[str]  # module-level statements other than definitions and docstring
    sibling_imports: dict[str, list[str]]  # sibling module -> imported names
    definitions: dict[str, Definition]


def read_solution(path: Path, siblings: tuple[str, ...]) -> SolutionModule:
    text = path.read_text()
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    definitions, statements, sibling_imports = {}, [], {}
    first_def = None
    for node in tree.body:
        start = (node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno) - 1
        end = node.end_lineno
        while end < len(lines) and re.match(r"[ \t]+#", lines[end]):  # trailing `### END SOLUTION`
            end += 1
        segment = "".join(lines[start:end])
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            first_def = first_def if first_def is not None else start
            definitions[node.name] = Definition(node.name, segment)
        elif isinstance(node, ast.ImportFrom) and node.module in siblings:
            sibling_imports[node.module] = [a.name for a in node.names]
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and node is tree.body[0]:
            continue  # the module docstring
        else:
            statements.append(segment.rstrip("\n"))
    header = "".join(lines[:first_def]) if first_def is not None else text
    return SolutionModule(path.stem, path, text, header, statements, sibling_imports, definitions)


def stub_source(text: str, module: str) -> str:
    """Replace every solution region by a NotImplementedError that names the task."""
    tree = ast.parse(text)
    owners = _region_owners(tree)
    lines = text.splitlines(keepends=True)
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            owner = owners.get(i + 1, module)
            out.append(f'{indent}raise NotImplementedError("{owner} is not implemented yet: '
                       'replace this line with your code.")\n')
            while lines[i].strip() != END:
                i += 1
        else:
            out.append(line)
        i += 1
    return "".join(out)


def _region_owners(tree: ast.Module) -> dict[int, str]:
    """Line number of each BEGIN marker -> qualified name of the function that holds it."""
    owners: dict[int, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                for line in range(child.lineno, child.end_lineno + 1):
                    owners[line] = name
                visit(child, name + ".")

    visit(tree, "")
    return owners
