"""Build exercises/: stubbed modules, the public checks, the check command and the student README."""

from __future__ import annotations

from pathlib import Path

from autograder.build.code import stub_source
from autograder.syllabus import EXERCISES, MODULES, SOLUTIONS

PUBLIC = Path(__file__).resolve().parent.parent / "public"


def exercise_files() -> dict[Path, str]:
    files = {EXERCISES / f"{m}.py": stub_source((SOLUTIONS / f"{m}.py").read_text(), m) for m in MODULES}
    for m in MODULES:
        files[EXERCISES / "tests" / f"test_{m}.py"] = (PUBLIC / f"test_{m}.py").read_text()
    for name in ("check.py", "pytest.ini", "README.md"):
        files[EXERCISES / name] = (PUBLIC / name).read_text()
    return files
