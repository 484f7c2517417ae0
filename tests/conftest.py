"""Shared fixtures of the kit's own tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autograder.syllabus import EXERCISES, MODULES, SOLUTIONS


@pytest.fixture
def submission(tmp_path: Path):
    """Make a submission folder: ``submission("alice", perceptron="...source...", ...)``."""
    def make(name: str, **modules: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        for module, source in modules.items():
            (folder / f"{module}.py").write_text(source)
        return folder
    return make


def copy_modules(tmp_path_factory: pytest.TempPathFactory, source: Path, name: str) -> Path:
    """A submission folder named ``name`` holding the seven modules of ``source``."""
    folder = tmp_path_factory.mktemp("subs") / name
    folder.mkdir()
    for module in MODULES:
        shutil.copy(source / f"{module}.py", folder)
    return folder


@pytest.fixture(scope="session")
def reference_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_modules(tmp_path_factory, SOLUTIONS, "reference")


@pytest.fixture(scope="session")
def stub_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_modules(tmp_path_factory, EXERCISES, "stubs")
