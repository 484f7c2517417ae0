"""The one build: solutions/ -> exercises/, the generated cells of source/, release/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat

from autograder.build.examples import EXAMPLES, example_files
from autograder.build.exercises import exercise_files
from autograder.build.notebooks import source_notebook, write_if_changed
from autograder.build.pictures import add_pictures
from autograder.build.release import generated_assignments
from autograder.build.student_env import student_env_files
from autograder.syllabus import ASSIGNMENTS, EXERCISES, RELEASE, REPO


def generated_files(progress: Callable[[str], None] = print) -> dict[Path, str]:
    files = exercise_files()
    progress(f"exercises/: {len(files)} files")
    files.update(student_env_files())
    files.update(example_files())

    sources = {assignment: source_notebook(assignment) for assignment in ASSIGNMENTS}
    released = generated_assignments({a: text for a, (_, text) in sources.items()})
    for assignment, (source_path, source_text) in sources.items():
        notebook = released[assignment]
        add_pictures(notebook, nbformat.reads(source_text, as_version=4), assignment)
        files[source_path] = source_text
        files[RELEASE / assignment.folder / assignment.notebook] = nbformat.writes(notebook) + "\n"
        progress(f"{assignment.folder}: source and release notebooks")
    return files


def stale_extras(files: dict[Path, str]) -> list[Path]:
    """Files under exercises/ and release/ that the build no longer produces."""
    out = []
    for root in (EXERCISES, RELEASE, EXAMPLES):
        for path in root.rglob("*"):
            if path.is_file() and path not in files and "__pycache__" not in path.parts \
                    and ".ipynb_checkpoints" not in path.parts:
                out.append(path)
    return out


def build(check: bool = False, progress: Callable[[str], None] = print) -> list[Path]:
    """Write every generated file (or, with ``check``, only compare); return those that differ."""
    files = generated_files(progress)
    differ = [p for p, text in sorted(files.items()) if not p.exists() or p.read_text() != text]
    extras = stale_extras(files)
    if not check:
        for path in differ:
            write_if_changed(path, files[path])
        for path in extras:
            path.unlink()
    return [p.relative_to(REPO) for p in differ + extras]
