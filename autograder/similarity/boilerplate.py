"""The code every student starts from, which no pair of students shares by copying.

That is the stub module of ``exercises/`` (its docstrings, imports and ``raise
NotImplementedError`` lines) and the answer cells of the release notebook (the same stubs, as
nbgrader's release shows them). copydetect drops every fingerprint found in them.
"""

from __future__ import annotations

from autograder.grading.notebooks import parse_notebook
from autograder.similarity.code import answer_cells
from autograder.syllabus import EXERCISES, RELEASE, Assignment


def boilerplate(assignment: Assignment) -> list[str]:
    texts = []
    stub = EXERCISES / f"{assignment.module}.py"
    if stub.is_file():
        texts.append(stub.read_text(encoding="utf-8"))
    release = RELEASE / assignment.folder / assignment.notebook
    if release.is_file():
        loaded = parse_notebook(release.read_bytes(), release.name)
        if loaded.cells is not None:
            texts.append(answer_cells(loaded.cells, assignment))
    return texts
