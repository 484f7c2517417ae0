"""Reports on a grading run: per-student feedback (Markdown, HTML) and the class report."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import matplotlib.image
import pytest

from autograder import suites
from autograder.grading import grade
from autograder.grading.results import gradescope_json
from autograder.reports import write_class_report, write_feedback, write_reports
from autograder.reports.markup import html_text, md_text
from autograder.reports.model import parse_results
from autograder.syllabus import REPO

pytestmark = pytest.mark.fast  # in the edit-test loop's tier (dlkit selftest --fast)

EXAMPLES = REPO / "examples" / "submissions"
EVIL = "softmax raised ValueError: <script>alert('x')</script> & \"quotes\" (line 12, in softmax)"
MISSING = "`mlp.py` is missing from the submission"

# (module, graded name, test name, title, points)
TESTS = [
    ("activations", "relu_derivative", "test_relu_derivative_values", "relu_derivative is 1 where z > 0", 1.0),
    ("activations", "relu_derivative", "test_relu_derivative_zero", "relu_derivative(0) = 0 (the convention)", 1.0),
    ("activations", "softmax", "test_softmax_formula", "softmax matches the formula", 1.0),
    ("activations", "softmax", "test_softmax_dim", "softmax respects `dim`", 1.0),
    ("activations", "softmax", "test_softmax_large", "softmax is finite for large logits", 2.0),
    ("mlp", "dense", "test_dense_batch", "dense computes x @ W + b", 1.0),
    ("mlp", "dense", "test_dense_float64", "dense keeps float64", 2.0),
]
ZERO_HINT = "relu_derivative: the convention is relu'(0) = 0: use z > 0, not z >= 0"
STUB = "not implemented yet: your code raised NotImplementedError (line 9, in dense)"
# student -> {test name: hint of a failure}; a module in MODULE_MESSAGES scores zero with that message
FAILURES = {
    "alice": {"test_relu_derivative_zero": ZERO_HINT, "test_dense_float64": STUB},
    "bob": {"test_relu_derivative_zero": ZERO_HINT, "test_softmax_large": EVIL},
    "carol": {},
}
MODULE_MESSAGES = {"bob": {"mlp": MISSING}}
# the message a student read -> the grader's hint (the message without where it happened) and status
HINTS = {STUB: (STUB.removesuffix(" (line 9, in dense)"), grade.NOT_IMPLEMENTED),
         EVIL: (EVIL.removesuffix(" (line 12, in softmax)"), grade.FAILED)}


def results_json(student: str) -> dict:
    """What `dlkit grade` writes for a fake student, made by the real writer (gradescope_json)."""
    result = grade.SubmissionResult(student=student, module_messages=dict(MODULE_MESSAGES.get(student, {})))
    for module, item, name, title, points in TESTS:
        test = suites.TestInfo(module, item, name, title, points)
        message = result.module_messages.get(module) or FAILURES[student].get(name)
        hint, status = HINTS.get(message, ("", grade.NOT_GRADED if module in result.module_messages else ""))
        result.results.append(grade.TestResult(test, 0.0 if message else points, message or "", status=status,
                                               hint=hint))
    return gradescope_json(result)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A grading output folder with three students."""
    for student in FAILURES:
        (tmp_path / student).mkdir()
        (tmp_path / student / "results.json").write_text(json.dumps(results_json(student), indent=2))
    return tmp_path


def test_feedback_scores_every_function_and_shows_each_hint(out):
    paths = write_feedback(out / "alice")
    assert paths == [out / "alice" / "feedback.md", out / "alice" / "feedback.html"]
    md = paths[0].read_text()
    assert "**Total: 6 / 9 points (67%)**" in md
    assert "## 02_activations: Activation functions (5 / 6)" in md
    assert "### 02.6 `relu_derivative`: 1 / 2" in md
    assert "### 02.7 `softmax`: 4 / 4" in md
    assert "### 03.2 `dense`: 1 / 3" in md and "> Hint: not implemented yet: your code raised" in md
    assert md.count("relu'(0) = 0: use z > 0, not z >= 0") == 1
    failed = md.split("### 02.6 `relu_derivative`")[1].split("###")[0]
    assert "- relu_derivative(0) = 0 (the convention) (0 / 1)" in failed
    assert "✅ **Passed:**\n\n- relu_derivative is 1 where z > 0 (1 / 1)" in failed
    html = paths[1].read_text()
    assert "Feedback for alice" in html and "6 / 9" in html
    assert "1 of 2 failed" in html and "<code>relu_derivative</code>" in html
    assert "relu&#x27;(0) = 0: use z &gt; 0, not z &gt;= 0" in html


