"""Write the sandboxed scores of `dlkit grade` into nbgrader's gradebook (`dlkit grade --gradebook`).

`nbgrader autograde` runs a student's notebook and the hidden tests in one kernel, so a free cell of
the student's can forge what the test cells report, and the gradebook records the forgery. This
module replaces the autograded score of every hidden-test cell with the score `dlkit grade` gave in
the sandbox, through nbgrader's own API (``nbgrader.api.Gradebook``): formgrader, ``nbgrader
generate_feedback`` and ``nbgrader export`` read that database, so manual grading, feedback and
exports then work on the trustworthy numbers.

What it writes, and what it leaves alone:

- the ``auto_score`` of each hidden-test cell (``test_<name>``, one per graded function: the sum of
  that function's hidden tests in ``results.json``), for every assignment the student submitted
  (their folder holds its module or notebook) or already has a submission of in the gradebook;
  written exactly as grades.csv has it (0 for a submission the grader failed on, as there);
- never a manual score, a comment, the written questions, a timestamp or a late penalty;
- a student unknown to the gradebook is added, as ``nbgrader autograde`` adds them; a missing
  submission is created as autograde creates it (``update_or_create_submission``, with the
  timestamp of the folder's ``timestamp.txt`` when there is one), which mirrors the assignment's
  notebooks and cells from the database (its written answers then need manual grading, as
  nbgrader marks a cell without an autograded score); an assignment missing from the gradebook is added by
  nbgrader's own ``generate_assignment`` from the course's source (or the kit's), into a scratch
  release folder, so the course's ``release/`` is not touched;
- when a cell's autograded score changes and it has a manual score, the cell is marked for review,
  as autograde does; an unchanged score changes nothing, so a rerun is idempotent;
- an autograded cell of the gradebook that is not one of the kit's (an instructor's own test cell)
  keeps nbgrader's score, and the report names it: it ran in the student's kernel.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.build.release import nbgrader_env, nbgrader_tools
from autograder.cells import role_of
from autograder.grading.batch import plan
from autograder.grading.ids import printable
from autograder.syllabus import ASSIGNMENTS, SOURCE, Assignment


class GradebookError(Exception):
    """The gradebook could not be used at all (the message says why and what to do)."""


@dataclass
class Course:
    """Where nbgrader keeps the course: its root, the gradebook's URL and the course id, as
    nbgrader's own configuration gives them."""
    root: Path
    db_url: str
    course_id: str
    source: Path  # the course's source folder (nbgrader's `source_directory`)

    def source_of(self, assignment: Assignment) -> Path:
        """The source folder nbgrader generates the assignment from: the course's, else the kit's."""
        own = self.source / assignment.folder / assignment.notebook
        return self.source if own.is_file() else SOURCE


@dataclass
class SyncReport:
    cells: int = 0  # hidden-test cells written (changed or already right)
    changed: int = 0  # of those, the ones whose score changed
    students: set[str] = field(default_factory=set)
    added_students: list[str] = field(default_factory=list)
    added_submissions: list[tuple[str, str]] = field(default_factory=list)  # (student, assignment)
    added_assignments: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # students the grader failed on: written as 0
    problems: list[str] = field(default_factory=list)  # what could not be written, and why
    kernel_only: list[str] = field(default_factory=list)  # autograded cells dlkit has no score for

    def lines(self, where: str) -> list[str]:
        out = [f"gradebook {where}: {self.cells} hidden-test cells for {len(self.students)} students written "
               f"({self.changed} changed, {self.cells - self.changed} already had the sandboxed score)"]
        if self.added_assignments:
            out.append(f"  assignments added (nbgrader generate_assignment): {', '.join(self.added_assignments)}")
        if self.added_students:
            out.append(f"  students added: {', '.join(printable(s) for s in self.added_students)}")
        if self.added_submissions:
            out.append("  submissions added: " + ", ".join(f"{printable(s)}/{a}" for s, a in self.added_submissions))
        if self.failed:
            out.append(f"  written as 0, as in grades.csv (the grader failed on them): "
                       f"{', '.join(printable(s) for s in self.failed)}")
        if self.kernel_only:
            out.append("  scored by nbgrader alone, in the student's kernel (no sandboxed score to write): "
                       + ", ".join(self.kernel_only))
        out += [f"  not written: {p}" for p in self.problems]
        return out


