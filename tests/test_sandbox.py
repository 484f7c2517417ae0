"""Adversarial submissions: each attack is built on the untouched stubs, so any point it earns is a
breach. The whole batch completes, every attack scores zero, and an honest submission graded in the
same batch keeps its exact score."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from autograder.grading.batch import grade_batch
from autograder.runner.sandbox import Limits, bubblewrap
from autograder.syllabus import EXERCISES, MODULES, SOLUTIONS

BUDGET = 90.0  # the wall time the code of one submission may take in the attack batch
LIMITS = Limits(memory_bytes=2 * 2**30, cpu_seconds=30, call_seconds=4.0, module_seconds=25.0,
                submission_seconds=BUDGET)
TOKEN = uuid.uuid4().hex[:12]
STUB = (EXERCISES / "activations.py").read_text()
STUBS = {f"{m}.py": (EXERCISES / f"{m}.py").read_text() for m in MODULES}
SIGMOID_STUB = next(line for line in STUB.splitlines() if "sigmoid is not implemented" in line)
# CI installs bubblewrap: there, a missing sandbox is a failure, not a reason to skip
needs_sandbox = pytest.mark.skipif(bubblewrap() is None and not os.environ.get("CI"),
                                   reason="bubblewrap is not available here")


# Code an attack uses to reach its worker's channel to the grader (the only socket a worker holds).
CHANNEL = """
import os as _os, stat as _stat, struct as _struct
def _channel():
    for fd in range(3, 256):
        try:
            if _stat.S_ISSOCK(_os.fstat(fd).st_mode):
                return fd
        except OSError:
            pass
"""
# Attacks that must run inside a graded function run in torch_mlp.evaluate: assignment 07 is not
# "from scratch", so no rule stops the grader from calling it (in activations.sigmoid, the rule would
# refuse most of them unrun). One that finds what it looks for computes the right answer there:
# any point it earns is a breach.
TORCH_STUB = STUBS["torch_mlp.py"]
EVALUATE_STUB = next(line for line in TORCH_STUB.splitlines() if "evaluate is not implemented" in line)
CORRECT_EVALUATE = """
model.eval()
right = total = 0
with torch.no_grad():
    for x, y in loader:
        right += int((model(x).argmax(1) == y).sum())
        total += len(y)
