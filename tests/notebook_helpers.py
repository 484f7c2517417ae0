"""Make notebook submissions the way students do: the release notebook with answer cells filled in,
free cells of their own added, run in Jupyter (outputs kept), cells moved, saved by an older Jupyter."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import nbformat

from autograder.cells import role_of
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


def index_of(notebook: nbformat.NotebookNode, role: str, name: str = "") -> int:
    """The position of the generated cell with this role (and graded name)."""
    return next(i for i, cell in enumerate(notebook.cells)
                if (r := role_of(cell)) and r["role"] == role and r.get("name", "") == name)


def add_free_cell(notebook: nbformat.NotebookNode, source: str, *, after: tuple[str, str] | None = None,
                  before: tuple[str, str] | None = None) -> None:
    """A code cell the student wrote (no metadata, as Jupyter makes it), after or before a generated
    cell given as (role, name), at the end when neither is given."""
    cell = nbformat.v4.new_code_cell(source)
    if after is not None:
        notebook.cells.insert(index_of(notebook, *after) + 1, cell)
    elif before is not None:
        notebook.cells.insert(index_of(notebook, *before), cell)
    else:
        notebook.cells.append(cell)


def move_task_first(notebook: nbformat.NotebookNode, name: str) -> None:
    """Move the answer, check and test cells of ``name`` right after the setup cell."""
    group = [notebook.cells[index_of(notebook, role, name)] for role in ("answer", "check", "tests")]
    notebook.cells = [c for c in notebook.cells if not any(c is g for g in group)]
    setup = index_of(notebook, "setup")
    notebook.cells[setup + 1:setup + 1] = group


PIXEL = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d49444154789c6360000002000"
    "1e221bc330000000049454e44ae426082")).decode()


def as_executed(notebook: nbformat.NotebookNode) -> None:
    """Outputs as Jupyter saves them after a run: text, results, an image, an error of an old run."""
    for count, cell in enumerate((c for c in notebook.cells if c.cell_type == "code"), 1):
        cell.execution_count = count
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text="tensor([0.5000, 0.7311])\n"),
            nbformat.v4.new_output("display_data", data={"image/png": PIXEL, "text/plain": "<Figure>"}),
            nbformat.v4.new_output("execute_result", data={"text/plain": "tensor(1.)"}, execution_count=count),
        ]
        if count == 2:
            cell.outputs.append(nbformat.v4.new_output("error", ename="NameError", evalue="name 'x' is not defined",
                                                       traceback=["NameError: name 'x' is not defined"]))


def write_nbformat_44(path: Path, notebook: nbformat.NotebookNode) -> Path:
    """Save as nbformat 4.4 (Jupyter before 2020): no cell ids."""
    data = json.loads(nbformat.writes(notebook))
    data["nbformat_minor"] = 4
    for cell in data["cells"]:
        cell.pop("id", None)
    nbformat.validate(nbformat.from_dict(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path
