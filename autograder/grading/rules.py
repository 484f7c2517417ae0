"""The "from scratch" rule of assignments 01-06, decided statically on the student's source text.

For every graded function of the module under test:
1. it is bound only by plain top-level ``def`` statements (any other binding of its
   name, a ``def`` under ``if``/``try``, or a decorator other than
   ``@torch.no_grad()`` / ``@torch.inference_mode()`` is a finding);
2. everything its body reaches (helpers, module-level names and what changes them,
   names from the student's other modules) is resolved with Python's own scoping, and
   every lookup the grader cannot see through (``getattr`` with a computed name,
   ``eval``, ``globals()``, ``vars``, ``sys``, ``inspect``, modules used as values,
   dunder back doors ...) is itself a finding;
3. nothing it reaches is a forbidden function (SYLLABUS.md and its equivalents,
   method forms included) or a forbidden torch namespace;
4. code that can rebind the module's functions while it runs (import time included)
   costs every graded function.
Graded names imported from an *earlier* module are the kit's ready-made versions
(allowed, not traced); every other name from a sibling module is traced into that
module's source. Names a notebook's setup cell provides are exempt while nothing else
in the notebook binds them. See docs/from-scratch-rule.md.
"""

from __future__ import annotations

import ast
import importlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from autograder.grading import rule_names as names
from autograder.grading.notebooks import cell_at_line
from autograder.grading.rule_index import Binding, SourceIndex, Target
from autograder.grading.rule_scan import MODULE_ORDER, Finding, Scan, Scanned, Unit, chain, describe
from autograder.syllabus import BY_MODULE, Assignment

# decorators a graded function may carry: they change nothing about what it computes
HARMLESS_DECORATORS = frozenset({"torch.no_grad", "torch.inference_mode", "functools.cache",
                                 "functools.lru_cache"})
_ORDER = MODULE_ORDER


@dataclass(frozen=True)
class Violation:
    item: str  # the graded name that breaks the rule
    call: str  # what was found, e.g. "torch.softmax"
    line: int
    module: str = ""  # the module whose source holds that line
    via: str = ""  # the helper or module-level name it was found in, when not in the item itself
    kind: str = "forbidden"  # forbidden, module, lookup, dynamic, module_value, monkeypatch, binding,
    #                          decorator, rebinds_others, unchecked

    def message(self, graded: Assignment, locate: Callable[[int], str] | None = None) -> str:
        """The student's message in assignment ``graded``; ``locate`` names a line of a notebook
        (see ``notebook_locator``)."""
        assignment = graded.label
        if self.module and self.module != graded.module:
            place = f"line {self.line} of your `{self.module}.py`"
        else:
            place = locate(self.line) if locate is not None else f"line {self.line}"
        where = f" (in `{self.via}`, {place})" if self.via else f" ({place})"
        item, call = self.item, self.call
        if self.kind == "forbidden":
            own = " (if it is a method of your own class, give it another name)" if call.startswith(".") else ""
            return (f"`{item}` uses `{call}`{where}, which assignment {assignment} does not allow: it is "
                    f"\"from scratch\", so write it with tensor arithmetic (exp, log, sum, max, @, ...){own}")
        if self.kind == "module":
            return (f"`{item}` uses `{call}`{where}, which assignment {assignment} does not allow: it is "
                    "\"from scratch\", so use only torch's tensor arithmetic, math, numpy and your own modules")
        if self.kind == "lookup":
            return (f"`{item}` looks a function up by a computed name, `{call}`{where}; the grader must see "
                    "which function is called, so call it by name (for example `torch.exp(z)`)")
        if self.kind == "module_value":
            return (f"`{item}` uses the module `{call}` as a value{where}; write `{call}.<function>(...)` where "
                    "you call it instead of renaming, passing or storing the module, so the grader can see "
                    "what is called")
        if self.kind == "monkeypatch":
            return (f"`{item}` cannot be graded: `{call}`{where} replaces a module's function; define a "
                    "helper function of your own instead")
        if self.kind == "binding":
            return (f"`{item}` is bound by `{call}`{where}; the grader accepts `{item}` only as a plain "
                    f"`def {item}(...)` at the top level of your module (not inside an `if` or `try`, not "
                    "assigned, imported or rebound), so remove that line or use another name")
        if self.kind == "decorator":
            return (f"`{item}` has the decorator `@{call}`{where}; the grader cannot tell what a decorator "
                    "does to your function, so remove it (only `@torch.no_grad()` and "
                    "`@torch.inference_mode()` are accepted)")
        if self.kind == "rebinds_others":
            return (f"`{item}` cannot be graded: `{call}`{where} can change the functions of your module "
                    "while it runs; remove it and call functions by name")
        if self.kind == "unchecked":
            return (f"`{item}` could not be checked by the from-scratch rule ({call}{where}); simplify that "
                    "code, for example by splitting very deeply nested expressions")
        return (f"`{item}` uses `{call}`{where}, which hides from the grader what your code calls or "
                "changes; write the call out by name instead (for example `torch.exp(z)`)")


