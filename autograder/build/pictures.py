"""Reference pictures for the release notebooks: what each plot of the student's should look like.

A release notebook's plot cells call the student's functions, so they draw nothing until those work,
and then the student cannot tell a right picture from a wrong one. At build time the filled source
notebook runs here, with the solutions: its setup, answer and free code cells (not the check or
hidden-test cells) in one fresh Python process, with matplotlib's Agg backend. Every figure a cell
shows becomes a PNG (fixed dpi, re-saved by Pillow without metadata). In the release, each plot cell
that uses the student's code (a graded name, or a name bound from one in an earlier cell) is
followed by a read-only markdown cell "What yours should look like" holding those PNGs as cell
attachments: pictures and a fixed caption, never code.

Why ``dlkit build --check`` stays stable: the pixels depend on float results that another CPU may
round differently, so the check never compares freshly rendered pixels. Each picture cell records
the fingerprint of what drew it (every code cell that ran, in order, with its cell id; this module's
own text; the torch and matplotlib versions). A build reuses the committed pictures while that
fingerprint is unchanged and renders again only when it changed (then the release differs, and
``--check`` calls it stale). That the committed pictures are what the solutions draw is tested
separately, pixels within a tolerance (tests/test_build.py).
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
from contextlib import redirect_stdout
from pathlib import Path

import nbformat

from autograder.cells import role_of
from autograder.syllabus import RELEASE, REPO, Assignment

DPI = 72  # what JupyterLab's inline backend uses, so the picture has the size of the student's
RENDER_TIMEOUT = 600  # seconds for one notebook's code cells; they take a few seconds each
METADATA_KEY = "dlkit_picture"
CAPTION = ("**What yours should look like.** The cell above, run with the reference solutions when "
           "the course was built. When your functions are right, your picture matches this one.")


# ---------------------------------------------------------------------------------------------
# Which cells run, and which of them get a picture

def cells_to_run(notebook: nbformat.NotebookNode) -> list[dict]:
    """The code cells a reference run executes, in order: setup, answers and free cells."""
    cells = []
    for cell in notebook.cells:
        role = role_of(cell)
        if cell.cell_type == "code" and (role is None or role["role"] in ("setup", "answer")):
            cells.append({"id": cell.get("id", ""), "source": cell.source,
                          "role": role["role"] if role else "free"})
    return cells


def mark_student_plots(cells: list[dict], graded: tuple[str, ...]) -> list[dict]:
    """Set ``picture`` on the free cells that use the student's code, directly or through a name
    an earlier cell bound from it (``params, losses = train(...)``, then a plot of ``losses``)."""
    tainted = set(graded)
    for cell in cells:
        tree = ast.parse(cell["source"])
        uses = cell["role"] == "answer" or bool(names_read(tree) & tainted)
        if uses:
            tainted |= names_bound(tree)
        cell["picture"] = uses and cell["role"] == "free"
    return cells


def names_read(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def names_bound(tree: ast.AST) -> set[str]:
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return bound


def fingerprint(cells: list[dict]) -> str:
    import matplotlib
    import torch

    recipe = {"cells": [[c["id"], c["source"], c["picture"]] for c in cells],
              "renderer": Path(__file__).read_text(), "torch": torch.__version__,
              "matplotlib": matplotlib.__version__}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# The release notebook with its pictures

def add_pictures(release: nbformat.NotebookNode, source: nbformat.NotebookNode,
                 assignment: Assignment) -> nbformat.NotebookNode:
    """Insert a picture cell after each student plot cell of ``release``; return ``release``."""
    cells = mark_student_plots(cells_to_run(source), assignment.items)
    wanted = [c["id"] for c in cells if c["picture"]]
    if not wanted:
        return release
    stamp = fingerprint(cells)
    pictures = committed_pictures(RELEASE / assignment.folder / assignment.notebook, stamp)
    if pictures is None:
        pictures = render(cells, assignment.folder)
    out = []
    for cell in release.cells:
        out.append(cell)
        if cell.get("id") in wanted and pictures.get(cell.id):
            out.append(picture_cell(cell.id, pictures[cell.id], stamp))
    release.cells = out
    return release


def picture_cell(plot_id: str, pngs: list[str], stamp: str) -> nbformat.NotebookNode:
    names = [f"figure-{k}.png" for k in range(1, len(pngs) + 1)]
    images = "\n".join(f"![What yours should look like]({'attachment:' + n})" for n in names)
    cell = nbformat.v4.new_markdown_cell(CAPTION + "\n\n" + images, id=f"{plot_id}-picture")
    cell.attachments = {n: {"image/png": png} for n, png in zip(names, pngs)}
    cell.metadata = {"editable": False, METADATA_KEY: {"fingerprint": stamp, "plot_cell": plot_id}}
    return cell


def committed_pictures(path: Path, stamp: str) -> dict[str, list[str]] | None:
    """The pictures of the committed release notebook, if every one was drawn by the same recipe."""
    if not path.is_file():
        return None
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception:  # unreadable: draw anew
        return None
    found: dict[str, list[str]] = {}
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get(METADATA_KEY)
        if meta is None:
            continue
        if meta.get("fingerprint") != stamp:
            return None
        attachments = cell.get("attachments", {})
        found[meta["plot_cell"]] = [attachments[n]["image/png"] for n in sorted(attachments, key=figure_number)]
    return found or None


def figure_number(name: str) -> int:
    return int(name.removeprefix("figure-").removesuffix(".png"))


def render(cells: list[dict], label: str) -> dict[str, list[str]]:
    """Run ``cells`` in a fresh Python (one thread, Agg, in an empty folder); the base64 PNGs by cell id."""
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONHASHSEED="0", PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryDirectory(prefix="dlkit-pictures-") as scratch:
        result = subprocess.run([sys.executable, "-m", "autograder.build.pictures"], input=json.dumps(cells),
                                capture_output=True, text=True, cwd=scratch, env=env, timeout=RENDER_TIMEOUT)
    if result.returncode != 0:
        raise RuntimeError(f"{label}: the reference pictures could not be drawn:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout)


# ---------------------------------------------------------------------------------------------
# The drawing process (python -m autograder.build.pictures: cells as JSON on stdin)

def png_bytes(figure) -> bytes:
    """The figure as a PNG without metadata (no software name or date), the same bytes every time."""
    from PIL import Image

    drawn = io.BytesIO()
    figure.savefig(drawn, format="png", dpi=DPI, bbox_inches="tight", facecolor="white",
                   metadata={"Software": None})
    clean = io.BytesIO()
    Image.open(drawn).convert("RGB").save(clean, format="PNG", optimize=True)
    return clean.getvalue()


def draw(cells: list[dict]) -> dict[str, list[str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    torch.set_num_threads(1)
    plt.rcdefaults()
    plt.rcParams.update({"figure.dpi": DPI, "font.size": 10})  # as JupyterLab's inline backend
    shown: list[bytes] = []

    def show(*args, **kwargs) -> None:  # stands in for plt.show(): keep every open figure
        for number in plt.get_fignums():
            shown.append(png_bytes(plt.figure(number)))
        plt.close("all")

    plt.show = show
    namespace: dict = {"__name__": "__main__"}
    pictures: dict[str, list[str]] = {}
    for cell in cells:
        shown.clear()
        code = compile(cell["source"], f"<cell {cell['id']}>", "exec")
        with redirect_stdout(io.StringIO()):  # the cells' prints are not needed here
            exec(code, namespace)
        show()  # a figure still open at the end of a cell is drawn, as the inline backend does
        if cell["picture"] and shown:
            pictures[cell["id"]] = [base64.b64encode(png).decode("ascii") for png in shown]
    return pictures


if __name__ == "__main__":
    json.dump(draw(json.load(sys.stdin)), sys.stdout)
