"""The files of a submission folder, found and read without ever leaving it.

A student controls everything inside their folder, links included: a link to
another student's folder or to the instructor's ``source/`` must never be
followed. So nothing here uses ``Path.glob`` (it follows linked folders) or
plain ``open`` (it follows links): folders are listed entry by entry without
following links, and files are opened one path component at a time with
``O_NOFOLLOW``, so a link anywhere on the path is refused, not followed.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

CHECKPOINTS = ".ipynb_checkpoints"  # Jupyter's autosaved copies, never the student's work
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
DIRECTORY = getattr(os, "O_DIRECTORY", 0)


class OutsideFolder(OSError):
    """A path that is a link, or goes through one: reading it could leave the submission."""


def shown(text: str | Path) -> str:
    """A name or line of the student's, safe to put in a message: file names may not be UTF-8,
    and control characters would garble a terminal or a results file."""
    text = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


@dataclass
class Scan:
    notebooks: list[Path] = field(default_factory=list)  # real .ipynb files, at the top or one folder down
    links: list[Path] = field(default_factory=list)  # linked notebooks and linked folders, never followed


def scan(folder: Path) -> Scan:
    """Notebooks in the folder and its direct subfolders (nbgrader's <assignment>/ level)."""
    found = Scan()
    for entry in entries(folder):
        try:
            if entry.is_symlink():  # a linked .py is the module's own message (see read_module)
                if not entry.name.endswith(".py") or is_dir_behind_link(entry):
                    found.links.append(Path(entry.path))
            elif entry.is_dir(follow_symlinks=False) and entry.name != CHECKPOINTS:
                for inner in entries(Path(entry.path)):
                    if inner.name.endswith(".ipynb") and inner.is_symlink():
                        found.links.append(Path(inner.path))
                    elif inner.name.endswith(".ipynb") and inner.is_file(follow_symlinks=False):
                        found.notebooks.append(Path(inner.path))
            elif entry.is_file(follow_symlinks=False) and entry.name.endswith(".ipynb"):
                found.notebooks.append(Path(entry.path))
        except OSError:  # vanished or unreadable while listed: not part of the submission
            continue
    return found


def find_notebooks(folder: Path) -> list[Path]:
    return scan(folder).notebooks


def entries(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as listing:
            return sorted(listing, key=lambda e: e.name)
    except OSError:
        return []


def is_dir_behind_link(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:
        return False


def inside(folder: Path, path: Path) -> bool:
    """Whether ``path``, links resolved, is still within ``folder``."""
    root = os.path.realpath(folder)
    return os.path.realpath(path).startswith(root.rstrip(os.sep) + os.sep)


def link_on_path(folder: Path, relative: Path) -> Path | None:
    """The first component of ``folder/relative`` that is a link, if any."""
    current = folder
    for part in relative.parts:
        current = current / part
        try:
            if stat.S_ISLNK(current.lstat().st_mode):
                return current.relative_to(folder)
        except OSError:
            return None
    return None


def read_inside(folder: Path, relative: Path, limit: int) -> bytes:
    """The first ``limit + 1`` bytes of ``folder/relative``, refusing any link on the way.

    Raises OutsideFolder for a link, IsADirectoryError / OSError for anything else odd."""
    if relative.is_absolute() or ".." in relative.parts or not inside(folder, folder / relative):
        raise OutsideFolder(errno.ELOOP, "outside the submission folder")
    fds = []
    try:
        fds.append(os.open(folder, os.O_RDONLY | DIRECTORY))
        *parents, name = relative.parts
        for part in parents:
            fds.append(os.open(part, os.O_RDONLY | DIRECTORY | NOFOLLOW, dir_fd=fds[-1]))
        try:
            fd = os.open(name, os.O_RDONLY | NOFOLLOW | os.O_NONBLOCK, dir_fd=fds[-1])
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise OutsideFolder(errno.ELOOP, "a symbolic link") from None
            raise
        with os.fdopen(fd, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(errno.EISDIR, "a folder")
            if not stat.S_ISREG(mode):
                raise OSError(errno.EINVAL, "not a regular file")
            return fh.read(limit + 1)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not isinstance(exc, OutsideFolder):
            raise OutsideFolder(errno.ELOOP, "a symbolic link on the way") from None
        raise
    finally:
        for fd in fds:
            os.close(fd)
