"""Write grades: Gradescope's results.json per student and one grades.csv, atomically."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.csv_cells import csv_text
from autograder.files import atomic_write  # noqa: F401 - the kit's one writer, also imported from here
from autograder.grading.ids import printable
from autograder.syllabus import ASSIGNMENTS, BY_MODULE, MODULES

if TYPE_CHECKING:  # the grading machinery (torch, pytest) stays out of a batch's parent process
    from autograder.grading.grade import SubmissionResult, TestResult


def gradescope_json(result: SubmissionResult) -> dict:
    """Gradescope's autograder results schema: one entry per hidden test."""
    tests = []
    for r in result.results:
        assignment = BY_MODULE[r.test.module]
        tests.append({
            "name": f"{assignment.folder} · {r.test.item} · {r.test.title}",
            "number": f"{assignment.label}.{assignment.items.index(r.test.item) + 1}",
            "score": r.score,
            "max_score": r.test.points,
            "output": r.output if r.score < r.test.points else "passed",
            "tags": [assignment.module, r.test.item],
            "visibility": "visible",
            "status": "passed" if r.score >= r.test.points else "failed",
            "extra_data": test_data(r),
        })
    lines = []
    for a in ASSIGNMENTS:
        if not any(r.test.module == a.module for r in result.results):
            continue
        lines.append(f"{a.folder}: {result.score(a.module):g} / {result.max_score(a.module):g}"
                     + (f" ({result.module_messages[a.module]})" if a.module in result.module_messages else ""))
        lines += [f"  note: {note}" for note in result.notes.get(a.module, [])]
    return {
        "score": result.score(),
        "max_score": result.max_score(),
        "execution_time": round(result.execution_time, 3),
        "output": "\n".join(lines),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"dlkit_assignments": assignments_data(result)},
    }


def test_data(r: TestResult) -> dict:
    """A hidden test's result as data, for the reports (which never read the display text above):
    where it belongs, its status (``passed``, ``failed``, ``not_implemented``, ``not_graded``),
    the message the student reads, and the hint (the message without where in the student's code)
    with its id, the same for everyone who made the same mistake in the same function."""
    assignment = BY_MODULE[r.test.module]
    return {"assignment": assignment.folder, "module": r.test.module, "item": r.test.item,
            "test": r.test.name, "title": r.test.title, "status": r.status,
            "not_implemented": r.status == "not_implemented", "message": "" if r.status == "passed" else r.output,
            "hint": r.hint, "hint_id": hint_id(r.test.module, r.test.item, r.hint) if r.hint else ""}


def hint_id(module: str, item: str, hint: str) -> str:
    return hashlib.sha256(f"{module}\0{item}\0{hint}".encode()).hexdigest()[:12]


def assignments_data(result: SubmissionResult) -> list[dict]:
    """Each graded assignment as data: why it could not be graded ("" if it was), and the notes."""
    return [{"assignment": a.folder, "module": a.module, "problem": result.module_messages.get(a.module, ""),
             "notes": list(result.notes.get(a.module, []))}
            for a in ASSIGNMENTS if any(r.test.module == a.module for r in result.results)]


def write_results(folder: Path, data: dict) -> Path:
    """Write ``data`` (a results.json dict) as ``folder/results.json``."""
    path = folder / "results.json"
    atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def results_data(result: SubmissionResult, student: str, fingerprint: str = "", error: str = "") -> dict:
    """results.json for ``student``: Gradescope's schema, and in ``extra_data`` the student's id
    (their folder's name, which the output folder may not be), what the grade depends on (the
    fingerprint: the same one means no need to grade again) and, for a submission the grader
    failed on, why (never a fingerprint then: a rerun tries again)."""
    data = gradescope_json(result)
    extra = {"dlkit_student": student}
    if fingerprint and not error:
        extra["dlkit_fingerprint"] = fingerprint
    if error:
        extra["dlkit_error"] = error
    data["extra_data"] = data.get("extra_data", {}) | extra
    return data


def ungraded_result(student: str, reason: str) -> SubmissionResult:
    """A submission the grader failed on: every hidden test there, scoring 0, saying why."""
    from autograder.grading.grade import SubmissionResult, TestResult
    from autograder.suites import tests_of

    message = f"could not be graded: {reason}"
    result = SubmissionResult(student=student, module_messages={m: message for m in MODULES})
    result.results = [TestResult(test, 0.0, message, status="not_graded") for m in MODULES for test in tests_of(m)]
    return result


GRADES_HEADER = ["student", *[a.folder for a in ASSIGNMENTS], "total", "max_total"]


def grades_csv(rows: list[dict]) -> str:
    """One row per student: the id, a column per assignment (its score), the total and the maximum.
    Every text cell is neutralised against spreadsheet formulas (see ``autograder.csv_cells``)."""
    ordered = sorted(rows, key=lambda r: r["student"])
    return csv_text(GRADES_HEADER, [[printable(r["student"]), *[r["scores"].get(a.folder, 0.0) for a in ASSIGNMENTS],
                                     r["total"], r["max_total"]] for r in ordered])


def summary_row(student: str, results_json: dict) -> dict:
    scores: dict[str, float] = {}
    for test in results_json["tests"]:
        folder = test["extra_data"]["assignment"]
        scores[folder] = scores.get(folder, 0.0) + float(test["score"])
    return {"student": student, "scores": scores, "total": float(results_json["score"]),
            "max_total": float(results_json["max_score"])}
