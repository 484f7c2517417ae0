"""`dlkit grade`: full marks for the reference, zero for the stubs, clear messages for odd input."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from autograder.grading.grade import grade_submission
from autograder.suites import tests_of
from autograder.syllabus import ASSIGNMENTS, MODULES, SOLUTIONS

DLKIT = [sys.executable, "-m", "autograder.cli"]


@pytest.mark.fast
def test_the_reference_scores_full_marks(reference_copy):
    result = grade_submission(reference_copy)
    lost = [f"{r.test.nodeid}: {r.output}" for r in result.results if r.score < r.test.points]
    assert not lost, "\n".join(lost)
    assert result.score() == result.max_score() > 0


@pytest.mark.fast
def test_the_untouched_stubs_score_zero(stub_copy):
    result = grade_submission(stub_copy)
    earned = [r.test.nodeid for r in result.results if r.score > 0]
    assert not earned, earned
    assert all("not implemented yet" in r.output for r in result.results)


@pytest.mark.fast
def test_every_module_has_a_suite_and_every_graded_name_is_tested():
    for assignment in ASSIGNMENTS:
        tested = {t.item for t in tests_of(assignment.module)}
        assert tested == set(assignment.items), assignment.module


def test_odd_submissions_get_clear_messages_and_the_rest_is_graded(submission):
    good = (SOLUTIONS / "activations.py").read_text()
    folder = submission("odd", activations=good, mlp="def forward(x:\n    pass\n",
                        losses="import sys\nsys.exit(3)\n")
    (folder / "notes.txt").write_text("my notes")
    (folder / "data.bin").write_bytes(os.urandom(1000))
    (folder / "conftest.py").write_text("raise SystemExit('should never run')\n")
    (folder / "perceptron.py").mkdir()
    (folder / "backprop.py").write_bytes(b"\x00\x01binary")
    os.symlink(SOLUTIONS / "training.py", folder / "training.py")
    (folder / "Torch_MLP.py").write_text("x = 1\n")
    result = grade_submission(folder)
    messages = result.module_messages
    assert result.score("activations") == result.max_score("activations")
    assert "syntax error on line 1" in messages["mlp"]
    assert "SystemExit" in messages["losses"]
    assert "folder" in messages["perceptron"]
    assert "binary" in messages["backprop"]
    assert "symbolic link" in messages["training"]
    assert "missing" in messages["torch_mlp"] and "Torch_MLP.py" in messages["torch_mlp"]
    for module in ("mlp", "losses", "perceptron", "backprop", "training", "torch_mlp"):
        assert result.score(module) == 0


@pytest.mark.fast
def test_a_huge_module_is_rejected_unread(submission):
    folder = submission("huge", mlp="x = 1\n" + "# padding\n" * 80_000)
    result = grade_submission(folder, modules=("mlp",))
    assert "at most 512 KiB" in result.module_messages["mlp"] and result.score() == 0


def test_edited_notebooks_are_graded_as_far_as_they_can_be(tmp_path):
    """A deleted answer cell costs that function; a duplicated one: the last copy counts."""
    import nbformat

    from autograder.cells import role_of
    from autograder.syllabus import BY_MODULE
    from notebook_helpers import reference_answers, student_notebook, write_notebook

    assignment = BY_MODULE["activations"]
    notebook = student_notebook(assignment, reference_answers(assignment))
    cells = notebook.cells
    relu = next(i for i, c in enumerate(cells) if (role_of(c) or {}).get("name") == "relu" and role_of(c)["role"] == "answer")
    softmax = next(c for c in cells if (role_of(c) or {}).get("name") == "softmax" and role_of(c)["role"] == "answer")
    broken = nbformat.from_dict(softmax)
    broken.id = "a-copy-of-softmax"  # Jupyter gives a copied cell an id of its own
    broken.source = softmax.source.replace("keepdim=True)\n    return", "keepdim=True)\n    return 0 *")
    cells.insert(cells.index(softmax), broken)  # an earlier, wrong copy: the later one counts
    del cells[relu]
    write_notebook(tmp_path / "nb" / "activations.ipynb", notebook)
    result = grade_submission(tmp_path / "nb", modules=("activations",))
    by_item = {}
    for r in result.results:
        by_item.setdefault(r.test.item, []).append(r)
    assert all(r.score == 0 and "answer cell of `relu`" in r.output for r in by_item["relu"])
    assert all(r.score == r.test.points for r in by_item["softmax"] + by_item["sigmoid"])
    assert any("carry the id `softmax`" in note for note in result.notes["activations"])


@pytest.mark.fast
def test_an_empty_folder_is_graded_as_all_missing(submission):
    result = grade_submission(submission("empty"))
    assert result.score() == 0 and result.max_score() > 0
    assert all("is missing from the submission" in r.output for r in result.results)


def test_from_scratch_violations_cost_only_that_function(submission):
    source = (SOLUTIONS / "activations.py").read_text().replace(
        "    e = torch.exp(-z.abs())\n    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))",
        "    return torch.sigmoid(z)")
    result = grade_submission(submission("cheat", activations=source), modules=("activations",))
    sigmoid = [r for r in result.results if r.test.item == "sigmoid"]
    assert all(r.score == 0 and "torch.sigmoid" in r.output for r in sigmoid)
    others = [r for r in result.results if r.test.item != "sigmoid"]
    assert all(r.score == r.test.points for r in others)


def validate_gradescope(data: dict) -> None:
    """Gradescope's results.json schema, as its autograder specification describes it."""
    assert isinstance(data["score"], (int, float)) and isinstance(data["execution_time"], (int, float))
    assert data["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    assert isinstance(data["tests"], list) and data["tests"]
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "output", "visibility"}
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    assert abs(sum(t["score"] for t in data["tests"]) - data["score"]) < 1e-9
    assert abs(sum(t["max_score"] for t in data["tests"]) - data["max_score"]) < 1e-9


