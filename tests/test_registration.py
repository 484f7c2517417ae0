"""Every registered assignment (autograder/syllabus.py) has all of its parts, and the sandboxed
worker and the student kit see the course exactly as it is registered.

On failure the message lists, per assignment, each part that is missing, so that whoever adds an
assignment reads what is left to write (docs/AUTHORING.md, "Adding an assignment").
"""

from __future__ import annotations

import ast
import json
import tomllib
from pathlib import Path

import nbformat
import pytest

from autograder.build.code import read_solution
from autograder.build.exercises import kit_files
from autograder.build.notebooks import owner_of
from autograder.build.suite_points import declared_points
from autograder.cells import role_of
from autograder.runner.transport import LoadRequest
from autograder.suites import points_per_item, suite_path
from autograder.syllabus import (ASSIGNMENTS, BY_MODULE, EXERCISES, MODULES, RELEASE, REPO, SOLUTIONS, SOURCE,
                                 Assignment, course, depended_on)
from autograder.worker.loader import imports_of
from autograder.worker.protocol import ProtocolError, decode, encode

pytestmark = pytest.mark.fast

PACKAGE = REPO / "autograder"


def top_level_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def imported_by_later(module: str) -> set[str]:
    """The graded names of ``module`` that later assignments' solutions import."""
    names: set[str] = set()
    for a in ASSIGNMENTS:
        path = SOLUTIONS / f"{a.module}.py"
        if path.is_file():
            names.update(read_solution(path, MODULES).sibling_imports.get(module, []))
    return names


def missing_parts(a: Assignment) -> list[str]:
    """What ``a`` lacks, each as one line saying where it should be."""
    missing: list[str] = []
    items = set(a.items)

    solution = SOLUTIONS / f"{a.module}.py"
    if not solution.is_file():
        missing.append(f"solution solutions/{a.module}.py")
    else:
        if absent := sorted(items - top_level_names(solution)):
            missing.append(f"solutions/{a.module}.py: no top-level definition of {absent}")
        imports = set(read_solution(solution, MODULES).sibling_imports)
        if imports != set(a.dependencies):
            missing.append(f"solutions/{a.module}.py imports graded names from {sorted(imports)}, but the "
                           f"registration's dependencies are {sorted(a.dependencies)}")

    if not suite_path(a.module).is_file():
        missing.append(f"suite autograder/suites/test_{a.module}.py")
    elif unscored := [i for i in a.items if declared_points(a.module).get(i, 0) <= 0]:
        missing.append(f"autograder/suites/test_{a.module}.py: no @points for {unscored}")

    public = PACKAGE / "public" / f"test_{a.module}.py"
    if not public.is_file():
        missing.append(f"public checks autograder/public/test_{a.module}.py")
    else:
        checked = {owner_of(name, a.items) for name in top_level_names(public) if name.startswith("test_")}
        if unchecked := [i for i in a.items if i not in checked]:
            missing.append(f"autograder/public/test_{a.module}.py: no public check of {unchecked}")

    if a.module in depended_on():
        support = PACKAGE / "support" / f"{a.module}.py"
        needed = imported_by_later(a.module)
        if not support.is_file():
            missing.append(f"ready-made version autograder/support/{a.module}.py (later assignments import "
                           f"{sorted(needed)})")
        elif absent := sorted(needed - top_level_names(support)):
            missing.append(f"autograder/support/{a.module}.py: no ready-made {absent}")

    catalogue = PACKAGE / "mutants" / f"{a.module}.toml"
    if not catalogue.is_file():
        missing.append(f"mutants catalogue autograder/mutants/{a.module}.toml")
    else:
        bugs = {entry.get("function") for entry in tomllib.loads(catalogue.read_text()).get("bug", [])}
        if uncaught := [i for i in a.items if i not in bugs]:
            missing.append(f"autograder/mutants/{a.module}.toml: no bug of {uncaught}")

    notebook = SOURCE / a.folder / a.notebook
    if not notebook.is_file():
        missing.append(f"source notebook source/{a.folder}/{a.notebook}")
    else:
        roles = [role_of(cell) for cell in nbformat.read(notebook, as_version=4).cells]
        have = {(r["role"], r.get("name", "")) for r in roles if r}
        if ("setup", "") not in have:
            missing.append(f"source/{a.folder}/{a.notebook}: no `# dlkit: setup` cell")
        for kind in ("answer", "check", "tests"):
            if lacking := [i for i in a.items if (kind, i) not in have]:
                missing.append(f"source/{a.folder}/{a.notebook}: no `# dlkit: {kind}` cell for {lacking}")

    if f"`{a.module}.py`" not in (PACKAGE / "public" / "README.md").read_text():
        missing.append(f"a row for `{a.module}.py` in the students' README, autograder/public/README.md")
    if not (RELEASE / a.folder / a.notebook).is_file():
        missing.append(f"release notebook release/{a.folder}/{a.notebook} (run `dlkit build`)")
    if not (EXERCISES / f"{a.module}.py").is_file():
        missing.append(f"exercise stub exercises/{a.module}.py (run `dlkit build`)")
    return missing


def test_every_assignment_has_all_of_its_parts():
    missing = {a.folder: parts for a in ASSIGNMENTS if (parts := missing_parts(a))}
    report = "\n".join(f"{folder}:\n" + "\n".join(f"  - {p}" for p in parts) for folder, parts in missing.items())
    assert not missing, "parts missing from registered assignments:\n" + report


def test_a_missing_part_is_listed():
    """The check can fail: an unregistered module's parts are all reported missing."""
    ghost = Assignment(len(ASSIGNMENTS) + 1, "ghost", "Nothing yet", ("haunt",), dependencies=("mlp",))
    parts = missing_parts(ghost)
    for part in ("solution solutions/ghost.py", "suite ", "public checks", "mutants catalogue", "source notebook",
                 "release notebook", "exercise stub", "a row for `ghost.py`"):
        assert any(p.startswith(part) for p in parts), (part, parts)


@pytest.mark.parametrize("module", MODULES)
def test_the_build_reads_the_suite_s_points_as_grading_does(module):
    assert declared_points(module) == points_per_item(module)


def test_the_worker_sees_the_course_as_registered():
    """The worker cannot import the registration: it receives it in each load request."""
    for module in MODULES:
        request = decode(encode(LoadRequest(module).message()))
        assert imports_of(request).graded == {a.module: a.items for a in ASSIGNMENTS}


@pytest.mark.parametrize("course_data", [None, [], [["mlp"]], [["mlp", []]], [["mlp", ["dense"]], ["mlp", ["x"]]],
                                         [["not a name", ["x"]]], [["mlp", ["dense", 3]]]])
def test_the_worker_refuses_a_malformed_course(course_data):
    request = LoadRequest("mlp").message() | {"course": course_data}
    with pytest.raises(ProtocolError):
        imports_of(decode(encode(request)))


def test_the_student_kit_sees_the_course_as_registered():
    files = kit_files()
    assert json.loads(files[EXERCISES / "_kit" / "course.json"]) == course()
    shipped = {p.stem for p in files if p.parent.name == "ready_made"}
    assert shipped == depended_on() and "training" not in shipped  # no answer of 06 in plain sight


def test_numbers_and_folders_derive_from_the_order():
    assert [a.number for a in ASSIGNMENTS] == list(range(1, len(ASSIGNMENTS) + 1))
    assert BY_MODULE["activations"].folder == "02_activations" and BY_MODULE["activations"].label == "02"
