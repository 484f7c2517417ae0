"""nbgrader end to end on the kit's course, and one grade from two paths: for honest notebook
submissions, `nbgrader autograde` and `dlkit grade` give the same points per assignment, however
the notebook is written (free cells, a failing import, stubs answered below, redefinitions, outputs,
moved cells, an older nbformat)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.mutants import mutation
from autograder.build.release import nbgrader_env
from autograder.grading.grade import grade_submission
from autograder.syllabus import BY_MODULE, REPO, SOURCE
from notebook_helpers import (add_free_cell, as_executed, move_task_first, reference_answers, student_notebook,
                              write_nbformat_44, write_notebook)

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
    """Correct answers that also write a warning to stderr, as library code does (by a plain call:
    the from-scratch rule refuses dynamic lookups such as ``__import__``)."""
    answers = reference_answers(assignment)
    name = assignment.items[0]
    answers[name] = answers[name].replace("### BEGIN SOLUTION", "### BEGIN SOLUTION\n    import sys\n"
                                          "    sys.stderr.write('UserWarning: noisy\\n')")
    return answers


# What an honest student writes outside the answer cells, per assignment: constants and a dict in
# free cells that graded functions use, a graded function left as the stub in its answer cell and
# written in a free cell below it, and one redefined (correctly, another way) at the end.
FREE_CELLS = {
    "activations": {
        "constants": "ONE = 1.0\nRELU_CLAMP = {'min': 0}\n",
        "edits": {"sigmoid": ("1 / (1 + e), e / (1 + e)", "ONE / (ONE + e), e / (ONE + e)"),
                  "relu": ("z.clamp(min=0)", "z.clamp(**RELU_CLAMP)")},
        "answered_below": "tanh",
        "redefined": "def relu(z):\n    return torch.maximum(z, torch.zeros_like(z))\n",
    },
    "losses": {
        "constants": "POWER = 2\nROWS = {'dim': 1, 'keepdim': True}\n",
        "edits": {"mse": ("** 2", "** POWER"), "cross_entropy": ("amax(dim=1, keepdim=True)", "amax(**ROWS)")},
        "answered_below": "mse_derivative",
        "redefined": ("def cross_entropy_derivative(logits, targets):\n"
                      "    one_hot = torch.eye(logits.shape[1], dtype=logits.dtype)[targets]\n"
                      "    return (softmax(logits, dim=1) - one_hot) / logits.shape[0]\n"),
    },
}


def with_free_cells(assignment) -> nbformat.NotebookNode:
    plan = FREE_CELLS[assignment.module]
    answers = reference_answers(assignment)
    for name, (old, new) in plan["edits"].items():
        assert old in answers[name], (name, old)
        answers[name] = answers[name].replace(old, new)
    below = plan["answered_below"]
    notebook = student_notebook(assignment, {n: a for n, a in answers.items() if n != below})
    add_free_cell(notebook, "import seaborn as sns  # not installed: this cell fails, the rest runs",
                  after=("setup", ""))
    add_free_cell(notebook, plan["constants"], after=("setup", ""))
    add_free_cell(notebook, answers[below], after=("answer", below))
    add_free_cell(notebook, plan["redefined"])
    return notebook


def executed_and_moved(assignment) -> nbformat.NotebookNode:
    """The correct student: the reference answers, the last task moved to the top, a magic, run in
    Jupyter (outputs saved) and saved as nbformat 4.4."""
    notebook = student_notebook(assignment, reference_answers(assignment))
    move_task_first(notebook, assignment.items[-1])
    add_free_cell(notebook, "%matplotlib inline\nimport matplotlib.pyplot as plt", after=("setup", ""))
    as_executed(notebook)
    return notebook


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
                         cwd=course, env=nbgrader_env(), capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("course")
    shutil.copy(REPO / "nbgrader_config.py", course)
    students = {"stubbed": lambda a: {}, "buggy": buggy_answers, "noisy": noisy_answers}
    for assignment in ASSIGNMENTS:
        shutil.copytree(SOURCE / assignment.folder, course / "source" / assignment.folder)
    # nbgrader takes a glob for the assignment: each command runs once for the whole course
    nbgrader(course, "generate_assignment", "*", "--force")
    for assignment in ASSIGNMENTS:
        submitted = Path(assignment.folder) / assignment.notebook
        for student, answers in students.items():
            notebook = student_notebook(assignment, answers(assignment))
            write_notebook(course / "submitted" / student / submitted, notebook)
        write_notebook(course / "submitted" / "free_cells" / submitted, with_free_cells(assignment))
        write_nbformat_44(course / "submitted" / "correct" / submitted, executed_and_moved(assignment))
    nbgrader(course, "autograde", "*", "--force")
    nbgrader(course, "generate_feedback", "*", "--force")
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
    for honest in ("correct", "free_cells"):
        lost = [f"{r.test.nodeid}: {r.output}" for r in dlkit[honest].results if r.score < r.test.points]
        assert not lost, (honest, lost)
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
    from autograder.grading.in_kernel import run_hidden_tests

    namespace = {}
    exec("import torch, warnings\n" + reference_answers(BY_MODULE["activations"])["relu"].replace(
        "    return z.clamp(min=0)", "    warnings.warn('noisy', UserWarning)\n    return z.clamp(min=0)"), namespace)
    earned, total, lines = run_hidden_tests("activations", "relu", namespace)
    assert earned == total, lines