def test_the_cli_writes_results_and_grades(tmp_path, reference_copy, submission):
    partial = submission("partial", perceptron=(SOLUTIONS / "perceptron.py").read_text())
    empty = submission("empty")
    out = tmp_path / "out"
    run = subprocess.run([*DLKIT, "grade", str(reference_copy), str(partial), str(empty), "--out", str(out),
                          "--jobs", "2"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    for student in ("reference", "partial", "empty"):
        validate_gradescope(json.loads((out / student / "results.json").read_text()))
    rows = {row["student"]: row for row in csv.DictReader((out / "grades.csv").open())}
    assert set(rows) == {"reference", "partial", "empty"}
    assert list(next(iter(rows.values()))) == ["student", *[a.folder for a in ASSIGNMENTS], "total", "max_total"]
    assert rows["reference"]["total"] == rows["reference"]["max_total"]
    assert float(rows["partial"]["01_perceptron"]) > 0 and float(rows["partial"]["02_activations"]) == 0
    assert float(rows["partial"]["total"]) == float(rows["partial"]["01_perceptron"])
    assert float(rows["empty"]["total"]) == 0
    assert "reference" in run.stdout  # the grade table


def test_the_cli_exits_non_zero_only_when_it_could_not_grade(tmp_path, submission):
    out = tmp_path / "out"
    ok = subprocess.run([*DLKIT, "grade", str(submission("nobody")), "--out", str(out)],
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    missing = subprocess.run([*DLKIT, "grade", str(tmp_path / "does-not-exist"), "--out", str(out)],
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode != 0 and "not a folder" in missing.stderr


@pytest.mark.parametrize("module", MODULES)
def test_grading_is_deterministic(module, reference_copy, submission):
    """Same submission, same score and messages, every run (a buggy one, where messages matter)."""
    from autograder.mutants import mutation

    bugs = [e for e in mutation.load((module,)) if e.kind == "bug"][:1]
    folder = submission(f"det-{module}", **{module: bugs[0].apply()})
    first, second = (grade_submission(folder, modules=(module,)) for _ in range(2))
    assert [(r.score, r.output) for r in first.results] == [(r.score, r.output) for r in second.results]


def test_an_interrupted_batch_finishes_the_rest_without_regrading(tmp_path, submission):
    """Kill `dlkit grade` half-way; run it again: what was done is kept, the rest is graded."""
    import signal
    import time

    good = (SOLUTIONS / "perceptron.py").read_text()
    folders = [submission(f"s{i}", perceptron=good) for i in range(6)]
    out = tmp_path / "out"
    command = [*DLKIT, "grade", *map(str, folders), "--out", str(out), "--jobs", "1"]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(out.glob("*/results.json"))) < 2:
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    done = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
    assert 2 <= len(done) < 6, done
    for path in out.rglob("*"):
        assert not path.name.endswith(".tmp"), "a half-written file was left behind"
    second = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    after = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
    assert set(after) == {f"s{i}" for i in range(6)}
    assert all(after[name] == mtime for name, mtime in done.items()), "finished results were graded again"
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert len(rows) == 6 and all(float(r["01_perceptron"]) > 0 for r in rows)
    # a changed submission, or --force, is graded again
    (folders[0] / "perceptron.py").write_text(good + "\n# changed\n")
    subprocess.run([*command], capture_output=True, timeout=600, check=True)
    assert (out / "s0" / "results.json").stat().st_mtime_ns != after["s0"]
    assert (out / "s1" / "results.json").stat().st_mtime_ns == after["s1"]


MEMORY_SCAN = '''
import ctypes
import hashlib


def scan(prefix, digest, length):
    """Whether this process's writable memory holds `prefix` followed by the `length` bytes whose
    sha256 is `digest` (so the text searched for is never whole in the code that searches)."""
    try:
        ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: our own /proc/self/mem readable
    except Exception:
        pass
    needle, scanned = prefix.encode(), 0
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    with open("/proc/self/mem", "rb", 0) as mem:
        for fields in regions:
            if len(fields) < 2 or not fields[1].startswith("rw"):
                continue
            start, end = (int(v, 16) for v in fields[0].split("-"))
            for offset in range(start, end, 1 << 24):
                try:
                    mem.seek(offset)
                    chunk = mem.read(min(end - offset, (1 << 24) + 4096))
                except (OSError, OverflowError, ValueError):
                    continue
                scanned += len(chunk)
                at = chunk.find(needle)
                while at >= 0:
                    tail = chunk[at + len(needle):at + len(needle) + length]
                    if hashlib.sha256(tail).hexdigest() == digest:
                        return [True, scanned]
                    at = chunk.find(needle, at + 1)
    return [False, scanned]
'''


def test_a_worker_holds_no_bytes_of_an_earlier_students_submission(submission):
    """Issue 11: a worker forked after another student was graded (same template) scans its own
    memory for that student's marker and finds nothing; it does find its own (the scan works)."""
    import hashlib
    import secrets

    from autograder.runner.session import Session
    from autograder.support import ready_made_sources
    from autograder.runner.transport import ForkedTransport, LoadRequest, fork_server

    def marker() -> tuple[str, str]:
        return "dlkitscan" + secrets.token_hex(4), secrets.token_hex(16)

    (x_prefix, x_secret), (y_prefix, y_secret) = marker(), marker()
    earlier = submission("x", activations=(SOLUTIONS / "activations.py").read_text()
                         + f"\n# {x_prefix}{x_secret}\nMARKER = '{x_prefix}{x_secret}'\n")
    assert grade_submission(earlier, modules=("activations",)).score() > 0
    later = MEMORY_SCAN + f"\nOWN_MARKER = '{y_prefix}{y_secret}'\n"
    transport = ForkedTransport(LoadRequest("activations", sources={"activations": later},
                                            ready_made=ready_made_sources("activations")), server=fork_server())
    session = Session(transport, "activations")
    try:
        transport.start()
        assert transport.import_error is None, transport.import_error

        def found(prefix: str, secret: str) -> bool:
            hit, scanned = session.call("scan", prefix, hashlib.sha256(secret.encode()).hexdigest(), len(secret),
                                        timeout=120)
            assert scanned > 10 * 2**20, "the worker could not read its own memory"
            return hit

        assert found(y_prefix, y_secret), "the scan cannot even find the worker's own marker"
        assert not found(x_prefix, x_secret), "an earlier student's source is in a later worker's memory"
    finally:
        session.close()
