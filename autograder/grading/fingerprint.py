"""What a grade depends on, as one hash: the submission's graded files and the grader itself.

A batch that was interrupted can be run again: a student whose results.json carries the same
fingerprint is not graded again.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from autograder.grading.notebooks import find_notebooks
from autograder.syllabus import MODULES, REPO

GRADER_FILES = ("solutions/*.py", "autograder/suites/*.py", "autograder/checks.py", "autograder/support/*.py",
                "autograder/worker/*.py", "autograder/grading/*.py", "source/*/*.ipynb")


@functools.cache
def grader_version() -> str:
    digest = hashlib.sha256()
    for pattern in GRADER_FILES:
        for path in sorted(REPO.glob(pattern)):
            digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def fingerprint(folder: Path) -> str:
    """The grader's version and every file of ``folder`` that grading reads."""
    digest = hashlib.sha256(grader_version().encode())
    files = [folder / f"{m}.py" for m in MODULES] + find_notebooks(folder)
    for path in files:
        try:
            data = b"<symlink>" if path.is_symlink() else b"<folder>" if path.is_dir() else path.read_bytes()
        except OSError:
            data = b"<missing>"
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + data + b"\0")
    return digest.hexdigest()