def notebook_locator(cells: list[str], labels: list[str]) -> Callable[[int], str]:
    """Lines of a notebook's joined cells, named as the student sees them: "cell 7 (`...`), line 3"."""
    def locate(line: int) -> str:
        index, within = cell_at_line(cells, line)
        label = labels[index] if 0 <= index < len(labels) else f"cell {index + 1}"
        return f"{label}, line {within}"
    return locate


def find_violations(sources: dict[str, str], module: str, *, provided: frozenset[str] = frozenset()
                    ) -> list[Violation]:
    """At most one violation (the first by line) per graded item of ``module`` that breaks the rule.

    ``sources`` holds the student's usable module sources by name (for a notebook: only
    its own joined cells). ``provided`` names what a notebook's setup cell defines."""
    assignment = BY_MODULE[module]
    if not assignment.from_scratch or module not in sources:
        return []
    try:
        return _Checker(sources, module, provided).run()
    except Exception as exc:  # noqa: BLE001 - any source Python can parse gets a verdict, never a crash
        reason = "it is nested too deeply" if isinstance(exc, (RecursionError, MemoryError)) else \
            f"it could not be analysed: {type(exc).__name__}"
        return [Violation(item, reason, getattr(exc, "lineno", 0) or 1, module, "", "unchecked")
                for item in assignment.items]


