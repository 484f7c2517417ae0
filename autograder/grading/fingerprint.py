"""What a grade depends on, as one hash: the submission's graded files and the grader itself.

A batch that was interrupted can be run again: a student whose results.json carries the same
fingerprint is not graded again.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from autograder.grading.folder import OutsideFolder, find_notebooks, read_inside
from autograder.grading.notebooks import MAX_NOTEBOOK_BYTES, MAX_NOTEBOOKS_BYTES
from autograder.syllabus import MODULES, REPO

PACKAGE = REPO / "autograder"
# The parts of the package that grading never imports nor reads (tests/test_fingerprint.py checks
# it), so a change there cannot change a verdict: what makes the student's kit and the notebooks
# (build/), the public checks the students run themselves (public/), what reads results once they
# are written (reports/, export/, gradebook.py, similarity/), the mutants, and the command line and
# other front ends (cli.py's options that matter reach grading as Limits, which the stamp holds).
NOT_GRADING = frozenset({"build", "public", "reports", "export", "gradebook.py", "similarity", "mutants",
                         "cli.py", "classroom.py", "gradescope.py", "__main__.py"})
# Outside the package, what grading reads: the reference solutions and the source notebooks (their
# provided cells; see grading/notebooks.py).
READ_BY_GRADING = ("solutions/*.py", "source/*/*.ipynb")


def grader_files() -> list[Path]:
    """Every file that can change a verdict: all of the package but ``NOT_GRADING`` (any kind of file,
    the suites' pytest.ini included; a new module counts until it is declared report-only), and
    ``READ_BY_GRADING``."""
    inside = [path for path in PACKAGE.rglob("*") if path.is_file()
              and path.relative_to(PACKAGE).parts[0] not in NOT_GRADING
              and "__pycache__" not in path.parts and not path.name.endswith((".pyc", ".pyo"))]
    outside = [path for pattern in READ_BY_GRADING for path in REPO.glob(pattern)]
    return sorted(inside + outside)


def grader_digest(read: Callable[[Path], bytes] = Path.read_bytes) -> str:
    """The hash of ``grader_files``: their names and contents."""
    digest = hashlib.sha256()
    for path in grader_files():
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + read(path) + b"\0")
    return digest.hexdigest()


@functools.cache
def grader_version() -> str:
    """The grader as it was when this process first asked (a grader process grades with the code it
    imported then)."""
    return grader_digest()


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
