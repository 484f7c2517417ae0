"""Each student's own code per assignment, read as the grader reads submissions.

A module folder gives ``<module>.py`` (checked by ``read_module``: a regular file inside the
folder, no link followed, at most 512 KiB, UTF-8; one Python cannot parse is still compared as
text, since a copy with a typo is still a copy). Failing that, the assignment's
notebook gives its answer cells only (found and read by the grader's ``NotebookReader`` and
``locate``: bounded sizes, no link followed; IPython commands stripped): the free cells
(demos, plots) and the course's setup, check and test cells are left out. Whatever a folder
holds, the result is code or a note saying why there is none, never an exception.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading.folder import read_inside, shown
from autograder.grading.notebooks import MAX_CODE_CHARS, NotebookReader, cell_kind, cell_text, locate, strip_ipython
from autograder.grading.submission import MAX_MODULE_BYTES, read_module
from autograder.syllabus import ASSIGNMENTS, Assignment


@dataclass(frozen=True)
class Code:
    student: str
    assignment: Assignment
    text: str
    origin: str  # where it comes from, for the report: "activations.py", "02_activations/activations.ipynb"


@dataclass
class StudentCode:
    student: str
    code: dict[str, Code] = field(default_factory=dict)  # assignment folder -> the student's code
    notes: list[str] = field(default_factory=list)  # what was skipped, and why


def read_student(folder: Path, student: str) -> StudentCode:
    found = StudentCode(student)
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        found.notes.append(f"the folder could not be read ({exc.strerror})")
        return found
    notebooks = NotebookReader(folder)
    for assignment in ASSIGNMENTS:
        try:
            code, note = read_assignment(folder, assignment, names, notebooks)
        except Exception as exc:  # noqa: BLE001 - an odd folder is a note, and the others are compared
            code, note = None, f"{assignment.folder}: could not be read ({type(exc).__name__})"
        if code is not None:
            found.code[assignment.folder] = Code(student, assignment, *code)
        elif note:
            found.notes.append(note)
    return found


def read_assignment(folder: Path, assignment: Assignment, names: list[str],
                    notebooks: NotebookReader) -> tuple[tuple[str, str] | None, str]:
    """((code, origin) or None, a note when something was there but could not be used)."""
    module = read_module(folder, assignment.module, names)
    filename = f"{assignment.module}.py"
    if module.status == "ok":
        return (module.source, filename), ""
    if module.status == "rejected":
        text = unparsed_text(folder, filename)
        if text is not None:  # code Python cannot parse can still be a copy: compare it as text
            return (text, filename), ""
        return None, f"{assignment.folder}: {module.message}"
    path, _ = locate(notebooks, assignment)
    if path is None:
        return None, ""  # not submitted: nothing to compare, nothing to say
    origin = shown(path.relative_to(folder).as_posix())
    loaded = notebooks.load(path)
    if loaded.error:
        return None, f"{assignment.folder}: {loaded.error}"
    text = answer_cells(loaded.cells, assignment)
    if len(text) > MAX_CODE_CHARS:
        return None, (f"{assignment.folder}: `{origin}`'s answer cells hold more than {MAX_CODE_CHARS // 1024} KiB "
                      "of code, the most a notebook may hold")
    return (text, origin), ""


def unparsed_text(folder: Path, filename: str) -> str | None:
    """The text of a module the grader refused only because Python cannot parse it: a regular file
    inside the folder (``read_inside`` follows no link), within the size limit, UTF-8, no NUL."""
    try:
        data = read_inside(folder, Path(filename), MAX_MODULE_BYTES)
    except OSError:  # a link, a folder, unreadable: the grader's message stands
        return None
    if len(data) > MAX_MODULE_BYTES or b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def answer_cells(cells: list, assignment: Assignment) -> str:
    """The answer cells of a notebook, joined; the IPython commands in them left out."""
    answers = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        if cell_kind(cell, assignment.items)[0] != "answer":
            continue
        text = cell_text(cell)
        python = strip_ipython(text)[0] if text is not None else None
        if python:
            answers.append(python.rstrip("\n"))
    return "\n\n\n".join(answers) + "\n" if answers else ""