return right / total"""


def torch_attack(at_import: str = "", in_evaluate: str = "", breach_if: str = "") -> dict[str, str]:
    """The stubbed torch_mlp.py with attack code at import and/or in evaluate; with ``breach_if``, an
    expression, evaluate answers right when it holds (and raises NotImplementedError otherwise)."""
    body = in_evaluate.strip("\n")
    if breach_if:
        correct = "\n".join("    " + line for line in CORRECT_EVALUATE.strip("\n").splitlines())
        body += f"\nif {breach_if}:\n{correct}\nraise NotImplementedError"
    source = TORCH_STUB
    if body.strip():
        indent = EVALUATE_STUB[: len(EVALUATE_STUB) - len(EVALUATE_STUB.lstrip())]
        source = source.replace(EVALUATE_STUB, "\n".join(indent + line for line in body.splitlines()))
    return {"torch_mlp.py": (at_import.strip("\n") + "\n" + source) if at_import else source}


def everywhere(code: str) -> dict[str, str]:
    """Every stubbed module, with ``code`` run when it is imported."""
    return {name: code.strip("\n") + "\n" + text for name, text in STUBS.items()}


def looping_everywhere() -> dict[str, str]:
    """Every stubbed module with the body of every function and method an endless loop."""
    def loop(line: str) -> str:
        if "raise NotImplementedError" not in line:
            return line
        indent = line[: len(line) - len(line.lstrip())]
        return f"{indent}while True:\n{indent}    pass"
    return {name: "\n".join(loop(line) for line in text.splitlines()) + "\n" for name, text in STUBS.items()}


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
        "exit_in_function": torch_attack(in_evaluate="import sys\nsys.exit(0)"),
        "os_exit_in_function": torch_attack(in_evaluate="import os\nos._exit(0)"),
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
        "read_secrets": torch_attack(in_evaluate=leak),
        "import_grader": {"activations.py": attack(
            "from autograder.runner.reference import reference\n",
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
        "endless_loop": torch_attack(in_evaluate='''
import signal
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGXCPU, signal.SIGALRM):
    signal.signal(s, signal.SIG_IGN)
while True:
    pass'''),
        "memory_bomb": {"activations.py": attack(in_sigmoid='''
blocks = []
while len(blocks) < 32:  # at most 8 GiB
    blocks.append(bytearray(256 * 2**20))
return z''')},
        "fork_bomb": torch_attack(in_evaluate='''
import os, time
for _ in range(300):
    if os.fork() == 0:
        time.sleep(20)
        os._exit(0)
return -1.0'''),
        "output_flood": torch_attack(in_evaluate='''
import sys
for _ in range(50):  # at most 50 MB
    sys.stdout.write("x" * 2**20)
return -1.0'''),
        "segfault": torch_attack(in_evaluate="import ctypes\nctypes.string_at(0)"),
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
        "network": torch_attack(in_evaluate=f'''
import socket
socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
return -1.0'''),
        "other_submission": torch_attack(in_evaluate=f'''
path = {str(honest / "activations.py")!r}
text = open(path).read()
open(path, "w").write(text.replace("return", "return 0 *"))
return -1.0'''),
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
        "patched_clock": torch_attack(
            "import time\ntime.time = lambda: 0.0\ntime.monotonic = lambda: 0.0\ntime.perf_counter = lambda: 0.0\n",
            in_evaluate="while True:\n    pass"),
        # -- issue 11 ---------------------------------------------------------------------------------
        # not an attack: proof that an attack that finds what it looks for does earn points
        "control": torch_attack(breach_if="True"),
        # kill -9 -1 and every pid in sight, from every module, for as long as its workers live
        "uid_sabotage": everywhere('''
import os, signal, threading, time
def _sabotage():
    while True:
        for target in [-1] + [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
_sabotage_thread = threading.Thread(target=_sabotage, daemon=True)
_sabotage_thread.start()
'''),
        # what one worker leaves (System V and POSIX shared memory, /tmp files) the next must not find:
        # each worker looks first, then leaves its own; sigmoid crashes, so every test gets a new worker
        "leftovers": torch_attack(f'''
import ctypes, glob, os
_libc = ctypes.CDLL(None, use_errno=True)
KEY = {int(TOKEN[:7], 16)}
FOUND = bool(glob.glob("/tmp/dlkit-left-*") or glob.glob("/dev/shm/dlkit-left-*")
             or _libc.shmget(KEY, 0, 0) >= 0 or open("/proc/sysvipc/shm").read().count("\\n") > 1)
for folder in ("/tmp", "/dev/shm"):
    try:
        path = folder + "/dlkit-left-" + str(os.getpid())
        with open(path, "w") as fh:
            fh.write("secret of an earlier student")
        os.chmod(path, 0o600)
    except OSError:
        pass
_libc.shmget(KEY, 1 << 20, 0o1000 | 0o600)
''', in_evaluate="""
if not FOUND:
    os._exit(1)""", breach_if="FOUND"),
        # 600 MiB of shared memory, which the memory limit does not count: it must be refused
        "shared_memory": torch_attack('''
import ctypes, os
_libc = ctypes.CDLL(None, use_errno=True)
BIG_SYSV = _libc.shmget(0, 600 << 20, 0o1000 | 0o600) >= 0
_many = [_libc.shmget(0, 8 << 20, 0o1000 | 0o600) for _ in range(75)]
MANY_SYSV = sum(1 for s in _many if s >= 0) * 8 > 64  # more than 64 MiB in 8 MiB segments
def _fill(folder, mib):  # in files of 1 MiB, the largest a worker may write
    written = 0
    for i in range(mib):
        try:
            with open(f"{folder}/dlkit-big-{i}", "wb") as fh:
                fh.write(b"x" * 2**20)
            written += 1
        except OSError:
            break
    return written
BIG_POSIX = _fill("/dev/shm", 600) > 64
BIG_TMP = _fill("/tmp", 600) > 64
''', breach_if="BIG_SYSV or MANY_SYSV or BIG_POSIX or BIG_TMP"),
        # the worker holds no capability, and sees no process but its own
        "privileges": torch_attack(in_evaluate='''
import os
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
capable = any(int(status[k].strip(), 16) for k in ("CapEff", "CapPrm", "CapInh", "CapAmb"))
others = [p for p in os.listdir("/proc") if p.isdigit() and p != "1" and os.stat("/proc/" + p).st_uid != os.getuid()]''',
                                   breach_if="capable or others or os.getuid() == 0"),
        # a "ready" message the grader cannot decode (a 5000-digit JSON integer), then a reply likewise
        "undecodable": {"activations.py": attack(CHANNEL + '''
_body = b'{"ok": ' + b"9" * 5000 + b'}'
_message = _struct.pack("<Q", len(_body)) + _body + _struct.pack("<I", 0)
_os.write(_channel(), _struct.pack("<Q", len(_message)) + _message)
''')},
        "undecodable_reply": torch_attack(CHANNEL, in_evaluate='''
body = b'{"ok": true, "value": ' + b"9" * 5000 + b'}'
message = _struct.pack("<Q", len(body)) + body + _struct.pack("<I", 0)
_os.write(_channel(), _struct.pack("<Q", len(message)) + message)
return 0.5'''),
        # a reply dripped a byte a second: each read is quick, the whole reply never comes
        "reply_drip": torch_attack(CHANNEL, in_evaluate='''
import time
fd = _channel()
_os.write(fd, _struct.pack("<Q", 10_000))
while True:
    _os.write(fd, b" ")
    time.sleep(1)'''),
        # a worker that closes its channel and goes on running
        "hang_up": torch_attack(CHANNEL, in_evaluate='''
import time
_os.close(_channel())
time.sleep(60)'''),
        # dying at import leaves no trace of the grader in the feedback
        "segfault_at_import": {"activations.py": attack("import ctypes\nctypes.string_at(0)")},
        # every function of every module loops forever: the submission's budget bounds it all
        "looping": looping_everywhere(),
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
    print(f"attack batch: {len(folders) + 1} submissions in {elapsed:.0f} s")
    assert not failures, failures
    scores = {row["student"]: row["total"] for row in rows}
    breaches = {name: score for name, score in scores.items() if name not in ("honest", "control") and score > 0}
    assert not breaches, breaches
    assert scores["control"] > 0, "a breach would not show as points"
    assert len(scores) == len(folders) + 1, "every submission was graded"

    def results_of(folder: Path) -> dict:
        data = json.loads((folder / "honest" / "results.json").read_text())
        data.pop("execution_time")
        data["extra_data"].pop("dlkit_fingerprint")  # it hashes the grader's files too, edited meanwhile
        return data

    assert results_of(out) == results_of(alone), "the honest grade changed in a batch with attacks"
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
                           "import_grader": "ModuleNotFoundError",
                           "undecodable": "not plain data", "undecodable_reply": "not plain data",
                           "reply_drip": "time limit", "segfault_at_import": "SIGSEGV",
                           "looping": "whole budget"}.items():
        outputs = " | ".join(t["output"] for t in json.loads((out / name / "results.json").read_text())["tests"])
        assert fragment in outputs, f"{name}: {outputs[:500]}"

    # the time policy: a function that timed out once fails its other tests at once, and the budget
    # bounds a submission whose every function loops
    timings = {name: json.loads((out / name / "results.json").read_text())["execution_time"]
               for name in ("looping", "reply_drip", "endless_loop")}
    assert timings["looping"] <= BUDGET + 30, timings
    assert timings["reply_drip"] < 3 * LIMITS.call_seconds + 15, timings
    assert timings["endless_loop"] < 3 * LIMITS.call_seconds + 15, timings

    # feedback names no file of the grader, shows no traceback, and the template's output stays out
    kit = str(SOLUTIONS.parent)
    for result in out.glob("*/results.json"):
        data = json.loads(result.read_text())
        for text in [data.get("output", "")] + [t["output"] for t in data["tests"]]:
            assert kit not in text and "autograder/" not in text and "Traceback" not in text \
                and "template" not in text, f"{result.parent.name}: {text[:500]}"

    assert (out / "output_flood" / "results.json").stat().st_size < 200_000, "output is kept, bounded"
    time.sleep(4)  # the daemon would have written its marker by now
    assert not Path(f"/tmp/dlkit-breach-{TOKEN}").exists(), "a daemon outlived its worker"
    assert not surviving_processes(), surviving_processes()
    assert elapsed < 600


def _uids(state: str, count: int) -> list[int]:
    from autograder.runner.uids import next_uid
    return [next_uid(Path(state)) for _ in range(count)]


@pytest.mark.skipif(os.geteuid() != 0, reason="only a grader running as root gives workers users of their own")
def test_worker_uids_are_never_handed_out_twice_across_grader_processes(tmp_path):
    import multiprocessing

    state = tmp_path / "dlkit" / "worker-uid"
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        batches = pool.starmap(_uids, [(str(state), 200)] * 3)
    uids = [uid for batch in batches for uid in batch]
    assert len(set(uids)) == len(uids) == 600
    assert all(10**9 <= uid < 2**31 for uid in uids)


@needs_sandbox
def test_the_template_survives_failing_requests_and_is_restarted_when_it_dies():
    """Requests that fail (malformed, unknown, a child reaped twice or never there) are answered as
    failed and the template goes on serving; a template that dies is replaced at the next request."""
    import signal

    import torch

    from autograder.runner.session import Session
    from autograder.worker.channel import write_message
    from autograder.worker.protocol import decode
    from autograder.runner.transport import ForkedTransport, ForkServer, LoadRequest

    server = ForkServer(sandbox=True)
    honest = LoadRequest("activations", sources={"activations": (SOLUTIONS / "activations.py").read_text()})

    def sigmoid_of_zero() -> float:
        transport = ForkedTransport(honest, limits=LIMITS, server=server)
        transport.start()
        try:
            return float(Session(transport, "activations", LIMITS).sigmoid(torch.zeros(1))[0])
        finally:
            transport.close()

    def raw(data: bytes) -> dict:
        write_message(server.control, data)
        head = server.control.recv(8)
        body = server.control.recv(struct.unpack("<Q", head)[0], socket.MSG_WAITALL)
        return decode(body)

    try:
        assert sigmoid_of_zero() == 0.5
        assert raw(b"not a message at all")["ok"] is False
        assert raw(struct.pack("<Q", 5) + b'{"op"')["ok"] is False
        assert server._ask({"op": "reap", "child": "one"})[0]["ok"] is False
        assert server._ask({"op": "reap", "child": 10**30})[0] == {"ok": True, "status": None}  # unknown
        assert server._ask({"op": "no such op"})[0]["ok"] is False
        assert server.reap(123_456) is None  # never there
        transport = ForkedTransport(honest, limits=LIMITS, server=server)
        transport.start()
        child = transport.child
        transport.close()
        assert server.reap(child) is None  # reaped already
        assert sigmoid_of_zero() == 0.5
        first = server.proc.pid
        os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait()
        assert sigmoid_of_zero() == 0.5
        assert server.proc.pid != first
    finally:
        server.close()
