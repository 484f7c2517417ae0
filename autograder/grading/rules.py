"""The "from scratch" rule of assignments 01-06, checked statically on the source.

A graded function breaks the rule when it, or a helper of the same module that
it calls, uses one of the forbidden PyTorch functions (SYLLABUS.md). Imports
and aliases are followed (``import torch.nn.functional as F`` then ``F.relu``),
as are method forms (``z.sigmoid()``, ``loss.backward()``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from autograder.syllabus import MODULES

FORBIDDEN_PREFIXES = ("torch.nn", "torch.autograd", "torch.func", "torch.special")
FORBIDDEN_FUNCTIONS = ("torch.sigmoid", "torch.tanh", "torch.relu", "torch.softmax", "torch.log_softmax",
                       "torch.logsumexp", "torch.relu_", "torch.sigmoid_", "torch.tanh_", "torch.rrelu")
METHOD_FORMS = ("sigmoid", "tanh", "relu", "softmax", "log_softmax", "logsumexp", "backward",
                "sigmoid_", "tanh_", "relu_")


@dataclass(frozen=True)
class Violation:
    item: str  # the graded name that breaks the rule
    call: str  # what was found, e.g. "torch.softmax"
    line: int
    via: str = ""  # the helper it was found in, when not in the item itself

    def message(self, assignment: str) -> str:
        where = f" (in its helper `{self.via}`, line {self.line})" if self.via else f" (line {self.line})"
        return (f"`{self.item}` uses `{self.call}`{where}, which assignment {assignment} does not allow: "
                "it is \"from scratch\", so write it with tensor arithmetic (exp, log, sum, max, @, ...)")


def find_violations(source: str, items: tuple[str, ...], provided: frozenset[str] = frozenset()
                    ) -> list[Violation]:
    """One violation (the first found) per graded item that breaks the rule.

    ``provided`` names definitions the kit itself supplies (a notebook's setup
    cell): calling them is allowed, whatever they use inside.
    """
    tree = ast.parse(source)
    aliases = _aliases(tree)
    definitions = {node.name: node for node in tree.body
                   if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                   and node.name not in provided}
    direct = {name: _uses(node, aliases) for name, node in definitions.items()}
    # module-level code outside any definition (e.g. `act = torch.sigmoid`) taints every item using its names
    calls = {name: _called_names(node) & set(definitions) for name, node in definitions.items()}
    out = []
    for item in items:
        if item not in definitions:
            continue
        seen, stack = {item}, [item]
        found = None
        while stack and found is None:
            current = stack.pop()
            if direct[current]:
                call, line = direct[current][0]
                found = Violation(item, call, line, "" if current == item else current)
            for callee in sorted(calls[current] - seen - set(items)):  # graded names answer for themselves
                seen.add(callee)
                stack.append(callee)
        if found:
            out.append(found)
    return out


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local names bound to dotted module paths by imports and simple assignments."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    aliases[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    for node in ast.walk(tree):  # `sig = torch.sigmoid` or `F = torch.nn.functional`
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            dotted = _dotted(node.value, aliases)
            if dotted and dotted.startswith("torch."):
                aliases[node.targets[0].id] = dotted
    return aliases


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    base = aliases.get(node.id, node.id)
    return ".".join([base, *reversed(parts)])


def _forbidden(dotted: str) -> bool:
    if dotted in FORBIDDEN_FUNCTIONS:
        return True
    return any(dotted == p or dotted.startswith(p + ".") for p in FORBIDDEN_PREFIXES)


def _uses(definition: ast.AST, aliases: dict[str, str]) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for node in ast.walk(definition):
        if isinstance(node, (ast.Attribute, ast.Name)):
            dotted = _dotted(node, aliases)
            if dotted and dotted.startswith("torch") and _forbidden(dotted):
                found.append((dotted, node.lineno))
            elif isinstance(node, ast.Attribute) and node.attr in METHOD_FORMS:
                base = _dotted(node.value, aliases)
                if base is None or base.split(".")[0] not in MODULES:
                    found.append((f".{node.attr}()", node.lineno))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
            for arg in node.args[1:2]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and (
                        arg.value.rstrip("_") in METHOD_FORMS or arg.value in ("nn", "autograd", "special")):
                    found.append((f"getattr(..., {arg.value!r})", node.lineno))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [f"{node.module}.{a.name}" for a in node.names if node.module]
            for name in names:
                if _forbidden(name):
                    found.append((name, node.lineno))
    found.sort(key=lambda f: f[1])
    return found


def _called_names(definition: ast.AST) -> set[str]:
    return {node.id for node in ast.walk(definition) if isinstance(node, ast.Name)}
