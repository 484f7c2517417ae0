"""Turn a notebook submission into the cells that are graded (design D2).

A notebook is graded as it would run top to bottom: the *instructor's* setup
cell, then every code cell of the student's in order, answer cells and free
cells alike. Left out: the visible check cells and the hidden-test cells (the
grader runs its own tests), the student's copy of the setup cell (replaced by
the instructor's), IPython commands (``%...``, ``%%...``, ``!...``: not Python,
stripped with a note) and cells Python cannot read (a kernel runs nothing of
them either; a note says so). The worker then runs the cells kernel-style.

Notebooks are found in nbgrader's layout (``<student>/<assignment>/<module>.ipynb``)
or in a plain folder (``<student>/<module>.ipynb``); a renamed notebook is
recognised by its cell ids. A student's notebook can hold anything, so every
step is bounded (sizes, cell counts, nesting) and linear, and an odd notebook
becomes a message about that notebook, never an error of the grader.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.cells import role_of
from autograder.grading.folder import OutsideFolder, Scan, read_inside, scan, shown
from autograder.syllabus import SOURCE, Assignment

MAX_NOTEBOOK_BYTES = 16 * 2**20  # one notebook file, outputs and images included
MAX_NOTEBOOKS_BYTES = 64 * 2**20  # all the notebooks read for one submission
MAX_CELLS = 2000  # cells of one notebook, of any kind (the course's have about 50)
MAX_CODE_CHARS = 512 * 1024  # the student's code in one notebook: the cap of a .py module
MAX_JSON_VALUES = 1_000_000  # JSON arrays, objects and strings in one notebook (the course's: ~2,000):
                             # with the size cap, this bounds the memory parsing takes
MAX_SHOWN = 3  # examples quoted in one note
CELL_MAGIC_RUNS_PYTHON = {"time", "timeit", "capture", "prun"}  # their body is Python: keep it


@dataclass
class NotebookModule:
    cells: list[str] = field(default_factory=list)  # the instructor's setup, then the student's code cells
    labels: list[str] = field(default_factory=list)  # how each cell is named in messages
    problems: dict[str, str] = field(default_factory=dict)  # graded name -> why it cannot be graded
    notes: list[str] = field(default_factory=list)  # things the student should know, no points lost
    error: str = ""  # the notebook as a whole could not be used
    provided: frozenset[str] = frozenset()  # names the setup cell defines

    @property
    def source(self) -> str:
        """The text the from-scratch rule reads: the cells joined, as they run."""
        return join_cells(self.cells)


def join_cells(cells: list[str]) -> str:
    return "\n\n".join(cells)


def cell_at_line(cells: list[str], line: int) -> tuple[int, int]:
    """(index of the cell, line within it) of a 1-based line of ``join_cells(cells)``."""
    start = 1
    for index, cell in enumerate(cells):
        length = cell.count("\n") + 1
        if line <= start + length:  # its lines, and the blank line that follows it
            return index, line - start + 1
        start += length + 1
    return len(cells) - 1, line - start + 1


# ---------------------------------------------------------------------------------------------
# Reading notebook files: bounded in size, nesting and count


@dataclass
class Loaded:
    cells: list | None = None
    error: str = ""

    @property
    def grade_ids(self) -> set[str]:
        return {i for c in self.cells or () if (i := grade_id(c)) is not None}


class NotebookReader:
    """The notebooks of one submission folder, each read at most once, within a total budget."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.scan: Scan = scan(folder)
        self.budget = MAX_NOTEBOOKS_BYTES
        self.loaded: dict[Path, Loaded] = {}

    def load(self, path: Path) -> Loaded:
        if path not in self.loaded:
            self.loaded[path] = self._read(path)
        return self.loaded[path]

    def _read(self, path: Path) -> Loaded:
        name = f"`{shown(path.relative_to(self.folder).as_posix())}`"
        if self.budget <= 0:
            return Loaded(error=f"{name} was not read: the notebooks of a submission may hold at most "
                                f"{MAX_NOTEBOOKS_BYTES // 2**20} MiB together")
        try:
            data = read_inside(self.folder, path.relative_to(self.folder), MAX_NOTEBOOK_BYTES)
        except OutsideFolder:
            return Loaded(error=f"{name} is a symbolic link or inside a linked folder; links are never "
                                "followed: submit the notebook itself")
        except OSError as exc:
            return Loaded(error=f"{name} could not be read ({exc.strerror or 'not a regular file'})")
        self.budget -= len(data)
        if len(data) > MAX_NOTEBOOK_BYTES:
            return Loaded(error=f"{name} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB, the most a notebook "
                                "may be (clear large outputs before submitting)")
        return parse_notebook(data, name)


