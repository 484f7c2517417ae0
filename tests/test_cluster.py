"""`dlkit grade --scheduler`: a real Dask scheduler and two single-threaded `dask worker` processes
on 127.0.0.1 grade the same mixed class as the local path, with identical results, and survive
the SIGKILL of a worker mid-batch. What travels is plain data, checked before it is written."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from autograder.cells import role_of
from autograder.cluster import local
from autograder.cluster.client import ClusterEngine
from autograder.cluster.data import MalformedResult, grade_data, grade_from_data, module_files, submission_data
from autograder.grading.batch import Submission
from autograder.grading.fingerprint import grader_version
from autograder.grading.results import ungraded_result
from autograder.runner.sandbox import bubblewrap
from autograder.syllabus import ASSIGNMENTS, BY_MODULE, RELEASE, REPO

sys.path.insert(0, str(REPO / "bench"))
from submissions import answers, module_source  # noqa: E402

distributed = pytest.importorskip("distributed")
needs_sandbox = pytest.mark.skipif(bubblewrap() is None, reason="bubblewrap cannot run here")
CHEAP = ("perceptron", "activations", "losses", "mlp")  # quick to grade: the class stays within CI's time
KILL_ALL = "import os\nimport signal\nos.kill(-1, signal.SIGKILL)\nos.kill(os.getpid(), signal.SIGKILL)"  # all it sees
PRY = '''import os
SEEN = []
for path in ("{repo}/solutions/activations.py", "/etc/shadow", "/proc/1/environ"):
    try:
        SEEN.append(len(open(path, "rb").read()))
    except OSError as exc:
        SEEN.append(type(exc).__name__)
try:
    open("{repo}/pwned.txt", "w").write("x")
except OSError as exc:
    SEEN.append(type(exc).__name__)
'''


def kit_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))


def dlkit_grade(folders: list[Path], out: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "autograder.cli", "grade", *map(str, folders), "--out", str(out),
                             *args], cwd=REPO, env=kit_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def finished(run: subprocess.Popen, timeout: float = 900) -> str:
    output, _ = run.communicate(timeout=timeout)
    assert run.returncode == 0, output[-3000:]
    return output


def write_class(root: Path) -> list[Path]:
    """40 submissions: correct, stubbed and buggy modules (mostly the quick ones), two whole
    correct ones, notebooks, and two attacks (run in the sandbox, on both paths)."""
    from autograder.mutants.catalogue import load

    rng = random.Random(13)
    bugs = {m: sorted(e.id for e in load((m,)) if e.kind == "bug") for m in CHEAP}
    folders = []

    def folder(name: str, sources: dict[str, str]) -> None:
        path = root / name
        path.mkdir(parents=True)
        for module, text in sources.items():
            (path / f"{module}.py").write_text(text)
        folders.append(path)

    for i in range(32):
        chosen = rng.sample(CHEAP, rng.randint(1, 3))
        kinds = {m: rng.choice(("correct", "stubbed", "buggy")) for m in chosen}
        folder(f"s{i:02d}", {m: module_source(m, k, rng.choice(bugs[m]) if k == "buggy" else None)
                             for m, k in kinds.items()})
    for i in range(2):
        folder(f"whole{i}", {a.module: module_source(a.module, "correct", None) for a in ASSIGNMENTS})
    for i, (module, kind) in enumerate([("perceptron", "correct"), ("activations", "stubbed"),
                                        ("perceptron", "buggy"), ("losses", "correct")]):
        bug = rng.choice(bugs[module]) if kind == "buggy" else None
        write_notebook(root / f"nb{i}", BY_MODULE[module], kind, bug)
        folders.append(root / f"nb{i}")
    stub = module_source("activations", "stubbed", None)
    folder("attack_kill", {"activations": KILL_ALL + "\n" + stub})  # at import: no rule stops it first
    folder("attack_pry", {"activations": PRY.format(repo=REPO) + stub})
    return folders


def write_notebook(folder: Path, assignment, kind: str, bug: str | None) -> None:
    notebook = nbformat.read(RELEASE / assignment.folder / assignment.notebook, as_version=4)
    filled = answers(assignment, kind, bug)
    for cell in notebook.cells:
        role = role_of(cell)
        if role and role["role"] == "answer" and role["name"] in filled:
            cell.source = filled[role["name"]]
    path = folder / assignment.folder / assignment.notebook
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, path)


def results(out: Path) -> dict[str, dict]:
    """Every results.json by student, without its one timing (the local path has it too)."""
    found = {}
    for path in sorted(out.glob("*/results.json")):
        data = json.loads(path.read_text())
        data.pop("execution_time")
        found[data["extra_data"]["dlkit_student"]] = data
    return found


def current_grader_version() -> str:
    grader_version.cache_clear()
    return grader_version()


def assert_same_results(got: dict[str, dict], expected: dict[str, dict], version: str) -> None:
    """Identical, the fingerprint included, unless the kit's own files changed since the local run
    (only in a working tree being edited: CI's never changes); then all but the fingerprint."""
    assert sorted(got) == sorted(expected)
    same_grader = current_grader_version() == version
    for student, data in expected.items():
        assert same(got[student], data, same_grader), student


def same(got: dict, expected: dict, with_fingerprint: bool) -> bool:
    if with_fingerprint:
        return got == expected
    return without_fingerprint(got) == without_fingerprint(expected)


def without_fingerprint(data: dict) -> dict:
    return data | {"extra_data": {k: v for k, v in data["extra_data"].items() if k != "dlkit_fingerprint"}}


def graded_counts(output: str) -> list[int]:
    """From "Graded on 2 Dask worker(s): tcp://a (host): 21, tcp://b (host): 19 (who graded whom: ...)"."""
    line = next(line for line in output.splitlines() if line.startswith("Graded on"))
    return [int(part.rsplit(": ", 1)[1]) for part in line.split(" (who graded")[0].split(": ", 1)[1].split(", ")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class, graded by the local path (``--jobs 2``) while the cluster starts: (the folder,
    the submissions, the local results, the cluster's address, the grader version then)."""
    root = tmp_path_factory.mktemp("cluster")
    folders = write_class(root / "class")
    address, processes = local.start(2, port=free_port(), log=root / "cluster.log")
    try:
        version = current_grader_version()
        finished(dlkit_grade(folders, root / "local", "--jobs", "2"))
        local.wait_for_workers(address, 2, processes)
        yield root, folders, results(root / "local"), address, version
    finally:
        local.stop(processes)


@needs_sandbox
def test_the_cluster_grades_the_class_exactly_as_the_local_path(graded):
    root, folders, expected, address, version = graded
    output = finished(dlkit_grade(folders, root / "dask", "--scheduler", address))
    got = results(root / "dask")
    assert len(got) == 40
    assert_same_results(got, expected, version)
    assert (root / "dask" / "grades.csv").read_text() == (root / "local" / "grades.csv").read_text()
    assert expected["whole0"]["score"] == expected["whole0"]["max_score"]
    # kill(-1) in the sandbox finds no process of anyone else's to signal; nothing is written outside
    assert "importing `activations.py` failed" in json.dumps(expected["attack_kill"])
    assert not (REPO / "pwned.txt").exists()
    assert "Graded on 2 Dask worker(s)" in output and sum(graded_counts(output)) == 40
    log = (root / "dask" / "grader.log").read_text()
    assert all(log.count(f" {s}") >= 1 for s in ("s00", "nb0", "attack_kill")), log

    # the client restarted: nothing is graded again, by fingerprint
    stamps = {p: p.stat().st_mtime_ns for p in (root / "dask").glob("*/results.json")}
    env = dict(kit_env(), DLKIT_SCHEDULER=address)  # the address from the environment this time
    again = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", *map(str, folders), "--out",
                            str(root / "dask")], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert {p: p.stat().st_mtime_ns for p in (root / "dask").glob("*/results.json")} == stamps
    assert (root / "dask" / "grader.log").read_text() == log


def test_a_worker_refuses_to_start_where_the_sandbox_cannot_run(graded, tmp_path):
    address = graded[3]
    pretend = tmp_path / "no_sandbox_here.py"  # a preload before the kit's: bubblewrap "cannot run"
    pretend.write_text("import autograder.runner.sandbox as sandbox\nsandbox.bubblewrap = lambda: None\n")
    command = local.worker_command(address)
    at = command.index("--preload")
    command[at:at] = ["--preload", str(pretend)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, env=kit_env())
    assert run.returncode != 0 and "will not grade" in run.stderr and "--allow-unsandboxed" in run.stderr


@needs_sandbox
def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(graded):
    root, folders, expected, address, version = graded
    some = [f for f in folders if f.name in {"whole0", "whole1", "nb0", "nb1", "s00", "s01", "s02", "s03"}]
    out = root / "killed"
    run = dlkit_grade(some, out, "--scheduler", address)
    with distributed.Client(address, set_as_default=False) as client:
        pids = client.run(os.getpid)
        deadline = time.monotonic() + 300
        while not any(client.processing().values()):
            assert time.monotonic() < deadline and run.poll() is None, "no task ever started"
            time.sleep(0.2)
        time.sleep(1.0)  # well inside its grading
        victim = next(w for w, keys in client.processing().items() if keys)
        os.kill(pids[victim], signal.SIGKILL)  # its nanny starts a new worker; the scheduler reruns its task
        output = finished(run)
        got = results(out)
        assert sum(graded_counts(output)) == len(some)
        assert_same_results(got, {f.name: expected[f.name] for f in some}, version)
        rows = (out / "grades.csv").read_text().splitlines()[1:]
        assert sorted(r.split(",")[0] for r in rows) == sorted(got)  # each student once
        graded_by = next(line for line in (out / "grader.log").read_text().splitlines() if "Dask cluster" in line)
        named = [name.strip() for part in graded_by.split(": ", 1)[1].split("; ")
                 for name in part.split("): ", 1)[1].split(",")]
        assert sorted(named) == sorted(got)  # recorded once each, by the worker that finished it


@needs_sandbox
def test_a_lost_scheduler_stops_the_batch_and_a_rerun_grades_only_the_rest(graded, tmp_path):
    """The scheduler SIGKILLed mid-batch: the client stops with a message and exit code 2, what was
    finished keeps its result, nothing is recorded as failed; the same command on a new cluster
    grades the others only, and every result equals the local path's."""
    root, folders, expected, _, version = graded
    some = sorted(f for f in folders if f.name.startswith("s"))[:12]
    out = tmp_path / "out"
    address, processes = local.start(1, port=free_port(), log=tmp_path / "cluster.log")
    try:
        local.wait_for_workers(address, 1, processes)
        run = dlkit_grade(some, out, "--scheduler", address)
        deadline = time.monotonic() + 300
        while not list(out.glob("*/results.json")):
            assert time.monotonic() < deadline and run.poll() is None, "nothing was graded"
            time.sleep(0.05)
        os.killpg(processes[0].pid, signal.SIGKILL)  # the scheduler, and only it
        output, _ = run.communicate(timeout=300)
    finally:
        local.stop(processes)
    assert run.returncode == 2, output[-3000:]
    assert "lost the Dask scheduler" in output and "run the same command again" in output
    first = results(out)
    assert 0 < len(first) < len(some), sorted(first)
    for student, data in first.items():
        assert same(data, expected[student], current_grader_version() == version), student
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/results.json")}

    address, processes = local.start(1, port=free_port(), log=tmp_path / "cluster2.log")
    try:
        local.wait_for_workers(address, 1, processes)
        finished(dlkit_grade(some, out, "--scheduler", address))
    finally:
        local.stop(processes)
    assert_same_results(results(out), {f.name: expected[f.name] for f in some}, version)
    assert all(p.stat().st_mtime_ns == mtime for p, mtime in stamps.items()), "a finished result was graded again"


# --- what travels, without a cluster ---------------------------------------------------------------

def test_a_grade_travels_as_plain_data_and_only_a_well_formed_one_is_accepted():
    result = ungraded_result("ada", "a reason")
    data = grade_data(result)
    back = grade_from_data(json.loads(json.dumps(data)), "ada")
    assert [(r.test, r.score, r.output) for r in back.results] == [(r.test, r.score, r.output) for r in result.results]

    def broken(change) -> dict:
        copy = json.loads(json.dumps(data))
        change(copy)
        return copy

    for change in (lambda d: d["results"].pop(),
                   lambda d: d["results"][0].update(score=0.5),
                   lambda d: d["results"][0].update(test=["perceptron", "test_elsewhere"]),
                   lambda d: d["results"][1].update(output=object()),
                   lambda d: d.update(notes={"perceptron": [Path("x")]}),
                   lambda d: d.pop("module_messages")):
        with pytest.raises(MalformedResult):
            grade_from_data(broken(change), "ada")


def test_a_submission_travels_as_plain_data(tmp_path):
    (tmp_path / "perceptron.py").write_text("def weighted_sum(x, w, b):\n    return 0\n")
    data = submission_data(tmp_path)
    json.dumps(data)  # nothing but plain data
    files = module_files(data)
    assert files["perceptron"].status == "ok" and files["mlp"].status == "missing"
    with pytest.raises(MalformedResult):
        module_files({"perceptron": data["perceptron"]})


def test_a_submission_that_kills_every_worker_is_marked_failed_without_a_hostname(tmp_path):
    from distributed import KilledWorker

    class Killed:
        def result(self):
            raise KilledWorker("dlkit-grade-x", SimpleNamespace(address="tcp://secret-host:1234"), 3)

    submission = Submission(tmp_path / "eve", "eve", tmp_path / "out" / "eve")
    outcome = ClusterEngine("tcp://127.0.0.1:1")._outcome(Killed(), submission, "stamp")
    data = json.loads((submission.out / "results.json").read_text())
    assert outcome.error and "4 times" in outcome.error and data["score"] == 0
    assert "secret-host" not in json.dumps(data) and "secret-host" in outcome.details
    assert "the grader's process stopped" in data["output"]
