"""Read a submission folder: which graded modules are there, and which are usable.

Only ``<module>.py`` files at the top level count. Each is checked before any
of it runs: a regular file (not a symlink, not a directory), of sane size,
UTF-8 text, valid Python. Usable modules are copied into a private folder of
their own, so the code that runs sees nothing else of the submission.
"""

from __future__ import annotations

import ast
import difflib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading.notebooks import find_notebooks, locate, module_from_notebook
from autograder.syllabus import BY_MODULE, MODULES

MAX_MODULE_BYTES = 512 * 1024


@dataclass
class ModuleFile:
    module: str
    status: str  # "ok", "missing" or "rejected"
    message: str = ""
    source: str = ""
    problems: dict[str, str] = field(default_factory=dict)  # graded name -> why it scores zero
    notes: list[str] = field(default_factory=list)  # worth telling, costs nothing
    provided: frozenset[str] = frozenset()  # definitions the kit supplied (a notebook's setup cell)


def read_submission(folder: Path) -> dict[str, ModuleFile]:
    """Each graded module, from `<module>.py` or, failing that, from the assignment's notebook."""
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        return {m: ModuleFile(m, "rejected", f"the submission folder could not be read ({exc.strerror})")
                for m in MODULES}
    notebooks = find_notebooks(folder)
    files = {}
    for module in MODULES:
        files[module] = read_module(folder, module, names)
        if files[module].status == "missing" and notebooks:
            files[module] = read_notebook(folder, module, notebooks) or files[module]
    return files


def read_notebook(folder: Path, module: str, notebooks: list[Path]) -> ModuleFile | None:
    assignment = BY_MODULE[module]
    path, note = locate(folder, assignment, notebooks)
    if path is None:
        return None
    built = module_from_notebook(path, assignment)
    if built.error:
        return ModuleFile(module, "rejected", built.error)
    return ModuleFile(module, "ok", source=built.source, problems=built.problems,
                      notes=[n for n in (note, *built.notes) if n], provided=built.provided)


def read_module(folder: Path, module: str, names: list[str]) -> ModuleFile:
    filename = f"{module}.py"
    path = folder / filename
    if filename not in names:
        candidates = {n.lower(): n for n in names if n.lower().endswith(".py") or n.lower().startswith(module)}
        near = difflib.get_close_matches(filename, list(candidates), n=1, cutoff=0.75)
        hint = f" (found `{candidates[near[0]]}`: rename it to `{filename}`)" if near else ""
        return ModuleFile(module, "missing", f"`{filename}` is missing from the submission{hint}")
    try:
        info = path.lstat()
    except OSError as exc:
        return ModuleFile(module, "rejected", f"`{filename}` could not be read ({exc.strerror})")
    if stat.S_ISLNK(info.st_mode):
        return ModuleFile(module, "rejected", f"`{filename}` is a symbolic link; submit the file itself")
    if stat.S_ISDIR(info.st_mode):
        return ModuleFile(module, "rejected", f"`{filename}` is a folder, not a Python file")
    if not stat.S_ISREG(info.st_mode):
        return ModuleFile(module, "rejected", f"`{filename}` is not a regular file")
    if info.st_size > MAX_MODULE_BYTES:
        return ModuleFile(module, "rejected",
                          f"`{filename}` is {info.st_size // 1024} KiB; a module may be at most "
                          f"{MAX_MODULE_BYTES // 1024} KiB")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(MAX_MODULE_BYTES + 1)
    except OSError as exc:
        return ModuleFile(module, "rejected", f"`{filename}` could not be read ({exc.strerror})")
    if b"\x00" in data:
        return ModuleFile(module, "rejected", f"`{filename}` holds binary data, not Python source")
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        return ModuleFile(module, "rejected", f"`{filename}` is not UTF-8 text")
    try:
        ast.parse(source, filename=filename)
    except SyntaxError as exc:
        return ModuleFile(module, "rejected",
                          f"`{filename}` has a syntax error on line {exc.lineno}: {exc.msg}; "
                          "Python could not read the file, so none of its functions could be graded")
    except (ValueError, RecursionError) as exc:
        return ModuleFile(module, "rejected", f"`{filename}` could not be parsed ({exc})")
    return ModuleFile(module, "ok", source=source)
