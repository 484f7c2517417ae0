"""Generate a class of honest submissions, as module folders and as nbgrader notebooks.

Student i is, by i mod 4: correct, untouched stubs, buggy (one catalogued bug per module, drawn
with a seeded generator) or halfway (the first assignments right, the rest stubs). The same
students appear in both forms, so the two can be graded and compared.
"""

from __future__ import annotations

import random
from pathlib import Path

import nbformat

from autograder.build.code import stub_source
from autograder.cells import role_of
from autograder.mutants.catalogue import load
from autograder.syllabus import ASSIGNMENTS, MODULES, RELEASE, SOLUTIONS, SOURCE

KINDS = ("correct", "stubbed", "buggy", "halfway")


def plan(n: int, seed: int = 0) -> dict[str, dict[str, tuple[str, str | None]]]:
    """Student -> module -> (kind, bug id or None)."""
    rng = random.Random(seed)
    bugs = {m: sorted(e.id for e in load((m,)) if e.kind == "bug") for m in MODULES}
    students = {}
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        modules = {}
        for position, module in enumerate(MODULES):
            if kind == "buggy":
                modules[module] = ("buggy", rng.choice(bugs[module]))
            elif kind == "halfway":
                modules[module] = ("correct" if position < 4 else "stubbed", None)
            else:
                modules[module] = (kind, None)
        students[f"s{i:04d}"] = modules
    return students


def module_source(module: str, kind: str, bug: str | None) -> str:
    reference = (SOLUTIONS / f"{module}.py").read_text()
    if kind == "stubbed":
        return stub_source(reference, module)
    if kind == "buggy":
        return next(e for e in load((module,)) if e.id == bug).apply()
    return reference


def write_module_folders(students: dict, root: Path) -> list[Path]:
    folders = []
    for student, modules in students.items():
        folder = root / student
        folder.mkdir(parents=True)
        for module, (kind, bug) in modules.items():
            (folder / f"{module}.py").write_text(module_source(module, kind, bug))
        folders.append(folder)
    return folders


def answers(assignment, kind: str, bug: str | None) -> dict[str, str]:
    """Answer cells: the source notebook's (the reference), with the bug applied where it falls."""
    if kind == "stubbed":
        return {}
    notebook = nbformat.read(SOURCE / assignment.folder / assignment.notebook, as_version=4)
    cells = {role["name"]: cell.source for cell in notebook.cells
             if (role := role_of(cell)) and role["role"] == "answer"}
    if kind == "buggy":
        edit = next(e for e in load((assignment.module,)) if e.id == bug)
        for name, code in cells.items():
            if edit.old in code:
                cells[name] = code.replace(edit.old, edit.new)
                break
    return cells


def write_notebooks(students: dict, submitted: Path) -> list[Path]:
    """nbgrader's layout: submitted/<student>/<assignment>/<module>.ipynb."""
    releases = {a.module: nbformat.read(RELEASE / a.folder / a.notebook, as_version=4) for a in ASSIGNMENTS}
    folders = []
    for student, modules in students.items():
        for assignment in ASSIGNMENTS:
            kind, bug = modules[assignment.module]
            notebook = nbformat.from_dict(releases[assignment.module])
            filled = answers(assignment, kind, bug)
            for cell in notebook.cells:
                role = role_of(cell)
                if role and role["role"] == "answer" and role["name"] in filled:
                    cell.source = filled[role["name"]]
            path = submitted / student / assignment.folder / assignment.notebook
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, path)
        folders.append(submitted / student)
    return folders
