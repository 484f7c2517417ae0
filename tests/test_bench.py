"""The benchmark's generated class: both forms hold the same honest submissions."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from submissions import plan, write_module_folders, write_notebooks  # noqa: E402

from autograder.cells import role_of  # noqa: E402
from autograder.syllabus import ASSIGNMENTS, EXERCISES, SOLUTIONS  # noqa: E402


def test_generated_submissions_mix_kinds_and_match_in_both_forms(tmp_path):
    students = plan(8, seed=1)
    assert plan(8, seed=1) == students, "deterministic"
    kinds = [modules["perceptron"][0] for modules in students.values()]
    assert kinds[:4] == ["correct", "stubbed", "buggy", "correct"] and kinds[4:] == kinds[:4]
    folders = write_module_folders(students, tmp_path / "modules")
    write_notebooks(students, tmp_path / "submitted")
    correct, stubbed, buggy = folders[0], folders[1], folders[2]
    assert (correct / "mlp.py").read_text() == (SOLUTIONS / "mlp.py").read_text()
    assert (stubbed / "mlp.py").read_text() == (EXERCISES / "mlp.py").read_text()
    for assignment in ASSIGNMENTS:
        module_text = (buggy / f"{assignment.module}.py").read_text()
        assert module_text != (SOLUTIONS / f"{assignment.module}.py").read_text()
        notebook = nbformat.read(tmp_path / "submitted" / buggy.name / assignment.folder / assignment.notebook, 4)
        answers = [c.source for c in notebook.cells if (r := role_of(c)) and r["role"] == "answer"]
        assert all(answer in module_text for answer in answers), "the notebook holds the same buggy code"
