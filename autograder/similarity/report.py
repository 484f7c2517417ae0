"""The similarity report: ``similarity.csv`` (every pair that shares code) and ``index.html``
(the most similar pairs of each assignment, each with its matches side by side), written
atomically into the output folder."""

from __future__ import annotations

import html
from pathlib import Path

from autograder.csv_cells import csv_text
from autograder.grading.ids import printable
from autograder.grading.results import atomic_write
from autograder.similarity.compare import NOISE, Pair
from autograder.syllabus import ASSIGNMENTS

CSV_HEADER = ["assignment", "student_a", "student_b", "similarity", "share_a", "share_b", "matched_tokens",
              "source_a", "source_b"]
TOP = 20  # pairs shown per assignment in the HTML report (the CSV has them all)


def write_report(out: Path, pairs: dict[str, list[Pair]], compared: dict[str, int], notes: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "similarity.csv", similarity_csv(pairs))
    atomic_write(out / "index.html", similarity_html(pairs, compared, notes))


def similarity_csv(pairs: dict[str, list[Pair]]) -> str:
    rows = [[folder, printable(p.a.student), printable(p.b.student), round(p.similarity, 4), round(p.share_a, 4),
             round(p.share_b, 4), p.matched_tokens, p.a.origin, p.b.origin]
            for folder in ordered(pairs) for p in pairs[folder]]
    return csv_text(CSV_HEADER, rows)


def ordered(pairs: dict[str, list[Pair]]) -> list[str]:
    return [a.folder for a in ASSIGNMENTS if a.folder in pairs]


def percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def similarity_html(pairs: dict[str, list[Pair]], compared: dict[str, int], notes: list[str]) -> str:
    e = html.escape
    parts = [HEAD, "<h1>Code similarity</h1>",
             f"<p>Pairs of students whose code for an assignment shares runs of at least {NOISE} tokens "
             "(copydetect's winnowing fingerprints; names, comments, docstrings and strings do not matter), "
             "after the course's stubs are left out. <b>similarity</b>: the matched part of both students' "
             "own code; <b>share</b>: the part of each one's code found in the other's. A high score is a "
             "reason to read the two side by side, not a verdict. Every pair is in "
             "<a href='similarity.csv'>similarity.csv</a>.</p>"]
    for a in ASSIGNMENTS:
        if a.folder not in compared:
            continue
        found = pairs.get(a.folder, [])
        parts.append(f"<h2>{e(a.folder)}</h2><p>{compared[a.folder]} submissions compared; "
                     f"{len(found)} pairs share code{f', the {TOP} most similar shown' if len(found) > TOP else ''}.</p>")
        if not found:
            continue
        parts.append("<table><tr><th>#</th><th>student A</th><th>student B</th><th>similarity</th>"
                     "<th>share of A</th><th>share of B</th><th>matched tokens</th></tr>")
        for rank, p in enumerate(found[:TOP], 1):
            parts.append(f"<tr><td><a href='#{anchor(a.folder, rank)}'>{rank}</a></td>"
                         f"<td>{e(printable(p.a.student))}</td><td>{e(printable(p.b.student))}</td>"
                         f"<td>{percent(p.similarity)}</td><td>{percent(p.share_a)}</td><td>{percent(p.share_b)}</td>"
                         f"<td>{p.matched_tokens}</td></tr>")
        parts.append("</table>")
        for rank, p in enumerate(found[:TOP], 1):
            parts.append(side_by_side(p, anchor(a.folder, rank), rank))
    if notes:
        parts.append("<h2>Skipped</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
    return "\n".join(parts) + "\n</body></html>\n"


def anchor(folder: str, rank: int) -> str:
    return f"{folder}-{rank}"


def side_by_side(p: Pair, name: str, rank: int) -> str:
    e = html.escape
    return (f"<details id='{name}'><summary>{e(p.a.assignment.folder)} #{rank}: {e(printable(p.a.student))} and "
            f"{e(printable(p.b.student))}, {percent(p.similarity)}</summary><div class='pair'>"
            f"<div><h3>{e(printable(p.a.student))} <small>{e(p.a.origin)}</small></h3>"
            f"<pre>{highlighted(p.a.text, p.slices_a)}</pre></div>"
            f"<div><h3>{e(printable(p.b.student))} <small>{e(p.b.origin)}</small></h3>"
            f"<pre>{highlighted(p.b.text, p.slices_b)}</pre></div></div></details>")


def highlighted(text: str, ranges: list[tuple[int, int]]) -> str:
    """``text`` escaped for HTML, its matched ranges marked."""
    out, at = [], 0
    for start, end in ranges:
        out += [html.escape(text[at:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


HEAD = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Code similarity</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 110em; }
table { border-collapse: collapse; margin-bottom: 1em; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; font-size: 0.85em; }
mark { background: #ffd27a; }
summary { cursor: pointer; margin: 0.3em 0; }
</style></head><body>"""
