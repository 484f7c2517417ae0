"""What a grade depends on, as one hash: the submission's graded files and the grader itself.

A batch that was interrupted can be run again: a student whose results.json carries the same
fingerprint is not graded again.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from autograder.grading.folder import OutsideFolder, find_notebooks, read_inside
from autograder.grading.notebooks import MAX_NOTEBOOK_BYTES, MAX_NOTEBOOKS_BYTES
from autograder.syllabus import MODULES, REPO

GRADER_FILES = ("solutions/*.py", "autograder/suites/*.py", "autograder/suites/checks.py", "autograder/support/*.py",
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
    budget = MAX_NOTEBOOKS_BYTES
    for path in files:
        relative = path.relative_to(folder)
        try:  # read as grading reads: never through a link, never more than grading would
            if budget > 0:
                data = read_inside(folder, relative, MAX_NOTEBOOK_BYTES)
                budget -= len(data)
            else:  # beyond what grading reads of a submission: its size and time stand for it
                info = path.lstat()
                data = f"<unread {info.st_size} {info.st_mtime_ns}>".encode()
        except OutsideFolder:
            data = b"<symlink>"
        except IsADirectoryError:
            data = b"<folder>"
        except OSError:
            data = b"<missing>"
        digest.update(os.fsencode(relative) + b"\0" + data + b"\0")
    return digest.hexdigest()