def find_course(path: Path) -> Course:
    """The nbgrader course of ``path``: a course root (its nbgrader_config.py is read as nbgrader
    reads it, with the user's Jupyter configuration; the gradebook is the one it names, by default
    ``<root>/gradebook.db``), or a gradebook file (its folder is the course root)."""
    from nbgrader.apps.baseapp import NbGrader

    path = path.expanduser().absolute()
    if path.is_dir():
        root, db_file = path, None
        if not (path / "nbgrader_config.py").is_file() and not (path / "gradebook.db").is_file():
            raise GradebookError(f"{path} is not an nbgrader course (it has neither nbgrader_config.py nor "
                                 "gradebook.db); give the course folder, or the gradebook file to write")
    elif path.suffix == ".db" and path.parent.is_dir():
        root, db_file = path.parent, path
    else:
        raise GradebookError(f"{path} is neither a course folder nor a gradebook file (*.db)")
    # as `cd ROOT && nbgrader ...` reads it: nbgrader also reads the config of the current folder,
    # which must be the course's, not the one dlkit runs in (the kit's own repository is a course too)
    try:
        with contextlib.chdir(root):
            app = NbGrader(log_level=logging.ERROR)
            app.initialize([], root=str(root))
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - nbgrader exits on a config error
        raise GradebookError(f"nbgrader could not read the configuration of the course {root} "
                             f"({type(exc).__name__}: {exc})") from exc
    coursedir = app.coursedir
    if db_file is not None:
        coursedir.db_url = f"sqlite:///{db_file}"
    course_root = Path(coursedir.root).absolute()
    return Course(root=course_root, db_url=coursedir.db_url, course_id=coursedir.course_id,
                  source=course_root / coursedir.source_directory)


def test_cells(assignment: Assignment) -> dict[str, tuple[str, float]]:
    """Each graded name's hidden-test cell in the course notebook: its nbgrader grade id and points
    (the build writes them, from the suites' points; docs/AUTHORING.md)."""
    notebook = nbformat.read(SOURCE / assignment.folder / assignment.notebook, as_version=4)
    cells = {}
    for cell in notebook.cells:
        role = role_of(cell)
        if role and role["role"] == "tests":
            meta = cell.metadata["nbgrader"]
            cells[role["name"]] = (meta["grade_id"], float(meta["points"]))
    return cells


test_cells.__test__ = False  # a helper, not a test


def item_scores(results: dict, assignment: Assignment) -> dict[str, float]:
    """The points of each graded name of ``assignment`` in a results.json (its hidden tests' sum)."""
    scores = {item: 0.0 for item in assignment.items}
    for test in results["tests"]:
        module, item = test["tags"][:2]
        if module == assignment.module and item in scores:
            scores[item] += float(test["score"])
    return {item: round(score, 6) for item, score in scores.items()}  # no 2.9999999 from a sum of floats


def submitted(folder: Path) -> set[str]:
    """The assignments whose module or notebook the submission folder holds (graded or refused)."""
    from autograder.grading.submission import read_submission

    modules = read_submission(folder)
    return {a.folder for a in ASSIGNMENTS if modules[a.module].status != "missing"}


def read_results(out: Path) -> dict | None:
    try:
        return json.loads((out / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def assignments_in(course: Course) -> set[str] | None:
    """The assignments the gradebook has; None when there is no gradebook file yet (nbgrader's
    generate_assignment then creates it: opening it here would only run alembic once more)."""
    from nbgrader.api import Gradebook

    prefix = "sqlite:///"
    if course.db_url.startswith(prefix) and not Path(course.db_url[len(prefix):]).is_file():
        return None
    with Gradebook(course.db_url, course.course_id) as gradebook:
        return {a.name for a in gradebook.assignments}


def add_assignment(course: Course, assignment: Assignment) -> None:
    """Put the assignment in the gradebook the way nbgrader does: `nbgrader generate_assignment`,
    here into a scratch release folder (the course's release/ stays as it is)."""
    with tempfile.TemporaryDirectory(prefix="dlkit-gradebook-") as scratch:
        run = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", assignment.folder, "--force",
             f"--CourseDirectory.root={course.root}", f"--CourseDirectory.db_url={course.db_url}",
             f"--CourseDirectory.course_id={course.course_id}",
             f"--CourseDirectory.source_directory={course.source_of(assignment)}",
             f"--CourseDirectory.release_directory={scratch}"],
            cwd=course.root, capture_output=True, text=True, timeout=600,
            env=nbgrader_env())
    if run.returncode != 0:
        raise GradebookError(f"nbgrader generate_assignment {assignment.folder} failed:\n"
                             + (run.stdout + run.stderr)[-2000:])


