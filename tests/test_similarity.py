"""`dlkit similarity` on a generated class of assignment 02.

Eight students each write their own correct variant (every function from the catalogue's
correct alternatives, a different mix per student), a ninth hands in the edited copy of one of
them (variables renamed, comments rewritten, functions reordered, as a notebook where the
original is a .py module), a tenth a copy of another with a syntax error, two hand in the untouched stubs (a module and the release notebook),
and two hand in something odd (a corrupt notebook, a module that is a symbolic link).
"""

from __future__ import annotations

import ast
import csv
import io
import itertools
import json
import random
import shutil
import tokenize
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.mutants.catalogue import load, replace_definition
from autograder.syllabus import BY_MODULE, EXERCISES, RELEASE

ASSIGNMENT = BY_MODULE["activations"]
INDEPENDENT = [f"student{i}" for i in range(8)]


def alternatives() -> dict[str, list[str]]:
    """Correct code for each graded function, distinct texts only, in catalogue order."""
    found: dict[str, list[str]] = {item: [] for item in ASSIGNMENT.items}
    for edit in load(("activations",)):
        if edit.kind == "alternative" and edit.code and edit.code not in found[edit.function]:
            found[edit.function].append(edit.code)
    assert all(found.values()), "every function needs at least one correct alternative"
    return found


# Which alternative each student writes for each function (in ASSIGNMENT.items order): with 4 to 6
# alternatives per function, some overlap is unavoidable, and these picks keep it to at most two
# functions for any two students (an independent class: the same idea, rarely the same code).
PICKS = [[4, 2, 0, 3, 1, 4, 2], [2, 0, 3, 2, 2, 0, 1], [5, 3, 2, 1, 3, 2, 2], [0, 2, 3, 2, 1, 1, 4],
         [0, 1, 0, 0, 3, 3, 1], [5, 0, 4, 3, 0, 2, 3], [1, 3, 1, 0, 3, 0, 4], [2, 1, 3, 1, 0, 1, 3]]


def variant(index: int, codes: dict[str, list[str]]) -> str:
    """Student ``index``'s module: the stubs, each function replaced by its pick of the alternatives."""
    source = (EXERCISES / "activations.py").read_text()
    for item, pick in zip(ASSIGNMENT.items, PICKS[index]):
        options = codes[item]
        source = replace_definition(source, item, options[pick % len(options)], item)
    return source


def test_the_independent_students_rarely_write_the_same_function():
    codes = alternatives()
    written = [[codes[item][pick % len(codes[item])] for item, pick in zip(ASSIGNMENT.items, row)] for row in PICKS]
    for a, b in itertools.combinations(written, 2):
        assert sum(x == y for x, y in zip(a, b)) <= 2


def disguised(source: str) -> str:
    """The same code as someone hiding a copy would hand it in: every local name renamed,
    comments dropped and new ones written, the functions in reverse order."""
    tree = ast.parse(source)
    local = {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    local |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    renamed = []
    previous = None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in local and not (previous and previous.string == "."):
            tok = tok._replace(string=f"my_{tok.string}")
        elif tok.type == tokenize.COMMENT:
            tok = tok._replace(string="# worked this out myself")
        renamed.append(tok)
        previous = tok
    text = tokenize.untokenize(renamed)
    functions = [n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)]
    lines = text.splitlines(keepends=True)
    return "".join("".join(lines[f.lineno - 1:f.end_lineno]) + "\n\n" for f in reversed(functions))


def notebook_with(answers: dict[str, str]) -> dict:
    """The release notebook with these answer cells filled in (by nbgrader id)."""
    notebook = json.loads((RELEASE / ASSIGNMENT.folder / ASSIGNMENT.notebook).read_text())
    for cell in notebook["cells"]:
        ident = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if ident in answers:
            cell["source"] = answers[ident]
    return notebook


