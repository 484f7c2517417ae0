"""The stylesheet shared by the feedback pages and the class report, inlined in each page."""

from __future__ import annotations

CSS = """
:root {
  --ink: #1f2933; --muted: #5f6b7a; --line: #e3e7ed; --page: #f4f6f9; --card: #ffffff;
  --accent: #2f6fdb; --pass: #1e8a4c; --pass-bg: #e6f4ec; --fail: #c4362c; --fail-bg: #fcebea;
  --warn: #9a6200; --warn-bg: #fff4dc; --none: #8a94a3; --none-bg: #eef0f3;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--page); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 32px 24px 48px; }
h1 { font-size: 28px; line-height: 1.2; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 19px; margin: 0; }
h3 { font-size: 15px; margin: 0; }
p { margin: 8px 0; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code { font: 0.92em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
  background: #eef1f5; border-radius: 4px; padding: 1px 5px; overflow-wrap: anywhere; }
.eyebrow { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: 0.08em;
  margin: 0 0 6px; }
.lead { color: var(--muted); max-width: 760px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 20px 24px;
  margin: 18px 0; box-shadow: 0 1px 2px rgba(16, 24, 40, 0.04); }
.card > header { display: flex; align-items: baseline; justify-content: space-between; gap: 16px;
  margin-bottom: 10px; }
.hero { display: flex; align-items: center; gap: 28px; flex-wrap: wrap; }
.big { font-size: 40px; font-weight: 700; line-height: 1; font-variant-numeric: tabular-nums; }
.big small { font-size: 18px; color: var(--muted); font-weight: 500; }
.stats { display: flex; gap: 12px; flex-wrap: wrap; }
.stat { background: var(--page); border-radius: 10px; padding: 10px 16px; min-width: 120px; }
.stat b { display: block; font-size: 22px; font-variant-numeric: tabular-nums; }
.stat span { color: var(--muted); font-size: 13px; }
.bar { background: var(--none-bg); border-radius: 999px; height: 8px; overflow: hidden; min-width: 80px; }
.bar > i { display: block; height: 100%; background: var(--accent); border-radius: 999px; }
.bar.full > i { background: var(--pass); }
.bar.zero > i { background: transparent; }
.hero .bar { flex: 1 1 240px; height: 12px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { color: var(--muted); font-weight: 600; font-size: 12.5px; text-transform: uppercase; letter-spacing: 0.04em; }
tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.barcell { width: 22%; }
.pill { display: inline-block; border-radius: 999px; padding: 1px 10px; font-size: 12.5px; font-weight: 600;
  white-space: nowrap; }
.pill.pass { background: var(--pass-bg); color: var(--pass); }
.pill.fail { background: var(--fail-bg); color: var(--fail); }
.pill.warn { background: var(--warn-bg); color: var(--warn); }
.pill.none { background: var(--none-bg); color: var(--muted); }
.score { font-weight: 700; font-variant-numeric: tabular-nums; white-space: nowrap; }
.callout { border-left: 4px solid var(--warn); background: var(--warn-bg); border-radius: 6px;
  padding: 10px 14px; margin: 10px 0 14px; }
.callout b { color: var(--warn); }
.note { border-left: 4px solid var(--accent); background: #eaf1fc; border-radius: 6px; padding: 8px 14px;
  margin: 8px 0 12px; }
.note b { color: var(--accent); }
.callout .then { display: block; margin-top: 6px; color: var(--muted); }
details.fn { border: 1px solid var(--line); border-radius: 10px; margin: 8px 0; background: var(--card); }
details.fn > summary { list-style: none; cursor: pointer; display: flex; align-items: center; gap: 12px;
  padding: 9px 14px; }
details.fn > summary::-webkit-details-marker { display: none; }
details.fn > summary::before { content: "\\25B8"; color: var(--muted); width: 10px; }
details.fn[open] > summary::before { content: "\\25BE"; }
details.fn > summary .name { flex: 1; }
details.fn > summary .num { color: var(--muted); font-size: 13px; margin-right: 4px; }
details.fn .body { padding: 2px 16px 12px 38px; }
ul.tests { list-style: none; margin: 6px 0; padding: 0; }
ul.tests li { padding: 3px 0 3px 26px; position: relative; }
ul.tests li::before { position: absolute; left: 0; top: 3px; font-weight: 700; }
ul.tests li.pass::before { content: "\\2713"; color: var(--pass); }
ul.tests li.fail::before { content: "\\2717"; color: var(--fail); }
ul.tests li.none::before { content: "\\2013"; color: var(--none); }
ul.tests .pts { color: var(--muted); font-size: 13px; white-space: nowrap; }
.hint { background: var(--fail-bg); border-radius: 8px; padding: 8px 12px; margin: 4px 0 12px 26px;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.hint b { color: var(--fail); }
.hint.todo { background: var(--warn-bg); }
.hint.todo b { color: var(--warn); }
.chips { display: flex; flex-wrap: wrap; gap: 8px; margin: 4px 0 10px; }
.chip { display: inline-flex; align-items: center; gap: 8px; border-radius: 8px; padding: 4px 6px 4px 10px;
  font-size: 13.5px; border: 1px solid var(--line); }
.chip::before { font-weight: 700; }
.chip.pass::before { content: "\\2713"; color: var(--pass); }
.chip.none::before { content: "\\2013"; color: var(--none); }
.chip code { background: transparent; padding: 0; }
.chip .score { font-size: 12.5px; background: var(--page); border-radius: 6px; padding: 0 6px; }
details.more > summary { cursor: pointer; color: var(--accent); font-size: 13.5px; width: max-content; }
details.more .body { padding: 4px 0 0 4px; }
details.fn > summary .score { min-width: 52px; text-align: right; }
.group-label { color: var(--muted); font-size: 13px; margin: 10px 0 2px; font-weight: 600; }
figure { margin: 12px 0; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; }
nav.toc { display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 13.5px; margin: 10px 0 0; }
.muted { color: var(--muted); }
.small { font-size: 13px; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 28px; text-align: center; }
table.students td.num { width: 1%; }
table.mistakes td:nth-child(2), table.mistakes td:nth-child(3) { white-space: nowrap; }
table.mistakes code { overflow-wrap: normal; }
details.more > table { margin-top: 8px; }
td.cell-pass { background: var(--pass-bg); color: var(--pass); }
td.cell-warn { background: var(--warn-bg); color: var(--warn); }
td.cell-fail { background: var(--fail-bg); color: var(--fail); }
td.cell-none { background: var(--none-bg); color: var(--muted); }
table.students td { border-bottom: 2px solid #fff; }
@media print { body { background: #fff; } .card { box-shadow: none; break-inside: avoid; } }
"""


def page(title: str, body: str) -> str:
    """A complete HTML document: ``title`` must already be escaped, ``body`` is HTML."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"referrer\" content=\"no-referrer\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'none'; object-src 'none'; "
            "base-uri 'none'; form-action 'none'\">\n"
            f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
            "</body>\n</html>\n")


def bar(value: float, maximum: float) -> str:
    """A horizontal progress bar for ``value`` out of ``maximum``."""
    share = value / maximum if maximum > 0 else 0.0
    kind = " full" if share >= 1 else " zero" if share <= 0 else ""
    return f'<div class="bar{kind}"><i style="width:{100 * min(max(share, 0.0), 1.0):.1f}%"></i></div>'

