"""A student's own install: a fresh venv from exercises/requirements.txt, without the grader.

It runs the public checks on a finished set of modules and one release notebook with the answers
filled in, the way a student would, so the requirements file is proven to be enough.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.syllabus import ASSIGNMENTS, EXERCISES, MODULES, SOLUTIONS
from notebook_helpers import reference_answers, student_notebook, write_notebook

RUN_NOTEBOOK = """
import sys, nbformat
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
print("executed", sum(c.cell_type == "code" for c in notebook.cells), "code cells")
"""


@pytest.fixture(scope="module")
def student_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("student-env") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(EXERCISES / "requirements.txt"),
                              "nbclient"], capture_output=True, text=True, timeout=1200)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    return python


def test_the_student_env_has_no_grader(student_python: Path):
    probe = subprocess.run([str(student_python), "-c", "import autograder"], capture_output=True, text=True,
                           cwd="/")
    assert probe.returncode != 0, "the student environment must not contain the grader"
    for name in ("nbgrader", "playwright"):
        probe = subprocess.run([str(student_python), "-c", f"import {name}"], capture_output=True, cwd="/")
        assert probe.returncode != 0, f"{name} is not something students need"


def test_check_py_runs_in_the_student_env(student_python: Path, tmp_path: Path):
    folder = tmp_path / "exercises"
    shutil.copytree(EXERCISES, folder, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    for module in MODULES:
        shutil.copy(SOLUTIONS / f"{module}.py", folder / f"{module}.py")
    run = subprocess.run([str(student_python), "check.py"], cwd=folder, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    shutil.copy(EXERCISES / "activations.py", folder / "activations.py")
    run = subprocess.run([str(student_python), "check.py", "activations"], cwd=folder, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode != 0 and "not implemented" in (run.stdout + run.stderr).lower()


def test_a_release_notebook_runs_in_the_student_env(student_python: Path, tmp_path: Path):
    assignment = ASSIGNMENTS[0]
    path = write_notebook(tmp_path / assignment.notebook,
                          student_notebook(assignment, reference_answers(assignment)))
    run = subprocess.run([str(student_python), "-c", RUN_NOTEBOOK, str(path), str(tmp_path)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "executed" in run.stdout
    assert nbformat.read(path, as_version=4).cells