def test_feedback_escapes_student_text_and_is_self_contained(out):
    md_path, html_path = write_feedback(out / "bob")
    html = html_path.read_text()
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "<link" not in html and "@import" not in html and "<style>" in html
    md = md_path.read_text()
    assert not re.search(r"(?<!\\)<", md)  # every < is escaped: no tag can render
    assert "\\<script>alert('x')\\</script> & \"quotes\"" in md


def test_a_module_that_could_not_be_graded_gets_one_clear_message(out):
    md_path, html_path = write_feedback(out / "bob")
    md, html = md_path.read_text(), html_path.read_text()
    assert "## 03_mlp: Layers overcome XOR (0 / 3)" in md
    assert "**This assignment could not be graded:**" in md
    assert md.count(MISSING) == 1  # once, not once per test
    assert "None of its 2 hidden tests could run" in md
    assert "This assignment could not be graded." in html and "<code>mlp.py</code> is missing" in html
    assert html.count("is missing from the submission") == 1


def test_the_module_message_is_read_from_results_json_and_never_guessed():
    data = results_json("bob")
    student = parse_results("bob", data)
    assert [a.problem for a in student.assignments] == ["", MISSING]
    # every test of a module failing with the same hint is not a module-level problem by itself
    for assignment in data["extra_data"]["dlkit_assignments"]:
        assignment["problem"] = ""
    assert [a.problem for a in parse_results("bob", data).assignments] == ["", ""]


def test_notes_of_the_grader_reach_the_feedback(out):
    data = json.loads((out / "carol" / "results.json").read_text())
    data["extra_data"]["dlkit_assignments"][0]["notes"] = ["graded from `Copy of activations.ipynb`"]
    (out / "carol" / "results.json").write_text(json.dumps(data))
    md, html = (p.read_text() for p in write_feedback(out / "carol"))
    assert "> Note: graded from `Copy of activations.ipynb`" in md
    assert "<b>Note:</b> graded from <code>Copy of activations.ipynb</code>" in html


def translated(data: dict) -> dict:
    """``data`` with every piece of text Gradescope displays (each test's name and output, the
    summary) replaced: what a translation, or a new wording, of the display text would do."""
    data = json.loads(json.dumps(data))
    data["output"] = "Zusammenfassung: " + data["output"].upper().replace(" · ", " | ").replace(":", " =")
    for test in data["tests"]:
        test["name"] = "Test " + test["name"].replace(" · ", " / ").upper()
        test["output"] = "bestanden" if test["output"] == "passed" else "Fehler: " + test["output"][::-1]
    return data


def test_reports_read_data_never_the_display_text(tmp_path, out):
    """Feedback and class report come out the same when every displayed text is changed."""
    other = tmp_path / "translated"
    for student in FAILURES:
        (other / student).mkdir(parents=True)
        (other / student / "results.json").write_text(json.dumps(translated(results_json(student))))
    for where in (out, other):
        write_reports(where)
    for student in FAILURES:
        for name in ("feedback.md", "feedback.html"):
            assert (other / student / name).read_bytes() == (out / student / name).read_bytes(), (student, name)
    for name in ("tests.csv", "students.csv", "index.html"):
        assert (other / "report" / name).read_text() == (out / "report" / name).read_text(), name


def test_no_report_code_reads_the_display_text():
    """The reports' code never reads a test's name or output, nor the summary, never splits a name
    nor looks for the words of a hint (the translated run above shows it behaves so)."""
    for path in (REPO / "autograder" / "reports").glob("*.py"):
        text = path.read_text()
        for key in ("name", "output"):
            assert f'get("{key}"' not in text and f'["{key}"]' not in text, (path.name, key)
        assert 'split(" · "' not in text and "SEPARATOR" not in text and 'startswith("not' not in text, path.name


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def test_class_report_files_plots_and_failure_rates(out):
    index = write_class_report(out)
    report = out / "report"
    assert index == report / "index.html"
    names = sorted(p.name for p in report.iterdir())
    assert names == ["failures-02_activations.png", "failures-03_mlp.png", "grades.png", "index.html",
                     "mistakes.png", "students.csv", "tests.csv"]
    for png in report.glob("*.png"):
        image = matplotlib.image.imread(png)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 500, png.name
        assert b"Software" not in png.read_bytes()[:200]
    rows = read_csv(report / "tests.csv")
    assert [(r["function"], r["test"]) for r in rows] == [(item, title) for _, item, _, title, _ in TESTS]
    by_test = {r["test"]: r for r in rows}
    zero = by_test["relu_derivative(0) = 0 (the convention)"]
    assert (zero["students"], zero["failed"], zero["failure_rate"], zero["not_graded"]) == ("3", "2", "0.6667", "0")
    assert (zero["most_common_hint"], zero["most_common_hint_count"]) == (ZERO_HINT, "2")
    large = by_test["softmax is finite for large logits"]
    assert (large["max_points"], large["failed"], large["failure_rate"]) == ("2", "1", "0.3333")
    assert large["most_common_hint"] == EVIL.removesuffix(" (line 12, in softmax)")
    dense = by_test["dense keeps float64"]
    assert (dense["failed"], dense["failure_rate"], dense["not_graded"], dense["not_implemented"]) == (
        "2", "0.6667", "1", "1")
    assert dense["most_common_hint"] == ""  # a stub or a missing module is not a mistake
    assert by_test["softmax matches the formula"]["failure_rate"] == "0"
    students = read_csv(report / "students.csv")
    assert [(s["student"], s["02_activations"], s["03_mlp"], s["total"], s["not_graded"]) for s in students] == [
        ("alice", "5", "1", "6", ""), ("bob", "3", "0", "3", "03_mlp"), ("carol", "6", "3", "9", "")]
    html = index.read_text()
    assert "<script" not in html.lower() and "&lt;script&gt;" in html
    mistakes = html.split('id="mistakes"')[1].split("</section>")[0]
    assert "relu_derivative: the convention" in mistakes and "not implemented" not in mistakes.split("</p>", 1)[1]
    for png in report.glob("*.png"):
        assert f'src="{png.name}"' in html


