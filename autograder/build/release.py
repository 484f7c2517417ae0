"""Build release/ with the real ``nbgrader generate_assignment``, in a scratch course and gradebook (the
build then adds the reference pictures, autograder/build/pictures.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nbformat

from autograder.syllabus import REPO, Assignment


def nbgrader_env() -> dict[str, str]:
    """nbgrader shells out to tools (alembic) that live beside this Python."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def generated_assignments(sources: dict[Assignment, str]) -> dict[Assignment, nbformat.NotebookNode]:
    """``nbgrader generate_assignment`` of each source notebook's text, in one scratch course: the
    release notebooks nbgrader makes, through its Python API (``NbGraderAPI``, what its command
    line and formgrader call). One course, so its gradebook is created once (most of the time
    one assignment took)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    built: dict[Assignment, nbformat.NotebookNode] = {}
    with tempfile.TemporaryDirectory(prefix="dlkit-release-") as scratch, nbgrader_tools():
        course = Path(scratch)
        config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
        config.CourseDirectory.root = str(course)
        config.CourseDirectory.db_url = f"sqlite:///{course}/gradebook.db"
        api = NbGraderAPI(CourseDirectory(config=config), config=config)
        for assignment, source_text in sources.items():
            folder = course / "source" / assignment.folder
            folder.mkdir(parents=True)
            (folder / assignment.notebook).write_text(source_text)
            result = api.generate_assignment(assignment.folder, force=True)
            release = course / "release" / assignment.folder / assignment.notebook
            if not result.get("success") or not release.exists():
                raise RuntimeError(f"nbgrader generate_assignment {assignment.folder} failed:\n"
                                   f"{result.get('error') or ''}\n{result.get('log') or ''}")
            built[assignment] = nbformat.read(release, as_version=4)
    return built


@contextlib.contextmanager
def nbgrader_tools() -> Iterator[None]:
    """nbgrader's API shells out to ``alembic`` (beside this Python) when it creates or checks a
    gradebook: in this process, PATH finds it while the block runs."""
    saved = os.environ.get("PATH")
    if shutil.which("alembic") is None:
        os.environ["PATH"] = nbgrader_env()["PATH"]
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = saved