def functions_of(source: str) -> dict[str, str]:
    """Each top-level function of ``source`` with the imports it needs, as an answer cell."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    imports = "".join("".join(lines[n.lineno - 1:n.end_lineno]) for n in tree.body
                      if isinstance(n, (ast.Import, ast.ImportFrom)))
    return {n.name: imports + "\n" + "".join(lines[n.lineno - 1:n.end_lineno])
            for n in tree.body if isinstance(n, ast.FunctionDef)}


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("class")
    codes = alternatives()
    for index, name in enumerate(INDEPENDENT):
        (root / name).mkdir()
        (root / name / "activations.py").write_text(variant(index, codes))
    original = (root / "student3" / "activations.py").read_text()
    copy = root / "copier" / ASSIGNMENT.folder
    copy.mkdir(parents=True)
    (copy / ASSIGNMENT.notebook).write_text(json.dumps(notebook_with(functions_of(disguised(original)))))
    (root / "stubs_py").mkdir()
    shutil.copy(EXERCISES / "activations.py", root / "stubs_py")
    (root / "stubs_nb" / ASSIGNMENT.folder).mkdir(parents=True)
    shutil.copy(RELEASE / ASSIGNMENT.folder / ASSIGNMENT.notebook, root / "stubs_nb" / ASSIGNMENT.folder)
    (root / "corrupt").mkdir()
    (root / "corrupt" / ASSIGNMENT.notebook).write_text('{"cells": [')
    (root / "typo").mkdir()  # another copy, which Python cannot even parse: still compared
    broken = (root / "student5" / "activations.py").read_text().replace("def relu(", "def relu(((", 1)
    (root / "typo" / "activations.py").write_text(broken)
    (root / "linker").mkdir()
    (root / "linker" / "activations.py").symlink_to(root / "student3" / "activations.py")
    return root


@pytest.fixture(scope="module")
def report(class_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("similarity")
    folders = sorted(p for p in class_dir.iterdir())
    random.Random(1).shuffle(folders)  # the order given must not matter
    assert main(["similarity", *map(str, folders), "--out", str(out)]) == 0
    return out


def rows(out: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO((out / "similarity.csv").read_text())))


def test_the_disguised_copy_ranks_first(report: Path):
    pairs = [r for r in rows(report) if r["assignment"] == ASSIGNMENT.folder]
    top, *others = [r for r in pairs if "typo" not in (r["student_a"], r["student_b"])]
    assert (top["student_a"], top["student_b"]) == ("copier", "student3")
    typo = next(r for r in pairs if {r["student_a"], r["student_b"]} == {"student5", "typo"})
    assert [(r["student_a"], r["student_b"]) for r in pairs[:2]] == [("student5", "typo"), ("copier", "student3")]
    assert float(typo["similarity"]) > 0.9
    assert float(top["similarity"]) >= 0.6, top
    assert top["source_a"] == f"{ASSIGNMENT.folder}/{ASSIGNMENT.notebook}" and top["source_b"] == "activations.py"
    assert others, "independent variants that pick the same alternative share code too"
    assert all(float(r["similarity"]) < float(top["similarity"]) - 0.15 for r in others), others[:3]


def test_untouched_stubs_do_not_count(report: Path):
    stub_pairs = [r for r in rows(report) if {"stubs_py", "stubs_nb"} & {r["student_a"], r["student_b"]}]
    assert stub_pairs == []


def test_odd_submissions_are_skipped_with_a_note(report: Path):
    page = (report / "index.html").read_text()
    assert "corrupt" in page and "not a valid notebook" in page
    assert "linker" in page and "symbolic link" in page
    compared = {r["student_a"] for r in rows(report)} | {r["student_b"] for r in rows(report)}
    assert "copier" in compared and not {"corrupt", "linker"} & compared


def test_html_shows_the_pairs_side_by_side(report: Path):
    page = (report / "index.html").read_text()
    blocks = [b.split("</details>")[0] for b in page.split("<details id=")[1:]]
    assert blocks[0].startswith(f"'{ASSIGNMENT.folder}-1'")
    copied = next(b for b in blocks if "copier" in b.split("</summary>")[0])
    assert "student3" in copied and copied.count("<mark>") >= 2
    assert "my_z" in copied  # the copy as handed in, not copydetect's filtered text


def test_the_report_is_deterministic(class_dir: Path, report: Path, tmp_path: Path):
    folders = sorted(map(str, class_dir.iterdir()))
    assert main(["similarity", *folders, "--out", str(tmp_path)]) == 0
    assert (tmp_path / "similarity.csv").read_bytes() == (report / "similarity.csv").read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left