def test_class_report_is_deterministic_and_written_atomically(out):
    write_class_report(out)
    first = {p.name: p.read_bytes() for p in (out / "report").iterdir()}
    (out / "report" / "failures-99_old.png").write_bytes(b"stale")
    write_class_report(out)
    second = {p.name: p.read_bytes() for p in (out / "report").iterdir()}
    assert first == second  # the same bytes, and the stale figure is gone
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_write_reports_links_students_to_their_feedback_and_survives_a_broken_file(out):
    (out / "dan").mkdir()
    (out / "dan" / "results.json").write_text('{"tests": [')
    (out / "notes").mkdir()  # a folder without results.json is not a student
    written = write_reports(out)
    assert written[-1] == out / "report" / "index.html"
    assert {p.parent.name for p in written[:-1]} == {"alice", "bob", "carol"}
    html = written[-1].read_text()
    assert 'href="../bob/feedback.html"' in html
    assert "Some results could not be read" in html and "dan" in html
    assert [r["student"] for r in read_csv(out / "report" / "students.csv")] == ["alice", "bob", "carol"]


def test_an_empty_grading_run_still_gets_a_report(tmp_path):
    index = write_class_report(tmp_path)
    assert "No graded results were found" in index.read_text()
    assert read_csv(tmp_path / "report" / "tests.csv") == []


def test_text_helpers_escape_markup():
    assert md_text("lr*gW, b - lr*gb <b>x</b> [a](b) `code <x>` weighted_sum") == (
        "lr\\*gW, b - lr\\*gb \\<b>x\\</b> \\[a\\](b) `code <x>` weighted_sum")
    assert md_text("- 1. # not a list") == "\\- 1. # not a list"
    assert html_text("`a<b>` <i>&") == "<code>a&lt;b&gt;</code> &lt;i&gt;&amp;"


@pytest.mark.slow
@pytest.mark.skipif(not (EXAMPLES / "ben").is_dir(), reason="the example submissions are not built")
def test_reports_on_the_graded_example_class(tmp_path):
    from autograder.grading.batch import default_jobs, grade_batch

    folders = [EXAMPLES / name for name in ("ben", "dev", "eli")]  # hints, a syntax error, nothing
    rows, failures = grade_batch(folders, tmp_path, min(default_jobs(), len(folders)))
    assert not failures and len(rows) == len(folders)
    write_reports(tmp_path)
    ben = (tmp_path / "ben" / "feedback.md").read_text()
    assert "use z > 0, not z >= 0" in ben and "subtract each row's max first" in ben
    assert "### 02.6 `relu_derivative`: 1 / 2" in ben and "### 02.7 `softmax`: 3 / 4" in ben
    dev = (tmp_path / "dev" / "feedback.html").read_text()
    assert "syntax error on line" in dev and "<code>mlp.py</code> is missing from the submission" in dev
    eli = (tmp_path / "eli" / "feedback.md").read_text()
    assert eli.count("**This assignment could not be graded:**") == 7
    tests = read_csv(tmp_path / "report" / "tests.csv")
    assert len(tests) == len(json.loads((tmp_path / "ben" / "results.json").read_text())["tests"])
    assert all(int(t["students"]) == len(folders) for t in tests)
    for png in (tmp_path / "report").glob("*.png"):
        assert matplotlib.image.imread(png).ndim == 3
