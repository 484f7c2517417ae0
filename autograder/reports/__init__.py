"""Reports on a grading run (``dlkit grade ... --out DIR``), from the ``results.json`` files alone.

- ``write_feedback(DIR/<student>)``: ``feedback.md`` and ``feedback.html`` beside the student's
  ``results.json``: per assignment, per graded function, every hidden test, each failure's hint.
- ``write_class_report(DIR)``: ``DIR/report/index.html`` with grade histograms, the failure rate of
  every hidden test and the most common mistakes (PNG figures), plus ``tests.csv`` and
  ``students.csv``.
- ``write_reports(DIR)``: both, for every student; what ``dlkit grade`` runs after grading.
"""

from __future__ import annotations

from pathlib import Path

from autograder.reports.class_report import write_class_report
from autograder.reports.feedback import write_all_feedback, write_feedback


def write_reports(out_dir: Path) -> list[Path]:
    """Every student's feedback, then the class report (whose names link to the feedback pages).

    Returns every file written, the class report's ``index.html`` last.
    """
    return [*write_all_feedback(out_dir), write_class_report(out_dir)]


__all__ = ["write_all_feedback", "write_class_report", "write_feedback", "write_reports"]
