"""Write a student's feedback next to their ``results.json``."""

from __future__ import annotations

from pathlib import Path

from autograder.files import atomic_write
from autograder.reports.feedback_html import render_html
from autograder.reports.feedback_md import render_markdown
from autograder.reports.model import UNREADABLE, load_student


def write_feedback(student_dir: Path) -> list[Path]:
    """Read ``student_dir/results.json``; write ``feedback.md`` and ``feedback.html`` beside it.

    Returns the two paths written.
    """
    student = load_student(student_dir)
    return [atomic_write(student_dir / "feedback.md", render_markdown(student)),
            atomic_write(student_dir / "feedback.html", render_html(student))]


def write_all_feedback(out_dir: Path) -> list[Path]:
    """``write_feedback`` for every ``out_dir/<student>/results.json``, students in name order.

    A ``results.json`` that cannot be read is skipped (the class report names it); the others
    still get their feedback.
    """
    written: list[Path] = []
    for results in sorted(out_dir.glob("*/results.json")):
        try:
            written += write_feedback(results.parent)
        except UNREADABLE:
            continue
    return written
