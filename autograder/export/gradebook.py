"""The manual scores of nbgrader's gradebook: what the instructor graded by hand in formgrader.

A cell is graded by hand when it is a solution cell that is also a grade cell (a written answer,
"Manually graded answer" in nbgrader's cell toolbar) or a task cell; everything else nbgrader
scores (the autograded tests) is left to ``grades.csv``, whose sandboxed scores are the ones to
trust. A manual cell's score is nbgrader's own ``Grade.score``: the manual score when the
instructor gave one, else what nbgrader's autograde gave it (0 for an answer left as released).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autograder.export.grades import ExportError
from autograder.syllabus import ASSIGNMENTS


@dataclass
class ManualScores:
    scores: dict[tuple[str, str], float] = field(default_factory=dict)  # (student, assignment) -> points
    maxima: dict[str, float] = field(default_factory=dict)  # assignment -> points of its manual cells
    ungraded: dict[str, int] = field(default_factory=dict)  # assignment -> manual cells still waiting


def gradebook_location(path: str) -> tuple[str, str]:
    """(database URL, course id) of a course folder (read from its nbgrader_config.py as nbgrader
    reads it: by default ``<folder>/gradebook.db``), a gradebook file (its folder is the course),
    or a database URL (nbgrader's default course id)."""
    if "://" in path:
        return path, "default_course"
    given = Path(path).expanduser().absolute()
    root, file = (given, None) if given.is_dir() else (given.parent, given)
    if file is not None and not file.is_file():
        raise ExportError(f"no nbgrader gradebook at {file}")
    if not (root / "nbgrader_config.py").is_file():  # nbgrader's defaults (its app would read the cwd's config)
        file = file or root / "gradebook.db"
        if not file.is_file():
            raise ExportError(f"no nbgrader gradebook at {file} (run nbgrader autograde first)")
        return f"sqlite:///{file}", "default_course"
    import logging

    from nbgrader.apps.baseapp import NbGrader

    app = NbGrader(load_cwd_config=False, log_level=logging.ERROR)  # the course's configuration, not the cwd's
    app.initialize([], root=str(root))
    url = f"sqlite:///{file}" if file is not None else app.coursedir.db_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise ExportError(f"no nbgrader gradebook at {url.removeprefix('sqlite:///')} (run nbgrader autograde first)")
    return url, app.coursedir.course_id


def manual_scores(path: str) -> ManualScores:
    from nbgrader.api import Gradebook, MissingEntry

    found = ManualScores()
    try:
        gradebook = Gradebook(*gradebook_location(path))
    except ExportError:
        raise
    except Exception as exc:  # noqa: BLE001 - sqlalchemy's errors: not a gradebook
        raise ExportError(f"{path} could not be opened as nbgrader's gradebook ({type(exc).__name__})") from None
    with gradebook:
        for assignment in ASSIGNMENTS:
            try:
                definition = gradebook.find_assignment(assignment.folder)
            except MissingEntry:
                continue
            manual = {nb.name: manual_cells(nb) for nb in definition.notebooks}
            found.maxima[assignment.folder] = sum(maximum for cells in manual.values() for maximum in cells.values())
            for submission in definition.submissions:
                total = 0.0
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        if grade.name not in manual.get(notebook.name, {}):
                            continue
                        total += grade.score or 0.0
                        if grade.needs_manual_grade:
                            found.ungraded[assignment.folder] = found.ungraded.get(assignment.folder, 0) + 1
                found.scores[(submission.student.id, assignment.folder)] = total
    return found


def manual_cells(notebook) -> dict[str, float]:
    """The cells of a notebook graded by hand: cell name -> points."""
    answers = {cell.name for cell in notebook.solution_cells}
    cells = {cell.name: float(cell.max_score) for cell in notebook.grade_cells if cell.name in answers}
    cells.update({cell.name: float(cell.max_score) for cell in notebook.task_cells})
    return cells
