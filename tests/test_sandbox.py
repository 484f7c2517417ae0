"""Adversarial submissions: each attack is built on the untouched stubs, so any point it earns is a
breach. The whole batch completes, every attack scores zero, and an honest submission graded in the
same batch keeps its exact score."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from autograder.grading.batch import grade_batch
from autograder.sandbox import Limits, bubblewrap
from autograder.syllabus import EXERCISES, MODULES, SOLUTIONS

LIMITS = Limits(memory_bytes=2 * 2**30, cpu_seconds=30, call_seconds=4.0, module_seconds=25.0)
TOKEN = uuid.uuid4().hex[:12]
STUB = (EXERCISES / "activations.py").read_text()
SIGMOID_STUB = next(line for line in STUB.splitlines() if "sigmoid is not implemented" in line)
# CI installs bubblewrap: there, a missing sandbox is a failure, not a reason to skip
needs_sandbox = pytest.mark.skipif(bubblewrap() is None and not os.environ.get("CI"),
                                   reason="bubblewrap is not available here")


def attack(at_import: str = "", in_sigmoid: str = "") -> str:
    """The stubbed activations.py with attack code at import and/or as the body of sigmoid."""
    source = STUB
    if in_sigmoid:
        indent = SIGMOID_STUB[: len(SIGMOID_STUB) - len(SIGMOID_STUB.lstrip())]
        body = "\n".join(indent + line for line in in_sigmoid.strip("\n").splitlines())
        source = source.replace(SIGMOID_STUB, body)
    return (at_import.strip("\n") + "\n" + source) if at_import else source


class Listener:
    """A TCP server on loopback that counts connections (none must arrive from a worker)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()


def attacks(out: Path, honest: Path, port: int) -> dict[str, dict[str, str]]:
    """Submission name -> {file name: content}."""
    marker = f"/tmp/dlkit-breach-{TOKEN}"
    forge = f'''
import json, os, atexit
def _forge():
    for target in ({str(out / "forger" / "results.json")!r}, {str(out / "grades.csv")!r}):
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w") as fh:
                fh.write(json.dumps({{"score": 999, "tests": []}}) if target.endswith("json") else "forger,999\\n")
        except OSError:
            pass
_forge()
atexit.register(_forge)
'''
    leak = f'''
texts = []
for path in ({str(SOLUTIONS / "activations.py")!r}, {str(SOLUTIONS.parent / "autograder" / "suites" / "test_activations.py")!r}):
    try:
        texts.append(open(path).read())
    except OSError:
        pass
print(*texts)
raise ValueError(" ".join(texts)[:900] or "nothing to read")
'''
    return {
        "exit_at_import": {"activations.py": attack("import sys\nsys.exit(0)")},
        "os_exit_at_import": {"activations.py": attack("import os\nos._exit(0)")},
        "exit_in_function": {"activations.py": attack(in_sigmoid="import sys\nsys.exit(0)")},
        "os_exit_in_function": {"activations.py": attack(in_sigmoid="import os\nos._exit(0)")},
        "base_exceptions": {"activations.py": attack(in_sigmoid="raise KeyboardInterrupt").replace(
            'raise NotImplementedError("softmax', 'raise BaseException("softmax')},
        "forger": {"activations.py": attack(forge, in_sigmoid="_forge()\nreturn z")},
        "pytest_config": {"activations.py": STUB,
                          "conftest.py": "import pytest\n@pytest.hookimpl(hookwrapper=True)\n"
                                         "def pytest_runtest_makereport(item, call):\n    yield\n",
                          "pytest.ini": "[pytest]\naddopts = -p no:python\n",
                          "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-x'\n",
                          "sitecustomize.py": "import os\nos._exit(0)\n",
                          "evil.pth": "import os; os._exit(0)\n"},
        "shadow_modules": {"activations.py": STUB,
                           "torch.py": "def allclose(*a, **k): return True\n",
                           "pytest.py": "raise SystemExit\n", "json.py": "raise SystemExit\n"},
        "monkeypatch": {"activations.py": attack(
            "import torch\ntorch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
            "torch.isfinite = lambda t: torch.ones_like(t, dtype=torch.bool)\n"
            "torch.Tensor.__eq__ = lambda self, other: True\n", in_sigmoid="return z * 0")},
        "always_equal": {"activations.py": attack(
            "import torch\nclass Equal:\n    def __eq__(self, other): return True\n    shape = None\n"
            "class Sneaky(torch.Tensor):\n    def __eq__(self, other): return True\n",
            in_sigmoid="return Equal()").replace(
            'raise NotImplementedError("softmax', 'return z.as_subclass(Sneaky)\n    raise NotImplementedError("softmax')},
        "read_secrets": {"activations.py": attack(in_sigmoid=leak)},
        "import_grader": {"activations.py": attack(
            "from autograder.reference import reference\n",
            in_sigmoid="return reference('activations').sigmoid(z)")},
        "introspection": {"activations.py": attack(in_sigmoid='''
import gc, sys
frame = sys._getframe(1)
while frame is not None:
    for value in frame.f_locals.values():
        if isinstance(value, torch.Tensor) and value.shape == z.shape and value is not z:
            return value
    frame = frame.f_back
for obj in gc.get_objects():
    if isinstance(obj, torch.Tensor) and obj.shape == z.shape and obj is not z:
        return obj
return z''')},
        "endless_loop": {"activations.py": attack(in_sigmoid='''
import signal
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGXCPU, signal.SIGALRM):
    signal.signal(s, signal.SIG_IGN)
while True:
    pass''')},
        "memory_bomb": {"activations.py": attack(in_sigmoid='''
blocks = []
while len(blocks) < 32:  # at most 8 GiB
    blocks.append(bytearray(256 * 2**20))
return z''')},
        "fork_bomb": {"activations.py": attack(in_sigmoid=f'''
import os, time
for _ in range(300):
    if os.fork() == 0:
        time.sleep(20)
        os._exit(0)
return z''')},
        "output_flood": {"activations.py": attack(in_sigmoid='''
import sys
for _ in range(50):  # at most 50 MB
    sys.stdout.write("x" * 2**20)
return z''')},
        "segfault": {"activations.py": attack(in_sigmoid="import ctypes\nctypes.string_at(0)")},
        "daemon": {"activations.py": attack(f'''
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(3)
        with open({marker!r}, "w") as fh:
            fh.write("I survived")
        time.sleep(30)
    os._exit(0)
''')},
        "network": {"activations.py": attack(in_sigmoid=f'''
import socket
socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
return z''')},
        "other_submission": {"activations.py": attack(in_sigmoid=f'''
path = {str(honest / "activations.py")!r}
text = open(path).read()
open(path, "w").write(text.replace("return", "return 0 *"))
return z''')},
        "enormous_result": {"activations.py": attack(in_sigmoid="return torch.zeros(20_000_000)")},
        "mutating_thread": {"activations.py": attack(in_sigmoid='''
import threading, time
out = torch.zeros_like(z)
def later():
    time.sleep(0.05)
    out.fill_(1.0)
threading.Thread(target=later).start()
return out''')},
        "global_state": {"activations.py": attack(
            "import os, torch\ntorch.set_default_dtype(torch.float64)\ntorch.manual_seed(123)\n"
            "os.environ['DLKIT'] = 'x'\ntorch.set_grad_enabled(False)\n", in_sigmoid="return z")},
        "patched_clock": {"activations.py": attack(
            "import time\ntime.time = lambda: 0.0\ntime.monotonic = lambda: 0.0\ntime.perf_counter = lambda: 0.0\n",
            in_sigmoid="while True:\n    pass")},
    }


