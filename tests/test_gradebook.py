"""`dlkit grade --gradebook`: the sandboxed scores replace, in nbgrader's own gradebook, the ones a
student forged in their kernel under `nbgrader autograde`; `nbgrader export` then shows them,
manual scores and comments stay, a rerun changes nothing, and a gradebook that lacks the students,
the submissions or the assignment gets them the way nbgrader adds them."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Comment, Grade, Gradebook, SubmittedAssignment

from autograder.build.release import nbgrader_env
from autograder.gradebook import SyncReport, sync_gradebook
from autograder.suites import points_per_item
from autograder.syllabus import BY_MODULE, REPO, SOURCE
from notebook_helpers import add_free_cell, reference_answers, student_notebook, write_notebook

ASSIGNMENT = BY_MODULE["losses"]
ANSWERED = ("mse", "cross_entropy")  # the honest latecomer's answers; the rest are the stubs
LATE = "2026-12-01 09:30:00.000000 UTC"  # when the latecomer submitted (nbgrader's timestamp.txt)
OVERRIDDEN = "mse"  # the forger's test cell whose score the instructor set by hand

# What a student can write in a free cell: the hidden-test cells import `hidden_tests` from the kit
# and call it in the student's own kernel; replaced, every test cell runs clean, which nbgrader
# scores as full points. The stubs are untouched.
FORGERY = """\
import autograder.grading.in_kernel
autograder.grading.in_kernel.hidden_tests = lambda module, item, namespace: None
"""


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
                         cwd=course, env=nbgrader_env(), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


def dlkit_grade(course: Path, *gradebook: str) -> str:
    """The real CLI: grade the two submissions, then write the gradebook."""
    submitted = sorted(str(p) for p in (course / "submitted").iterdir())
    run = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", *submitted, "--out", str(course / "out"),
                          "--jobs", "1", "--gradebook", *gradebook],
                         cwd=course, env=nbgrader_env(), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout


def graded(course: Path) -> None:
    """The results of `dlkit grade` (the first test makes them; alone, a test makes them itself)."""
    if not (course / "out" / "grades.csv").is_file():
        dlkit_grade(course, str(course))


def sync(course: Path, gradebook: Path) -> SyncReport:
    """The gradebook step of `dlkit grade --gradebook` alone, on the results the CLI wrote."""
    return sync_gradebook(sorted((course / "submitted").iterdir()), course / "out", gradebook)


def exported(course: Path) -> dict[str, dict[str, str]]:
    """`nbgrader export` (its CSV plugin): the row of each student for the assignment."""
    nbgrader(course, "export", "--to=export.csv")
    with (course / "export.csv").open(newline="") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh) if row["assignment"] == ASSIGNMENT.folder}


def snapshot(db: Path) -> dict:
    """Everything of the gradebook a sync could change: students, submissions, grades, comments."""
    with Gradebook(f"sqlite:///{db}", "dlkit") as gb:
        return {
            "students": sorted(s.id for s in gb.students),
            "submissions": sorted((s.student.id, s.assignment.name, str(s.timestamp))
                                  for s in gb.db.query(SubmittedAssignment)),
            "grades": sorted((g.student.id, g.name, g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade)
                             for g in gb.db.query(Grade)),
            "comments": sorted((c.student.id, c.name, str(c.auto_comment), str(c.manual_comment))
                               for c in gb.db.query(Comment)),
        }


def cell_scores(db: Path, student: str) -> dict[str, float]:
    with Gradebook(f"sqlite:///{db}", "dlkit") as gb:
        notebook = gb.find_submission_notebook(ASSIGNMENT.module, ASSIGNMENT.folder, student)
        return {g.name: g.auto_score for g in notebook.grades if g.name.startswith("test_")}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course where nbgrader autograded a forger's notebook (stubs + FORGERY) and the instructor
    then graded a written answer and overrode a test cell by hand; a latecomer submitted after
    autograde ran."""
    course = tmp_path_factory.mktemp("gradebook-course")
    shutil.copy(REPO / "nbgrader_config.py", course)
    shutil.copytree(SOURCE / ASSIGNMENT.folder, course / "source" / ASSIGNMENT.folder)
    nbgrader(course, "generate_assignment", ASSIGNMENT.folder, "--force")
    submitted = Path(ASSIGNMENT.folder) / ASSIGNMENT.notebook
    forger = student_notebook(ASSIGNMENT, {})
    add_free_cell(forger, FORGERY, after=("setup", ""))
    write_notebook(course / "submitted" / "forger" / submitted, forger)
    nbgrader(course, "autograde", ASSIGNMENT.folder, "--force", "--student=forger")
    with Gradebook(f"sqlite:///{course}/gradebook.db", "dlkit") as gb:
        written = gb.find_grade("q_eps", ASSIGNMENT.module, ASSIGNMENT.folder, "forger")
        written.manual_score = 1.0
        gb.find_comment("q_eps", ASSIGNMENT.module, ASSIGNMENT.folder, "forger").manual_comment = "Right: log(0)."
        # and an instructor's override of an autograded cell, which nbgrader's score then uses
        gb.find_grade(f"test_{OVERRIDDEN}", ASSIGNMENT.module, ASSIGNMENT.folder, "forger").manual_score = 1.5
        gb.db.commit()
    answers = {name: source for name, source in reference_answers(ASSIGNMENT).items() if name in ANSWERED}
    write_notebook(course / "submitted" / "latecomer" / submitted, student_notebook(ASSIGNMENT, answers))
    (course / "submitted" / "latecomer" / ASSIGNMENT.folder / "timestamp.txt").write_text(LATE)  # nbgrader collect's
    return course


