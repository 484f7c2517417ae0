"""``dlkit similarity``: read the class, compare each assignment's submissions, write the report."""

from __future__ import annotations

from pathlib import Path

from autograder.grading.ids import printable, student_id
from autograder.similarity.boilerplate import boilerplate
from autograder.similarity.code import read_student
from autograder.similarity.compare import Pair, compare_assignment
from autograder.similarity.report import write_report
from autograder.syllabus import ASSIGNMENTS


def similarity(folders: list[Path], out: Path) -> tuple[dict[str, list[Pair]], list[str]]:
    """The pairs of each assignment (most similar first) and the notes on what was skipped;
    writes ``out/similarity.csv`` and ``out/index.html``."""
    students = sorted((read_student(f, student_id(f.name)) for f in folders), key=lambda s: s.student)
    notes = [f"{printable(s.student)}: {note}" for s in students for note in s.notes]
    pairs: dict[str, list[Pair]] = {}
    compared: dict[str, int] = {}
    for assignment in ASSIGNMENTS:
        codes = [s.code[assignment.folder] for s in students if assignment.folder in s.code]
        if not codes:
            continue
        compared[assignment.folder] = len(codes)
        pairs[assignment.folder], skipped = compare_assignment(codes, boilerplate(assignment))
        notes += skipped
    write_report(out, pairs, compared, notes)
    return pairs, notes


def run_similarity(submissions: list[Path], out: Path) -> int:
    """The command: 0 when every folder given was compared, 1 when one was refused, 2 when none could be."""
    import sys

    from autograder.grading.selection import grade_folders

    def say(text: str) -> None:
        print(f"dlkit similarity: {text}", file=sys.stderr)

    folders, refused = grade_folders(submissions, out, say)
    if not folders:
        return 2
    try:
        pairs, notes = similarity(folders, out)
    except OSError as exc:
        say(f"cannot write to {printable(str(out))}: {exc.strerror or exc}")
        return 2
    for note in notes:
        say(f"skipped {note}")
    for folder, found in pairs.items():
        top = found[0] if found else None
        print(f"{folder}: {len(found)} pairs share code" + (
            f"; most similar: {printable(top.a.student)} and {printable(top.b.student)} ({100 * top.similarity:.0f}%)"
            if top else ""))
    print(f"Similarity report: {out / 'index.html'} (every pair: {out / 'similarity.csv'})")
    return 1 if refused else 0
