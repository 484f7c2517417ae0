"""The course notebooks: the source runs top to bottom with the solutions and passes its visible and
hidden tests; the release holds stubs only, which stop with NotImplementedError."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.cells import role_of
from autograder.suites import points_per_item
from autograder.syllabus import ASSIGNMENTS, RELEASE, SOURCE

FOLDERS = [a.folder for a in ASSIGNMENTS]


def execute(path, allow_errors=False):
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


@pytest.mark.parametrize("folder", FOLDERS)
def test_source_notebook_runs_and_passes_its_tests(folder):
    assignment = next(a for a in ASSIGNMENTS if a.folder == folder)
    notebook = execute(SOURCE / folder / assignment.notebook)
    points = points_per_item(assignment.module)
    graded = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"], cell.source[:200]
        role = role_of(cell)
        if role and role["role"] == "tests":
            results = [o for o in cell.outputs if o.output_type == "execute_result"]
            assert results, f"hidden tests of {role['name']} gave no score"
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            assert float(results[0]["data"]["text/plain"]) == points[role["name"]], text
            graded += 1
    assert graded == len(assignment.items)


@pytest.mark.parametrize("folder", FOLDERS)
def test_release_notebook_holds_stubs_and_no_hidden_material(folder):
    assignment = next(a for a in ASSIGNMENTS if a.folder == folder)
    path = RELEASE / folder / assignment.notebook
    text = path.read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text and "hidden_tests(" not in text
    notebook = execute(path, allow_errors=True)
    stopped = set()
    for cell in notebook.cells:
        role = role_of(cell)
        if role and role["role"] == "answer":
            assert 'raise NotImplementedError("Replace this line with your code.")' in cell.source
        if role and role["role"] == "check":
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert errors and errors[0]["ename"] == "NotImplementedError", role
            stopped.add(role["name"])
    assert stopped == set(assignment.items)
