"""A student's feedback as one self-contained HTML page (inline CSS, no scripts, no external files).

Every piece of text from ``results.json`` is escaped (``markup.html_text``): hints can quote the
student's own exception messages.
"""

from __future__ import annotations

from autograder.reports.feedback_md import INTRO, assignment_status
from autograder.reports.markup import attr, html_text, percent, plural, score, slug
from autograder.reports.model import AssignmentResult, FunctionResult, StudentResults, TestEntry
from autograder.reports.style import bar, page


def render_html(student: StudentResults) -> str:
    """The whole feedback page."""
    name = html_text(student.student)
    parts = [
        '<p class="eyebrow">dlkit · feedback on the hidden tests</p>',
        f"<h1>Feedback for {name}</h1>",
        f'<p class="lead">{html_text(INTRO)}</p>',
        '<section class="card"><div class="hero">'
        f'<div class="big">{score(student.score, student.max_score)} <small>points · '
        f"{percent(student.score, student.max_score)}%</small></div>"
        f"{bar(student.score, student.max_score)}</div></section>",
    ]
    if not student.assignments:
        parts.append('<section class="card"><p>No hidden tests were run: <code>results.json</code> '
                     "lists no tests.</p></section>")
    else:
        parts.append(overview(student))
        parts += [assignment_section(a) for a in student.assignments]
    return page(f"Feedback for {name}", "\n".join(parts))


def overview(student: StudentResults) -> str:
    rows = []
    for a in student.assignments:
        rows.append(f'<tr><td><a href="#{attr(slug(a.folder))}">{html_text(a.folder)}</a> '
                    f'<span class="muted">{html_text(a.title)}</span></td>'
                    f'<td class="barcell">{bar(a.score, a.max_score)}</td>'
                    f'<td class="num score">{score(a.score, a.max_score)}</td>'
                    f"<td>{status_pill(a)}</td></tr>")
    return ('<section class="card"><header><h2>Overview</h2></header><table>'
            '<thead><tr><th>Assignment</th><th></th><th class="num">Score</th><th>Result</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></section>")


def status_pill(assignment: AssignmentResult) -> str:
    kind = ("warn" if assignment.problem else "pass" if all(t.passed for t in assignment.tests)
            else "fail")
    text = "not graded" if assignment.problem else assignment_status(assignment)
    return f'<span class="pill {kind}">{html_text(text)}</span>'


def assignment_section(assignment: AssignmentResult) -> str:
    parts = [f'<section class="card" id="{attr(slug(assignment.folder))}"><header>'
             f"<h2>{html_text(assignment.folder)} "
             f'<span class="muted">{html_text(assignment.title)}</span></h2>'
             f'<span class="score">{score(assignment.score, assignment.max_score)}</span></header>']
    parts += [f'<div class="note"><b>Note:</b> {html_text(note)}</div>' for note in assignment.notes]
    if assignment.problem:
        parts.append('<div class="callout"><b>This assignment could not be graded.</b> '
                     f'{html_text(assignment.problem)}<span class="then">None of its '
                     f"{plural(len(assignment.tests), 'hidden test')} could run, so each of its "
                     "functions scores 0. The tests it would have run are listed below.</span></div>")
    if assignment.problem or all(t.passed for t in assignment.tests):
        parts.append(compact_functions(assignment))
    else:
        parts += [function_block(f) for f in assignment.functions]
    parts.append("</section>")
    return "\n".join(parts)


def function_block(function: FunctionResult) -> str:
    """One graded function: a summary line, opened when a test failed (unless it is a stub)."""
    failed = bool(function.failed)
    if function.not_implemented:
        pill = '<span class="pill warn">not implemented yet</span>'
    elif failed:
        pill = f'<span class="pill fail">{len(function.failed)} of {len(function.tests)} failed</span>'
    else:
        pill = f'<span class="pill pass">{len(function.tests)} of {len(function.tests)} passed</span>'
    number = f'<span class="num">{html_text(function.number)}</span>' if function.number else ""
    summary = (f'<summary><span class="name">{number}<code>{html_text(function.name)}</code></span>'
               f'{pill}<span class="score">{score(function.score, function.max_score)}</span></summary>')
    body = []
    for hint, tests in function.hint_groups():
        label = "Failed" if len(tests) == 1 else f"Failed: {len(tests)} tests with the same hint"
        todo = " todo" if all(t.not_implemented for t in tests) else ""
        body.append(f'<p class="group-label">{label}</p>{test_list(tests, "fail")}'
                    f'<div class="hint{todo}"><b>Hint:</b> '
                    f"{html_text(hint) if hint else 'the grader gave no message.'}</div>")
    if function.passed:
        label = "Passed" if failed else f"All {plural(len(function.passed), 'test')} passed"
        body.append(f'<p class="group-label">{label}</p>{test_list(function.passed, "pass")}')
    opened = " open" if failed and not function.not_implemented else ""
    return f'<details class="fn"{opened}>{summary}<div class="body">{"".join(body)}</div></details>'


def compact_functions(assignment: AssignmentResult) -> str:
    """Functions as a row of chips, their tests behind one "show" line: for an assignment where
    every test passed, or where nothing could be graded."""
    kind = "none" if assignment.problem else "pass"
    chips = "".join(f'<span class="chip {kind}"><code>{html_text(f.name)}</code> '
                    f'<span class="score">{score(f.score, f.max_score)}</span></span>'
                    for f in assignment.functions)
    count = plural(len(assignment.tests), "hidden test")
    label = f"Show the {count} that could not run" if assignment.problem else f"Show the {count} (all passed)"
    groups = "".join(f'<p class="group-label">{function_label(f)}</p>{test_list(f.tests, kind)}'
                     for f in assignment.functions)
    return (f'<div class="chips">{chips}</div><details class="more"><summary>{label}</summary>'
            f'<div class="body">{groups}</div></details>')


def function_label(function: FunctionResult) -> str:
    number = f"{html_text(function.number)} " if function.number else ""
    return f"{number}<code>{html_text(function.name)}</code> · {score(function.score, function.max_score)}"


def test_list(tests: list[TestEntry], kind: str) -> str:
    items = "".join(f'<li class="{kind}">{html_text(t.title)} '
                    f'<span class="pts">{score(t.score, t.max_score)}</span></li>' for t in tests)
    return f'<ul class="tests">{items}</ul>'
