"""Mutation testing of the hidden suites: catalogued student bugs, correct alternatives, rule evasions.

A catalogue entry describes a submission made from the reference ``solutions/<module>.py``:
- an *edit* (``old`` -> ``new``, ``old`` occurring exactly once), as in ``autograder/mutants/<module>.toml``;
- or a *replacement* (``code``): the whole top-level definition of ``function`` is replaced by
  ``code``, as in the blind catalogue ``mutants/blind/`` (written from the SYLLABUS and the stubs
  alone, without reading the suites) and the rule's evasions ``mutants/evasions/``.
Either may carry ``siblings``: code appended to the student's own copy of other modules (helpers
that the entry imports from them), which are then part of the submission.

A ``bug`` must lose points; an ``alternative`` (correct code written differently) must keep full
marks; an ``evasion`` of the "from scratch" rule must lose the points of its own function. A hidden
test that no bug fails is *dead*: it could not tell right from wrong.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading.batch import one_torch_thread
from autograder.grading.grade import SubmissionResult, grade_submission
from autograder.mutants.catalogue import Edit, load  # noqa: F401 - load: re-exported for the callers of run()
from autograder.suites import tests_of


def grade_edit(edit: Edit) -> SubmissionResult:
    with tempfile.TemporaryDirectory(prefix=f"mutant-{edit.id}-") as folder:
        for module, source in edit.files().items():
            (Path(folder) / f"{module}.py").write_text(source)
        return grade_submission(Path(folder), modules=(edit.module,))


IN_PROCESS = 8  # this many edits or fewer are graded here: a pool's start-up (Pythons importing torch) costs more


def run(edits: list[Edit], jobs: int = 2) -> list[tuple[Edit, SubmissionResult]]:
    if len(edits) <= IN_PROCESS:
        return [(edit, grade_edit(edit)) for edit in edits]
    # pytest runs one session at a time per process: one grader process per job
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=one_torch_thread) as pool:
        return list(zip(edits, pool.map(grade_edit, edits, chunksize=4)))


@dataclass
class Verdict:
    survivors: list[Edit]  # bugs that kept full marks
    broken_alternatives: list[tuple[Edit, list[str]]]  # alternatives that lost points, with messages
    dead_tests: list[str]  # tests that no bug failed
    kills: dict[str, list[str]]  # test nodeid -> ids of the bugs it caught
    missed_evasions: list[Edit] = field(default_factory=list)  # evasions that kept their function's points


def judge(results: list[tuple[Edit, SubmissionResult]], modules: tuple[str, ...]) -> Verdict:
    survivors, broken, missed, kills = [], [], [], {}
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
        elif edit.kind == "evasion":
            if not any(r.test.item == edit.function for r in lost):
                missed.append(edit)
        elif lost:
            broken.append((edit, [f"{r.test.nodeid}: {r.output}" for r in lost]))
    dead = [nodeid for nodeid, ids in kills.items() if not ids]
    return Verdict(survivors, broken, dead, kills, missed)
