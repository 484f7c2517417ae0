"""Odd input never breaks the grader, and links never leave the submission (issue 11, items 1 and 6).

Reading a submission is the part of grading that runs outside the sandbox, on files a student
controls entirely. Each odd notebook or folder below must end as a message for its own module
(the rest graded), in bounded time, and no link may be followed: the link attacks are built on the
stubs, so any point they score is a breach.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder.grading.fingerprint import fingerprint
from autograder.grading.folder import find_notebooks
from autograder.grading.notebooks import (MAX_CELLS, MAX_CODE_CHARS, MAX_JSON_VALUES, MAX_NOTEBOOK_BYTES,
                                          MAX_NOTEBOOKS_BYTES, cell_at_line, instructor_setup, join_cells)
from autograder.grading.submission import read_submission
from autograder.syllabus import ASSIGNMENTS, BY_MODULE, MODULES, RELEASE, SOLUTIONS, SOURCE
from notebook_helpers import (add_free_cell, as_executed, index_of, move_task_first, reference_answers,
                              student_notebook, write_nbformat_44, write_notebook)

DLKIT = [sys.executable, "-m", "autograder.cli"]
ACTIVATIONS = BY_MODULE["activations"]


def notebook_json(answers: dict[str, str] | None = None) -> dict:
    """The activations notebook as plain JSON, with the reference answers unless told otherwise."""
    notebook = student_notebook(ACTIVATIONS, reference_answers(ACTIVATIONS) if answers is None else answers)
    return json.loads(nbformat.writes(notebook))


def free(source: object) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}


def write_json(folder: Path, data: object) -> Path:
    path = folder / ACTIVATIONS.folder / ACTIVATIONS.notebook
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return folder


def with_cells(*cells: object, at: int = 3) -> dict:
    data = notebook_json()
    data["cells"][at:at] = list(cells)
    return data


# Each odd notebook, and what the student must be told. "graded": the notebook is still graded
# (the oddity is left out with a note) and the honest answers in it keep full marks.
ODD_NOTEBOOKS = {
    "deep_json": ("[" * 100_000 + "]" * 100_000, "nested far more deeply", False),
    "long_integer": ('{"cells": [], "n": ' + "7" * 5000 + "}", "a value Python cannot read", False),
    "top_level_list": ("[1, 2, 3]", "not an object with cells", False),
    "many_strings": ('{"cells": [], "x": [' + ", ".join(['"ab"'] * (MAX_JSON_VALUES + 1)) + "]}",
                     f"more than {MAX_JSON_VALUES:,} JSON", False),
    "cells_not_a_list": ('{"cells": {"a": 1}}', "no list of cells", False),
    "broken_json": ('{"cells": [', "JSON is broken at line 1", False),
    "nbformat_3": ('{"nbformat": 3, "worksheets": [{"cells": []}]}', "old notebook format 3", False),
    "too_many_cells": ({"cells": [free("x = 1")] * (MAX_CELLS + 1)}, f"at most {MAX_CELLS:,}", False),
    "too_much_code": (with_cells(free("# " + "x" * MAX_CODE_CHARS)), f"{MAX_CODE_CHARS // 1024} KiB", False),
    "source_ints": (with_cells(free([1, 2, 3])), "cell 4 is not a valid cell", True),
    "source_dict": (with_cells(free({"def": "x"})), "cell 4 is not a valid cell", True),
    "cells_not_dicts": (with_cells(1, "text", None, [free("x")]), "4 cells (4, 5, 6, ...) are not valid", True),
    "odd_metadata": (with_cells({"cell_type": "code", "metadata": [1], "source": "y = 2"},
                                {"cell_type": ["code"], "source": "z"},
                                {"cell_type": "code", "metadata": {"nbgrader": "x", "dlkit": 3}, "source": "w = 1"},
                                {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": 7}}, "source": "v = 1"}),
                     None, True),
    "minus_chain": (with_cells(free("x = " + "-" * 300_000 + "1\n")), "more deeply than Python's parser", True),
    "deep_parens": (with_cells(free("x = " + "(" * 50_000 + "1" + ")" * 50_000)), "cell 4 (`x = (((", True),
    "syntax_error": (with_cells(free("def helper(:\n    pass\n")), "syntax error on line 1", True),
    "null_byte": (with_cells(free("x = 1\x00\n")), "null bytes", True),
    "lone_surrogate": (with_cells(free("s = '\ud800'\n")), "cell 4 is not a valid cell", True),
    "many_tiny_defs": (with_cells(free("".join(f"def helper_{i}(z):\n    return z\n" for i in range(10_000)))),
                       None, True),
    "magics": (with_cells(free("%matplotlib inline\n!pip install seaborn\nfor _ in range(2):\n    !echo hi\n"),
                          free("%%time\nHE_GAIN = 2.0\n"), free("%%bash\necho hello\n"), free("sigmoid?")),
               "IPython commands are not Python", True),
}


@pytest.mark.parametrize("case", list(ODD_NOTEBOOKS))
def test_an_odd_notebook_is_a_message_for_its_module_only(case, tmp_path):
    data, message, graded = ODD_NOTEBOOKS[case]
    folder = write_json(tmp_path / case, data)
    shutil.copy(SOLUTIONS / "perceptron.py", folder)
    started = time.process_time()  # CPU time: the machine may be busy with other work
    files = read_submission(folder)
    assert time.process_time() - started < 3, "reading an odd notebook must stay cheap"
    assert files["perceptron"].status == "ok"
    notebook = files["activations"]
    if graded:
        assert notebook.status == "ok", notebook.message
        assert not notebook.problems, notebook.problems
        assert message is None or any(message in note for note in notebook.notes), notebook.notes
        compile(notebook.source, "activations.ipynb", "exec")  # what runs is Python
    else:
        assert notebook.status == "rejected" and message in notebook.message, notebook.message


def test_absurd_structures_never_raise(tmp_path):
    """Every JSON shape a student could save in place of a notebook or of one of its cells."""
    values = [None, True, 0, -1, 1.5, "", "x", [], {}, [None], {"a": []}, [1, "a"], {"cell_type": "code"}]
    cell_shapes = [{"cell_type": "code", "metadata": m, "source": s} for m in values for s in values]
    notebooks = [*values, {"cells": values}, {"cells": cell_shapes}, {"cells": [{"cell_type": v} for v in values]},
                 {"cells": [free("x"), *({"cell_type": "code", "metadata": {"nbgrader": {"grade_id": v}}}
                                         for v in values)]}]
    for number, data in enumerate(notebooks):
        files = read_submission(write_json(tmp_path / f"s{number}", data))
        assert files["activations"].status in ("ok", "rejected"), data
        assert files["activations"].status == "ok" or files["activations"].message


def test_a_quadratic_cell_costs_linear_time(tmp_path):
    """A free cell of tiny defs, up to the code cap: reading is linear (it was quadratic)."""
    count = MAX_CODE_CHARS // 40
    cell = "".join(f"def h{i:07d}(z):\n    return z + {i % 10}\n" for i in range(count))
    assert len(cell) < MAX_CODE_CHARS
    folder = write_json(tmp_path / "defs", with_cells(free(cell)))
    started = time.process_time()
    notebook = read_submission(folder)["activations"]
    assert notebook.status == "ok" and time.process_time() - started < 3


def test_the_notebooks_of_a_submission_share_one_size_budget(tmp_path):
    folder = tmp_path / "big"
    size = MAX_NOTEBOOK_BYTES - 2**20
    count = MAX_NOTEBOOKS_BYTES // size + 2
    for assignment in ASSIGNMENTS[:count]:
        path = folder / assignment.folder / assignment.notebook
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"cells": [], "padding": " " * size}))
    files = read_submission(folder)
    messages = [files[a.module].message for a in ASSIGNMENTS[:count]]
    assert any(f"at most {MAX_NOTEBOOKS_BYTES // 2**20} MiB together" in m for m in messages), messages


def test_a_notebook_is_its_code_cells_in_order_after_the_instructors_setup(tmp_path):
    notebook = student_notebook(ACTIVATIONS, reference_answers(ACTIVATIONS))
    notebook.cells[index_of(notebook, "setup")].source = "def sigmoid(z):\n    return 'the student wrote this'"
    check = notebook.cells[index_of(notebook, "check", "relu")]
    del check.metadata["dlkit"]  # one kind of metadata is enough to leave a cell out
    tests = notebook.cells[index_of(notebook, "tests", "relu")]
    del tests.metadata["nbgrader"]
    tests.source = "MARK_TESTS = 1"
    check.source = "MARK_CHECK = 1"
    move_task_first(notebook, "softmax")
    add_free_cell(notebook, "MARK_FREE = 1", after=("answer", "tanh"))
    as_executed(notebook)
    write_nbformat_44(tmp_path / "s" / ACTIVATIONS.folder / ACTIVATIONS.notebook, notebook)
    module = read_submission(tmp_path / "s")["activations"]
    assert module.status == "ok" and not module.problems
    assert module.cells[0] == instructor_setup(ACTIVATIONS) and "the student wrote" not in module.source
    assert any("your copy of the setup cell" in note for note in module.notes)
    assert module.source == join_cells(module.cells) and len(module.cell_labels) == len(module.cells)
    assert "MARK_CHECK" not in module.source and "MARK_TESTS" not in module.source
    assert "hidden_tests" not in module.source and "Visible checks" not in module.source
    order = [next(i for i, c in enumerate(module.cells) if c.startswith(f"def {name}")) for name in
             ("softmax", "sigmoid", "tanh")]
    assert order == sorted(order)
    free_at = next(i for i, c in enumerate(module.cells) if c == "MARK_FREE = 1")
    assert module.cells[free_at - 1].startswith("def tanh")
    assert "tensor([0.5000" not in module.source  # outputs are never code


def test_a_line_of_the_joined_source_is_found_in_its_cell():
    cells = ["a = 1\nb = 2", "c = 3", "def f():\n    return 4\n"]
    lines = join_cells(cells).split("\n")
    for line_number, text in enumerate(lines, 1):
        index, line = cell_at_line(cells, line_number)
        own = cells[index].split("\n")
        assert (own[line - 1] if line <= len(own) else "") == text, (line_number, index, line)


def test_a_missing_answer_cell_is_a_problem_only_when_nothing_defines_the_name(tmp_path):
    answers = reference_answers(ACTIVATIONS)
    notebook = student_notebook(ACTIVATIONS, answers)
    del notebook.cells[index_of(notebook, "answer", "relu")]
    del notebook.cells[index_of(notebook, "answer", "tanh")]
    add_free_cell(notebook, answers["tanh"])  # the answer cell was deleted, the function is written below
    notebook.cells[index_of(notebook, "answer", "softmax")].source = "def softmax(z, dim=-1):\n    return (\n"
    write_notebook(tmp_path / "s" / ACTIVATIONS.notebook, notebook)
    module = read_submission(tmp_path / "s")["activations"]
    assert set(module.problems) == {"relu", "softmax"}, module.problems
    assert "answer cell of `relu`" in module.problems["relu"] and "deleted" in module.problems["relu"]
    assert "syntax error" in module.problems["softmax"]


# ---------------------------------------------------------------------------------------------
# Links: never followed, whatever they point to


def link_attacks(batch: Path, honest_notebooks: Path) -> dict[str, Path]:
    """Submissions of stubs and links to full marks (another student's notebooks, the instructor's
    source/, the reference modules): any point they score is a link followed."""
    attacks = {}

    def attack(name: str) -> Path:
        folder = batch / name
        folder.mkdir()
        attacks[name] = folder
        return folder

    folder = attack("link_folders_relative")
    for a in ASSIGNMENTS:
        target = honest_notebooks / a.folder if (honest_notebooks / a.folder).exists() else SOURCE / a.folder
        os.symlink(os.path.relpath(target, folder), folder / a.folder)
    folder = attack("link_folders_absolute")
    for a in ASSIGNMENTS:
        os.symlink(SOURCE / a.folder, folder / a.folder)
    folder = attack("link_notebooks")
    for a in ASSIGNMENTS:
        (folder / a.folder).mkdir()
        os.symlink(SOURCE / a.folder / a.notebook, folder / a.folder / a.notebook)
    folder = attack("link_notebooks_top_level")
    for a in ASSIGNMENTS:
        os.symlink(os.path.relpath(SOURCE / a.folder / a.notebook, folder), folder / a.notebook)
    folder = attack("link_renamed")  # found by cell ids if followed
    os.symlink(SOURCE / "03_mlp", folder / "work")
    os.symlink(SOURCE, folder / "everything")
    (folder / "notes").mkdir()
    os.symlink(SOURCE / "02_activations" / "activations.ipynb", folder / "notes" / "copy.ipynb")
    folder = attack("link_modules")
    for module in MODULES:
        os.symlink(os.path.relpath(SOLUTIONS / f"{module}.py", folder), folder / f"{module}.py")
    folder = attack("link_stub_folders_and_loop")  # real stub notebooks beside links
    for a in ASSIGNMENTS[:3]:
        shutil.copytree(RELEASE / a.folder, folder / a.folder, ignore=shutil.ignore_patterns("*.txt", "*.yml"))
        os.symlink(SOURCE / a.folder / a.notebook, folder / a.folder / "answers.ipynb")
    os.symlink(ASSIGNMENTS[3].folder, folder / ASSIGNMENTS[3].folder)  # a link to itself
    return attacks


def test_find_notebooks_never_follows_a_link(tmp_path):
    attacks = link_attacks(tmp_path, tmp_path / "nobody")
    for folder in attacks.values():
        for path in find_notebooks(folder):
            assert not path.is_symlink() and not path.parent.is_symlink(), path
        fingerprint(folder)  # reads what grading reads, no link followed, nothing raised
    files = read_submission(attacks["link_folders_absolute"])
    assert all(f.status == "rejected" and "symbolic link" in f.message for f in files.values())


# ---------------------------------------------------------------------------------------------
# One batch: the honest submissions keep their exact scores, every odd one gets results and a message


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> tuple[Path, dict, subprocess.CompletedProcess]:
    batch = tmp_path_factory.mktemp("batch")
    honest = batch / "honest"
    honest.mkdir()
    for module in MODULES:
        shutil.copy(SOLUTIONS / f"{module}.py", honest)
    honest_notebooks = batch / "honest_notebooks"
    for a in ASSIGNMENTS[:2]:  # perceptron and activations: quick to run
        write_notebook(honest_notebooks / a.folder / a.notebook, student_notebook(a, reference_answers(a)))
    expected = {"honest": 137.0, "honest_notebooks": None}
    for name in link_attacks(batch, honest_notebooks):
        expected[name] = 0.0
    for case, (data, _, graded) in ODD_NOTEBOOKS.items():
        if graded or case in ("deep_json", "too_many_cells", "long_integer"):
            folder = write_json(batch / f"odd_{case}", data)
            if not graded:
                shutil.copy(SOLUTIONS / "perceptron.py", folder)  # the rest of the submission, graded
            expected[folder.name] = ("activations",) if graded else ("perceptron",)
    renamed = batch / "odd_file_name"  # a notebook under a name that is not UTF-8, with a terminal escape
    renamed.mkdir()
    (renamed / os.fsdecode(b"caf\xff\x1b[31m.ipynb")).write_text(json.dumps(notebook_json()))
    expected[renamed.name] = ("activations",)
    out = batch / "out"
    folders = [str(batch / name) for name in expected]
    run = subprocess.run([*DLKIT, "grade", *folders, "--out", str(out), "--jobs", "2"],
                         capture_output=True, text=True, timeout=900)
    return out, expected, run


def test_the_batch_finishes_and_writes_every_result(batch):
    out, expected, run = batch
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    rows = {row["student"]: row for row in csv.DictReader((out / "grades.csv").open())}
    assert set(rows) == set(expected)
    for student in expected:
        data = json.loads((out / student / "results.json").read_text())
        assert data["tests"] and data["output"], student


def test_honest_submissions_keep_their_exact_scores(batch):
    out, expected, _ = batch
    honest = json.loads((out / "honest" / "results.json").read_text())
    assert honest["score"] == honest["max_score"] == expected["honest"]
    notebooks = json.loads((out / "honest_notebooks" / "results.json").read_text())
    for module in ("perceptron", "activations"):
        tests = [t for t in notebooks["tests"] if module in t["tags"]]
        assert all(t["score"] == t["max_score"] for t in tests), [t["output"] for t in tests if t["score"] == 0]


def test_no_link_scores_a_point(batch):
    out, expected, _ = batch
    for student, score in expected.items():
        if student.startswith("link_"):
            data = json.loads((out / student / "results.json").read_text())
            assert data["score"] == 0, (student, [t["name"] for t in data["tests"] if t["score"]])
            assert "link" in data["output"], (student, data["output"])


def test_odd_notebooks_get_a_message_and_the_rest_is_graded(batch):
    out, expected, _ = batch
    for student, outcome in expected.items():
        if not student.startswith("odd_"):
            continue
        data = json.loads((out / student / "results.json").read_text())
        case = student.removeprefix("odd_")
        message = ODD_NOTEBOOKS[case][1] if case in ODD_NOTEBOOKS else "was graded as assignment 02_activations"
        assert message is None or message in data["output"], (student, data["output"])
        full = [t for t in data["tests"] if t["tags"][0] in outcome]  # the oddity left out, the rest graded
        assert all(t["score"] == t["max_score"] for t in full), \
            (student, [t["output"] for t in full if t["score"] < t["max_score"]])
        assert data["score"] == sum(t["max_score"] for t in full) > 0
