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
from autograder.syllabus import ASSIGNMENTS, BY_MODULE, MODULES

# decorators a graded function may carry: they change nothing about what it computes
HARMLESS_DECORATORS = frozenset({"torch.no_grad", "torch.inference_mode", "functools.cache",
                                 "functools.lru_cache"})
# builtins that may show a module at import time (a notebook's `print(torch.__version__)`, `help(torch)`)
_SHOWING_BUILTINS = frozenset({"print", "dir", "help", "repr", "str", "type", "id", "isinstance", "len"})
_ORDER = {m: i for i, m in enumerate(MODULES)}


@dataclass(frozen=True)
class Violation:
    item: str  # the graded name that breaks the rule
    call: str  # what was found, e.g. "torch.softmax"
    line: int
    module: str = ""  # the module whose source holds that line
    via: str = ""  # the helper or module-level name it was found in, when not in the item itself
    kind: str = "forbidden"  # forbidden, module, lookup, dynamic, module_value, monkeypatch, binding,
    #                          decorator, rebinds_others, unchecked

    def message(self, assignment: str, locate: Callable[[int], str] | None = None) -> str:
        """The student's message; ``locate`` names a line of a notebook (see ``notebook_locator``)."""
        graded = next((a.module for a in ASSIGNMENTS if a.folder.startswith(assignment)), "")
        if self.module and self.module != graded:
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


@dataclass(frozen=True)
class Finding:
    kind: str
    call: str
    line: int
    module: str
    costs_all: bool  # can change other functions of the module: costs every graded item


@dataclass
class Unit:
    """A piece of code that a graded function may run or read."""
    module: str
    nodes: list[ast.AST]
    label: str  # shown as `via` ("" for the graded function itself)
    import_time: bool = False  # module-level code as it runs on import (def bodies skipped)


