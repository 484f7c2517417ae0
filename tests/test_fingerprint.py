"""The fingerprint that decides "already graded" covers every file that can change a verdict:
touching any of them grades again; touching a file grading never reads does not."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grading import batch, fingerprint
from autograder.grading.fingerprint import NOT_GRADING, PACKAGE, grader_digest, grader_files
from autograder.runner.sandbox import Limits
from autograder.syllabus import ASSIGNMENTS, REPO

pytestmark = pytest.mark.fast

GRADER_FILES = grader_files()
NOT_GRADER_FILES = sorted(p for p in PACKAGE.rglob("*.py")
                          if p.relative_to(PACKAGE).parts[0] in NOT_GRADING and "__pycache__" not in p.parts)


@functools.cache
def contents(path: Path) -> bytes:
    return path.read_bytes()


BEFORE = grader_digest(contents)


def touched(target: Path):
    """Every file as it is, but ``target`` edited (one byte more)."""
    return lambda path: contents(path) + (b"\n" if path == target else b"")


def name(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.mark.parametrize("path", GRADER_FILES, ids=name)
def test_touching_a_file_that_can_change_a_verdict_changes_the_grader_version(path):
    assert grader_digest(touched(path)) != BEFORE


@pytest.mark.parametrize("path", NOT_GRADER_FILES, ids=name)
def test_touching_a_file_grading_never_reads_keeps_the_grader_version(path):
    assert grader_digest(touched(path)) == BEFORE


def test_the_files_the_issue_names_are_covered():
    """The sandbox's limits, the sessions, the transport, the reference, the suites' pytest.ini, the
    reference solutions and the source notebooks: all missed by the old hand-written list."""
    covered = {name(p) for p in GRADER_FILES}
    named = {"autograder/runner/sandbox.py", "autograder/runner/session.py", "autograder/runner/transport.py",
             "autograder/runner/reference.py", "autograder/suites/pytest.ini", "autograder/syllabus.py",
             "autograder/cells.py", "autograder/worker/template.py"}
    named |= {f"solutions/{a.module}.py" for a in ASSIGNMENTS}
    named |= {f"source/{a.folder}/{a.notebook}" for a in ASSIGNMENTS}
    assert named <= covered, sorted(named - covered)


def test_grading_imports_nothing_declared_unable_to_change_a_verdict():
    """What ``dlkit grade`` and nbgrader's hidden-test cells import (and the suites, and the worker)
    is all in the fingerprint; nothing of ``NOT_GRADING`` is imported."""
    code = """
import importlib.util, json, sys
import autograder.grading.batch, autograder.grading.grade, autograder.grading.in_kernel
from autograder.suites import suite_path
from autograder.syllabus import MODULES
for module in MODULES:
    spec = importlib.util.spec_from_file_location(f"suite_{module}", suite_path(module))
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
import autograder.worker.loader, autograder.worker.server, autograder.worker.isolation
print(json.dumps(sorted({m.__file__ for n, m in sys.modules.items()
                         if n.startswith("autograder") and getattr(m, "__file__", None)})))
"""
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    loaded = {Path(f).resolve() for f in json.loads(run.stdout)}
    assert loaded <= set(GRADER_FILES), sorted(map(str, loaded - set(GRADER_FILES)))


def test_a_changed_grader_grades_again(tmp_path, monkeypatch):
    """An up-to-date results.json is kept; the same one after a grader file changed is not."""
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "perceptron.py").write_text("def predict(w, b, x):\n    return x\n")
    submission = batch.Submission(folder, "alice", tmp_path / "out" / "alice")
    submission.out.mkdir(parents=True)
    stamp = batch.grading_stamp(folder, Limits())
    (submission.out / "results.json").write_text(json.dumps({
        "score": 0, "max_score": 0, "tests": [],
        "extra_data": {"dlkit_student": "alice", "dlkit_fingerprint": stamp}}))
    assert batch.already_graded(submission) is not None
    sandbox = REPO / "autograder" / "runner" / "sandbox.py"
    monkeypatch.setattr(fingerprint, "grader_version", lambda: grader_digest(touched(sandbox)))
    assert batch.already_graded(submission) is None
