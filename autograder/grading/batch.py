"""Grade many submissions in parallel grader processes, writing each result as soon as it is done."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from autograder.grading.fingerprint import fingerprint
from autograder.grading.results import atomic_write, grades_csv, summary_row, write_results
from autograder.sandbox import Limits


def grade_one(folder: str, out: str, limits: Limits = Limits()) -> dict:
    """In a grader process: grade one folder, write its results.json, return its summary row."""
    from autograder.grading.grade import grade_submission
    from autograder.grading.results import gradescope_json

    stamp = fingerprint(Path(folder))  # before grading: a file changed meanwhile means a regrade
    result = grade_submission(Path(folder), limits=limits)
    write_results(Path(out), result, stamp)
    return summary_row(result.student, gradescope_json(result))


def already_graded(folder: Path, out: Path) -> dict | None:
    """The summary row of a finished, up-to-date result for ``folder``, if there is one."""
    try:
        data = json.loads((out / folder.name / "results.json").read_text())
        if data.get("extra_data", {}).get("dlkit_fingerprint") == fingerprint(folder):
            return summary_row(folder.name, data)
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        pass
    return None


def grade_batch(folders: list[Path], out: Path, jobs: int,
                on_done: Callable[[Path, dict | None, str], None] = lambda folder, row, error: None,
                limits: Limits = Limits(), force: bool = False) -> tuple[list[dict], dict[Path, str]]:
    """Grade every folder; return the summary rows, and the folders that could not be graded
    (an internal error of the grader, never a student's doing) with the reason.

    Results already in ``out`` for the same submission and grader are kept, unless ``force``:
    an interrupted batch, run again, grades only what is left."""
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    failures: dict[Path, str] = {}
    if not force:
        todo = []
        for folder in folders:
            done = already_graded(folder, out)
            if done is None:
                todo.append(folder)
            else:
                rows.append(done)
                on_done(folder, done, "")
        folders = todo

    def record(folder: Path, future_result: Callable[[], dict]) -> None:
        try:
            rows.append(future_result())
            on_done(folder, rows[-1], "")
        except Exception as exc:  # noqa: BLE001 - one folder's failure must not stop the batch
            failures[folder] = f"{type(exc).__name__}: {exc}"
            on_done(folder, None, failures[folder])

    if jobs <= 1:
        for folder in folders:
            record(folder, lambda: grade_one(str(folder), str(out), limits))
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {pool.submit(grade_one, str(f), str(out), limits): f for f in folders}
            for future in as_completed(futures):
                record(futures[future], future.result)
    atomic_write(out / "grades.csv", grades_csv(rows))
    return rows, failures


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
