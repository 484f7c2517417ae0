"""Write the class report of a grading run: ``<out>/report/`` with ``index.html``, its PNG figures,
``tests.csv`` and ``students.csv``."""

from __future__ import annotations

from pathlib import Path

from autograder.reports.class_html import render_class_html
from autograder.files import atomic_write
from autograder.reports.markup import slug
from autograder.reports.plots import failure_chart, grade_histograms, mistakes_chart
from autograder.reports.stats import class_stats, load_class
from autograder.reports.tables import students_csv, tests_csv

REPORT = "report"
MISTAKES_PLOTTED = 10


def write_class_report(out_dir: Path) -> Path:
    """Read every ``out_dir/*/results.json`` and write ``out_dir/report/``; returns the path of
    ``index.html``. Figures of an earlier run that this run does not make are removed."""
    folder = out_dir / REPORT
    students, unreadable = load_class(out_dir)
    stats = class_stats(students, unreadable)
    images: dict[str, bytes] = {}
    figures: dict[str, str] = {}
    if stats.students:
        figures["grades"] = "grades.png"
        images["grades.png"] = grade_histograms(stats)
        if stats.mistakes:
            figures["mistakes"] = "mistakes.png"
            images["mistakes.png"] = mistakes_chart(stats.mistakes[:MISTAKES_PLOTTED])
        for assignment in stats.assignments:
            tests = [t for t in stats.tests if t.assignment == assignment.folder]
            name = f"failures-{slug(assignment.folder)}.png"
            figures[assignment.folder] = name
            images[name] = failure_chart(assignment, tests)
    for name, data in images.items():
        atomic_write(folder / name, data)
    for stale in [*folder.glob("failures-*.png"), folder / "grades.png", folder / "mistakes.png"]:
        if stale.name not in images:
            stale.unlink(missing_ok=True)
    atomic_write(folder / "tests.csv", tests_csv(stats))
    atomic_write(folder / "students.csv", students_csv(stats))
    feedback = {s.folder for s in stats.students if (out_dir / s.folder / "feedback.html").is_file()}
    return atomic_write(folder / "index.html", render_class_html(stats, figures, feedback))
