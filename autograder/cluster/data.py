"""A submission and its grade as plain data (str, float, lists, dicts): what travels to and from
a Dask worker. Nothing is pickled that student data built, and what comes back is checked
against the client's own list of hidden tests before anything is written."""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path

from autograder.grading.submission import ModuleFile, read_submission
from autograder.syllabus import MODULES


class MalformedResult(ValueError):
    """What a worker sent back is not a grade of this kit's hidden tests."""


# --- the submission, client -> worker ------------------------------------------------------------

def submission_data(folder: Path) -> dict[str, dict]:
    """Each graded module as the grader reads it (``read_submission``), as plain dicts."""
    return {module: file_data(file) for module, file in read_submission(folder).items()}


def file_data(file: ModuleFile) -> dict:
    data = asdict(file)
    data["provided"] = sorted(file.provided)
    return data


def module_files(data: dict) -> dict[str, ModuleFile]:
    """The worker's side of ``submission_data``: a ``ModuleFile`` per graded module."""
    if type(data) is not dict or sorted(data) != sorted(MODULES):
        raise MalformedResult("the submission data does not list every graded module")
    names = {f.name for f in fields(ModuleFile)}
    files = {}
    for module, item in data.items():
        if type(item) is not dict or set(item) != names or item["module"] != module:
            raise MalformedResult(f"the submission data of {module} is malformed")
        files[module] = ModuleFile(**{**item, "provided": frozenset(item["provided"])})
    return files


# --- the grade, worker -> client -----------------------------------------------------------------
# Every field of ``SubmissionResult`` and ``TestResult`` travels, by name (a field added there
# travels too), except each test's ``TestInfo``: the client puts its own back, by position.

MAX_DEPTH = 8


def grade_data(result) -> dict:
    """A ``SubmissionResult`` as plain data: its fields, and per hidden test (in order) its fields."""
    data = {f.name: getattr(result, f.name) for f in fields(result) if f.name not in ("student", "results")}
    data["results"] = [{"test": [r.test.module, r.test.name],
                        **{f.name: getattr(r, f.name) for f in fields(r) if f.name != "test"}} for r in result.results]
    return data


def grade_from_data(data: object, student: str):
    """The client's side of ``grade_data``: a ``SubmissionResult`` over the client's own hidden
    tests, every one in order, each scoring 0 or its full points, and only plain data besides."""
    from autograder.grading.grade import SubmissionResult, TestResult
    from autograder.suites import tests_of

    expected_fields = {f.name for f in fields(SubmissionResult)} - {"student"}
    if type(data) is not dict or set(data) != expected_fields:
        raise MalformedResult("the result does not have the fields of this grader's results")
    test_fields = {f.name for f in fields(TestResult)}
    expected = [test for module in MODULES for test in tests_of(module)]
    got = data["results"]
    if type(got) is not list or len(got) != len(expected):
        raise MalformedResult("the result does not list every hidden test")
    results = []
    for test, entry in zip(expected, got):
        if (type(entry) is not dict or set(entry) != test_fields or entry["test"] != [test.module, test.name]
                or (type(entry["score"]), entry["score"]) not in ((float, 0.0), (type(test.points), test.points))
                or not plain(entry)):
            raise MalformedResult(f"the result of {test.module}::{test.name} is malformed")
        results.append(TestResult(**{**entry, "test": test}))
    rest = {k: v for k, v in data.items() if k != "results"}
    if not plain(rest):
        raise MalformedResult("the result holds something other than plain data")
    return SubmissionResult(student=student, results=results, **rest)


def plain(value: object, depth: int = 0) -> bool:
    """Only what JSON holds (and not deeper than ``MAX_DEPTH``): str, numbers, lists, dicts by str."""
    if type(value) in (str, int, float, bool) or value is None:
        return True
    if depth >= MAX_DEPTH:
        return False
    if type(value) in (list, tuple):
        return all(plain(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(type(k) is str and plain(v, depth + 1) for k, v in value.items())
    return False
