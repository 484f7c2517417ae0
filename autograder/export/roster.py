"""The roster: who each dlkit id is in the LMS.

A CSV file with a header row. ``student`` (the dlkit id: the submission folder's name, which is
the nbgrader student id) is required; every other column is optional and may be left empty:

| column | used by |
| --- | --- |
| ``name`` | Canvas's ``Student`` column (e.g. ``Lovelace, Ada``), the plain CSV |
| ``canvas_id`` | Canvas's ``ID`` (the Canvas user id, from a Canvas gradebook export) |
| ``sis_id`` | Canvas's ``SIS User ID``; Moodle's ``ID number`` when ``idnumber`` is empty |
| ``login`` | Canvas's ``SIS Login ID`` |
| ``section`` | Canvas's ``Section`` |
| ``email`` | Moodle's ``Email address`` |
| ``username`` | Moodle's ``Username`` (default: the dlkit id) |
| ``idnumber`` | Moodle's ``ID number`` |

Header names are matched without regard to case or surrounding spaces; other columns are ignored.
"""

from __future__ import annotations

from pathlib import Path

from autograder.export.grades import ExportError, read_csv_table

FIELDS = ("student", "name", "email", "canvas_id", "sis_id", "login", "section", "username", "idnumber")
MAX_ROSTER_BYTES = 16 * 2**20


def read_roster(path: Path) -> dict[str, dict[str, str]]:
    """dlkit id -> its fields (every one of FIELDS, "" when not given)."""
    table = read_csv_table(path, f"the roster {path}", MAX_ROSTER_BYTES)
    if not table:
        raise ExportError(f"the roster {path} is empty")
    header = [name.strip().lower() for name in table[0]]
    if "student" not in header:
        raise ExportError(f"the roster {path} has no `student` column (the dlkit id); its columns: "
                          f"{', '.join(table[0]) or 'none'}")
    roster: dict[str, dict[str, str]] = {}
    for number, row in enumerate(table[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        fields = {f: (row[header.index(f)].strip() if f in header and header.index(f) < len(row) else "")
                  for f in FIELDS}
        if not fields["student"]:
            raise ExportError(f"the roster {path}, line {number}: the `student` cell is empty")
        if fields["student"] in roster:
            raise ExportError(f"the roster {path}, line {number}: student `{fields['student']}` is listed twice")
        roster[fields["student"]] = fields
    return roster


def fields_of(student: str, roster: dict[str, dict[str, str]]) -> dict[str, str]:
    return roster.get(student) or {**{f: "" for f in FIELDS}, "student": student}