class _Checker:
    def __init__(self, sources: dict[str, str], module: str, provided: frozenset[str]):
        self.sources = sources
        self.module = module
        self.provided = provided
        self.items = BY_MODULE[module].items
        self.indexes: dict[str, SourceIndex | None] = {}
        self.units: dict[tuple, Unit] = {}
        self.scans: dict[tuple, Scanned] = {}
        self.resolved: dict[tuple, list[tuple]] = {}
        self.index(module)  # the module under test must be analysable: errors reach find_violations

    # ---- the verdict --------------------------------------------------------------------------
    def run(self) -> list[Violation]:
        index = self.index(self.module)
        roots = {item: [self.unit(("item", self.module, id(b.node)),
                                  lambda b=b: Unit(self.module, _body(b.node), ""))
                        for b in index.bindings.get(item, ()) if b.top_level_def]
                 for item in self.items}
        import_roots = [self.unit(("import", m), lambda m=m: Unit(m, list(self.index(m).tree.body), "", True))
                        for m in self.imported_closure()]
        own = {item: self.reach(roots[item], every=True) for item in self.items}
        found = self.reach([*import_roots, *(k for keys in roots.values() for k in keys)], every=False)
        shared, shared_via = found if found else (None, "")
        out = []
        for item in self.items:
            candidates = [(f, via, f.kind) for f, via in self.binding_findings(item, index)]
            if own[item]:
                f, via = own[item]
                candidates.append((f, via, f.kind))
            if shared is not None and (own[item] is None or own[item][0] != shared):
                candidates.append((shared, shared_via, "rebinds_others"))
            if candidates:
                f, via, kind = min(candidates, key=lambda c: _order(c[0], self.module))
                out.append(Violation(item, f.call, f.line, f.module, via, kind))
        return out

    def reach(self, roots: list[tuple], every: bool) -> tuple[Finding, str] | None:
        """The first finding in everything reachable from ``roots`` (every kind, or only costs_all)."""
        best: tuple[Finding, str] | None = None
        seen, queue = set(roots), deque(dict.fromkeys(roots))
        followed: set[tuple] = set()  # each name is resolved once per walk: linear, however often it is used
        while queue:
            key = queue.popleft()
            scanned = self.scan(key)
            for finding in (scanned.best_item if every else None, scanned.best_all):
                if finding is not None and (best is None or _order(finding, self.module) < _order(best[0], self.module)):
                    best = (finding, self.units[key].label)
            for edge in scanned.edges:
                if edge in followed:
                    continue
                followed.add(edge)
                for target in self.resolve(edge):
                    if target not in seen:
                        seen.add(target)
                        queue.append(target)
        return best

    def binding_findings(self, item: str, index: SourceIndex) -> list[tuple[Finding, str]]:
        """Rule 1: the graded name is bound by plain top-level defs only, with harmless decorators."""
        out = []
        for b in index.bindings.get(item, ()):
            if b.top_level_def:
                for decorator in b.node.decorator_list:
                    if not self.harmless_decorator(decorator, index):
                        out.append((Finding("decorator", describe(decorator), decorator.lineno, self.module,
                                            False), ""))
            else:
                out.append((Finding("binding", _describe_binding(b), b.line, self.module, False), ""))
        for target, line in index.stars:
            if self.star_binds(target, item):
                out.append((Finding("binding", f"from {target.module or '.'} import *", line, self.module,
                                    False), ""))
        for b in index.bindings.get("__getattr__", ()):
            out.append((Finding("binding", "def __getattr__", b.line, self.module, False), ""))
        return out

    def harmless_decorator(self, decorator: ast.expr, index: SourceIndex) -> bool:
        if isinstance(decorator, ast.Call):
            if not all(isinstance(a, ast.Constant) for a in (*decorator.args, *(k.value for k in decorator.keywords))):
                return False
            decorator = decorator.func
        attrs, root = chain(decorator)
        if not isinstance(root, ast.Name):
            return False
        bindings = index.bindings.get(root.id, [])
        if not bindings or any(b.target is None or b.target.kind not in ("module", "from") for b in bindings):
            return False
        for b in bindings:
            path = [*b.target.module.split("."), *([b.target.name] if b.target.kind == "from" else []), *attrs]
            if ".".join(path) not in HARMLESS_DECORATORS:
                return False
        return True

    # ---- sources ------------------------------------------------------------------------------
    def index(self, module: str) -> SourceIndex | None:
        if module not in self.indexes:
            if module == self.module:
                self.indexes[module] = SourceIndex(module, self.sources[module])
            else:
                try:
                    self.indexes[module] = SourceIndex(module, self.sources[module]) \
                        if module in self.sources else None
                except Exception:  # noqa: BLE001
                    self.indexes[module] = None  # fails to import at run time, or is reported on its own
        return self.indexes[module]

    def imported_closure(self) -> list[str]:
        """The module under test and every sibling it imports, directly or not: all run on import."""
        order, seen = [self.module], {self.module}
        for module in order:
            index = self.index(module)
            for name in sorted(index.imported if index else ()):
                if name in _ORDER and name not in seen and self.index(name) is not None:
                    seen.add(name)
                    order.append(name)
        return order

    def earlier(self, module: str) -> bool:
        return _ORDER[module] < _ORDER[self.module]

    # ---- units and edges ----------------------------------------------------------------------
    def unit(self, key: tuple, make) -> tuple:
        if key not in self.units:
            self.units[key] = make()
        return key

    def scan(self, key: tuple) -> Scanned:
        if key not in self.scans:
            unit = self.units[key]
            self.scans[key] = Scan(self, self.index(unit.module), unit).run()
        return self.scans[key]

    def resolve(self, edge: tuple) -> list[tuple]:
        """The units a name leads to: ("global" | "handed" | "sibling" | "sites", module, name)."""
        if edge not in self.resolved:
            self.resolved[edge] = []  # a cycle resolves to what is found so far
            kind, module, name = edge
            if kind == "sites":
                self.resolved[edge] = self.site_units(module, name)
            elif kind == "sibling":
                self.resolved[edge] = self.resolve_sibling(module, name)
            else:
                self.resolved[edge] = self.resolve_global(module, name, handed_on=kind == "handed")
        return self.resolved[edge]

    def resolve_sibling(self, module: str, name: str) -> list[tuple]:
        """`name` taken from the graded module `module` (an import or `module.name`), as the worker sees it."""
        if module != self.module and self.earlier(module) and name in BY_MODULE[module].items:
            return []  # the ready-made version
        if self.index(module) is None:
            return []  # absent: it fails to import at run time
        return self.resolve(("handed", module, name))

    def resolve_global(self, module: str, name: str, handed_on: bool) -> list[tuple]:
        """Every piece of code a module-level `name` of `module` may get its value from."""
        index = self.index(module)
        if index is None:
            return []
        if self.answers_for_itself(module, name):
            return []
        bindings = index.bindings.get(name, [])
        if module == self.module and name in self.provided and self.setup_only(bindings):
            return self.site_units(module, name)  # the kit's own, unless something is stored on it
        keys = []
        for b in bindings:
            key = ("binding", module, id(b))
            if b.kind in ("def", "async def"):
                keys.append(self.unit(key, lambda b=b: Unit(module, [*b.node.decorator_list, *_body(b.node)],
                                                            name)))
            elif b.kind == "class":
                keys.append(self.unit(key, lambda b=b: Unit(module, [b.node], name)))
            elif b.kind == "import":
                continue  # followed where it is used (_Scan.sibling_chain), with the attributes taken of it
            elif b.value:
                keys.append(self.unit(key, lambda b=b: Unit(module, b.value, name)))
        # what changes a value bound here; a module (an import) is changed only by what the scan reports
        if any(b.target is None for b in bindings):
            keys += self.site_units(module, name)
        if handed_on and not bindings and not index.stars:
            keys += self.resolve(("global", module, "__getattr__"))  # PEP 562: the module answers itself
        return keys

    def site_units(self, module: str, name: str) -> list[tuple]:
        """The code that changes what the module-level `name` of `module` holds (ACTS["relu"] = ...)."""
        index = self.index(module)
        sites = list(index.sites.get(name, ())) if index else []
        if sites and name in index.escaped:
            sites += index.anonymous_sites
        keys = []
        for site in sites:
            nodes = list(site.nodes)
            if site.function is not None:
                nodes += _body(site.function)
            keys.append(self.unit(("site", module, id(site)), lambda nodes=nodes: Unit(module, nodes, name)))
            for alias in site.names:
                keys += self.resolve(("global", module, alias))
        return keys

    def answers_for_itself(self, module: str, name: str) -> bool:
        """A graded name of the module under test answers for itself; one of an earlier module is ready-made."""
        return name in BY_MODULE[module].items and (module == self.module or self.earlier(module))

    def setup_only(self, bindings: list[Binding]) -> bool:
        """A setup-provided name stays exempt while nothing but the setup (or a ready-made import) binds it."""
        others = [b for b in bindings if not (b.target is not None and b.target.kind == "from"
                                              and b.target.module in _ORDER and self.earlier(b.target.module)
                                              and b.target.name in BY_MODULE[b.target.module].items
                                              and b.target.name == b.name)]
        return len(others) <= 1

    def star_binds(self, target: Target, name: str) -> bool:
        """Whether `from <target.module> import *` may bind `name`."""
        module = target.module
        root = module.split(".")[0]
        if target.kind == "relative":
            return True
        if root == "torch":
            return _has_torch_attr(module, name)
        if names.allowed_module(module):
            try:
                return hasattr(importlib.import_module(module), name)
            except ImportError:
                return False
        if root in _ORDER:
            index = self.index(root)
            return name in BY_MODULE[root].items or (index is not None and name in index.bindings)
        return True


