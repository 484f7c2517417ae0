"""Turn notebook submissions into gradable modules.

A student's notebook is not run as a whole: the grader takes the code of its
graded answer cells (found by their nbgrader ids) and puts it after the
*instructor's* setup cell, so the module that runs is exactly "the kit's setup
plus the student's answers". Notebooks are found in nbgrader's layout
(``<student>/<assignment>/<module>.ipynb``) or in a plain folder
(``<student>/<module>.ipynb``); a renamed notebook is recognised by its cell ids.
"""

from __future__ import annotations

import ast
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.build.notebooks import role_of
from autograder.syllabus import SOURCE, Assignment

MAX_NOTEBOOK_BYTES = 16 * 2**20


@dataclass
class NotebookModule:
    source: str = ""  # setup + answers, ready to run as <module>.py
    problems: dict[str, str] = field(default_factory=dict)  # graded name -> why it cannot be graded
    notes: list[str] = field(default_factory=list)  # things the student should know, no points lost
    error: str = ""  # the notebook as a whole could not be used
    provided: frozenset[str] = frozenset()  # names the setup cell defines


def find_notebooks(folder: Path) -> list[Path]:
    """Notebooks in the folder and its direct subfolders (nbgrader's <assignment>/ level)."""
    found = []
    for pattern in ("*.ipynb", "*/*.ipynb"):
        found += [p for p in folder.glob(pattern) if ".ipynb_checkpoints" not in p.parts and not p.is_symlink()]
    return sorted(found)


def locate(folder: Path, assignment: Assignment, notebooks: list[Path]) -> tuple[Path | None, str]:
    """The student's notebook for an assignment, and a note when it was found under another name."""
    for candidate in (folder / assignment.folder / assignment.notebook, folder / assignment.notebook):
        if candidate in notebooks:
            return candidate, ""
    answers = {f"{name}" for name in assignment.items}
    for path in notebooks:
        if answers & grade_ids(path):
            relative = path.relative_to(folder)
            return path, (f"`{relative}` was graded as assignment {assignment.folder} "
                          f"(its expected name is `{assignment.folder}/{assignment.notebook}`)")
    return None, ""


def grade_id(cell: object) -> str | None:
    """The nbgrader id of a cell, read defensively (a student's notebook can hold anything)."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    value = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return value if isinstance(value, str) else None


def grade_ids(path: Path) -> set[str]:
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return set()
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        return {grade_id(c) for c in cells} - {None} if isinstance(cells, list) else set()
    except (OSError, ValueError, AttributeError):
        return set()


def cell_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def helper_definitions(cell: dict, graded: tuple[str, ...]) -> list[str]:
    """Functions, classes and imports a student wrote in a free cell (never its plots or demos)."""
    text = cell_text(cell)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    keep = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name not in graded:
            keep.append(ast.get_source_segment(text, node))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if not any(n.split(".")[0] in ("matplotlib", "IPython") for n in names):
                keep.append(ast.get_source_segment(text, node))
    return [k for k in keep if k]


@functools.cache
def instructor_setup(assignment: Assignment) -> str:
    """The setup cell of the instructor's source notebook (read once per grader process)."""
    notebook = nbformat.read(SOURCE / assignment.folder / assignment.notebook, as_version=4)
    return next(c.source for c in notebook.cells if (role_of(c) or {}).get("role") == "setup")


def module_from_notebook(path: Path, assignment: Assignment) -> NotebookModule:
    result = NotebookModule()
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            result.error = f"`{path.name}` is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB"
            return result
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        result.error = f"`{path.name}` is not UTF-8 text, so it is not a notebook"
        return result
    except json.JSONDecodeError as exc:
        result.error = (f"`{path.name}` is not a valid notebook: its JSON is broken at line {exc.lineno} "
                        "(was it edited outside Jupyter?)")
        return result
    except OSError as exc:
        result.error = f"`{path.name}` could not be read ({exc.strerror})"
        return result
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        result.error = f"`{path.name}` is not a notebook: it has no list of cells"
        return result
    answers: dict[str, list[str]] = {}
    helpers: list[str] = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        cell_id = grade_id(cell)
        if cell_id in assignment.items:
            answers.setdefault(cell_id, []).append(cell_text(cell))
        elif cell_id is None:
            helpers += helper_definitions(cell, assignment.items)
    setup = instructor_setup(assignment)
    result.provided = frozenset(n.name for n in ast.parse(setup).body
                                if isinstance(n, (ast.FunctionDef, ast.ClassDef)))
    parts = [setup, *helpers]
    for item in assignment.items:
        versions = answers.get(item)
        if not versions:
            result.problems[item] = (f"the answer cell of `{item}` (nbgrader id `{item}`) is missing from "
                                     "your notebook: was it deleted or its metadata changed?")
            continue
        if len(versions) > 1:
            result.notes.append(f"{len(versions)} cells carry the id `{item}`; the last one was graded")
        code = versions[-1]
        try:
            ast.parse(code)
        except SyntaxError as exc:
            result.problems[item] = (f"the answer cell of `{item}` has a syntax error on line {exc.lineno}: "
                                     f"{exc.msg}")
            continue
        parts.append(code)
    result.source = "\n\n\n".join(parts) + "\n"
    return result
