"""`dlkit grade` as a batch: any student id, no formula in any CSV, a batch that always finishes,
and a stop by signal that leaves no process behind and resumes on the next run."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from autograder.csv_cells import csv_text, text_cell
from autograder.grading.ids import RESERVED, SAFE_PREFIX, output_folders, printable, student_id
from autograder.runner.sandbox import bubblewrap
from autograder.syllabus import REPO, SOLUTIONS

HONEST = SOLUTIONS  # full marks, and never stale (examples/submissions/ada is a copy made by dlkit build)
FORMULA = '=HYPERLINK("https:evil.example","click")'  # a folder name cannot hold "/"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
needs_sandbox = pytest.mark.skipif(bubblewrap() is None, reason="bubblewrap cannot run here")


def kit_env(**extra: str) -> dict[str, str]:
    """The environment of a `dlkit grade` subprocess: this very kit, whatever is installed."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]), **extra)


def dlkit(*args: str | Path, script: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, str(script) if script else "-m", *([] if script else ["autograder.cli"])]
    return subprocess.run([*command, "grade", *map(str, args)], capture_output=True, text=True, cwd=REPO,
                          timeout=900, env=kit_env())


def copy_submission(parent: Path, name: str, modules: tuple[str, ...] | None = None) -> Path:
    folder = parent / name
    folder.mkdir(parents=True)
    for source in sorted(HONEST.glob("*.py")):
        if modules is None or source.stem in modules:
            shutil.copy(source, folder)
    return folder


def read_results(out: Path) -> dict[str, dict]:
    """Every results.json of a run, by the student id it records."""
    found = {}
    for path in out.glob("*/results.json"):
        data = json.loads(path.read_text())
        found[data["extra_data"]["dlkit_student"]] = data | {"folder": path.parent.name}
    return found


def csv_cells(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text())))


# --- student ids and CSV cells, without grading -------------------------------------------------

def test_every_odd_id_gets_a_folder_no_other_id_can_take():
    names = ["alice", "Alice", "grades.csv", "Report", "grader.log", ".hidden", "two\nlines", "tab\there",
             "\u202egnp.exe", " padded", "x" * 200, os.fsdecode(b"latin-\xe9"), "caf\u00e9", "cafe\u0301",
             f"{SAFE_PREFIX}alice", FORMULA, "-5", "中文"]
    folders = output_folders(names)
    assert len(set(folders.values())) == len(names), "two ids share a folder"
    assert len({f.casefold() for f in folders.values()}) == len(names), "two folders differ only in case"
    for name, folder in folders.items():
        assert folder.casefold() not in RESERVED and not folder.startswith(".")
        assert printable(folder) == folder and len(os.fsencode(folder)) <= 128 and "/" not in folder
        plain = folder == name
        assert plain != folder.startswith(SAFE_PREFIX), (name, folder)
    for plain in (FORMULA, "-5", "中文"):
        assert folders[plain] == plain
    for pair in (("Alice", "alice"), ("caf\u00e9", "cafe\u0301")):  # one name to a case-insensitive,
        assert sum(folders[name] == name for name in pair) == 1    # normalising file system
    assert output_folders(["report"])["report"] == output_folders(["bob", "report"])["report"]  # stable
    assert student_id(os.fsdecode(b"latin-\xe9")) == "latin-\\xe9"
    assert printable("two\nlines\x1b[31m") == "two\\nlines\\x1b[31m"


def test_an_id_never_writes_through_what_the_output_folder_already_holds(tmp_path):
    from autograder.grading.batch import plan

    out = tmp_path / "out"
    (out / "earlier").mkdir(parents=True)  # a student's folder of an earlier run: theirs again
    (out / "notes.txt").write_text("the instructor's notes")
    (out / "linked").symlink_to(tmp_path)
    folders = [tmp_path / "subs" / name for name in ("earlier", "notes.txt", "linked", "report")]
    places = {s.student: s.out for s in plan(folders, out)}
    assert places["earlier"] == out / "earlier"
    for name in ("notes.txt", "linked", "report"):
        assert places[name].parent == out and places[name].name.startswith(SAFE_PREFIX), name