def _has_torch_attr(module: str, name: str) -> bool:
    try:
        obj = importlib.import_module("torch")
        for part in module.split(".")[1:]:
            obj = getattr(obj, part, None)
        return obj is not None and hasattr(obj, name) and not name.startswith("_")
    except Exception:  # noqa: BLE001 - a torch attribute that fails to load binds nothing
        return False


def _body(node: ast.AST) -> list[ast.AST]:
    """What runs or is read when a def is called: its defaults and its body (annotations are not code)."""
    if isinstance(node, ast.Lambda):
        return [*node.args.defaults, *(d for d in node.args.kw_defaults if d), node.body]
    return [*node.args.defaults, *(d for d in node.args.kw_defaults if d), *node.body]


def _order(finding: Finding, module: str) -> tuple:
    return finding.module != module, finding.line, finding.call


def _describe_binding(b: Binding) -> str:
    value = describe(b.value[0]) if b.value else "..."
    text = {
        "def": f"def {b.name}" + (f" (inside {'an' if b.in_block == 'if' else 'a'} {b.in_block} block)"
                                  if b.in_block else ""),
        "async def": f"async def {b.name}",
        "class": f"class {b.name}",
        "assign": f"{b.name} = {value}", "annassign": f"{b.name}: ... = {value}",
        "augassign": f"{b.name} op= {value}", "for": f"for {b.name} in {value}",
        "with": f"with {value} as {b.name}", "walrus": f"{b.name} := {value}", "del": f"del {b.name}",
        "except": f"except ... as {b.name}", "match": f"case ... {b.name}",
        "namespace": f"globals()[{b.name!r}] = {value}",
    }.get(b.kind, b.name)
    if b.kind == "import" and b.target is not None:
        text = (f"from {b.target.module or '.'} import {b.target.name}" if b.target.kind != "module"
                else f"import {b.target.module}") + (f" as {b.name}" if b.name != (b.target.name or b.target.module)
                                                     else "")
    if b.via_global is not None:
        text += f" (through global {b.name} in {getattr(b.via_global, 'name', 'a function')})"
    return text