def parse_notebook(data: bytes, name: str) -> Loaded:
    """The list of cells of a notebook file, or why there is none."""
    if data.count(b"[") + data.count(b"{") + data.count(b'"') // 2 > MAX_JSON_VALUES:
        return Loaded(error=f"{name} is not a notebook: it holds more than {MAX_JSON_VALUES:,} JSON "
                            "arrays, objects and strings")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Loaded(error=f"{name} is not UTF-8 text, so it is not a notebook")
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as exc:
        return Loaded(error=f"{name} is not a valid notebook: its JSON is broken at line {exc.lineno} "
                            "(was it edited outside Jupyter?)")
    except RecursionError:
        return Loaded(error=f"{name} is not a notebook: its JSON is nested far more deeply than a notebook's")
    except (ValueError, MemoryError):  # e.g. an integer of thousands of digits
        return Loaded(error=f"{name} is not a valid notebook: its JSON holds a value Python cannot read")
    if not isinstance(notebook, dict):
        return Loaded(error=f"{name} is not a notebook: its JSON is not an object with cells")
    cells = notebook.get("cells")
    if cells is None and isinstance(notebook.get("worksheets"), list):
        return Loaded(error=f"{name} is in the old notebook format 3: open it in Jupyter and save it, "
                            "which converts it to format 4")
    if not isinstance(cells, list):
        return Loaded(error=f"{name} is not a notebook: it has no list of cells")
    if len(cells) > MAX_CELLS:
        return Loaded(error=f"{name} has {len(cells):,} cells; a notebook may have at most {MAX_CELLS:,}")
    return Loaded(cells=cells)


def locate(reader: NotebookReader, assignment: Assignment) -> tuple[Path | None, str]:
    """The student's notebook for an assignment, and a note when it was found under another name."""
    folder = reader.folder
    for candidate in (folder / assignment.folder / assignment.notebook, folder / assignment.notebook):
        if candidate in reader.scan.notebooks:
            return candidate, ""
    for path in reader.scan.notebooks:
        if set(assignment.items) & reader.load(path).grade_ids:
            relative = shown(path.relative_to(folder).as_posix())
            return path, (f"`{relative}` was graded as assignment {assignment.folder} "
                          f"(its expected name is `{assignment.folder}/{assignment.notebook}`)")
    return None, ""


# ---------------------------------------------------------------------------------------------
# What each cell is, read defensively


def mapping(value: object, key: str) -> dict:
    inner = value.get(key) if isinstance(value, dict) else None
    return inner if isinstance(inner, dict) else {}


def grade_id(cell: object) -> str | None:
    """The nbgrader id of a cell (a student's notebook can hold anything)."""
    value = mapping(mapping(cell, "metadata"), "nbgrader").get("grade_id")
    return value if isinstance(value, str) else None


def cell_kind(cell: dict, items: tuple[str, ...]) -> tuple[str, str]:
    """("setup" | "check" | "tests" | "answer" | "free", the graded name of an answer cell).

    The kinds come from nbgrader's metadata and the kit's own, both copied along when a cell is
    copied; either is enough to leave a cell out, so a check cell keeps its kind if one is lost."""
    metadata = mapping(cell, "metadata")
    nbgrader, dlkit = mapping(metadata, "nbgrader"), mapping(metadata, "dlkit")
    ident = nbgrader.get("grade_id") if isinstance(nbgrader.get("grade_id"), str) else ""
    role = dlkit.get("role") if isinstance(dlkit.get("role"), str) else ""
    if ident == "setup" or role == "setup":
        return "setup", ""
    if ident in items:
        return "answer", ident
    if ident.startswith("check_") or role == "check":
        return "check", ""
    if ident.startswith("test_") or role == "tests" or nbgrader.get("grade") is True:
        return "tests", ""
    name = dlkit.get("name")
    if role == "answer" and name in items:
        return "answer", name
    return "free", ""


