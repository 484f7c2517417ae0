"""Build release/ with the real ``nbgrader generate_assignment``, in a scratch gradebook (the build then
adds the reference pictures, autograder/build/pictures.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder.syllabus import REPO, Assignment


def nbgrader_env() -> dict[str, str]:
    """nbgrader shells out to tools (alembic) that live beside this Python."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def generated_assignment(assignment: Assignment, source_text: str) -> nbformat.NotebookNode:
    """``nbgrader generate_assignment`` on a scratch course holding ``source_text``: its notebook.

    Safe to run in threads: the work is nbgrader's subprocess. (Parsing Python with ``ast`` is not:
    CPython 3.11 can raise "AST constructor recursion depth mismatch" when threads parse at once.)
    """
    with tempfile.TemporaryDirectory(prefix="dlkit-release-") as scratch:
        course = Path(scratch)
        folder = course / "source" / assignment.folder
        folder.mkdir(parents=True)
        (folder / assignment.notebook).write_text(source_text)
        shutil.copy(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", assignment.folder, "--force",
             f"--CourseDirectory.root={course}", f"--CourseDirectory.db_url=sqlite:///{course}/gradebook.db"],
            cwd=course, env=nbgrader_env(), capture_output=True, text=True)
        built = course / "release" / assignment.folder / assignment.notebook
        if result.returncode != 0 or not built.exists():
            raise RuntimeError(f"nbgrader generate_assignment {assignment.folder} failed:\n{result.stdout}\n{result.stderr}")
        return nbformat.read(built, as_version=4)
