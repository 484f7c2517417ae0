"""A student's feedback as Markdown: per assignment, per graded function, per hidden test."""

from __future__ import annotations

from autograder.reports.markup import md_quote, md_text, percent, plural, score
from autograder.reports.model import AssignmentResult, FunctionResult, StudentResults, TestEntry

INTRO = ("This report lists every hidden test the grader ran on your code, grouped by assignment "
         "and by graded function. A function's score is the sum of its tests' points. "
         "Each failed test comes with a hint that names the most likely mistake.")


def render_markdown(student: StudentResults) -> str:
    """The whole feedback page."""
    lines = [f"# Feedback for {md_text(student.student)}", "",
             f"**Total: {score(student.score, student.max_score)} points "
             f"({percent(student.score, student.max_score)}%)**", "", INTRO, ""]
    if not student.assignments:
        lines += ["No hidden tests were run: `results.json` lists no tests.", ""]
        return "\n".join(lines)
    lines += ["| Assignment | Score | Result |", "| --- | ---: | --- |"]
    for assignment in student.assignments:
        lines.append(f"| {md_text(assignment.label)} | {score(assignment.score, assignment.max_score)} "
                     f"| {md_text(assignment_status(assignment))} |")
    lines.append("")
    for assignment in student.assignments:
        lines += assignment_section(assignment)
    return "\n".join(lines).rstrip("\n") + "\n"


def assignment_status(assignment: AssignmentResult) -> str:
    """One short phrase: all passed, how many failed, or why nothing was graded."""
    tests = assignment.tests
    failed = sum(not t.passed for t in tests)
    if assignment.problem:
        return "not graded (see below)"
    if not failed:
        return f"all {plural(len(tests), 'test')} passed"
    return f"{failed} of {plural(len(tests), 'test')} failed"


def assignment_section(assignment: AssignmentResult) -> list[str]:
    lines = [f"## {md_text(assignment.label)} ({score(assignment.score, assignment.max_score)})", ""]
    lines += [line for note in assignment.notes for line in (md_quote(f"Note: {note}"), "")]
    if assignment.problem:
        lines += ["**This assignment could not be graded:**", "", md_quote(assignment.problem), "",
                  f"None of its {plural(len(assignment.tests), 'hidden test')} could run, so each of its "
                  "functions scores 0. The tests it would have run are listed below.", ""]
    lines += ["| Function | Tests passed | Score |", "| --- | ---: | ---: |"]
    for function in assignment.functions:
        lines.append(f"| {function_name(function)} | {len(function.passed)} of {len(function.tests)} "
                     f"| {score(function.score, function.max_score)} |")
    lines.append("")
    for function in assignment.functions:
        lines += function_section(function, graded=not assignment.problem)
    return lines


def function_section(function: FunctionResult, graded: bool) -> list[str]:
    lines = [f"### {function_name(function)}: {score(function.score, function.max_score)}", ""]
    if not graded:
        lines += ["Not run:", ""] + [f"- {test_line(t)}" for t in function.tests] + [""]
        return lines
    for hint, tests in function.hint_groups():
        heading = "Failed" if len(tests) == 1 else f"Failed ({len(tests)} tests, same hint)"
        lines += [f"❌ **{heading}:**", ""] + [f"- {test_line(t)}" for t in tests] + [""]
        lines += [md_quote(f"Hint: {hint}" if hint else "The grader gave no message."), ""]
    if function.passed:
        lines += ["✅ **Passed:**", ""] + [f"- {test_line(t)}" for t in function.passed] + [""]
    return lines


def function_name(function: FunctionResult) -> str:
    number = f"{md_text(function.number)} " if function.number else ""
    return f"{number}`{function.name}`" if "`" not in function.name else number + md_text(function.name)


def test_line(test: TestEntry) -> str:
    return f"{md_text(test.title)} ({score(test.score, test.max_score)})"
