"""The grades to export: ``grades.csv`` as ``dlkit grade`` writes it, and what each assignment is worth."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from autograder.csv_cells import FORMULA_STARTS
from autograder.grading.results import GRADES_HEADER
from autograder.syllabus import ASSIGNMENTS

MAX_GRADES_BYTES = 64 * 2**20


class ExportError(Exception):
    """A file to export from is not what it should be: the message says what and where."""


@dataclass
class Student:
    student: str  # the dlkit id (the submission folder's name)
    scores: dict[str, float] = field(default_factory=dict)  # assignment folder -> points


def grades_path(given: Path) -> Path:
    return given / "grades.csv" if given.is_dir() else given


def read_grades(given: Path) -> list[Student]:
    """The rows of ``grades.csv`` (or of ``DIR/grades.csv``), in its order."""
    path = grades_path(given)
    table = read_csv_table(path, str(path), MAX_GRADES_BYTES, "is it dlkit's grades.csv?")
    if not table or table[0] != GRADES_HEADER:
        raise ExportError(f"{path} does not start with dlkit's grades.csv header ({','.join(GRADES_HEADER)})")
    students = []
    for number, row in enumerate(table[1:], 2):
        if len(row) != len(GRADES_HEADER):
            raise ExportError(f"{path}, line {number}: {len(row)} cells, not {len(GRADES_HEADER)}")
        try:
            scores = {a.folder: float(cell) for a, cell in zip(ASSIGNMENTS, row[1:])}
        except ValueError:
            raise ExportError(f"{path}, line {number}: a score is not a number") from None
        students.append(Student(unneutralised(row[0]), scores))
    return students


def read_csv_table(path: Path, called: str, limit: int, larger: str = "") -> list[list[str]]:
    """The rows of the CSV file at ``path`` (UTF-8, a byte-order mark allowed), at most ``limit``
    bytes; every problem raised as an ExportError naming the file as ``called``."""
    try:
        with path.open("rb") as stream:
            data = stream.read(limit + 1)  # never more: a wrong path may name a huge file
    except OSError as exc:
        raise ExportError(f"cannot read {called}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ExportError(f"{called} is larger than {limit // 2**20} MiB{': ' + larger if larger else ''}")
    try:
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ExportError(f"{called} is not a UTF-8 CSV file ({exc})") from None


def unneutralised(cell: str) -> str:
    """The id as ``grades.csv`` had it before the quote that keeps a spreadsheet from running it
    (``'=x`` was ``=x``); the export neutralises it again for its own file."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def max_points() -> dict[str, float]:
    """What each assignment's hidden tests are worth (the suites' @points)."""
    from autograder.suites import tests_of

    return {a.folder: float(sum(t.points for t in tests_of(a.module))) for a in ASSIGNMENTS}