def check_cells(gradebook, assignment: Assignment, cells: dict[str, tuple[str, float]]) -> str:
    """Why the gradebook's notebook of ``assignment`` cannot take this kit's scores ("" if it can)."""
    from nbgrader.api import MissingEntry

    try:
        notebook = gradebook.find_notebook(assignment.module, assignment.folder)
    except MissingEntry:
        return (f"{assignment.folder}: the gradebook has no notebook `{assignment.module}` in this assignment; "
                f"run `nbgrader generate_assignment {assignment.folder} --force`")
    theirs = {cell.name: cell.max_score for cell in notebook.grade_cells}
    for item, (grade_id, points) in cells.items():
        if grade_id not in theirs:
            return (f"{assignment.folder}: the gradebook's notebook has no cell `{grade_id}`; it was generated from "
                    f"another source: run `nbgrader generate_assignment {assignment.folder} --force`")
        if not math.isclose(theirs[grade_id], points):
            return (f"{assignment.folder}: cell `{grade_id}` is worth {theirs[grade_id]:g} points in the gradebook "
                    f"and {points:g} in this kit; run `nbgrader generate_assignment {assignment.folder} --force`")
    return ""


def kernel_only_cells(gradebook, assignment: Assignment, cells: dict[str, tuple[str, float]]) -> list[str]:
    """The gradebook's autograded cells of ``assignment`` that are not this kit's hidden-test cells
    (an instructor's own test cells): `nbgrader autograde` scores them in the student's kernel,
    where they can be forged as the kit's could, and dlkit has nothing to replace them with."""
    notebook = gradebook.find_notebook(assignment.module, assignment.folder)
    ours = {grade_id for grade_id, _ in cells.values()}
    answers = {cell.name for cell in notebook.solution_cells}  # graded answer cells: graded by hand
    return [f"{assignment.folder}/{cell.name}" for cell in notebook.grade_cells
            if cell.cell_type == "code" and cell.name not in ours and cell.name not in answers]


def sync_gradebook(folders: list[Path], out: Path, path: Path) -> SyncReport:
    """Write the sandboxed scores of the graded ``folders`` (results in ``out``) into the gradebook
    of the course at ``path``. Raises GradebookError when the gradebook cannot be used at all."""
    from nbgrader.api import Gradebook

    course = find_course(path)
    report = SyncReport()
    work = []  # (the submission, its results.json, the assignments its folder holds)
    for submission in plan(folders, out):
        results = read_results(submission.out)
        if results is None or results.get("extra_data", {}).get("dlkit_student") != submission.student:
            report.problems.append(f"{printable(submission.student)}: no results.json of theirs in {submission.out}")
            continue
        work.append((submission, results, submitted(submission.folder)))
    cells = {a.folder: test_cells(a) for a in ASSIGNMENTS}
    wanted = set().union(*(found for _, _, found in work)) if work else set()
    try:
        with nbgrader_tools():
            known = assignments_in(course)
            if known is None and not wanted:
                return report  # no gradebook yet, and nothing to put in one
            for assignment in ASSIGNMENTS:
                if assignment.folder in wanted and assignment.folder not in (known or set()):
                    add_assignment(course, assignment)
                    report.added_assignments.append(assignment.folder)
            with Gradebook(course.db_url, course.course_id) as gradebook:
                present = (known or set()) | set(report.added_assignments)
                unusable = {a.folder: check_cells(gradebook, a, cells[a.folder]) for a in ASSIGNMENTS
                            if a.folder in present}
                written = [a for a in ASSIGNMENTS if a.folder in wanted and unusable.get(a.folder) == ""]
                report.kernel_only = [name for a in written
                                      for name in kernel_only_cells(gradebook, a, cells[a.folder])]
                for submission, results, found in work:
                    write_student(gradebook, course, submission, results, found, unusable, cells, report)
    except GradebookError:
        raise
    except Exception as exc:  # noqa: BLE001 - a locked or foreign database: say so; grades.csv stands
        raise GradebookError(f"the gradebook {course.db_url} failed ({type(exc).__name__}: {exc}) after "
                             f"{report.changed} changed cells; rerun to write the rest") from exc
    return report


