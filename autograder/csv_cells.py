"""CSV files that a spreadsheet opens as data: no text cell can start a formula.

Every CSV the kit writes (``grades.csv``, the class report's ``tests.csv`` and ``students.csv``)
goes through ``csv_text``. Text comes from students (a folder name, a hint quoting their code)
and a spreadsheet runs a cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) as a formula: such a cell gets a leading single quote, as OWASP recommends.
Numbers are written as numbers and never prefixed. Lines end with CRLF (RFC 4180): the csv module
quotes a cell holding either character of the line terminator, so a carriage return inside a cell
(a hint can hold one) stays inside its cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(text: str) -> str:
    """``text``, or ``'text`` when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def number_cell(value: int | float) -> str:
    """``3`` for 3.0, ``0.3333`` for 0.3333: the shortest text that reads back as the same number."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The CSV file of ``header`` and ``rows``: ``str`` cells neutralised, numbers as numbers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([text_cell(name) for name in header])
    for row in rows:
        writer.writerow([number_cell(v) if isinstance(v, (int, float)) and not isinstance(v, bool)
                         else text_cell(str(v)) for v in row])
    return buffer.getvalue()
