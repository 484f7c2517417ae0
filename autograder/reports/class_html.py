"""The class report page, ``report/index.html``: the figures, the tables behind them, and a
table of students linking to their feedback pages. All text from results is escaped."""

from __future__ import annotations

from urllib.parse import quote

from autograder.reports.markup import attr, html_text, percent, plural, points, score
from autograder.reports.stats import ClassStats, Mistake
from autograder.reports.style import page
from autograder.syllabus import BY_FOLDER

MISTAKES_SHOWN = 10  # in the table; up to MISTAKES_LISTED more behind a "show more" line
MISTAKES_LISTED = 50


def render_class_html(stats: ClassStats, figures: dict[str, str], feedback: set[str]) -> str:
    """``figures``: what each PNG shows -> its file name ("grades", "mistakes", or an assignment
    folder); ``feedback``: the output folders of the students that have a ``feedback.html``."""
    parts = [
        '<p class="eyebrow">dlkit · class report</p>',
        "<h1>Class report</h1>",
        f'<p class="lead">{summary_sentence(stats)}</p>',
    ]
    if stats.students:
        parts.append('<nav class="toc"><a href="#grades">Grade distribution</a><a href="#mistakes">Most common '
                     'mistakes</a><a href="#failures">Failure rate per test</a><a href="#students">Students</a>'
                     '<a href="tests.csv">tests.csv</a><a href="students.csv">students.csv</a></nav>')
    parts.append(headline(stats))
    if stats.unreadable:
        items = "".join(f"<li><b>{html_text(name)}</b>: {html_text(why)}</li>"
                        for name, why in sorted(stats.unreadable.items()))
        parts.append(f'<div class="callout"><b>Some results could not be read</b> and are left out:'
                     f"<ul>{items}</ul></div>")
    if stats.students:
        parts += [grades_section(stats, figures), mistakes_section(stats, figures),
                  failures_section(stats, figures), students_section(stats, feedback)]
    parts.append('<footer>Data: <a href="tests.csv">tests.csv</a> (one row per hidden test) · '
                 '<a href="students.csv">students.csv</a> (one row per student) · '
                 '<a href="../grades.csv">grades.csv</a></footer>')
    return page("Class report", "\n".join(parts))


def summary_sentence(stats: ClassStats) -> str:
    if not stats.students:
        return "No graded results were found: no <code>&lt;student&gt;/results.json</code> next to this folder."
    return (f"{plural(len(stats.students), 'student')} graded on {plural(len(stats.tests), 'hidden test')} "
            f"in {plural(len(stats.assignments), 'assignment')}. Each figure below has its numbers in a "
            "table or in the CSV files at the bottom of the page.")


def headline(stats: ClassStats) -> str:
    if not stats.students:
        return ""
    totals = sorted(s.score for s in stats.students)
    maximum = max(s.max_score for s in stats.students)
    mean = sum(totals) / len(totals)
    middle = len(totals) // 2
    median = totals[middle] if len(totals) % 2 else (totals[middle - 1] + totals[middle]) / 2
    full = sum(s.score >= s.max_score > 0 for s in stats.students)
    problems = sum(any(a.problem for a in s.assignments) for s in stats.students)
    cards = [(str(len(stats.students)), "students"),
             (f"{mean:.1f}", f"mean total of {points(maximum)} ({percent(mean, maximum)}%)"),
             (points(median), "median total"),
             (str(full), "full marks"),
             (str(problems), "with a module not graded")]
    items = "".join(f'<div class="stat"><b>{value}</b><span>{html_text(text)}</span></div>'
                    for value, text in cards)
    return f'<section class="card"><div class="stats">{items}</div></section>'


def figure(name: str, alt: str, caption: str = "") -> str:
    note = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f'<figure><img src="{attr(quote(name))}" alt="{attr(alt)}">{note}</figure>'


def grades_section(stats: ClassStats, figures: dict[str, str]) -> str:
    rows = []
    for a in stats.assignments:
        rows.append(f"<tr><td>{html_text(a.folder)} <span class=\"muted\">{html_text(a.title)}</span></td>"
                    f'<td class="num">{points(a.max_score)}</td><td class="num">{a.mean:.1f}</td>'
                    f'<td class="num">{points(a.median)}</td><td class="num">{points(min(a.scores))}</td>'
                    f'<td class="num">{points(max(a.scores))}</td><td class="num">{a.full_marks}</td>'
                    f'<td class="num">{len(a.not_graded)}</td></tr>')
    table = ('<table><thead><tr><th>Assignment</th><th class="num">Max</th><th class="num">Mean</th>'
             '<th class="num">Median</th><th class="num">Min</th><th class="num">Best</th>'
             '<th class="num">Full marks</th><th class="num">Not graded</th></tr></thead>'
             f"<tbody>{''.join(rows)}</tbody></table>")
    return ('<section class="card" id="grades"><header><h2>Grade distribution</h2></header>'
            + figure(figures["grades"], "Histograms of the scores of each assignment and of the totals",
                     "Number of students per score band; the dashed line is the mean. "
                     "“Not graded”: students whose module was missing or could not be imported.")
            + table + "</section>")