def cell_text(cell: dict) -> str | None:
    """The source of a cell as text (nbformat allows a string or a list of strings), or None."""
    source = cell.get("source", "")
    if isinstance(source, str):
        text = source
    elif isinstance(source, list) and all(isinstance(line, str) for line in source):
        text = "".join(source)
    else:
        return None
    try:
        text.encode("utf-8")  # lone surrogates (a "\ud800" escape) are not text a kernel can run
    except UnicodeEncodeError:
        return None
    return text


# ---------------------------------------------------------------------------------------------
# IPython commands: a kernel runs them, Python cannot


LINE_MAGIC = re.compile(r"^(\s*)(?:[A-Za-z_][\w.]*\s*=\s*)?[%!]")  # %cmd, !cmd, x = !cmd, x = %cmd
HELP = re.compile(r"^(\s*)(?:\?\??[\w.]+|[\w.]+\?\??)\s*$")  # obj? and ?obj: IPython's help


def strip_ipython(text: str) -> tuple[str | None, list[str]]:
    """The cell without its IPython commands (None: the whole cell is a non-Python cell magic),
    and the commands left out. Line commands are looked for only in a cell that is not Python as
    it stands, so a continuation line starting with `%` (a modulo) in valid code is left alone."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), 0)
    first = lines[start].strip()
    stripped = []
    if first.startswith("%%"):
        words = first[2:].split(maxsplit=1)
        if not words or words[0] not in CELL_MAGIC_RUNS_PYTHON:
            return None, [first]
        stripped.append(first)
        lines[start] = ""
    if could_be_ipython(lines):
        for number, line in enumerate(lines):
            if m := LINE_MAGIC.match(line) or HELP.match(line):
                stripped.append(line.strip())
                lines[number] = m.group(1) + "pass"  # keeps the block and the line numbers
    return "\n".join(lines), stripped


def could_be_ipython(lines: list[str]) -> bool:
    if not any(LINE_MAGIC.match(line) or HELP.match(line) for line in lines):
        return False
    try:
        parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    return False


def parse(text: str) -> ast.Module:
    with warnings.catch_warnings():  # SyntaxWarnings about the student's code are not the grader's to print
        warnings.simplefilter("ignore")
        return ast.parse(text)


# ---------------------------------------------------------------------------------------------
# From notebook to graded cells


@functools.cache
def instructor_setup(assignment: Assignment) -> str:
    """The setup cell of the instructor's source notebook (read once per grader process)."""
    notebook = nbformat.read(SOURCE / assignment.folder / assignment.notebook, as_version=4)
    return next(c.source for c in notebook.cells if (role_of(c) or {}).get("role") == "setup")


@functools.cache
def setup_definitions(assignment: Assignment) -> frozenset[str]:
    return frozenset(n.name for n in ast.parse(instructor_setup(assignment)).body
                     if isinstance(n, (ast.FunctionDef, ast.ClassDef)))


