"""Read a submission folder: which graded modules are there, and which are usable.

A graded module comes from ``<module>.py`` at the top level or, failing that,
from the assignment's notebook (see notebooks.py). Each is checked before any
of it runs: a regular file inside the folder (no link is ever followed, see
folder.py), of sane size, UTF-8 text, valid Python. Its source then travels to
the worker as data, so the code that runs sees nothing else of the submission.
Nothing a student puts in the folder makes reading it fail: an odd file
becomes a message for its module, and the other modules are graded.
"""

from __future__ import annotations

import ast
import difflib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading.folder import OutsideFolder, inside, link_on_path, read_inside, shown
from autograder.grading.notebooks import NotebookReader, locate, module_from_notebook
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
    cells: list[str] | None = None  # a notebook's cells, run in order kernel-style (None for a .py)
    cell_labels: list[str] = field(default_factory=list)  # how each of ``cells`` is named in messages


def read_submission(folder: Path) -> dict[str, ModuleFile]:
    """Each graded module, from `<module>.py` or, failing that, from the assignment's notebook."""
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        return {m: ModuleFile(m, "rejected", f"the submission folder could not be read ({exc.strerror})")
                for m in MODULES}
    notebooks = NotebookReader(folder)
    return {module: read_one(folder, module, names, notebooks) for module in MODULES}


def read_one(folder: Path, module: str, names: list[str], notebooks: NotebookReader) -> ModuleFile:
    try:
        file = read_module(folder, module, names)
        if file.status == "missing":
            file = read_notebook(notebooks, module) or file
        if file.status == "missing" and notebooks.scan.notebooks:
            assignment = BY_MODULE[module]
            file.message += (f", and none of the submission's notebooks is assignment {assignment.folder}'s "
                             f"(expected `{assignment.folder}/{assignment.notebook}`)")
        if file.status == "missing" and notebooks.scan.links:
            file.message += f" ({links_note(folder, notebooks.scan.links)})"
        return file
    except Exception as exc:  # noqa: BLE001 - whatever a folder holds, the other modules are graded
        return ModuleFile(module, "rejected", f"`{module}` could not be read from your submission "
                                              f"({type(exc).__name__}); none of its functions could be graded")


def links_note(folder: Path, links: list[Path]) -> str:
    quoted = ", ".join(f"`{shown(p.relative_to(folder).as_posix())}`" for p in links[:3])
    return (f"{quoted}{', ...' if len(links) > 3 else ''} {'is a link' if len(links) == 1 else 'are links'}, "
            "and links are never followed: submit the files themselves")


def read_notebook(notebooks: NotebookReader, module: str) -> ModuleFile | None:
    assignment = BY_MODULE[module]
    folder = notebooks.folder
    for expected in (Path(assignment.folder) / assignment.notebook, Path(assignment.notebook)):
        link = link_on_path(folder, expected)
        if link is not None:
            return ModuleFile(module, "rejected", f"`{shown(link.as_posix())}` is a symbolic link; links are never "
                                                  "followed: submit the folder and the notebook themselves")
    path, note = locate(notebooks, assignment)
    if path is None:
        return None
    loaded = notebooks.load(path)
    if loaded.error:
        return ModuleFile(module, "rejected", loaded.error)
    built = module_from_notebook(loaded.cells, assignment)
    if built.error:
        name = shown(path.relative_to(folder).as_posix())
        return ModuleFile(module, "rejected", f"`{name}` could not be graded: {built.error}")
    return ModuleFile(module, "ok", source=built.source, problems=built.problems,
                      notes=[n for n in (note, *built.notes) if n], provided=built.provided,
                      cells=built.cells, cell_labels=built.labels)


def read_module(folder: Path, module: str, names: list[str]) -> ModuleFile:
    filename = f"{module}.py"
    path = folder / filename
    if filename not in names:
        candidates = {n.lower(): n for n in names if n.lower().endswith(".py") or n.lower().startswith(module)}
        near = difflib.get_close_matches(filename, list(candidates), n=1, cutoff=0.75)
        hint = f" (found `{shown(candidates[near[0]])}`: rename it to `{filename}`)" if near else ""
        return ModuleFile(module, "missing", f"`{filename}` is missing from the submission{hint}")
    try:
        info = path.lstat()
    except OSError as exc:
        return ModuleFile(module, "rejected", f"`{filename}` could not be read ({exc.strerror})")
    if stat.S_ISLNK(info.st_mode) or not inside(folder, path):
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
        data = read_inside(folder, Path(filename), MAX_MODULE_BYTES)
    except OutsideFolder:
        return ModuleFile(module, "rejected", f"`{filename}` is outside your submission folder; submit the file itself")
    except OSError as exc:
        return ModuleFile(module, "rejected", f"`{filename}` could not be read ({exc.strerror})")
    if len(data) > MAX_MODULE_BYTES:
        return ModuleFile(module, "rejected", f"`{filename}` is larger than {MAX_MODULE_BYTES // 1024} KiB, "
                                              "the most a module may be")
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
    except (ValueError, RecursionError, MemoryError):
        return ModuleFile(module, "rejected", f"`{filename}` could not be read by Python (null bytes, or "
                                              "nesting deeper than Python's parser allows)")
    return ModuleFile(module, "ok", source=source)
