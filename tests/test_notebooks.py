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


@pytest.mark.parametrize("folder", FOLDERS)
def test_release_pictures_show_images_and_no_code(folder):
    """Each reference picture is a read-only markdown cell right after its plot cell: the fixed
    caption and PNG attachments, nothing else (no code, no solution text)."""
    import base64
    import re

    from autograder.build.pictures import CAPTION, METADATA_KEY

    assignment = next(a for a in ASSIGNMENTS if a.folder == folder)
    notebook = nbformat.read(RELEASE / folder / assignment.notebook, as_version=4)
    for before, cell in zip(notebook.cells, notebook.cells[1:]):
        meta = cell.metadata.get(METADATA_KEY)
        if meta is None:
            continue
        assert cell.cell_type == "markdown" and cell.metadata.get("editable") is False
        assert before.cell_type == "code" and before.id == meta["plot_cell"] and not role_of(before)
        names = sorted(cell.attachments)
        assert names and cell.source == CAPTION + "\n\n" + "\n".join(
            f"![What yours should look like](attachment:{n})" for n in names)
        for name in names:
            assert re.fullmatch(r"figure-\d+\.png", name) and list(cell.attachments[name]) == ["image/png"]
            assert base64.b64decode(cell.attachments[name]["image/png"]).startswith(b"\x89PNG\r\n\x1a\n")


# PyTorch idioms 07's lesson teaches by name (a line of its solution, but not a hint's giveaway).
IDIOMS = {"optimizer.zero_grad()", "with torch.no_grad():"}


@pytest.mark.parametrize("folder", FOLDERS)
def test_release_hints_never_give_a_line_of_the_solution(folder):
    """No line of the solution (20 characters or more) appears in the release notebook, unless
    the contract states it: the student's stub (its docstrings) or a PyTorch idiom taught by name."""
    import re

    from autograder.syllabus import EXERCISES, SOLUTIONS

    assignment = next(a for a in ASSIGNMENTS if a.folder == folder)
    solution = (SOLUTIONS / f"{assignment.module}.py").read_text()
    stated = (EXERCISES / f"{assignment.module}.py").read_text()
    lines = {line.strip() for body in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", solution, re.S)
             for line in body.splitlines() if len(line.strip()) >= 20}
    notebook = nbformat.read(RELEASE / folder / assignment.notebook, as_version=4)
    text = "\n".join(cell.source for cell in notebook.cells)
    assert sorted(line for line in lines - IDIOMS if line in text and line not in stated) == []
