"""Build release/ with the real ``nbgrader generate_assignment``, in a scratch gradebook, then add the
reference pictures (autograder/build/pictures.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder.build.pictures import add_pictures
from autograder.syllabus import RELEASE, REPO, Assignment


def nbgrader_env() -> dict[str, str]:
    """nbgrader shells out to tools (alembic) that live beside this Python."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def release_notebook(assignment: Assignment, source_text: str) -> tuple[Path, str]:
    """Run nbgrader on a scratch course holding ``source_text``; return the release notebook's text."""
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
        notebook = nbformat.read(built, as_version=4)
    add_pictures(notebook, nbformat.reads(source_text, as_version=4), assignment)  # "what yours should look like"
    return RELEASE / assignment.folder / assignment.notebook, nbformat.writes(notebook) + "\n"