def mistakes_section(stats: ClassStats, figures: dict[str, str]) -> str:
    head = ('<section class="card" id="mistakes"><header><h2>Most common mistakes</h2></header>'
            '<p class="muted small">The hints the grader gave most often, counted once per student. '
            "Line numbers are removed before counting. Functions not implemented yet and modules "
            "that could not be graded are left out: they are not mistakes.</p>")
    if not stats.mistakes:
        return head + "<p>No implemented function failed a test.</p></section>"
    header = ('<thead><tr><th class="num">#</th><th>Assignment</th><th>Function</th><th>Hint</th>'
              '<th class="num">Students</th><th class="num">Failed tests</th></tr></thead>')
    shown = stats.mistakes[:MISTAKES_SHOWN]
    listed = stats.mistakes[MISTAKES_SHOWN:MISTAKES_SHOWN + MISTAKES_LISTED]
    rest = len(stats.mistakes) - len(shown) - len(listed)
    parts = [head, figure(figures["mistakes"], "Bar chart of the most common hints"),
             f'<table class="mistakes">{header}<tbody>{mistake_rows(shown, 0)}</tbody></table>']
    if listed:
        parts.append(f'<details class="more"><summary>Show {plural(len(listed), "more hint")}</summary>'
                     f'<table class="mistakes">{header}<tbody>{mistake_rows(listed, MISTAKES_SHOWN)}'
                     "</tbody></table></details>")
    if rest > 0:
        parts.append(f'<p class="muted small">{plural(rest, "other hint")}: see '
                     '<a href="tests.csv">tests.csv</a>.</p>')
    return "".join(parts) + "</section>"


def mistake_rows(mistakes: list[Mistake], start: int) -> str:
    return "".join(f'<tr><td class="num">{start + i + 1}</td><td>{html_text(m.assignment)}</td>'
                   f"<td><code>{html_text(m.function)}</code></td><td>{html_text(m.hint)}</td>"
                   f'<td class="num">{m.students}</td><td class="num">{m.tests}</td></tr>'
                   for i, m in enumerate(mistakes))


def failures_section(stats: ClassStats, figures: dict[str, str]) -> str:
    parts = ['<section class="card" id="failures"><header><h2>Failure rate of every hidden test</h2></header>'
             '<p class="muted small">The share of students who failed each test: red, the test failed; '
             "amber, the function was not implemented yet; grey, the module could not be graded. "
             "Per test, with the most common hint, in "
             '<a href="tests.csv">tests.csv</a>.</p>']
    for a in stats.assignments:
        if a.folder in figures:
            parts.append(figure(figures[a.folder], f"Failure rate of each hidden test of {a.folder}"))
    parts.append("</section>")
    return "".join(parts)


def short_name(folder: str) -> str:
    """A column's head: the assignment's number, or the whole folder when the syllabus does not know it."""
    return BY_FOLDER[folder].label if folder in BY_FOLDER else folder


def students_section(stats: ClassStats, feedback: set[str]) -> str:
    folders = [a.folder for a in stats.assignments]
    head = "".join(f'<th class="num">{html_text(short_name(f))}</th>' for f in folders)
    rows = []
    for student in stats.students:
        by_folder = {a.folder: a for a in student.assignments}
        cells = []
        for folder in folders:
            a = by_folder.get(folder)
            if a is None:
                cells.append('<td class="num muted">·</td>')
            elif a.problem:
                cells.append(f'<td class="num cell-none" title="{attr(a.problem)}">{points(a.score)}</td>')
            else:
                kind = "pass" if a.score >= a.max_score else "fail" if a.score <= 0 else "warn"
                cells.append(f'<td class="num cell-{kind}">{points(a.score)}</td>')
        name = html_text(student.student)
        if student.folder in feedback:
            name = f'<a href="../{attr(quote(student.folder))}/feedback.html">{name}</a>'
        rows.append(f"<tr><td>{name}</td>{''.join(cells)}"
                    f'<td class="num score">{score(student.score, student.max_score)}</td>'
                    f'<td class="num">{percent(student.score, student.max_score)}%</td></tr>')
    legend = ('<p class="muted small">Scores per assignment: green, full marks; amber, partial; red, none; '
              "grey, not graded (hover for the reason). Names link to each student's feedback.</p>")
    return ('<section class="card" id="students"><header><h2>Students</h2></header>' + legend
            + f'<table class="students"><thead><tr><th>Student</th>{head}<th class="num">Total</th>'
            f'<th class="num">%</th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>')