def test_budget_flag_reaches_the_limits_and_a_rerun_with_other_limits_grades_again(tmp_path):
    from autograder.cli import grading_limits, main
    from autograder.grading.batch import grading_stamp
    from autograder.runner.sandbox import Limits

    assert grading_limits(7.5).submission_seconds == 7.5 and grading_limits(None) == Limits()
    with pytest.raises(SystemExit) as refused:
        main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), "--budget", "-1"])
    assert refused.value.code == 2
    assert grading_stamp(tmp_path, grading_limits(7.5)) != grading_stamp(tmp_path, Limits())


def test_csv_cells_never_start_a_formula_and_numbers_stay_numbers():
    text = csv_text(["student", "total"], [[FORMULA, 137.0], ["+1", 0.5], ["-x", 3], ["@SUM(A1)", 0.0],
                                           ["\t=1", 1], ["\r=1", 2], ["alice", 12.25]])
    rows = csv_cells_of(text)
    assert [r[0] for r in rows[1:]] == ["'" + FORMULA, "'+1", "'-x", "'@SUM(A1)", "'\t=1", "'\r=1", "alice"]
    assert [r[1] for r in rows[1:]] == ["137", "0.5", "3", "0", "1", "2", "12.25"]
    assert text_cell("ok") == "ok" and text_cell("") == ""


def csv_cells_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# --- one batch: odd ids, a formula, grader failures, an honest student --------------------------

FAULTS = '''
    """`dlkit grade` with two grader faults injected: the grader raises on the submission "boom",
    and the grader process dies on "crasher". The patch is made at import, so the spawned grader
    processes (which import this file as their main module) have it too."""
    import os
    import sys

    import autograder.grading.grade as grade

    real = grade.grade_submission


    def grade_submission(folder, *args, **kwargs):
        if folder.name == "boom":
            raise RecursionError("maximum recursion depth exceeded")
        if folder.name == "crasher":
            os._exit(3)
        return real(folder, *args, **kwargs)


    grade.grade_submission = grade_submission

    if __name__ == "__main__":
        from autograder.cli import main

        sys.exit(main(sys.argv[1:]))
'''


def deep_notebook(depth: int = 100_000) -> str:
    return '{"cells": ' + "[" * depth + "]" * depth + ', "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def odd_cell_notebook() -> str:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": [1, 2, 3]}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@needs_sandbox
