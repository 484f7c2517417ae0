"""Safe text for Markdown and HTML: grader hints can quote a student's exception message, so
every piece of text that a submission could influence goes through these functions."""

from __future__ import annotations

import html
import re

_CODE_SPAN = re.compile(r"(`[^`\n]+`)")
_MD_SPECIAL = re.compile(r"([\\`*\[\]<|~$])|(?<![A-Za-z0-9])(_)|(_)(?![A-Za-z0-9])|(&)(?=#?\w+;)")
_MD_BLOCK_MARK = re.compile(r"^(>|(?:#+|[+-]|=+)(?=\s|$))")
_MD_ORDERED = re.compile(r"^(\d+)([.)])(?=\s|$)")


def points(value: float) -> str:
    """``3`` -> ``"3"``, ``0.5`` -> ``"0.5"``: no trailing zeros."""
    return f"{value:g}"


def score(value: float, maximum: float) -> str:
    """``"16 / 18"``."""
    return f"{points(value)} / {points(maximum)}"


def percent(value: float, maximum: float) -> int:
    """Whole percent of the maximum (0 when there is no maximum)."""
    return round(100 * value / maximum) if maximum > 0 else 0


def plural(count: int | float, one: str, many: str | None = None) -> str:
    """``plural(1, "test")`` -> ``"1 test"``, ``plural(3, "test")`` -> ``"3 tests"``."""
    return f"{points(count)} {one if count == 1 else many or one + 's'}"


def md_text(text: str) -> str:
    """Markdown for plain text: `code spans` stay code spans, everything else is backslash-escaped,
    so no tag, link, emphasis or list in a hint ever renders. For one line of text."""
    pieces = _CODE_SPAN.split(" ".join(text.splitlines()).strip())
    escaped = "".join(piece if i % 2 else _MD_SPECIAL.sub(_backslash, piece) for i, piece in enumerate(pieces))
    return _MD_ORDERED.sub(r"\1\\\2", _MD_BLOCK_MARK.sub(r"\\\1", escaped))


def _backslash(match: re.Match[str]) -> str:
    return "\\" + match.group(0)


def md_quote(text: str) -> str:
    """A Markdown blockquote of (escaped) text, keeping its line breaks."""
    lines = text.splitlines() or [""]
    return "\n".join(f"> {md_text(line)}" + ("  " if i < len(lines) - 1 else "") for i, line in enumerate(lines))


def html_text(text: str) -> str:
    """HTML for plain text: escaped with ``html.escape``; `code spans` become ``<code>``."""
    pieces = _CODE_SPAN.split(text)
    return "".join(f"<code>{html.escape(piece[1:-1])}</code>" if i % 2 else html.escape(piece)
                   for i, piece in enumerate(pieces))


def attr(text: str) -> str:
    """An HTML attribute value (without the quotes)."""
    return html.escape(text, quote=True)


def slug(text: str) -> str:
    """A safe id or file name part: letters, digits, ``_``, ``.`` and ``-``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"