@dataclass
class Scanned:
    best_item: Finding | None  # the first finding that costs the function reaching it
    best_all: Finding | None  # the first finding that costs every function
    edges: list[tuple]  # ("global"|"sibling", module, name) or ("unit", key)


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
                        out.append((Finding("decorator", _describe(decorator), decorator.lineno, self.module,
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
        attrs, root = _chain(decorator)
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
            self.scans[key] = _Scan(self, self.index(unit.module), unit).run()
        return self.scans[key]

    def resolve(self, edge: tuple) -> list[tuple]:
        if edge[0] == "unit":
            return [edge[1]]
        if edge not in self.resolved:
            self.resolved[edge] = []  # a cycle resolves to what is found so far
            kind, module, name = edge
            if kind == "sites":
                self.resolved[edge] = self.site_units(module, name)
            else:
                self.resolved[edge] = self.resolve_sibling(module, name) if kind == "sibling" else \
                    self.resolve_global(module, name, handed_on=kind == "handed")
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


def _chain(node: ast.AST) -> tuple[list[str], ast.AST]:
    """`a.b.c` as (["b", "c"], Name a); the base may be any expression."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    return attrs[::-1], node


def _describe(node: ast.AST) -> str:
    """A short text for a piece of code, built from the tree (never from the source text)."""
    called = isinstance(node, ast.Call)
    attrs, root = _chain(node.func if called else node)
    if isinstance(root, ast.Name):
        text = ".".join((root.id, *attrs))
    elif isinstance(root, ast.Call):
        attrs_inner, inner = _chain(root.func)
        text = ".".join((*([inner.id] if isinstance(inner, ast.Name) else ["..."]), *attrs_inner)) + "(...)"
        text = ".".join((text, *attrs))
    else:
        text = ".".join(("...", *attrs)) if attrs else "..."
    return f"{text}(...)" if called else text


def _describe_binding(b: Binding) -> str:
    value = _describe(b.value[0]) if b.value else "..."
    text = {
        "def": f"def {b.name}" + (f" (inside {'an' if b.in_block == 'if' else 'a'} {b.in_block} block)"
                                  if b.in_block else ""),
        "async def": f"async def {b.name}",
        "class": f"class {b.name}",
        "assign": f"{b.name} = {value}", "annassign": f"{b.name}: ... = {value}",
        "augassign": f"{b.name} op= {value}", "for": f"for {b.name} in {value}",
        "with": f"with {value} as {b.name}", "walrus": f"{b.name} := {value}", "del": f"del {b.name}",
        "except": f"except ... as {b.name}", "match": f"case ... {b.name}",
    }.get(b.kind, b.name)
    if b.kind == "import" and b.target is not None:
        text = (f"from {b.target.module or '.'} import {b.target.name}" if b.target.kind != "module"
                else f"import {b.target.module}") + (f" as {b.name}" if b.name != (b.target.name or b.target.module)
                                                     else "")
    if b.via_global is not None:
        text += f" (through global {b.name} in {getattr(b.via_global, 'name', 'a function')})"
    return text


class _Scan:
    """Walk one unit's code once: its findings and the names it reaches."""

    def __init__(self, checker: _Checker, index: SourceIndex, unit: Unit):
        self.checker = checker
        self.index = index
        self.unit = unit
        self.best_item: Finding | None = None
        self.best_all: Finding | None = None
        self.edges: list[tuple] = []
        self.consumed: set[int] = set()

    def run(self) -> Scanned:
        unit = self.unit
        stack = list(reversed(unit.nodes))
        while stack:
            node = stack.pop()
            if id(node) in self.consumed:
                continue
            children = self.visit(node)
            stack.extend(reversed(children))
        return Scanned(self.best_item, self.best_all, list(dict.fromkeys(self.edges)))

    # ---- findings -----------------------------------------------------------------------------
    def found(self, kind: str, call: str, line: int, costs_all: bool) -> None:
        if self.unit.import_time and not costs_all:
            return  # at import time only what can rebind the module's functions matters
        finding = Finding(kind, call, line, self.unit.module, costs_all)
        if costs_all:
            if self.best_all is None or (line, call) < (self.best_all.line, self.best_all.call):
                self.best_all = finding
        elif self.best_item is None or (line, call) < (self.best_item.line, self.best_item.call):
            self.best_item = finding

    # ---- the walk -----------------------------------------------------------------------------
    def visit(self, node: ast.AST) -> list[ast.AST]:
        import_time = self.unit.import_time
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            out = [*node.decorator_list, *args.defaults, *(d for d in args.kw_defaults if d)]
            if import_time:
                out += [a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg,
                                               args.kwarg) if a is not None and a.annotation]
                out += [node.returns] if node.returns else []
            else:
                out += node.body
            return out
        if isinstance(node, ast.Lambda):
            return [*node.args.defaults, *(d for d in node.args.kw_defaults if d),
                    *([] if import_time else [node.body])]
        if isinstance(node, ast.AnnAssign):
            return [node.target, *([node.value] if node.value else []), *([node.annotation] if import_time else [])]
        if isinstance(node, ast.arg):
            return []
        if id(node) in self.index.main_guards:
            return [node.test, *node.orelse]  # the block runs only as a script, never in the grader
        if isinstance(node, ast.Name):
            self.name_chain(node, [], node.ctx, node, node)
            return []
        if isinstance(node, ast.Attribute):
            attrs, base = _chain(node)
            inner = node
            while isinstance(inner, ast.Attribute):
                self.consumed.add(id(inner))
                inner = inner.value
            if isinstance(base, ast.Name):
                self.name_chain(base, attrs, node.ctx, node, node)
                return []
            if self.lookup_call(base) and attrs and attrs[0] in names.READ_ONLY_METHODS:
                self.found("lookup", f"{base.func.id}().{attrs[0]}", node.lineno, False)
                return [*base.args, *base.keywords]
            self.value_attributes(attrs, node.ctx, node.lineno)
            return [base]
        if isinstance(node, ast.Subscript) and self.lookup_call(node.value) and isinstance(node.ctx, ast.Load):
            call = node.value
            self.found("lookup", f"{call.func.id}()[...]", node.lineno, False)
            for arg in call.args:  # vars(torch)[...]: the module is the lookup's base, not a value handed on
                if isinstance(arg, (ast.Name, ast.Attribute)):
                    self.consume_chain(arg)
            return [*call.args, *call.keywords, node.slice]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and self.is_builtin(node.func, (
                "getattr", "hasattr", "setattr", "delattr")):
            return self.attribute_builtin(node)
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not import_time:
            self.import_statement(node)
            return []
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return []
        return list(ast.iter_child_nodes(node))

    def is_builtin(self, name: ast.Name, which) -> bool:
        return name.id in which and self.index.defining_scope(self.index.scope_of[id(name)], name.id) is None \
            and not self.index.binds_at_module_level(name.id)

    def lookup_call(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            self.is_builtin(node.func, ("globals", "vars", "locals")) and not node.keywords

    def consume_chain(self, node: ast.AST) -> None:
        attrs, root = _chain(node)
        if isinstance(root, ast.Name):
            self.consumed.add(id(root))
            inner = node
            while isinstance(inner, ast.Attribute):
                self.consumed.add(id(inner))
                inner = inner.value

    def attribute_builtin(self, call: ast.Call) -> list[ast.AST]:
        """getattr/hasattr/setattr/delattr: a constant name is read as plain attribute access."""
        which = call.func.id
        rest = [*call.args[2:], *call.keywords]
        if len(call.args) < 2:
            return [*call.args, *call.keywords]
        base, name = call.args[0], call.args[1]
        ctx = ast.Load() if which in ("getattr", "hasattr") else ast.Store()
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            attrs, root = _chain(base)
            if isinstance(root, ast.Name):
                self.consume_chain(base)
                self.name_chain(root, [*attrs, name.value], ctx, call, call)
                return rest
            self.value_attributes([name.value], ctx, call.lineno)
            return [base, *rest]
        if which == "hasattr":
            return [base, name, *rest]
        if which == "getattr":
            self.found("lookup", f"getattr({_describe(base)}, <a computed name>)", call.lineno, False)
            if isinstance(base, (ast.Name, ast.Attribute)):
                self.consume_chain(base)
                return [name, *rest]
            return [base, name, *rest]
        self.found("dynamic", f"{which}({_describe(base)}, <a computed name>, ...)", call.lineno, True)
        return [base, name, *rest]

    # ---- names and attribute chains ------------------------------------------------------------
    def name_chain(self, root: ast.Name, attrs: list[str], ctx: ast.AST, top: ast.AST, at: ast.AST) -> None:
        """A use of `root.attrs...` (or of `root` alone): resolve the root, check the chain."""
        line = getattr(at, "lineno", root.lineno)
        name = root.id
        storing = isinstance(ctx, (ast.Store, ast.Del))
        if storing and not attrs:
            return  # a binding: its value is checked where it is read
        if name.startswith("__") and name.endswith("__") and name not in names.HARMLESS_DUNDER_NAMES:
            self.found("dynamic", name, line, True)
        scope = self.index.scope_of.get(id(root), self.index.tree)
        defining = self.index.defining_scope(scope, name)
        if defining is None and self.checker.answers_for_itself(self.index.module, name):
            self.value_attributes(attrs, ctx, line)
            if attrs:  # `relu.impl`: what was stored on the function is read
                self.edges.append(("sites", self.index.module, name))
            return
        targets = self.index.imports_of(defining, name)
        if defining is None:
            self.edges.append(("global", self.index.module, name))
            if not self.index.binds_at_module_level(name):
                self.builtin_use(name, line)
        for target in targets:
            self.target_chain(target, attrs, ctx, line, top, name)
        if defining is None:
            for target, _ in self.index.stars:
                self.star_chain(target, name, attrs, ctx, line, top)
        if not targets:
            self.value_attributes(attrs, ctx, line)

    def builtin_use(self, name: str, line: int) -> None:
        if name in names.REBINDING_BUILTINS:
            self.found("dynamic", f"{name}()", line, True)
        elif name in names.LOOKUP_BUILTINS:
            self.found("lookup", f"{name}()", line, False)
        elif name == "__builtins__":
            self.found("dynamic", name, line, True)

    def value_attributes(self, attrs: list[str], ctx: ast.AST, line: int) -> None:
        """Attributes of a value (not of a module): method forms, private tensor internals, back doors."""
        storing = isinstance(ctx, (ast.Store, ast.Del))
        for i, attr in enumerate(attrs):
            last_stored = storing and i == len(attrs) - 1
            if attr.startswith("__") and attr.endswith("__"):
                if attr not in names.HARMLESS_DUNDERS:
                    self.found("dynamic", f".{attr}", line, True)
            elif attr in names.FRAME_ATTRIBUTES:
                self.found("dynamic", f".{attr}", line, True)
            elif last_stored:
                continue
            elif attr in names.method_forms():
                self.found("forbidden", f".{attr}()" if attr != "grad_fn" else ".grad_fn", line, False)
            elif attr.startswith("_") and attr in names.private_tensor_attributes():
                self.found("forbidden", f".{attr}", line, False)

    def target_chain(self, target: Target, attrs: list[str], ctx: ast.AST, line: int, top: ast.AST | None,
                     shown: str, depth: int = 0) -> None:
        """A chain whose root an import binds."""
        storing = isinstance(ctx, (ast.Store, ast.Del))
        if target.kind == "relative":
            self.found("module", f"from {'.' + target.module} import {target.name or '*'}", line, False)
            return
        path = target.module.split(".") + ([target.name] if target.kind == "from" else [])
        root = path[0]
        if root in _ORDER:
            if len(path) == 1:  # the module itself
                if not attrs:
                    self.module_value(root, line, top)
                    return
                path = [root, attrs[0]]
                attrs = attrs[1:]
            if storing and not attrs:
                self.found("monkeypatch", ".".join(path), line, True)
                return
            self.sibling_chain(root, path[1], attrs, ctx, line, top, depth)
            return
        full = [*path, *attrs]
        dotted = ".".join(full)
        if storing:  # settings of torch.backends, and other libraries' own options, change nothing here
            if root == "torch" and not (len(full) > 2 and full[1] == "backends") or \
                    names.allowed_module(root) or root in names.INTROSPECTION_MODULES:
                self.found("monkeypatch", dotted, line, True)
            return
        if root == "torch":
            verdict = names.check_torch_path(tuple(full[1:]))
        elif names.allowed_module(root):
            verdict = names.check_allowed_path(root, tuple(full[1:]))
            if verdict is None and any(names.forbidden_torch_name(p) for p in full[1:]):
                verdict = ("forbidden", dotted)
        elif root in names.INTROSPECTION_MODULES:
            if root == "sys" and len(full) > 1 and full[1] in names.HARMLESS_SYS:
                return
            verdict = ("dynamic", dotted)
        else:
            verdict = ("module", ".".join(path))
        if verdict is None:
            return
        kind, call = verdict
        if kind == "module" and names.allowed_module(root) or kind == "module" and root == "torch":
            self.module_value(call, line, top)
        elif kind == "dynamic":
            self.found("dynamic", call, line, True)
        elif kind == "lookup":
            self.found("lookup", call, line, False)
        else:
            self.found(kind, call, line, False)

    def sibling_chain(self, sibling: str, name: str, attrs: list[str], ctx: ast.AST, line: int,
                      top: ast.AST | None, depth: int) -> None:
        """`sibling.name.attrs...` as the worker sees it: an import there is followed to what it imports."""
        checker = self.checker
        index = checker.index(sibling) if depth < 32 else None
        if checker.answers_for_itself(sibling, name) or index is None:
            self.value_attributes(attrs, ctx, line)  # ready-made, under test, or absent (fails at run time)
            return
        bindings = index.bindings.get(name, [])
        for b in bindings:
            if b.target is not None:
                self.target_chain(b.target, attrs, ctx, line, top, name, depth + 1)
        if not bindings:
            for target, _ in index.stars:
                if checker.star_binds(target, name):
                    self.target_chain(Target("from" if target.kind == "star" else "relative", target.module, name),
                                      attrs, ctx, line, top, name, depth + 1)
        if any(b.target is None for b in bindings) or not (bindings or index.stars):
            self.edges.append(("sibling", sibling, name))
            self.value_attributes(attrs, ctx, line)

    def star_chain(self, target: Target, name: str, attrs: list[str], ctx: ast.AST, line: int,
                   top: ast.AST | None) -> None:
        if name.startswith("_") or not self.checker.star_binds(target, name):
            return
        if target.kind == "star" and target.module.split(".")[0] not in {*_ORDER, "torch"} and \
                not names.allowed_module(target.module):
            self.found("module", f"from {target.module} import *", line, False)
            return
        self.target_chain(Target("from" if target.kind == "star" else "relative", target.module, name),
                          attrs, ctx, line, top, name)

    def module_value(self, shown: str, line: int, top: ast.AST | None) -> None:
        if self.unit.import_time and top is not None:
            parent = self.index.parent.get(id(top))
            if isinstance(parent, ast.Expr) or (
                    isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name)
                    and parent.func.id in _SHOWING_BUILTINS and top is not parent.func):
                return
        self.found("module_value", shown, line, True)

    def import_statement(self, node: ast.Import | ast.ImportFrom) -> None:
        """An import inside code a graded function runs: the import itself must be allowed."""
        if isinstance(node, ast.Import):
            paths = [alias.name.split(".") for alias in node.names]
        elif node.level or not node.module:
            return
        else:
            paths = [[*node.module.split("."), *([a.name] if a.name != "*" else [])] for a in node.names]
        for path in paths:
            if path[0] == "torch":
                verdict = names.check_torch_path(tuple(path[1:]))
                if verdict is not None and verdict[0] == "forbidden":
                    self.found("forbidden", verdict[1], node.lineno, False)

