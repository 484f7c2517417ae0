"""Adding an assignment needs only its own files and one registration entry.

In a temporary copy of the repository, a toy eighth assignment (``doubling``: one function,
``double(x)``) is added with exactly what docs/AUTHORING.md ("Adding an assignment") asks for:
its solution module, its hidden suite and mutants, its notebook, and one ``Assignment(...)`` line in
``autograder/syllabus.py``. Then the copy's own code (``PYTHONPATH=<copy>``, not the editable
install) builds the course, grades a correct and a stub submission, and checks the mutants.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.syllabus import ASSIGNMENTS, REPO

NEEDED = ("autograder", "solutions", "source", "exercises", "release", "examples", "nbgrader_config.py",
          "pyproject.toml")
MODULE, FOLDER = "doubling", f"{len(ASSIGNMENTS) + 1:02d}_doubling"

REGISTRATION = f'    Assignment({len(ASSIGNMENTS) + 1}, "doubling", "Doubling a tensor", ("double",)),\n'

SOLUTION = '''"""Assignment 08: double a tensor (a toy assignment)."""

from __future__ import annotations

from torch import Tensor


def double(x: Tensor) -> Tensor:
    """Twice ``x``: a new tensor of the shape and dtype of ``x``."""
    ### BEGIN SOLUTION
    return x + x
    ### END SOLUTION
'''

SUITE = '''"""Hidden tests for the toy assignment: double."""

import torch

from autograder.suites.checks import compare, points, rand


@points(1, "double")
def test_double_float32(student, ref):
    """double doubles every entry of a float32 matrix"""
    compare(student, ref, "double", rand(3, 4, seed=1), hint="double(x) is 2 * x")


@points(2, "double")
def test_double_float64(student, ref):
    """double keeps the dtype of a float64 vector"""
    compare(student, ref, "double", rand(5, dtype=torch.float64, seed=2), hint="double(x) is 2 * x, in x's dtype")
'''

MUTANTS = '''[[bug]]
id = "double_adds_one"
function = "double"
description = "adds one instead of doubling"
old = "    return x + x\\n"
new = "    return x + 1\\n"

[[bug]]
id = "double_in_float32"
function = "double"
description = "always returns float32"
old = "    return x + x\\n"
new = "    return (x + x).float()\\n"

[[alternative]]
id = "double_times_two"
function = "double"
description = "multiplies by two"
old = "    return x + x\\n"
new = "    return 2 * x\\n"
'''


def notebook() -> str:
    cells = [nbformat.v4.new_markdown_cell("# Doubling a tensor\n\nWrite `double(x)`, which returns $2x$."),
             nbformat.v4.new_code_cell("# dlkit: setup")]
    cells += [nbformat.v4.new_code_cell(f"# dlkit: {role} double") for role in ("answer", "check", "tests")]
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells))


def files_of_the_repository() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *NEEDED],
                            cwd=REPO, capture_output=True, text=True, check=True).stdout
    return [p for p in listed.split("\0") if p and (REPO / p).is_file()]


def add_the_toy(copy: Path) -> None:
    """The three parts and the registration entry: nothing else."""
    (copy / "solutions" / f"{MODULE}.py").write_text(SOLUTION)
    (copy / "autograder" / "suites" / f"test_{MODULE}.py").write_text(SUITE)
    (copy / "autograder" / "mutants" / f"{MODULE}.toml").write_text(MUTANTS)
    (copy / "source" / FOLDER).mkdir()
    (copy / "source" / FOLDER / f"{MODULE}.ipynb").write_text(notebook())
    syllabus = copy / "autograder" / "syllabus.py"
    text = syllabus.read_text()
    end = text.index("\n)\n", text.index("ASSIGNMENTS: tuple[Assignment, ...] = ("))
    syllabus.write_text(text[:end + 1] + REGISTRATION + text[end + 1:])


def results_of(out: Path, student: str) -> tuple[float, float, set[str]]:
    """The toy's score, its maximum and the statuses of its tests, from the student's results.json."""
    tests = json.loads((out / student / "results.json").read_text())["tests"]
    mine = [t for t in tests if t["extra_data"]["module"] == MODULE]
    return (sum(t["score"] for t in mine), sum(t["max_score"] for t in mine),
            {t["extra_data"]["status"] for t in mine})


@pytest.mark.slow
def test_a_toy_eighth_assignment_builds_grades_and_passes_its_mutants(tmp_path):
    copy = tmp_path / "repo"
    for relative in files_of_the_repository():
        (copy / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / relative, copy / relative)
    add_the_toy(copy)
    env = {**os.environ, "PYTHONPATH": str(copy)}

    def dlkit(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        # in a session of its own, so that a time-out also ends what it started (nbgrader, workers)
        process = subprocess.Popen([sys.executable, "-m", "autograder.cli", *args], cwd=copy, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    where = subprocess.run([sys.executable, "-c", "import autograder; print(autograder.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(copy), f"the copy's code is shadowed by {where}"

    built = dlkit("build")
    assert built.returncode == 0, built.stdout + built.stderr
    assert (copy / "release" / FOLDER / f"{MODULE}.ipynb").is_file()
    assert "NotImplementedError" in (copy / "exercises" / f"{MODULE}.py").read_text()
    assert json.loads((copy / "exercises" / "_kit" / "course.json").read_text())[-1] == [MODULE, ["double"]]

    for student, source in (("correct", copy / "solutions"), ("stub", copy / "exercises")):
        (tmp_path / student).mkdir()
        shutil.copy(source / f"{MODULE}.py", tmp_path / student)
    out = tmp_path / "out"
    graded = dlkit("grade", str(tmp_path / "correct"), str(tmp_path / "stub"), "--out", str(out))
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert results_of(out, "correct") == (3.0, 3.0, {"passed"})
    assert results_of(out, "stub") == (0.0, 3.0, {"not_implemented"})

    mutants = dlkit("mutants", MODULE)
    assert mutants.returncode == 0, mutants.stdout + mutants.stderr
    assert "2 bugs, 1 alternatives" in mutants.stdout, mutants.stdout
