"""Mutation testing of the hidden suites: catalogued student bugs and correct alternatives.

Each entry of ``autograder/mutants/<module>.toml`` is an edit of the reference
``solutions/<module>.py``: replace ``old`` (which must occur exactly once) by
``new``. A ``[[bug]]`` must lose points; an ``[[alternative]]`` (a correct
implementation written differently) must keep full marks. A hidden test that
no bug fails is *dead*: it could not tell right from wrong.
"""

from __future__ import annotations

import tempfile
import tomllib
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autograder.grading.grade import SubmissionResult, grade_submission
from autograder.suites import tests_of
from autograder.syllabus import MODULES, SOLUTIONS

CATALOGUE = Path(__file__).resolve().parent / "mutants"


@dataclass(frozen=True)
class Edit:
    kind: str  # "bug" or "alternative"
    module: str
    id: str
    function: str
    description: str
    old: str
    new: str

    def apply(self) -> str:
        source = (SOLUTIONS / f"{self.module}.py").read_text()
        count = source.count(self.old)
        if count != 1:
            raise ValueError(f"{self.module}/{self.id}: `old` occurs {count} times in the reference, not once")
        return source.replace(self.old, self.new)


def load(modules: tuple[str, ...] = MODULES) -> list[Edit]:
    edits = []
    for module in modules:
        path = CATALOGUE / f"{module}.toml"
        if not path.exists():
            continue
        data = tomllib.loads(path.read_text())
        for kind in ("bug", "alternative"):
            for entry in data.get(kind, []):
                edits.append(Edit(kind, module, entry["id"], entry["function"], entry["description"],
                                  entry["old"], entry["new"]))
    ids = [(e.module, e.id) for e in edits]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate mutant ids: {sorted(duplicates)}")
    return edits


def grade_edit(edit: Edit) -> SubmissionResult:
    with tempfile.TemporaryDirectory(prefix=f"mutant-{edit.id}-") as folder:
        (Path(folder) / f"{edit.module}.py").write_text(edit.apply())
        return grade_submission(Path(folder), modules=(edit.module,))


def run(edits: list[Edit], jobs: int = 2) -> list[tuple[Edit, SubmissionResult]]:
    # pytest runs one session at a time per process: one grader process per job
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(zip(edits, pool.map(grade_edit, edits)))


@dataclass
class Verdict:
    survivors: list[Edit]  # bugs that kept full marks
    broken_alternatives: list[tuple[Edit, list[str]]]  # alternatives that lost points, with messages
    dead_tests: list[str]  # tests that no bug failed
    kills: dict[str, list[str]]  # test nodeid -> ids of the bugs it caught


def judge(results: list[tuple[Edit, SubmissionResult]], modules: tuple[str, ...]) -> Verdict:
    survivors, broken, kills = [], [], {}
    for module in modules:
        for test in tests_of(module):
            kills[test.nodeid] = []
    for edit, result in results:
        lost = [r for r in result.results if r.score < r.test.points]
        if edit.kind == "bug":
            if not lost:
                survivors.append(edit)
            for r in lost:
                kills.setdefault(r.test.nodeid, []).append(edit.id)
        elif lost:
            broken.append((edit, [f"{r.test.nodeid}: {r.output}" for r in lost]))
    dead = [nodeid for nodeid, ids in kills.items() if not ids]
    return Verdict(survivors, broken, dead, kills)
