"""The instructor's diagnostics: a test that crashed in the grader leaves its traceback in
DIR/grader.log, and (with ``debug``) what the workers printed; neither ever reaches the student."""

from __future__ import annotations

import json

import pytest

from autograder.grading.batch import LOG, Outcome, grade_batch
from autograder.reports import write_reports
from autograder.syllabus import SOLUTIONS

PRINTED = "debugging print of the student's"


def crash_in_the_suite(monkeypatch):
    """A suite's helper with a bug a student's result trips (a grader-side error, not the student's)."""
    from autograder.suites import test_perceptron as suite

    def fragile_check(student, name, *args, **kwargs):
        return {"weights": None}[f"suite-bug-{name}"]

    monkeypatch.setattr(suite, "call_checked", fragile_check)


@pytest.fixture
def alice(tmp_path):
    folder = tmp_path / "subs" / "alice"
    folder.mkdir(parents=True)
    source = (SOLUTIONS / "perceptron.py").read_text()
    (folder / "perceptron.py").write_text(f"print({PRINTED!r})\n" + source)
    return folder


def test_a_crashed_test_leaves_its_traceback_in_grader_log_and_never_in_feedback(tmp_path, alice, monkeypatch):
    crash_in_the_suite(monkeypatch)
    out = tmp_path / "out"
    rows, failures = grade_batch([alice], out, jobs=1, pool=False, debug=True)
    assert not failures
    log = (out / LOG).read_text()
    assert "Traceback" in log and "suite-bug-update" in log and "fragile_check" in log
    assert "perceptron::test_update_missed_positive" in log
    assert PRINTED in log  # --debug: what the workers printed
    data = json.loads((out / "alice" / "results.json").read_text())
    crashed = [t for t in data["tests"] if t["tags"] == ["perceptron", "update"]]
    assert crashed and all("could not check your result" in t["output"] for t in crashed)
    write_reports(out)
    for student_sees in ("results.json", "feedback.md", "feedback.html"):
        text = (out / "alice" / student_sees).read_text()
        assert "Traceback" not in text and "suite-bug" not in text and "fragile_check" not in text, student_sees
        assert PRINTED not in text, student_sees
    passed = [t for t in data["tests"] if t["tags"][1] in ("weighted_sum", "step", "predict")]
    assert passed and all(t["status"] == "passed" for t in passed)  # the other tests are unaffected


@pytest.mark.fast
@pytest.mark.parametrize("debug", [False, True], ids=["default", "debug"])
def test_the_workers_output_reaches_the_log_only_with_debug(tmp_path, debug):
    """Tracebacks always go to grader.log; what the workers printed only with ``debug``."""
    folder = tmp_path / "subs" / "bob"
    folder.mkdir(parents=True)

    def engine(todo, limits, finish, log):
        for submission in todo:
            finish(submission, Outcome({"student": submission.student, "scores": {}, "total": 0.0,
                                        "max_total": 0.0}, tracebacks="Traceback: the grader's",
                                       worker_output=PRINTED))

    grade_batch([folder], tmp_path / "out", jobs=1, engine=engine, debug=debug)
    log = (tmp_path / "out" / LOG).read_text()
    assert "Traceback: the grader's" in log and (PRINTED in log) == debug