def make(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def surviving_processes() -> list[str]:
    run = subprocess.run(["ps", "-eo", "pid,user:12,args"], capture_output=True, text=True)
    return [line for line in run.stdout.splitlines() if TOKEN in line or "time.sleep(20)" in line]


@needs_sandbox
def test_attacks_score_zero_and_the_honest_grade_stands(tmp_path):
    out = tmp_path / "out"
    honest = make(tmp_path / "subs" / "honest", {f"{m}.py": (SOLUTIONS / f"{m}.py").read_text() for m in MODULES})
    alone = tmp_path / "alone"
    grade_batch([honest], alone, jobs=1, limits=LIMITS)
    listener = Listener()
    try:
        folders = [make(tmp_path / "subs" / name, files)
                   for name, files in attacks(out, honest, listener.port).items()]
        started = time.monotonic()
        rows, failures = grade_batch([honest, *folders], out, jobs=2, limits=LIMITS)
        elapsed = time.monotonic() - started
    finally:
        listener.close()
    assert not failures, failures
    scores = {row["student"]: row["total"] for row in rows}
    breaches = {name: score for name, score in scores.items() if name != "honest" and score > 0}
    assert not breaches, breaches
    assert len(scores) == len(folders) + 1, "every submission was graded"

    def tests_of(folder: Path) -> list:
        data = json.loads((folder / "honest" / "results.json").read_text())
        return [(t["name"], t["score"], t["output"]) for t in data["tests"]]

    assert tests_of(out) == tests_of(alone), "the honest grade changed in a batch with attacks"
    assert scores["honest"] == rows[0]["max_total"] or scores["honest"] > 0
    forged = json.loads((out / "forger" / "results.json").read_text())
    assert forged["score"] == 0 and forged["tests"]
    assert "forger,999" not in (out / "grades.csv").read_text()
    assert listener.connections == 0, "a worker reached the network"

    leak = json.loads((out / "read_secrets" / "results.json").read_text())
    text = json.dumps(leak)
    assert "BEGIN SOLUTION" not in text and "1 / (1 + e)" not in text and "def test_" not in text

    for name, fragment in {"endless_loop": "time limit", "patched_clock": "time limit",
                           "segfault": "SIGSEGV",
                           "exit_at_import": "SystemExit", "os_exit_in_function": "exit code",
                           "enormous_result": "larger than", "memory_bomb": "memory limit",
                           "import_grader": "ModuleNotFoundError"}.items():
        outputs = " | ".join(t["output"] for t in json.loads((out / name / "results.json").read_text())["tests"])
        assert fragment in outputs, f"{name}: {outputs[:500]}"

    assert (out / "output_flood" / "results.json").stat().st_size < 200_000, "output is kept, bounded"
    time.sleep(4)  # the daemon would have written its marker by now
    assert not Path(f"/tmp/dlkit-breach-{TOKEN}").exists(), "a daemon outlived its worker"
    assert not surviving_processes(), surviving_processes()
    assert elapsed < 600
