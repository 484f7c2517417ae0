"""Walk one piece of code of a student's module once: what it reaches, and what in it breaks the rule.

The pieces (``Unit``) are made by rules.py: a graded function's body, a helper, the value a
module-level name is bound to, a statement that changes it, or a module's import-time code. The
walk resolves every name with the index's scoping (rule_index.py) and judges every attribute path
with the lists of rule_names.py; it never recurses (explicit stack), whatever the nesting.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from autograder.grading import rule_names as names
from autograder.grading.rule_index import SourceIndex, Target
from autograder.syllabus import MODULES

# builtins that may show a module at import time (a notebook's `print(torch.__version__)`, `help(torch)`)
_SHOWING_BUILTINS = frozenset({"print", "dir", "help", "repr", "str", "type", "id", "isinstance", "len"})
MODULE_ORDER = {m: i for i, m in enumerate(MODULES)}


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
    edges: list[tuple]  # ("global" | "sibling" | "sites", module, name): names to resolve


def chain(node: ast.AST) -> tuple[list[str], ast.AST]:
    """`a.b.c` as (["b", "c"], Name a); the base may be any expression."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    return attrs[::-1], node


def describe(node: ast.AST) -> str:
    """A short text for a piece of code, built from the tree (never from the source text)."""
    called = isinstance(node, ast.Call)
    attrs, root = chain(node.func if called else node)
    if isinstance(root, ast.Name):
        text = ".".join((root.id, *attrs))
    elif isinstance(root, ast.Call):
        attrs_inner, inner = chain(root.func)
        text = ".".join((*([inner.id] if isinstance(inner, ast.Name) else ["..."]), *attrs_inner)) + "(...)"
        text = ".".join((text, *attrs))
    else:
        text = ".".join(("...", *attrs)) if attrs else "..."
    return f"{text}(...)" if called else text


class Scan:
    """Walk one unit's code once: its findings and the names it reaches."""

    def __init__(self, checker, index: SourceIndex, unit: Unit):  # checker: rules._Checker
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
            attrs, base = chain(node)
            inner = node
            while isinstance(inner, ast.Attribute):
                self.consumed.add(id(inner))
                inner = inner.value
            if isinstance(base, ast.Name):
                self.name_chain(base, attrs, node.ctx, node, node)
                return []
            if self.lookup_call(base) and attrs and attrs[0] in names.READ_ONLY_METHODS:
                self.found("lookup", f"{base.func.id}().{attrs[0]}", node.lineno, False)
                for arg in base.args:  # vars(torch).get(...): the module is the lookup's base
                    if isinstance(arg, (ast.Name, ast.Attribute)):
                        self.consume_chain(arg)
                return [*base.args, *base.keywords]
            self.value_attributes(attrs, node.ctx, node.lineno)
            return [base]
        if isinstance(node, ast.Subscript) and self.lookup_call(node.value) and not isinstance(node.ctx, ast.Load) \
                and self.index.namespace_binding(node):
            return []  # globals()["x"] = ...: a binding of x, checked as one
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
        attrs, root = chain(node)
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
            attrs, root = chain(base)
            if isinstance(root, ast.Name):
                self.consume_chain(base)
                self.name_chain(root, [*attrs, name.value], ctx, call, call)
                return rest
            self.value_attributes([name.value], ctx, call.lineno)
            return [base, *rest]
        if which == "hasattr":
            return [base, name, *rest]
        if which == "getattr":
            self.found("lookup", f"getattr({describe(base)}, <a computed name>)", call.lineno, False)
            if isinstance(base, (ast.Name, ast.Attribute)):
                self.consume_chain(base)
                return [name, *rest]
            return [base, name, *rest]
        self.found("dynamic", f"{which}({describe(base)}, <a computed name>, ...)", call.lineno, True)
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
        if root in MODULE_ORDER:
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
        if target.kind == "star" and target.module.split(".")[0] not in {*MODULE_ORDER, "torch"} and \
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

