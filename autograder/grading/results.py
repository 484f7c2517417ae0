"""Write grades: Gradescope's results.json per student and one grades.csv, atomically."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from autograder.grading.grade import SubmissionResult
from autograder.syllabus import ASSIGNMENTS, BY_MODULE


def gradescope_json(result: SubmissionResult) -> dict:
    """Gradescope's autograder results schema: one entry per hidden test."""
    tests = []
    for r in result.results:
        assignment = BY_MODULE[r.test.module]
        tests.append({
            "name": f"{assignment.folder} · {r.test.item} · {r.test.title}",
            "number": f"{assignment.folder[:2]}.{assignment.items.index(r.test.item) + 1}",
            "score": r.score,
            "max_score": r.test.points,
            "output": r.output if r.score < r.test.points else "passed",
            "tags": [assignment.module, r.test.item],
            "visibility": "visible",
            "status": "passed" if r.score >= r.test.points else "failed",
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
    }


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_results(out: Path, result: SubmissionResult, fingerprint: str = "") -> Path:
    data = gradescope_json(result)
    if fingerprint:
        data["extra_data"] = {"dlkit_fingerprint": fingerprint}
    path = out / result.student / "results.json"
    atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def grades_csv(rows: list[dict]) -> str:
    """One row per student: a column per assignment (its score) and the total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *[a.folder for a in ASSIGNMENTS], "total", "max_total"])
    for row in sorted(rows, key=lambda r: r["student"]):
        writer.writerow([row["student"], *[f"{row['scores'].get(a.folder, 0.0):g}" for a in ASSIGNMENTS],
                         f"{row['total']:g}", f"{row['max_total']:g}"])
    return buffer.getvalue()


def summary_row(student: str, results_json: dict) -> dict:
    scores: dict[str, float] = {}
    for test in results_json["tests"]:
        folder = test["name"].split(" · ")[0]
        scores[folder] = scores.get(folder, 0.0) + float(test["score"])
    return {"student": student, "scores": scores, "total": float(results_json["score"]),
            "max_total": float(results_json["max_score"])}
