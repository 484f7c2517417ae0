"""Build exercises/: stubbed modules, the public checks, the check command and the student README.

``_kit/`` holds what ``check.py`` needs to import each module as the grader does: the grader's
own import rule (``autograder/worker/siblings.py``), the course it applies to (``course.json``,
from ``autograder/syllabus.py``) and the ready-made versions of the graded modules that a later
assignment imports from (``autograder/support/``), copied unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.build.code import stub_source
from autograder.syllabus import EXERCISES, MODULES, SOLUTIONS, course, depended_on

PACKAGE = Path(__file__).resolve().parent.parent
PUBLIC = PACKAGE / "public"
SUPPORT = PACKAGE / "support"
SIBLINGS = PACKAGE / "worker" / "siblings.py"


def exercise_files() -> dict[Path, str]:
    files = {EXERCISES / f"{m}.py": stub_source((SOLUTIONS / f"{m}.py").read_text(), m) for m in MODULES}
    for m in MODULES:
        if (PUBLIC / f"test_{m}.py").is_file():  # an assignment may have no public checks yet
            files[EXERCISES / "tests" / f"test_{m}.py"] = (PUBLIC / f"test_{m}.py").read_text()
    for name in ("check.py", "conftest.py", "pytest.ini", "README.md"):
        files[EXERCISES / name] = (PUBLIC / name).read_text()
    return files | kit_files()


def kit_files() -> dict[Path, str]:
    """``_kit/siblings.py``, ``_kit/course.json`` and ``_kit/ready_made/<module>.py``, as the
    grader's worker uses them."""
    files = {EXERCISES / "_kit" / "siblings.py": SIBLINGS.read_text(),
             EXERCISES / "_kit" / "course.json": json.dumps(course(), indent=1) + "\n"}
    for m in sorted(depended_on()):
        # only what a later assignment imports: a ready-made version not built on a forbidden
        # built-in (training's) would be that assignment's answer in plain sight
        files[EXERCISES / "_kit" / "ready_made" / f"{m}.py"] = (SUPPORT / f"{m}.py").read_text()
    return files
