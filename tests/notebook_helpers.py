"""Make notebook submissions the way students do: the release notebook with answer cells filled in."""

from __future__ import annotations

from pathlib import Path

import nbformat

from autograder.build.notebooks import role_of
from autograder.syllabus import RELEASE, SOURCE, Assignment


def reference_answers(assignment: Assignment) -> dict[str, str]:
    notebook = nbformat.read(SOURCE / assignment.folder / assignment.notebook, as_version=4)
    return {role["name"]: cell.source for cell in notebook.cells
            if (role := role_of(cell)) and role["role"] == "answer"}


def student_notebook(assignment: Assignment, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The release notebook, with the given answer cells replaced (the others keep the stub)."""
    notebook = nbformat.read(RELEASE / assignment.folder / assignment.notebook, as_version=4)
    for cell in notebook.cells:
        role = role_of(cell)
        if role and role["role"] == "answer" and role["name"] in answers:
            cell.source = answers[role["name"]]
    return notebook


def write_notebook(path: Path, notebook: nbformat.NotebookNode) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path
