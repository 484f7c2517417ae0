"""The roles of a course notebook's cells (docs/AUTHORING.md), shared by the build, which fills them,
and grading, which reads a student's notebook by them."""

from __future__ import annotations

import re

MARKER = re.compile(r"^#\s*dlkit:\s*(setup|answer|check|tests)\b\s*(\S*)\s*$")
WRITTEN = re.compile(r"^<!--\s*dlkit:\s*written\s+(\S+)\s+([\d.]+)\s*-->\s*$")
ROLES = ("setup", "answer", "check", "tests", "written")


def role_of(cell: dict) -> dict | None:
    """The generated role of a cell: from its metadata, or from a marker line on first build."""
    if "dlkit" in cell.get("metadata", {}):
        return dict(cell["metadata"]["dlkit"])
    first = cell.get("source", "").split("\n", 1)[0].strip()
    if cell["cell_type"] == "code" and (m := MARKER.match(first)):
        return {"role": m.group(1), "name": m.group(2)} if m.group(2) else {"role": m.group(1)}
    if cell["cell_type"] == "markdown" and (m := WRITTEN.match(first)):
        return {"role": "written", "name": m.group(1), "points": float(m.group(2))}
    return None
