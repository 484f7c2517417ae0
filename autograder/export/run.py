"""``dlkit export``: read the grades, add the manual scores, write the chosen layout atomically."""

from __future__ import annotations

import sys
from pathlib import Path

from autograder.export.formats import FORMATS, Gradebook, points
from autograder.export.grades import ExportError, Student, grades_path, max_points, read_grades
from autograder.export.roster import read_roster
from autograder.grading.ids import printable
from autograder.grading.results import atomic_write


def export(grades: Path, layout: str, roster: Path | None = None, gradebook: str | None = None,
           out: Path | None = None) -> tuple[Path, dict[str, float], list[str]]:
    """Write the export; returns where, the points each assignment is out of, and the notes worth
    telling the instructor."""
    students = read_grades(grades)
    maxima = max_points()
    notes = []
    if gradebook is not None:
        from autograder.export.gradebook import manual_scores

        manual = manual_scores(gradebook)
        students = [Student(s.student, {a: v + manual.scores.get((s.student, a), 0.0) for a, v in s.scores.items()})
                    for s in students]
        maxima = {a: v + manual.maxima.get(a, 0.0) for a, v in maxima.items()}
        graded = {s.student for s in students}
        absent = sorted({student for student, _ in manual.scores} - graded)
        if absent:
            notes.append(f"in the gradebook but not in grades.csv (left out): {', '.join(map(printable, absent))}")
        for folder, count in sorted(manual.ungraded.items()):
            notes.append(f"{folder}: {count} cell(s) graded by hand are still marked as needing a grade in the "
                         "gradebook (formgrader); a cell without a score counts 0")
    people = read_roster(roster) if roster is not None else {}
    if roster is not None:
        missing = [s.student for s in students if s.student not in people]
        if missing:
            notes.append(f"not in the roster (exported under their dlkit id): {', '.join(map(printable, missing))}")
        ungraded = sorted(set(people) - {s.student for s in students})
        if ungraded:
            notes.append(f"in the roster but not in grades.csv (left out): {', '.join(map(printable, ungraded))}")
    target = out or grades_path(grades).with_name(f"grades-{layout}.csv")
    atomic_write(target, FORMATS[layout](Gradebook(students, maxima, people)))
    return target, maxima, notes


def run_export(grades: Path, layout: str, roster: Path | None, gradebook: str | None, out: Path | None) -> int:
    try:
        target, maxima, notes = export(grades, layout, roster, gradebook, out)
    except ExportError as exc:
        print(f"dlkit export: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"dlkit export: cannot write {exc.filename or out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"dlkit export: {note}", file=sys.stderr)
    print(f"{layout} gradebook import file: {target}")
    print("points per assignment: " + ", ".join(f"{folder} {points(value)}" for folder, value in maxima.items()))
    return 0
