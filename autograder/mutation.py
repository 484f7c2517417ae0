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

import ast
import multiprocessing
import tempfile
import textwrap
import tomllib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading.grade import SubmissionResult, grade_submission
from autograder.suites import tests_of
from autograder.syllabus import MODULES, SOLUTIONS

CATALOGUE = Path(__file__).resolve().parent / "mutants"
SHELVES = {"": ("bug", "alternative"), "blind": ("alternative",), "evasions": ("evasion",)}


@dataclass(frozen=True)
class Edit:
    kind: str  # "bug", "alternative" or "evasion"
    module: str
    id: str
    function: str
    description: str
    old: str = ""
    new: str = ""
    code: str = ""  # replaces the whole definition of `function`
    siblings: dict[str, str] = field(default_factory=dict, hash=False)
    shelf: str = ""  # "", "blind" or "evasions": the catalogue it comes from

    def apply(self) -> str:
        source = reference_source(self.module)
        if self.code:
            return replace_definition(source, self.function, self.code, f"{self.module}/{self.id}")
        count = source.count(self.old)
        if count != 1:
            raise ValueError(f"{self.module}/{self.id}: `old` occurs {count} times in the reference, not once")
        return source.replace(self.old, self.new)

    def files(self) -> dict[str, str]:
        """The submission: the edited module and the sibling modules it brings along."""
        files = {self.module: self.apply()}
        for module, extra in self.siblings.items():
            files[module] = reference_source(module).rstrip("\n") + "\n\n\n" + textwrap.dedent(extra)
        return files


def reference_source(module: str) -> str:
    return (SOLUTIONS / f"{module}.py").read_text()


def replace_definition(source: str, name: str, code: str, label: str) -> str:
    """``source`` with its top-level definition of ``name`` (decorators included) replaced by ``code``."""
    tree = ast.parse(source)
    nodes = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name]
    if len(nodes) != 1:
        raise ValueError(f"{label}: the reference defines `{name}` {len(nodes)} times at top level")
    node = nodes[0]
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    lines = source.splitlines(keepends=True)
    body = "".join(line for line in textwrap.dedent(code).strip("\n").splitlines(keepends=True)
                   if not line.startswith("from __future__"))  # only legal at the top of a file
    return "".join(lines[:start - 1]) + body + "\n" + "".join(lines[node.end_lineno:])


def load(modules: tuple[str, ...] = MODULES) -> list[Edit]:
    edits = []
    for shelf, kinds in SHELVES.items():
        for module in modules:
            path = CATALOGUE / shelf / f"{module}.toml"
            if not path.exists():
                continue
            data = tomllib.loads(path.read_text())
            for kind in kinds:
                for entry in data.get(kind, []):
                    edits.append(Edit(kind, module, entry["id"], entry["function"], entry["description"],
                                      entry.get("old", ""), entry.get("new", ""), entry.get("code", ""),
                                      dict(entry.get("siblings", {})), shelf))
    ids = [(e.module, e.shelf, e.id) for e in edits]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate mutant ids: {sorted(duplicates)}")
    return edits


def grade_edit(edit: Edit) -> SubmissionResult:
    with tempfile.TemporaryDirectory(prefix=f"mutant-{edit.id}-") as folder:
        for module, source in edit.files().items():
            (Path(folder) / f"{module}.py").write_text(source)
        return grade_submission(Path(folder), modules=(edit.module,))


def run(edits: list[Edit], jobs: int = 2) -> list[tuple[Edit, SubmissionResult]]:
    # pytest runs one session at a time per process: one grader process per job
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
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