def write_student(gradebook, course: Course, submission, results: dict, found: set[str], unusable: dict[str, str],
                  cells: dict[str, dict[str, tuple[str, float]]], report: SyncReport) -> None:
    """One student's hidden-test cells, in each assignment they submitted or the gradebook has of
    theirs (``unusable``: why an assignment of the gradebook cannot take this kit's scores)."""
    from nbgrader.api import MissingEntry
    from sqlalchemy.exc import SAWarning

    student = submission.student
    has = set()
    with contextlib.suppress(MissingEntry):
        has = {s.assignment.name for s in gradebook.find_student(student).submissions}
    targets = []
    for assignment in ASSIGNMENTS:
        if assignment.folder in found or assignment.folder in has:
            if unusable.get(assignment.folder):
                if unusable[assignment.folder] not in report.problems:
                    report.problems.append(unusable[assignment.folder])
            else:
                targets.append(assignment)
    if not targets:
        return
    try:
        gradebook.find_student(student)
    except MissingEntry:
        gradebook.add_student(student)
        report.added_students.append(student)
    if results.get("extra_data", {}).get("dlkit_error"):
        report.failed.append(student)
    for assignment in targets:
        if assignment.folder not in has:
            timestamp = stamp_of(course, submission.folder / assignment.folder)
            with warnings.catch_warnings():
                # nbgrader's add_submission builds the submission's notebooks before adding it to the
                # session; SQLAlchemy 2 warns, and the cascade adds them all the same
                warnings.simplefilter("ignore", SAWarning)
                submission_row = gradebook.update_or_create_submission(
                    assignment.folder, student, **({"timestamp": timestamp} if timestamp else {}))
            flag_for_grading(submission_row, cells[assignment.folder])
            report.added_submissions.append((student, assignment.folder))
        scores = item_scores(results, assignment)
        for item, (grade_id, _) in cells[assignment.folder].items():
            try:
                grade = gradebook.find_grade(grade_id, assignment.module, assignment.folder, student)
            except MissingEntry:
                report.problems.append(f"{printable(student)}/{assignment.folder}: the submission has no cell "
                                       f"`{grade_id}`")
                continue
            report.cells += 1
            if grade.auto_score is not None and math.isclose(grade.auto_score, scores[item], abs_tol=1e-9):
                continue
            grade.auto_score = scores[item]
            # as nbgrader's SaveAutoGrades: a cell that also has a manual score is to be reviewed
            grade.needs_manual_grade = grade.manual_score is not None
            report.changed += 1
        gradebook.db.commit()
        report.students.add(student)


def flag_for_grading(submission, cells: dict[str, tuple[str, float]]) -> None:
    """A submission nbgrader never autograded: its other grade cells (the written answers) have no
    score yet, and nbgrader's rule (SaveAutoGrades) says a cell without an autograded score needs
    manual grading, so formgrader lists them."""
    ours = {grade_id for grade_id, _ in cells.values()}
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            if grade.name not in ours and grade.auto_score is None and grade.manual_score is None:
                grade.needs_manual_grade = True


def stamp_of(course: Course, folder: Path):
    """The submission's time from nbgrader's `timestamp.txt` (written by `nbgrader collect`), if any."""
    from nbgrader.coursedir import CourseDirectory

    with contextlib.suppress(Exception):  # an unreadable stamp: the submission is added without one
        return CourseDirectory(root=str(course.root)).get_existing_timestamp(str(folder))
    return None
