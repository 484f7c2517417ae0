"""The catalogue of mutants: entries read from ``autograder/mutants/**/<module>.toml`` and the
submissions they describe. Reading it needs nothing but the standard library (``dlkit build`` uses it
for the example submissions); running it is ``mutation.py``."""

from __future__ import annotations

import ast
import textwrap
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from autograder.syllabus import MODULES, SOLUTIONS

CATALOGUE = Path(__file__).resolve().parent
SHELVES = {"": ("bug", "alternative"), "blind": ("alternative",), "evasions": ("evasion",)}


@dataclass(frozen=True)
class Edit:
    kind: str  # "bug", "alternative" or "evasion"
    module: str
    id: str
    function: str
    description: str
    old: str = ""
    new: str = ""
    code: str = ""  # replaces the whole definition of `function`
    siblings: dict[str, str] = field(default_factory=dict, hash=False)
    shelf: str = ""  # "", "blind" or "evasions": the catalogue it comes from

    def apply(self) -> str:
        source = reference_source(self.module)
        if self.code:
            return replace_definition(source, self.function, self.code, f"{self.module}/{self.id}")
        count = source.count(self.old)
        if count != 1:
            raise ValueError(f"{self.module}/{self.id}: `old` occurs {count} times in the reference, not once")
        return source.replace(self.old, self.new)

    def files(self) -> dict[str, str]:
        """The submission: the edited module and the sibling modules it brings along."""
        files = {self.module: self.apply()}
        for module, extra in self.siblings.items():
            files[module] = reference_source(module).rstrip("\n") + "\n\n\n" + textwrap.dedent(extra)
        return files


def reference_source(module: str) -> str:
    return (SOLUTIONS / f"{module}.py").read_text()


def replace_definition(source: str, name: str, code: str, label: str) -> str:
    """``source`` with its top-level definition of ``name`` (decorators included) replaced by ``code``."""
    tree = ast.parse(source)
    nodes = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name]
    if len(nodes) != 1:
        raise ValueError(f"{label}: the reference defines `{name}` {len(nodes)} times at top level")
    node = nodes[0]
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    lines = source.splitlines(keepends=True)
    body = "".join(line for line in textwrap.dedent(code).strip("\n").splitlines(keepends=True)
                   if not line.startswith("from __future__"))  # only legal at the top of a file
    return "".join(lines[:start - 1]) + body + "\n" + "".join(lines[node.end_lineno:])


def load(modules: tuple[str, ...] = MODULES) -> list[Edit]:
    edits = []
    for shelf, kinds in SHELVES.items():
        for module in modules:
            path = CATALOGUE / shelf / f"{module}.toml"
            if not path.exists():
                continue
            data = tomllib.loads(path.read_text())
            for kind in kinds:
                for entry in data.get(kind, []):
                    edits.append(Edit(kind, module, entry["id"], entry["function"], entry["description"],
                                      entry.get("old", ""), entry.get("new", ""), entry.get("code", ""),
                                      dict(entry.get("siblings", {})), shelf))
    ids = [(e.module, e.shelf, e.id) for e in edits]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate mutant ids: {sorted(duplicates)}")
    return edits