def test_odd_ids_and_grader_failures_are_graded_in_one_batch_with_an_honest_student(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    copy_submission(subs, "honest")
    odd_ids = ["grades.csv", "report", "grader.log", FORMULA, "+cmd", "two\nlines"]
    for name in odd_ids:
        copy_submission(subs, name, modules=("perceptron",))
    for name in ("boom", "crasher"):
        copy_submission(subs, name, modules=("perceptron",))
    (subs / "deep").mkdir()
    (subs / "deep" / "perceptron.ipynb").write_text(deep_notebook())
    (subs / "odd_cell").mkdir()
    (subs / "odd_cell" / "perceptron.ipynb").write_text(odd_cell_notebook())
    script = tmp_path / "faulty_dlkit.py"
    script.write_text(textwrap.dedent(FAULTS))
    folders = sorted(subs.iterdir())

    run = dlkit(*folders, "--out", out, "--jobs", "2", script=script)
    assert run.returncode == 0, run.stdout + run.stderr
    results = read_results(out)
    assert set(results) == {student_id(f.name) for f in folders}, "every submission has its results.json"
    assert results["honest"]["score"] == results["honest"]["max_score"] > 0, results["honest"]["output"]
    for name in odd_ids:
        assert results[name]["score"] == 22, (name, results[name]["output"])  # perceptron, in full
        plain = name in (FORMULA, "+cmd")  # odd for a spreadsheet, fine for a folder
        assert (results[name]["folder"] == name) == plain
        assert results[name]["folder"].startswith(SAFE_PREFIX) != plain
    assert (out / "report" / "index.html").is_file() and (out / "report" / "students.csv").is_file()
    assert not (out / "grades.csv").is_dir() and (out / "grader.log").is_file()

    for name, reason in (("boom", "RecursionError"), ("crasher", "process")):
        data = results[name]
        assert data["score"] == 0 and data["tests"] and all(t["score"] == 0 for t in data["tests"])
        assert all("could not be graded" in t["output"] for t in data["tests"]), data["tests"][0]
        assert reason in data["tests"][0]["output"]
        assert "dlkit_fingerprint" not in data["extra_data"], "a rerun must try again"
    log = (out / "grader.log").read_text()
    assert "could not grade boom" in log and "Traceback" in log and "RecursionError" in log
    assert "could not grade crasher" in log
    for name in ("deep", "odd_cell"):  # odd notebooks: graded, or said to be ungradable, never lost
        assert results[name]["tests"] and results[name]["score"] == 0

    grades = {row[0]: row for row in csv_cells(out / "grades.csv")[1:]}
    expected = {text_cell(printable(student_id(f.name))) for f in folders}
    assert set(grades) == expected, "a row per student in grades.csv, by id"
    assert grades["honest"][-2:] == [f'{results["honest"]["max_score"]:g}'] * 2
    assert grades["'" + FORMULA][-2] == "22" and "two\\nlines" in grades
    students = {row[0] for row in csv_cells(out / "report" / "students.csv")[1:]}
    assert "'" + FORMULA in students and "grades.csv" in students and "report" in students
    for table in (out / "grades.csv", out / "report" / "students.csv", out / "report" / "tests.csv"):
        starts = [cell for row in csv_cells(table) for cell in row if cell.startswith(FORMULA_STARTS)]
        assert not starts, (table.name, starts)
    index = (out / "report" / "index.html").read_text()
    assert f'href="../{results["report"]["folder"]}/feedback.html"' in index


# --- stopping ------------------------------------------------------------------------------------

def proc_stat(pid: int) -> tuple[int, str, int, int, int] | None:
    """(ppid, state, session, start time, uid) of a live process, or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        uid = Path(f"/proc/{pid}/status").read_text().split("\nUid:")[1].split()[0]
    except (OSError, IndexError):
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[1]), fields[0], int(fields[3]), int(fields[19]), int(uid)


def all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def descendants(root: int) -> dict[int, int]:
    """Every live process under ``root``: pid -> start time."""
    children: dict[int, list[tuple[int, int]]] = {}
    for pid in all_pids():
        stat = proc_stat(pid)
        if stat:
            children.setdefault(stat[0], []).append((pid, stat[3]))
    found, todo = {}, [root]
    while todo:
        for pid, start in children.get(todo.pop(), []):
            found[pid] = start
            todo.append(pid)
    return found


def survivors(run_pid: int, seen: dict[int, int], marker: str, out: Path) -> list[str]:
    """Processes of the run still alive (zombies are dead): seen under it, in its session, with
    its marker in their environment, or naming its output folder."""
    alive = []
    for pid in all_pids():
        stat = proc_stat(pid)
        if stat is None or stat[1] in "ZX" or pid == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if (seen.get(pid) == stat[3] or stat[2] == run_pid or marker.encode() in environ
                or str(out).encode() in cmdline):
            alive.append(f"{pid} {cmdline.decode(errors='replace')[:150]}")
    return alive


def stop_a_run(tmp_path: Path, signum: int) -> tuple[Path, list[Path], float, subprocess.Popen, str]:
    """Start `dlkit grade --jobs 2` on eight submissions, send ``signum`` to its parent process
    alone once the first result is written; return when none of its processes is left (or fail
    after 5 s) with how long that took."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    folders = [copy_submission(subs, f"student{i}", modules=("perceptron", "activations", "mlp"))
               for i in range(8)]
    marker = f"DLKIT_TEST_RUN={uuid.uuid4().hex}"
    env = kit_env(**dict([marker.split("=")]))
    run = subprocess.Popen([sys.executable, "-m", "autograder.cli", "grade", *map(str, folders), "--out", str(out),
                            "--jobs", "2"], cwd=REPO, env=env, start_new_session=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[int, int] = {}
    deadline = time.monotonic() + 600
    while not list(out.glob("*/results.json")):
        assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline, "no result after 10 minutes"
        seen |= descendants(run.pid)
        time.sleep(0.2)
    seen |= descendants(run.pid)
    assert any(b"template.py" in cmdline(p) for p in seen), "the run's templates were never seen"
    os.kill(run.pid, signum)
    sent = time.monotonic()
    while time.monotonic() - sent < 5:
        left = survivors(run.pid, seen, marker, out)
        if not left and run.poll() is not None:
            break
        time.sleep(0.1)
    took = time.monotonic() - sent
    left = survivors(run.pid, seen, marker, out)
    assert not left, f"{len(left)} processes of the run left {took:.1f} s after {signal.Signals(signum).name}:\n" \
                     + "\n".join(left)
    assert run.poll() is not None
    print(f"\n{signal.Signals(signum).name}: every process of the run gone {took:.2f} s after the signal")
    return out, folders, took, run, marker


def finished_results(out: Path) -> dict[str, tuple[int, int]]:
    """The results written so far: student -> (inode, mtime), to tell a rewrite."""
    return {p.parent.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("*/results.json")}


def assert_the_rerun_finishes_the_rest(out: Path, folders: list[Path], finished: dict[str, tuple[int, int]]):
    rerun = dlkit(*folders, "--out", out, "--jobs", "2")
    assert rerun.returncode == 0, rerun.stderr
    after = finished_results(out)
    assert set(after) == {f.name for f in folders}
    assert {name: after[name] for name in finished} == finished, "a finished result was graded again"
    assert len(csv_cells(out / "grades.csv")) == len(folders) + 1


@needs_sandbox
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_to_the_parent_ends_every_process_and_the_rerun_resumes(tmp_path, signum):
    out, folders, took, run, _ = stop_a_run(tmp_path, signum)
    stdout, stderr = run.communicate()
    assert run.returncode == 128 + signum, stderr
    finished = finished_results(out)
    assert 1 <= len(finished) < len(folders)
    line = stderr.strip().splitlines()[-1]
    assert f"{len(finished)} of {len(folders)} submissions are graded" in line and "again" in line, stderr
    assert len(csv_cells(out / "grades.csv")) == len(finished) + 1, "grades.csv holds the finished ones"
    assert "stopped by" in (out / "grader.log").read_text()
    if signum == signal.SIGTERM:  # the rerun costs a minute: once is enough
        assert_the_rerun_finishes_the_rest(out, folders, finished)


@needs_sandbox
def test_a_killed_parent_leaves_no_grader_process_and_the_rerun_resumes(tmp_path):
    out, folders, took, run, _ = stop_a_run(tmp_path, signal.SIGKILL)
    run.communicate()
    assert run.returncode == -signal.SIGKILL
    finished = finished_results(out)
    assert 1 <= len(finished) < len(folders)
    assert_the_rerun_finishes_the_rest(out, folders, finished)


@needs_sandbox
def test_a_stop_while_grading_in_process_records_nothing_half_done(tmp_path):
    """``grade_batch`` in this very process (no pool, as a library caller may run it): a stop ends
    the batch after the current submission, whose cut-short grade is not recorded."""
    from autograder.grading import batch
    from autograder.runner.sandbox import Limits

    subs, out = tmp_path / "subs", tmp_path / "out"
    first = copy_submission(subs, "first", modules=("perceptron",))
    slow = copy_submission(subs, "slow", modules=("perceptron",))
    (slow / "perceptron.py").write_text("import time\n\n\ndef weighted_sum(x, w, b):\n    time.sleep(60)\n")
    third = copy_submission(subs, "third", modules=("perceptron",))

    def on_done(folder: Path, row: dict | None, error: str) -> None:
        if folder == first:  # the slow one is next: the signal comes while it runs
            threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM)).start()

    before = signal.getsignal(signal.SIGTERM)
    with batch.stop_on_signals(), pytest.raises(batch.Stopped) as stopped:
        batch.grade_batch([first, slow, third], out, jobs=1, on_done=on_done, limits=Limits(call_seconds=4))
    assert stopped.value.signum == signal.SIGTERM and stopped.value.finished == 1
    assert (out / "first" / "results.json").is_file()
    assert not (out / "slow" / "results.json").exists() and not (out / "third").exists()
    assert [row[0] for row in csv_cells(out / "grades.csv")] == ["student", "first"]
    assert signal.getsignal(signal.SIGTERM) == before, "the handlers of before are back"


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
