"""The gradebook import layouts, as each LMS documents them.

Canvas ("How do I import grades in the Gradebook?", Canvas Instructor Guide): a header row
``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per assignment (a column
whose name matches no assignment of the course creates one); the second row may be the
``Points Possible`` row (its first cell ``Points Possible``, the identity cells empty, each
assignment's points), as Canvas's own export writes it. Canvas finds each student by ``ID``,
``SIS User ID`` or ``SIS Login ID``, whichever is filled in.

Moodle ("Grade import", Moodle docs: CSV import): a header row, one row per student, one column
identifying the student and one per grade item; at import, "Map from" names the identifying
column and "Map to" the user field it holds (``useremail``, ``useridnumber`` or ``username``),
and each other column is mapped to a grade item (or a new one). The columns carry Moodle's own
export names (``Email address``, ``ID number``) and ``Username``.

Scores are rounded to 2 decimals and written plainly (``3``, ``2.67``: no exponent, no
thousands separator); every text cell goes through ``csv_cells`` (no cell can start a formula).
"""

from __future__ import annotations

from dataclasses import dataclass

from autograder.csv_cells import csv_text
from autograder.export.grades import Student
from autograder.export.roster import fields_of
from autograder.syllabus import ASSIGNMENTS

DECIMALS = 2
CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "Points Possible"
MOODLE_IDENTITY = ["Email address", "ID number", "Username"]
PLAIN_IDENTITY = ["student", "name", "email", "sis_id"]


@dataclass
class Gradebook:
    students: list[Student]  # in the order of grades.csv
    maxima: dict[str, float]  # assignment folder -> the points it is worth
    roster: dict[str, dict[str, str]]


def points(value: float) -> int | float:
    rounded = round(value, DECIMALS)
    return int(rounded) if rounded.is_integer() else rounded


def assignment_columns() -> list[str]:
    return [a.folder for a in ASSIGNMENTS]


def scores(student: Student) -> list[int | float]:
    return [points(student.scores.get(a.folder, 0.0)) for a in ASSIGNMENTS]


def canvas(book: Gradebook) -> str:
    possible = [POINTS_POSSIBLE, "", "", "", "", *[points(book.maxima[a.folder]) for a in ASSIGNMENTS]]
    rows = [possible]
    for student in book.students:
        who = fields_of(student.student, book.roster)
        rows.append([who["name"] or student.student, who["canvas_id"], who["sis_id"], who["login"], who["section"],
                     *scores(student)])
    return csv_text([*CANVAS_IDENTITY, *assignment_columns()], rows)


def moodle(book: Gradebook) -> str:
    rows = []
    for student in book.students:
        who = fields_of(student.student, book.roster)
        rows.append([who["email"], who["idnumber"] or who["sis_id"], who["username"] or student.student,
                     *scores(student)])
    return csv_text([*MOODLE_IDENTITY, *assignment_columns()], rows)


def plain(book: Gradebook) -> str:
    rows = []
    for student in book.students:
        who = fields_of(student.student, book.roster)
        earned = scores(student)
        rows.append([student.student, who["name"], who["email"], who["sis_id"], *earned,
                     points(sum(student.scores.get(a.folder, 0.0) for a in ASSIGNMENTS)),
                     points(sum(book.maxima.values()))])
    return csv_text([*PLAIN_IDENTITY, *assignment_columns(), "total", "max_total"], rows)


FORMATS = {"canvas": canvas, "moodle": moodle, "csv": plain}