def names_bound(tree: ast.AST, wanted: tuple[str, ...]) -> set[str]:
    """Which of ``wanted`` the code may bind, anywhere in it (over- rather than under-estimated:
    it only decides whether a missing answer cell is reported, the run decides the rest)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            found.add(node.id)
        elif isinstance(node, ast.alias):
            found.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name) \
                and node.value.func.id in ("globals", "vars", "locals"):
            found.add(str(node.slice.value))  # globals()["relu"] = ...
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            found.update(node.names)
        elif isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            found.update(wanted)
    return found & set(wanted)


def label_of(number: int, kind: str, name: str, text: str) -> str:
    if kind == "answer":
        return f"cell {number} (the answer cell of `{name}`)"
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    first = first if len(first) <= 40 else first[:37] + "..."
    return f"cell {number} (`{shown(first)}`)" if first else f"cell {number}"


def module_from_notebook(cells: list, assignment: Assignment) -> NotebookModule:
    """The graded cells of a notebook's list of cells (as parse_notebook read it)."""
    items = assignment.items
    result = NotebookModule(cells=[instructor_setup(assignment)], labels=["the setup cell"],
                            provided=setup_definitions(assignment))
    answers: dict[str, int] = {}
    unreadable: dict[str, str] = {}  # graded name -> why its answer cell could not run
    bound: set[str] = set()
    odd, unparsed, commands, skipped_magics = [], [], [], []
    code_chars = 0
    edited_setup = False
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            odd.append(number)
            continue
        if cell.get("cell_type") != "code":
            continue
        kind, name = cell_kind(cell, items)
        if kind == "setup" and not edited_setup and (cell_text(cell) or "").strip() != result.cells[0].strip():
            edited_setup = True
            result.notes.append(f"cell {number}, your copy of the setup cell, differs from the course's: the "
                                "course's setup was run instead (put your own code in a cell of its own)")
        if kind in ("setup", "check", "tests"):
            continue
        if kind == "answer":
            answers[name] = answers.get(name, 0) + 1
        text = cell_text(cell)
        if text is None:
            odd.append(number)
            if kind == "answer":
                unreadable[name] = f"the answer cell of `{name}` holds something that is not text"
            continue
        code_chars += len(text)
        if code_chars > MAX_CODE_CHARS:
            result.error = (f"its code cells hold more than {MAX_CODE_CHARS // 1024} KiB of code, the most "
                            "a notebook (or a module) may hold")
            return result
        label = label_of(number, kind, name, text)
        python, stripped = strip_ipython(text)
        if python is None:
            skipped_magics.append(f"{label} starts with `{shown(stripped[0][:40])}`")
            continue
        commands += stripped
        try:
            tree = parse(python)
        except SyntaxError as exc:
            where = f" on line {exc.lineno}" if exc.lineno else ""
            unparsed.append(f"{label} has a syntax error{where}: {exc.msg}")
            if kind == "answer":
                unreadable[name] = f"the answer cell of `{name}` has a syntax error{where}: {exc.msg}"
            continue
        except (ValueError, RecursionError, MemoryError):  # null bytes, nesting beyond the parser's limits
            unparsed.append(f"{label} is nested more deeply than Python's parser allows, or holds null bytes")
            if kind == "answer":
                unreadable[name] = f"the answer cell of `{name}` could not be read by Python"
            continue
        bound |= names_bound(tree, items)
        result.cells.append(python)
        result.labels.append(label)
    for item in items:
        if item in bound:
            if answers.get(item, 0) > 1:
                result.notes.append(f"{answers[item]} cells carry the id `{item}`; they run in order, so the "
                                    "last definition of it was graded")
        elif item in unreadable:
            result.problems[item] = unreadable[item]
        elif not answers.get(item):
            result.problems[item] = (f"the answer cell of `{item}` (nbgrader id `{item}`) is missing from "
                                     "your notebook: was it deleted or its metadata changed?")
    result.notes += notes_on_skipped(odd, unparsed, commands, skipped_magics)
    return result


def notes_on_skipped(odd: list[int], unparsed: list[str], commands: list[str], magics: list[str]) -> list[str]:
    notes = []
    if odd:
        numbers = ", ".join(map(str, odd[:MAX_SHOWN])) + (", ..." if len(odd) > MAX_SHOWN else "")
        what = f"cell {numbers} is not a valid cell" if len(odd) == 1 else \
            f"{len(odd)} cells ({numbers}) are not valid cells"
        notes.append(f"{what} of a notebook (code that is not text, or not a cell at all) and "
                     f"{'was' if len(odd) == 1 else 'were'} left out: was the notebook edited outside Jupyter?")
    for line in unparsed[:MAX_SHOWN]:
        notes.append(f"{line}: Python could not read it, so none of it ran (as in Jupyter)")
    if len(unparsed) > MAX_SHOWN:
        notes.append(f"{len(unparsed) - MAX_SHOWN} more cells could not be read by Python")
    if commands:
        quoted = ", ".join(f"`{shown(c[:40])}`" for c in commands[:MAX_SHOWN])
        notes.append(f"IPython commands are not Python and were left out ({quoted}"
                     f"{', ...' if len(commands) > MAX_SHOWN else ''}); the rest of those cells runs as written")
    for line in magics[:MAX_SHOWN]:
        notes.append(f"{line}, a cell magic whose body is not Python: the cell was left out")
    return notes
