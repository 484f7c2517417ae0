"""The GitHub Classroom template: its workflow's commands, run locally, give the points they report."""

from __future__ import annotations

import shutil
import subprocess
import sys

import yaml

from autograder.classroom import build_template
from autograder.syllabus import ASSIGNMENTS, MODULES, SOLUTIONS


def grader_steps(template):
    workflow = yaml.safe_load((template / ".github" / "workflows" / "classroom.yml").read_text())
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    graders = [s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-command-grader")]
    reporter = next(s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-grading-reporter"))
    return graders, reporter


def points(template, graders) -> tuple[int, int]:
    earned = total = 0
    for step in graders:
        command = step["with"]["command"].split()
        assert command[:2] == ["python", "check.py"]
        run = subprocess.run([sys.executable, *command[1:]], cwd=template, capture_output=True, text=True,
                             timeout=120)
        total += step["with"]["max-score"]
        earned += step["with"]["max-score"] if run.returncode == 0 else 0
    return earned, total


def test_the_template_workflow_scores_stubs_zero_and_the_reference_full(tmp_path):
    template = build_template(tmp_path / "template")
    graders, reporter = grader_steps(template)
    ids = [s["id"] for s in graders]
    assert reporter["with"]["runners"].split(",") == ids
    assert set(reporter["env"]) == {f"{i.upper()}_RESULTS" for i in ids}
    assert len(graders) == sum(len(a.items) for a in ASSIGNMENTS)  # one step per graded function
    assert "torch==2.13.0" in (template / "requirements.txt").read_text()
    subset = [s for s in graders if s["id"].startswith("activations-")]
    assert points(template, subset)[0] == 0
    for module in MODULES:
        shutil.copy(SOLUTIONS / f"{module}.py", template / f"{module}.py")
    earned, total = points(template, subset)
    assert earned == total > 0
