"""The class report's figures, rendered to PNG bytes with matplotlib's Agg renderer.

Figures are made with ``matplotlib.figure.Figure`` (no pyplot, no global state, no GUI backend),
with fixed sizes, fonts and colours, and PNGs carry no "Software" or date metadata: the same
results give byte-identical files.
"""

from __future__ import annotations

import io
import math

import matplotlib
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from matplotlib.ticker import MaxNLocator, PercentFormatter

from autograder.reports.stats import AssignmentStats, ClassStats, Mistake, TestStats

ACCENT, DARK, FAIL, TODO, NOT_GRADED, GRID, INK, MUTED = (
    "#2f6fdb", "#1f4fa3", "#d6453b", "#f0b429", "#c5cbd3", "#e3e7ed", "#1f2933", "#5f6b7a")
_TEXT = TextToPath()
LABEL_INCHES = 3.6  # the widest label of a bar chart (figures are 9 inches wide)
LEFT = 0.42  # the share of a bar chart's width left to its labels
DPI = 150  # figures are 9 inches wide: 1350 pixels, shown at about 900 (sharp on HiDPI screens)
STYLE = {
    "font.family": "DejaVu Sans", "font.size": 8.5, "axes.titlesize": 9.5, "axes.titleweight": "bold",
    "axes.edgecolor": GRID, "axes.labelcolor": MUTED, "xtick.color": MUTED, "ytick.color": INK,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": False,
    "figure.facecolor": "white", "axes.facecolor": "white", "savefig.facecolor": "white",
    "svg.hashsalt": "dlkit", "path.simplify": True,
}


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes, without metadata that would change from run to run."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def label(text: str, width: int, inches: float | None = None, size: float = 7.5) -> str:
    """Plain text for a matplotlib label: ``$`` would start mathtext. Long text is shortened to
    ``width`` characters and, given ``inches``, to what fits in that width at font ``size``."""
    text = " ".join(text.split())
    if len(text) > width:
        text = text[: width - 1].rstrip() + "…"
    if inches is not None:
        font = FontProperties(family=STYLE["font.family"], size=size)
        while len(text) > 2 and _TEXT.get_text_width_height_descent(text, font, ismath=False)[0] > inches * 72:
            text = text[:-2].rstrip(" …") + "…"
    return text.replace("$", r"\$")


def grade_histograms(stats: ClassStats) -> bytes:
    """Small multiples: the distribution of each assignment's scores, and of the totals."""
    panels: list[tuple[str, str, list[float], float]] = [
        (a.folder, f"max {a.max_score:g} points", a.scores, a.max_score) for a in stats.assignments]
    if stats.students:
        total_max = max(s.max_score for s in stats.students)
        panels.append(("Total", f"max {total_max:g} points", [s.score for s in stats.students], total_max))
    columns = 4
    rows = max(1, math.ceil(len(panels) / columns))
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(9, 2.25 * rows + 0.2), layout="constrained")
        axes = figure.subplots(rows, columns, squeeze=False)
        for index, ax in enumerate(axes.flat):
            if index >= len(panels):
                ax.set_visible(False)
                continue
            title, subtitle, scores, maximum = panels[index]
            histogram(ax, scores, maximum, DARK if title == "Total" else ACCENT)
            ax.set_title(f"{label(title, 30)}\n", loc="left")
            ax.text(0, 1.02, label(subtitle, 40), transform=ax.transAxes, color=MUTED, fontsize=7.5,
                    va="bottom")
            if index % columns == 0:
                ax.set_ylabel("students")
    return png(figure)


def histogram(ax, scores: list[float], maximum: float, color: str) -> None:
    """One panel: ten bins from 0 to the maximum (fewer for a small maximum), mean marked."""
    maximum = maximum if maximum > 0 else 1.0
    bins = max(1, min(10, int(maximum))) if maximum >= 1 else 10
    edges = [maximum * i / bins for i in range(bins + 1)]
    ax.hist(scores, bins=edges, color=color, edgecolor="white", linewidth=1.0)
    if scores:
        mean = sum(scores) / len(scores)
        ax.axvline(mean, color=INK, linewidth=1.0, linestyle=(0, (4, 3)))
        ax.text(mean, 1.0, f" mean {mean:.3g}", transform=ax.get_xaxis_transform(), color=INK,
                fontsize=7, va="top", ha="left" if mean <= maximum * 0.6 else "right")
    ax.set_xlim(0, maximum)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.set_xlabel("points")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def fixed_axes(figure: Figure, height: float, top: float, bottom: float = 0.42):
    """One axes at the same place in every chart: labels get the left 42% of the width, so the
    bars of different charts line up on the page. ``top`` and ``bottom`` are margins in inches."""
    return figure.add_axes((LEFT, bottom / height, 0.955 - LEFT, 1 - (top + bottom) / height))


