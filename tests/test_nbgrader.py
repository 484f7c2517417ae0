"""nbgrader end to end on the kit's course, and one grade from two paths: for honest notebook
submissions, `nbgrader autograde` and `dlkit grade` give the same points per assignment."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder import mutation
from autograder.build.release import nbgrader_env
from autograder.grading.grade import grade_submission
from autograder.syllabus import BY_MODULE, REPO, SOURCE
from notebook_helpers import reference_answers, student_notebook, write_notebook

ASSIGNMENTS = [BY_MODULE["activations"], BY_MODULE["losses"]]
BUGS = {"activations": ("softmax_no_max_shift", "relu_derivative_at_zero_is_one"),
        "losses": ("mse_sum", "ce_no_max_shift")}


def buggy_answers(assignment) -> dict[str, str]:
    """The reference answers with catalogued bugs applied where they fit."""
    answers = reference_answers(assignment)
    edits = {e.id: e for e in mutation.load((assignment.module,))}
    for bug_id in BUGS[assignment.module]:
        edit = edits[bug_id]
        answers[edit.function] = answers[edit.function].replace(edit.old, edit.new)
    return answers


def noisy_answers(assignment) -> dict[str, str]:
    """Correct answers that also write a warning straight to the process's stderr, as C++ code does."""
    answers = reference_answers(assignment)
    name = assignment.items[0]
    answers[name] = answers[name].replace("### BEGIN SOLUTION",
                                          "### BEGIN SOLUTION\n    __import__('os').write(2, b'UserWarning: noisy\\n')")
    return answers


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
                         cwd=course, env=nbgrader_env(), capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("course")
    shutil.copy(REPO / "nbgrader_config.py", course)
    students = {"correct": reference_answers, "stubbed": lambda a: {}, "buggy": buggy_answers,
                "noisy": noisy_answers}
    for assignment in ASSIGNMENTS:
        shutil.copytree(SOURCE / assignment.folder, course / "source" / assignment.folder)
        nbgrader(course, "generate_assignment", assignment.folder, "--force")
        for student, answers in students.items():
            notebook = student_notebook(assignment, answers(assignment))
            write_notebook(course / "submitted" / student / assignment.folder / assignment.notebook, notebook)
    for assignment in ASSIGNMENTS:
        nbgrader(course, "autograde", assignment.folder, "--force")
        nbgrader(course, "generate_feedback", assignment.folder, "--force")
    nbgrader(course, "export")
    return course


def test_autograde_and_dlkit_give_the_same_points(course):
    dlkit = {s.name: grade_submission(s, modules=tuple(a.module for a in ASSIGNMENTS))
             for s in sorted((course / "submitted").iterdir())}
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gradebook:
        for student, result in dlkit.items():
            for assignment in ASSIGNMENTS:
                notebook = gradebook.find_submission_notebook(assignment.module, assignment.folder, student)
                assert notebook.code_score == pytest.approx(result.score(assignment.module)), \
                    (student, assignment.folder, notebook.code_score, result.score(assignment.module))
                assert notebook.max_code_score == pytest.approx(result.max_score(assignment.module))
    assert dlkit["correct"].score() == dlkit["correct"].max_score()
    assert dlkit["noisy"].score() == dlkit["noisy"].max_score()  # and so in nbgrader, compared above
    assert dlkit["stubbed"].score() == 0
    assert 0 < dlkit["buggy"].score() < dlkit["buggy"].max_score()


def test_feedback_and_export_show_no_hidden_material(course):
    for assignment in ASSIGNMENTS:
        # the stubbed student's notebook holds no reference code: its feedback must not either
        html = course / "feedback" / "stubbed" / assignment.folder / assignment.notebook.replace(".ipynb", ".html")
        text = html.read_text()
        assert "Hidden tests for" in text and "FAILED" in text and "not implemented yet" in text
        for solution in reference_answers(assignment).values():
            lines = [line.strip() for line in solution.split("### BEGIN SOLUTION")[1].splitlines()]
            code = [line for line in lines if len(line) > 20 and not line.startswith("#")]
            assert not any(line in text for line in code), "reference code leaked into feedback"
    grades = (course / "grades.csv").read_text()
    assert "correct" in grades and "buggy" in grades


def test_warnings_on_stderr_do_not_zero_a_test_cell(tmp_path):
    """A torch warning printed while the hidden tests run must not cost the cell its points."""
    from autograder.notebook import run_hidden_tests

    namespace = {}
    exec("import torch, warnings\n" + reference_answers(BY_MODULE["activations"])["relu"].replace(
        "    return z.clamp(min=0)", "    warnings.warn('noisy', UserWarning)\n    return z.clamp(min=0)"), namespace)
    earned, total, lines = run_hidden_tests("activations", "relu", namespace)
    assert earned == total, lines
