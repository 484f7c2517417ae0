"""Students may be on Python 3.10: everything they get compiles there and uses only its stdlib.

Checked with a real Python 3.10 interpreter (pyenv's, on this kind of machine) without installing a
second PyTorch: the files are compiled and their standard-library imports resolved, not run.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from autograder.syllabus import EXERCISES, RELEASE, REPO, SOLUTIONS

CHECKER = Path(__file__).with_name("py310_check.py")


def python310() -> str | None:
    for candidate in (shutil.which("python3.10"), str(Path.home() / ".pyenv/versions/3.10.13/bin/python3.10")):
        if candidate and Path(candidate).is_file():
            probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                                   capture_output=True, text=True)
            if probe.returncode == 0 and probe.stdout.strip() == "(3, 10)":
                return candidate
    return None


def student_files() -> list[Path]:
    files = sorted(EXERCISES.rglob("*.py")) + sorted(SOLUTIONS.glob("*.py")) + sorted(RELEASE.glob("*/*.ipynb"))
    return [p for p in files if "__pycache__" not in p.parts]


def run_checker(paths: list[Path]) -> subprocess.CompletedProcess:
    interpreter = python310()
    if interpreter is None:
        pytest.skip("no Python 3.10 interpreter here (install one, e.g. `pyenv install 3.10`)")
    return subprocess.run([interpreter, "-I", str(CHECKER), *map(str, paths)],
                          capture_output=True, text=True, timeout=300)


def test_student_code_compiles_on_python_3_10():
    files = student_files()
    assert len(files) >= 20, files
    result = run_checker(files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_catches_3_11_only_code(tmp_path: Path):
    bad = tmp_path / "bad.py"
    bad.write_text("import tomllib\nfrom typing import Self\n"
                   "try:\n    pass\nexcept* ValueError:\n    pass\n")
    modern = tmp_path / "modern.py"
    modern.write_text("import tomllib\nfrom typing import Self\nfrom enum import StrEnum\n")
    result = run_checker([bad, modern])
    assert result.returncode == 1
    assert "cannot compile" in result.stdout  # except* is 3.11 syntax
    assert "tomllib" in result.stdout and "typing.Self" in result.stdout and "enum.StrEnum" in result.stdout


def test_requires_python_matches_what_students_need():
    text = (REPO / "exercises" / "README.md").read_text()
    assert "3.10" in text, "the student README should say Python 3.10+"