def failure_chart(assignment: AssignmentStats, tests: list[TestStats]) -> bytes:
    """Horizontal bars: the share of students who failed each hidden test of one assignment, split
    into mistakes, functions not implemented yet, and modules that could not be graded."""
    n = max(1, len(tests))
    with matplotlib.rc_context(STYLE):
        height = 0.24 * n + 0.85
        figure = Figure(figsize=(9, height))
        ax = fixed_axes(figure, height, top=0.45)
        positions = list(range(n))
        shade_functions(ax, tests)
        left = [0.0] * len(tests)
        for count, color, name in (("mistakes", FAIL, "failed"), ("not_implemented", TODO, "not implemented yet"),
                                   ("not_graded", NOT_GRADED, "module not graded")):
            share = [getattr(t, count) / t.students if t.students else 0.0 for t in tests]
            ax.barh(positions[: len(tests)], share, left=left, height=0.62, color=color, label=name)
            left = [a + b for a, b in zip(left, share)]
        for y, test in enumerate(tests):
            ax.text(min(test.failure_rate, 1.0) + 0.01, y, f"{test.failure_rate:.0%}  ({test.failed}/{test.students})",
                    va="center", fontsize=7, color=MUTED)
        ax.set_yticks(positions, [label(test_label(t), 90, LABEL_INCHES) for t in tests], fontsize=7.5)
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_xlim(0, 1.16)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.grid(axis="x", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        figure.text(0.012, 1 - 0.16 / height, label(f"{assignment.folder}: {assignment.title}"
                    if assignment.title else assignment.folder, 60), ha="left", va="center",
                    fontweight="bold", fontsize=9.5, color=INK)
        figure.legend(loc="center right", bbox_to_anchor=(0.955, 1 - 0.16 / height), fontsize=7.5,
                      frameon=False, ncols=3, borderaxespad=0, handlelength=1.5, columnspacing=1.2)
    return png(figure)


def test_label(test: TestStats) -> str:
    """The test's title, after its function's name unless the title starts with it."""
    return test.title if test.title.startswith(test.function) else f"{test.function} · {test.title}"


def shade_functions(ax, tests: list[TestStats]) -> None:
    """Light bands behind every other graded function, so a function's tests read as a group."""
    start, band = 0, 0
    for index in range(1, len(tests) + 1):
        if index == len(tests) or tests[index].function != tests[start].function:
            if band % 2 == 0:
                ax.axhspan(start - 0.5, index - 0.5, color="#f1f4f8", zorder=0, linewidth=0)
            start, band = index, band + 1


def mistake_label(mistake: Mistake) -> str:
    """The hint, after its function's name unless the hint starts with it."""
    return mistake.hint if mistake.hint.startswith(mistake.function) else f"{mistake.function}: {mistake.hint}"


def mistakes_chart(mistakes: list[Mistake]) -> bytes:
    """Horizontal bars: how many students got each of the most common hints."""
    n = max(1, len(mistakes))
    with matplotlib.rc_context(STYLE):
        height = 0.28 * n + 0.75
        figure = Figure(figsize=(9, height))
        ax = fixed_axes(figure, height, top=0.15, bottom=0.5)
        positions = list(range(n))
        counts = [m.students for m in mistakes]
        ax.barh(positions[: len(counts)], counts, height=0.62, color=FAIL)
        for y, mistake in enumerate(mistakes):
            ax.text(mistake.students, y, f"  {mistake.students}", va="center", fontsize=7.5, color=MUTED)
        ax.set_yticks(positions[: len(mistakes)],
                      [label(f"#{i + 1}  {mistake_label(m)}", 120, LABEL_INCHES) for i, m in enumerate(mistakes)],
                      fontsize=7.5)
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_xlim(0, max([1, *counts]) * 1.12)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("students who got this hint")
        ax.grid(axis="x", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
    return png(figure)