def test_the_sandboxed_scores_replace_the_forged_ones_in_nbgraders_gradebook(course):
    db = course / "gradebook.db"
    points = points_per_item(ASSIGNMENT.module)
    forged = cell_scores(db, "forger")
    assert forged == {f"test_{item}": points[item] for item in ASSIGNMENT.items}, "the forgery did not work"
    before = snapshot(db)  # only the forger is in the gradebook yet
    by_hand = [g for g in before["grades"] if not g[1].startswith("test_")]
    assert ("forger", "q_eps", 0.0, 1.0, None, False) in by_hand  # the instructor's manual score
    assert ("forger", "q_eps", "No response.", "Right: log(0).") in before["comments"]

    stdout = dlkit_grade(course, str(course))
    assert "2 students" in stdout and "students added: latecomer" in stdout, stdout

    assert cell_scores(db, "forger") == {f"test_{item}": 0.0 for item in ASSIGNMENT.items}
    assert cell_scores(db, "latecomer") == {f"test_{item}": points[item] if item in ANSWERED else 0.0
                                            for item in ASSIGNMENT.items}
    rows = exported(course)
    assert float(rows["forger"]["score"]) == 1.0 + 1.5  # the instructor's two manual scores, nothing forged
    assert float(rows["latecomer"]["score"]) == sum(points[item] for item in ANSWERED)
    with (course / "out" / "grades.csv").open(newline="") as fh:
        dlkit = {row["student"]: float(row[ASSIGNMENT.folder]) for row in csv.DictReader(fh)}
    assert dlkit == {"forger": 0.0, "latecomer": sum(points[item] for item in ANSWERED)}
    after = snapshot(db)
    assert ("latecomer", ASSIGNMENT.folder, "2026-12-01 09:30:00") in after["submissions"]
    assert [g for g in after["grades"] if not g[1].startswith("test_") and g[0] == "forger"] == by_hand
    assert [c for c in after["comments"] if c[0] == "forger"] == before["comments"]
    with Gradebook(f"sqlite:///{db}", "dlkit") as gb:
        for student in ("forger", "latecomer"):
            tests = {g.name: (g.manual_score, g.needs_manual_grade) for g in gb.find_submission_notebook(
                ASSIGNMENT.module, ASSIGNMENT.folder, student).grades if g.name.startswith("test_")}
            # as nbgrader's autograde marks it: a cell with a manual score whose autograded score changed
            # is to be reviewed; the others are not
            overridden = {f"test_{OVERRIDDEN}": (1.5, True)} if student == "forger" else {}
            assert tests == {f"test_{item}": (None, False) for item in ASSIGNMENT.items} | overridden
        # the latecomer's written answers, which nobody graded yet, are listed for manual grading
        written = [g for g in gb.find_submission_notebook(ASSIGNMENT.module, ASSIGNMENT.folder, "latecomer").grades
                   if not g.name.startswith("test_")]
        assert written and all(g.needs_manual_grade and g.manual_score is None for g in written)


def test_a_rerun_changes_nothing(course):
    db = course / "gradebook.db"
    graded(course)
    sync(course, course)
    before = snapshot(db)
    report = sync(course, course)
    assert (report.cells, report.changed, len(report.students)) == (2 * len(ASSIGNMENT.items), 0, 2)
    assert not (report.added_students or report.added_submissions or report.added_assignments or report.problems)
    assert snapshot(db) == before


def test_a_gradebook_without_the_assignment_gets_it_from_nbgrader(course):
    """A gradebook file of its own (a new term's, say): nbgrader's generate_assignment adds the
    assignment, then the students and their submissions are added and scored."""
    fresh = course / "term2.db"
    release = course / "release" / ASSIGNMENT.folder / ASSIGNMENT.notebook
    handed_out = release.read_bytes()
    graded(course)
    report = sync(course, fresh)
    assert report.added_assignments == [ASSIGNMENT.folder] and not report.problems, report
    assert sorted(report.added_submissions) == [("forger", ASSIGNMENT.folder), ("latecomer", ASSIGNMENT.folder)]
    points = points_per_item(ASSIGNMENT.module)
    assert cell_scores(fresh, "latecomer") == {f"test_{item}": points[item] if item in ANSWERED else 0.0
                                               for item in ASSIGNMENT.items}
    assert snapshot(fresh)["students"] == ["forger", "latecomer"]
    assert release.read_bytes() == handed_out  # nbgrader generated into a scratch folder, not the release

    # an instructor's own autograded cell runs in the student's kernel only: the sync says so
    with Gradebook(f"sqlite:///{fresh}", "dlkit") as gb:
        gb.update_or_create_grade_cell("own_test", ASSIGNMENT.module, ASSIGNMENT.folder, max_score=1.0,
                                       cell_type="code")
    assert sync(course, fresh).kernel_only == [f"{ASSIGNMENT.folder}/own_test"]
