"""Build exercises/: stubbed modules, the public checks, the check command and the student README.

``_kit/`` holds what ``check.py`` needs to import each module as the grader does: the grader's
own import rule (``autograder/worker/siblings.py``) and the ready-made versions of the graded
modules (``autograder/support/``), copied unchanged.
"""

from __future__ import annotations

from pathlib import Path

from autograder.build.code import stub_source
from autograder.syllabus import EXERCISES, MODULES, SOLUTIONS

PACKAGE = Path(__file__).resolve().parent.parent
PUBLIC = PACKAGE / "public"
SUPPORT = PACKAGE / "support"
SIBLINGS = PACKAGE / "worker" / "siblings.py"


def exercise_files() -> dict[Path, str]:
    files = {EXERCISES / f"{m}.py": stub_source((SOLUTIONS / f"{m}.py").read_text(), m) for m in MODULES}
    for m in MODULES:
        files[EXERCISES / "tests" / f"test_{m}.py"] = (PUBLIC / f"test_{m}.py").read_text()
    for name in ("check.py", "conftest.py", "pytest.ini", "README.md"):
        files[EXERCISES / name] = (PUBLIC / name).read_text()
    return files | kit_files()


def kit_files() -> dict[Path, str]:
    """``_kit/siblings.py`` and ``_kit/ready_made/<module>.py``, as the grader's worker uses them."""
    files = {EXERCISES / "_kit" / "siblings.py": SIBLINGS.read_text()}
    for m in MODULES:
        # training's ready-made version would be 06's answer in plain sight (it is not built on a
        # forbidden built-in); nothing a student writes needs it, as only 07 comes after it
        if m != "training" and (SUPPORT / f"{m}.py").is_file():
            files[EXERCISES / "_kit" / "ready_made" / f"{m}.py"] = (SUPPORT / f"{m}.py").read_text()
    return files
