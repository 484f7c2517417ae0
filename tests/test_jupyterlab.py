"""End to end, as a student meets the kit: the released activations notebook in JupyterLab.

The test starts JupyterLab on a copy of the release, opens ``activations.ipynb`` in headless
Chromium (Playwright) and works through it with the menus and the keyboard:

1. Run > Run All Cells on the stubs: the title and the LaTeX math render, the run stops at the first
   check cell with ``NotImplementedError: Replace this line with your code.``; running on from the
   next cell (Run > Run Selected Cell and All Below) shows the same message in every check cell
   and in the plot cells, which call the stubs too.
2. Each answer cell gets the reference code of ``solutions/activations.py`` (typed with a keyboard
   insert into the cell's editor and checked on disk after File > Save), then Run All Cells again:
   every cell runs, every check cell prints ``<name>: the visible checks passed.`` without error
   output, and every plot cell shows its figure.

Before anything runs, every reference picture ("What yours should look like", a markdown cell with
a PNG attachment, made by ``autograder/build/pictures.py``) renders as an image. A second test opens
``perceptron.ipynb``, runs it up to its first check cell and sees the big-picture diagram that its
first plot cell draws.

Screenshots go to ``$DLKIT_ARTIFACTS`` (default ``tests/artifacts/``). The test skips when Python
Playwright or a Chromium binary is missing (CI installs both: see ``.ci/run`` and the ``dev``
extra); it never downloads a browser (``playwright install`` is not used).
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder.build.pictures import METADATA_KEY
from autograder.cells import role_of
from autograder.syllabus import BY_MODULE, RELEASE, SOLUTIONS

MODULE = "activations"  # the notebook the student works through
ALSO_RELEASED = ("perceptron",)  # copied beside it, as in a student's course folder
TOKEN = "dlkit-e2e-token"
STUB_MESSAGE = "NotImplementedError: Replace this line with your code."
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RUN_TIMEOUT_MS = 120_000  # one Run All, including the kernel's first `import torch`
ARTIFACTS = Path(os.environ.get("DLKIT_ARTIFACTS") or Path(__file__).parent / "artifacts")

IN_CI = bool(os.environ.get("CI"))  # CI installs everything: a missing piece there is a failure
if IN_CI:
    from playwright import sync_api
else:
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Python Playwright is not installed (pip install -e '.[dev]' installs it)")


def chromium_path() -> str | None:
    for candidate in (os.environ.get("DLKIT_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


CHROMIUM = chromium_path()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not IN_CI,
    reason="no Chromium binary (apt-get install chromium, or set DLKIT_CHROMIUM to one)")


# ---------------------------------------------------------------------------------------------
# JupyterLab server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, path: str, method: str = "GET", timeout: float = 5):
    request = urllib.request.Request(f"{base}{path}", method=method, data=b"" if method == "POST" else None,
                                     headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


def write_settings(folder: Path) -> None:
    """User settings of the test's own JupyterLab: no news or update checks, every cell in the DOM."""
    settings = {
        # Cells off screen stay attached, so the checks can read every output.
        "notebook-extension/tracker": {"windowingMode": "none"},
        # No "fetch Jupyter news?" toast, no update check: nothing goes out, nothing covers the page.
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }
    for name, values in settings.items():
        path = folder / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def stop_server(process: subprocess.Popen, base: str) -> None:
    """Shut the server down with its kernels; kill what is left of them, by process id."""
    import psutil  # a dependency of ipykernel

    try:
        children = psutil.Process(process.pid).children(recursive=True)  # the kernel(s)
    except psutil.NoSuchProcess:
        children = []
    if process.poll() is None:
        try:
            api(base, "/api/shutdown", method="POST")  # stops every kernel, then the server
        except (OSError, urllib.error.URLError):
            pass
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
    for child in children:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(children, timeout=10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """A JupyterLab of its own on a copy of the release; yields (base URL, notebook folder, log)."""
    from autograder.cli import ensure_kernel

    ensure_kernel()  # the notebooks' `python3` kernel must be this very Python (torch, matplotlib)
    work = tmp_path_factory.mktemp("jupyterlab")
    root = work / "course"
    for module in (MODULE, *ALSO_RELEASED):
        folder = BY_MODULE[module].folder
        shutil.copytree(RELEASE / folder, root / folder)
    write_settings(work / "settings")
    # Config, data, runtime, settings and workspaces of its own: nothing of the user's (a saved
    # layout, a `python3` kernel spec of another Python) changes what the student sees. The kit's
    # kernel spec and the lab extensions are found under sys.prefix.
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(work / "config"), JUPYTER_DATA_DIR=str(work / "data"),
               JUPYTER_RUNTIME_DIR=str(work / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(work / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:  # CI runs as root
        command.append("--ServerApp.allow_root=True")
    log_path = work / "jupyterlab.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if api(base, "/api/status", timeout=2)[0] == 200:
                    break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within 60 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base, root / BY_MODULE[MODULE].folder, log_path
    finally:
        stop_server(process, base)


# ---------------------------------------------------------------------------------------------
# The notebook, as files

def reference_code(module: str, name: str) -> str:
    """The top-level def/class ``name`` of solutions/<module>.py, without the nbgrader markers."""
    source = (SOLUTIONS / f"{module}.py").read_text()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            lines = source.splitlines()[first - 1:node.end_lineno]
            return "\n".join(line for line in lines
                             if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    raise AssertionError(f"solutions/{module}.py defines no top-level {name}")


def cells_by_role(notebook) -> dict[str, list[tuple[int, str]]]:
    """Cell indices by role: answer, check (with their graded name), plot (code cells that draw)."""
    roles: dict[str, list[tuple[int, str]]] = {"answer": [], "check": [], "plot": []}
    for index, cell in enumerate(notebook.cells):
        role = role_of(cell)
        if role and role["role"] in ("answer", "check"):
            roles[role["role"]].append((index, role["name"]))
        elif not role and cell.cell_type == "code" and "plt." in cell.source:
            roles["plot"].append((index, ""))
    return roles


# ---------------------------------------------------------------------------------------------
# The page

# Prompt ("[3]:", "[*]:", "[ ]:") of every code cell by index; null for markdown cells.
JS_PROMPTS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).map(cell => {
    const prompt = cell.querySelector('.jp-InputPrompt');
    return cell.classList.contains('jp-CodeCell') && prompt ? prompt.textContent.trim() : null;
})"""

# True once `target` shows an execution count above `after`, no cell is queued or running and the
# notebook's kernel indicator says idle; a dialog also ends the wait (the test then reports it).
JS_RUN_FINISHED = """([target, after]) => {
    if (document.querySelector('.jp-Dialog')) return true;
    const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'));
    const prompts = cells.map(c => (c.querySelector('.jp-InputPrompt') || {}).textContent || '');
    const count = /\\[(\\d+)\\]/.exec(prompts[target] || '');
    const indicator = document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator');
    return Boolean(count) && Number(count[1]) > after && !prompts.some(p => p.includes('*'))
        && indicator !== null && indicator.dataset.status === 'idle';
}"""


def execution_count(prompt: str | None) -> int | None:
    match = re.fullmatch(r"\[(\d+)\]:", prompt or "")
    return int(match.group(1)) if match else None


class Student:
    """What a student does in the JupyterLab page, by menus and keyboard."""

    def __init__(self, page):
        self.page = page

    def cell(self, index: int):
        return self.page.locator(f".jp-Notebook .jp-Cell[data-windowed-list-index='{index}']")

    def output_text(self, index: int) -> str:
        return self.cell(index).locator(".jp-OutputArea").inner_text()

    def prompts(self) -> list[str | None]:
        return self.page.evaluate(JS_PROMPTS)

    def menu(self, title: str, command: str) -> None:
        self.page.locator("#jp-menu-panel .lm-MenuBar-item", has_text=re.compile(f"^{title}$")).click()
        self.page.locator(f".lm-Menu .lm-Menu-item[data-command='{command}']").click()

    def no_dialog(self) -> None:
        dialog = self.page.locator(".jp-Dialog")
        if dialog.count():
            pytest.fail(f"JupyterLab opened a dialog: {dialog.first.inner_text()!r}")

    def run(self, command: str, first: int) -> None:
        """Run from the Run menu and wait until cell ``first`` has run and the kernel is idle."""
        after = max((execution_count(p) or 0) for p in self.prompts())
        self.menu("Run", command)
        self.page.wait_for_function(JS_RUN_FINISHED, arg=[first, after], polling=100,
                                    timeout=RUN_TIMEOUT_MS)
        self.no_dialog()

    def run_all(self) -> None:
        first_code = next(i for i, p in enumerate(self.prompts()) if p is not None)
        self.run("runmenu:run-all", first_code)

    def run_from(self, index: int) -> None:
        self.cell(index).locator(".jp-InputPrompt").click()  # selects the cell (command mode)
        self.page.wait_for_selector(f".jp-Cell.jp-mod-active[data-windowed-list-index='{index}']")
        self.run("notebook:run-all-below", index)

    def run_cell(self, index: int) -> None:
        """Select cell ``index`` and run it alone (Run > Run Selected Cell)."""
        self.cell(index).locator(".jp-InputPrompt").click()
        self.page.wait_for_selector(f".jp-Cell.jp-mod-active[data-windowed-list-index='{index}']")
        self.run("notebook:run-cell", index)

    def replace_code(self, index: int, code: str) -> None:
        """Put ``code`` in the cell's editor as a paste would: select all, insert the text at once.

        A keyboard insert is one text input, not key presses, so CodeMirror's auto-indent and
        bracket closing do not touch it; the result is checked on disk after saving.
        """
        self.cell(index).locator(".cm-content").click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.insert_text(code)
        self.page.keyboard.press("Escape")  # back to command mode

    def image_width(self, image) -> int:
        """The natural width of an ``<img>`` once the browser has decoded it (0 if it cannot)."""
        return image.evaluate("img => img.decode().then(() => img.naturalWidth, () => 0)")

    def screenshot_cell(self, index: int, name: str) -> Path:
        """Scroll so the bottom of cell ``index`` is in view, and save the page as ``name``."""
        self.cell(index).evaluate("cell => cell.scrollIntoView({block: 'end'})")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path))
        return path

    def screenshot(self, index: int, name: str) -> Path:
        """Scroll so the bottom of cell ``index``'s output is in view, and save the page as ``name``."""
        self.cell(index).locator(".jp-OutputArea").evaluate("out => out.scrollIntoView({block: 'end'})")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path))
        return path


@contextlib.contextmanager
def student_in_browser(server_log: Path):
    """A student at a fresh Chromium page. When the test fails, the page's screenshot and the
    server's log are kept as artifacts (``jupyterlab_failure.png`` / ``.log``)."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        try:
            yield Student(page)
        except BaseException:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(server_log, ARTIFACTS / "jupyterlab_failure.log")
            try:
                page.screenshot(path=str(ARTIFACTS / "jupyterlab_failure.png"))
            except sync_api.Error:
                pass  # the page is gone: the log still tells
            raise
        finally:
            browser.close()


def wait_for_kernel(base: str, notebook: str, timeout: float = 60) -> None:
    """Wait until the server runs an idle kernel for ``notebook`` (a path under the root), so that
    Run All does not ask which kernel to start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            sessions = json.loads(api(base, "/api/sessions")[1])
        except (OSError, urllib.error.URLError, json.JSONDecodeError):
            sessions = []
        if any(s.get("path") == notebook and (s.get("kernel") or {}).get("execution_state") == "idle"
               for s in sessions):
            return
        time.sleep(0.2)
    pytest.fail(f"no idle kernel for {notebook} within {timeout:.0f} s")


def wait_for_file(path: Path, check, timeout: float = 15) -> dict:
    """The notebook JSON at ``path`` once ``check`` accepts it, or as it last was after ``timeout``."""
    deadline, notebook = time.monotonic() + timeout, {}
    while True:
        try:
            notebook = json.loads(path.read_text())
            if check(notebook):
                return notebook
        except (OSError, json.JSONDecodeError):
            pass  # the server is writing it
        if time.monotonic() > deadline:
            return notebook
        time.sleep(0.2)


# ---------------------------------------------------------------------------------------------
# The test

def test_student_runs_the_activations_notebook_in_jupyterlab(lab):
    base, folder, log_path = lab
    path = folder / BY_MODULE[MODULE].notebook
    notebook = nbformat.read(path, as_version=4)
    roles = cells_by_role(notebook)
    answers, checks, plots = roles["answer"], roles["check"], roles["plot"]
    assert {name for _, name in answers} == set(BY_MODULE[MODULE].items)
    assert {name for _, name in checks} == set(BY_MODULE[MODULE].items)
    assert plots, "the notebook should draw plots with matplotlib"
    title = next(line[2:].strip() for cell in notebook.cells if cell.cell_type == "markdown"
                 for line in cell.source.splitlines() if line.startswith("# "))
    with_math = [i for i, cell in enumerate(notebook.cells)
                 if cell.cell_type == "markdown" and "$" in cell.source and not role_of(cell)]
    solutions = {name: reference_code(MODULE, name) for _, name in answers}
    pictures = [i for i, cell in enumerate(notebook.cells) if METADATA_KEY in cell.metadata]
    assert pictures, "the release notebook should show reference pictures under its plots"
    for stale in ARTIFACTS.glob("jupyterlab_failure.*"):
        stale.unlink()

    with student_in_browser(log_path) as student:
        page = student.page
        # ---- open the notebook; its kernel starts --------------------------------------
        page.goto(f"{base}/lab/tree/{folder.name}/{path.name}?token={TOKEN}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']",
                               timeout=60_000)
        student.no_dialog()
        sync_api.expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(len(notebook.cells))

        # ---- the narrative renders: title, LaTeX typeset by MathJax -----------------------
        sync_api.expect(page.locator(".jp-RenderedMarkdown h1", has_text=title)).to_be_visible()
        for index in with_math:
            sync_api.expect(student.cell(index).locator(".jp-RenderedMarkdown mjx-container").first
                            ).to_be_attached()

        # ---- the reference pictures show before anything runs ---------------------------
        for index in pictures:
            rendered = student.cell(index).locator(".jp-RenderedMarkdown")
            sync_api.expect(rendered).to_contain_text("What yours should look like")
            image = rendered.locator("img").first
            sync_api.expect(image).to_be_visible()
            assert student.image_width(image) > 100, f"reference picture in cell {index}"
        student.screenshot_cell(pictures[0], "jupyterlab_00_picture.png")

        # ---- Run All on the stubs: it stops at the first check cell -----------------------
        student.run_all()
        prompts = student.prompts()
        first_check = checks[0][0]
        assert STUB_MESSAGE in student.output_text(first_check)
        assert execution_count(prompts[first_check]) is not None
        not_run = [i for i, p in enumerate(prompts) if p is not None and execution_count(p) is None]
        assert not_run and min(not_run) > first_check, prompts
        assert all(execution_count(p) is not None for p in prompts[:first_check] if p is not None), prompts
        student.screenshot(first_check, "jupyterlab_01_stubs.png")

        # ---- run on past every error: each check cell stops with the stub's message --------
        for _ in range(len(notebook.cells)):
            pending = [i for i, p in enumerate(student.prompts()) if p is not None and execution_count(p) is None]
            if not pending:
                break
            student.run_from(pending[0])
        for index, name in checks:
            assert STUB_MESSAGE in student.output_text(index), f"check cell of {name}"
        # The plot cells call the stubs too, so they stop with the error. (One that made its
        # figure before the failing call still shows that figure, empty: matplotlib's inline
        # backend draws open figures even after an error.)
        for index, _ in plots:
            assert STUB_MESSAGE in student.output_text(index), f"plot cell {index}"

        # ---- the reference code goes into every answer cell ------------------------------
        for index, name in answers:
            student.replace_code(index, solutions[name])
        student.menu("File", "docmanager:save")

        def saved(nb: dict) -> bool:
            return all("".join(nb["cells"][i]["source"]) == solutions[name] for i, name in answers)

        on_disk = wait_for_file(path, saved)
        assert on_disk, f"{path.name} could not be read after saving"
        for index, name in answers:
            assert "".join(on_disk["cells"][index]["source"]) == solutions[name], f"answer cell of {name}"

        # ---- Run All again: every cell runs, every check passes, the plots draw ----------
        student.run_all()
        prompts = student.prompts()
        assert all(execution_count(p) is not None for p in prompts if p is not None), prompts
        for index, name in [*answers, *checks]:
            outputs = student.cell(index).locator(".jp-OutputArea")
            assert outputs.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0, \
                f"{name}: error output in cell {index}: {outputs.inner_text()[-500:]}"
        for index, name in checks:
            assert f"{name}: the visible checks passed." in student.output_text(index)
        for index, _ in plots:
            image = student.cell(index).locator(".jp-OutputArea-output[data-mime-type='image/png'] img").first
            sync_api.expect(image).to_be_visible()
            assert image.evaluate("img => img.complete && img.naturalWidth > 100"), f"plot cell {index}"
        student.screenshot(plots[0][0], "jupyterlab_02_reference.png")
        # the student's figure and, right under it, the reference picture to compare it with
        below_first_plot = next(i for i in pictures if i > plots[0][0])
        student.screenshot_cell(below_first_plot, "jupyterlab_03_yours_and_reference.png")


def test_the_perceptron_notebook_opens_with_its_big_picture_diagram(lab):
    """01 starts with the big picture: its first plot cell draws a neuron and a small network.

    The diagram needs nothing of the student's, so it is run alone (Run > Run Selected Cell, which
    skips the rest of the notebook): its figure shows in JupyterLab."""
    base, folder, log_path = lab
    assignment = BY_MODULE["perceptron"]
    path = folder.parent / assignment.folder / assignment.notebook
    notebook = nbformat.read(path, as_version=4)
    roles = cells_by_role(notebook)
    diagram = roles["plot"][0][0]
    first_check = roles["check"][0][0]
    assert diagram < first_check, "the big-picture diagram should come before the first exercise"

    with student_in_browser(log_path) as student:
        page = student.page
        # A workspace of its own, reset: only this notebook is open (the page's selectors
        # would otherwise also find the activations notebook of the other test).
        page.goto(f"{base}/lab/workspaces/big-picture/tree/{assignment.folder}/{path.name}"
                  f"?reset&token={TOKEN}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']",
                               timeout=60_000)
        wait_for_kernel(base, f"{assignment.folder}/{path.name}")
        student.no_dialog()
        sync_api.expect(page.locator(".jp-NotebookPanel")).to_have_count(1)
        student.run_cell(diagram)
        outputs = student.cell(diagram).locator(".jp-OutputArea")
        assert outputs.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0, \
            outputs.inner_text()[-500:]
        image = student.cell(diagram).locator(".jp-OutputArea-output[data-mime-type='image/png'] img").first
        sync_api.expect(image).to_be_visible()
        assert student.image_width(image) > 100, "the diagram's figure did not render"
        student.screenshot(diagram, "jupyterlab_04_big_picture.png")
