"""One pass over a module's source: its scopes, what binds each module-level name, and what changes it.

The "from scratch" rule (rules.py) asks three questions of a source, all answered
here in time linear in its size:
- where does a name used at some point resolve (Python's own scoping, from the
  stdlib ``symtable``: a local ``y`` never means a module-level ``y``);
- what binds a module-level name (defs, assignments, imports, ``global`` in a
  function, walrus, ``for``, ``with`` ...), with the code its value comes from;
- what can change the contents of a module-level name after it is bound
  (``ACTS["relu"] = ...``, ``ACTS.update(...)``, passing ``ACTS`` to a function,
  an alias ``A = ACTS``), so that code is checked as well.
The walk uses an explicit stack: no recursion, whatever the nesting.
"""

from __future__ import annotations

import ast
import symtable
from dataclasses import dataclass, field

from autograder.grading.rule_names import READ_ONLY_METHODS

FUNCTION_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
SCOPES = (*FUNCTION_SCOPES, ast.ClassDef, *COMPREHENSIONS)
_COMPREHENSION_NAMES = {ast.ListComp: "listcomp", ast.SetComp: "setcomp", ast.DictComp: "dictcomp",
                        ast.GeneratorExp: "genexpr"}
# where a module-level name's value is only read, never handed on
_READING_PARENTS = (ast.Compare, ast.For, ast.AsyncFor, ast.comprehension, ast.If, ast.While, ast.UnaryOp,
                    ast.BinOp, ast.FormattedValue, ast.JoinedStr, ast.Expr, ast.Assert, ast.IfExp)


@dataclass(frozen=True)
class Target:
    """What an import binds: a module, one name of a module, or every name (star)."""
    kind: str  # "module", "from", "star" or "relative"
    module: str  # dotted module name as written
    name: str = ""


@dataclass
class Binding:
    name: str
    kind: str  # def, async def, class, assign, augassign, annassign, for, with, walrus, import, del, except, match
    line: int
    node: ast.AST  # the statement (or the def/class itself)
    value: list[ast.AST] = field(default_factory=list)  # the code the name's value comes from
    target: Target | None = None  # for imports
    top_level_def: bool = False  # a plain `def` directly in the module body
    via_global: ast.AST | None = None  # the function that binds it through `global`
    in_block: str = ""  # the compound statement around a module-level def ("if", "try", ...)


@dataclass
class Site:
    """Code that can change what a module-level name holds."""
    line: int
    nodes: list[ast.AST] = field(default_factory=list)  # code to check
    names: tuple[str, ...] = ()  # module-level aliases it creates
    function: ast.AST | None = None  # a whole function that holds an alias


class SourceIndex:
    def __init__(self, module: str, source: str):
        self.module = module
        self.source = source
        self.tree = ast.parse(source)
        self.root_table = symtable.symtable(source, f"{module}.py", "exec")
        self.parent: dict[int, ast.AST] = {}
        self.scope_of: dict[int, ast.AST] = {}
        self.parent_scope: dict[int, ast.AST] = {}
        self.tables: dict[int, list[symtable.SymbolTable]] = {id(self.tree): [self.root_table]}
        self._children_by_key: dict[int, dict[tuple, list[symtable.SymbolTable]]] = {}
        self.local_imports: dict[tuple[int, str], list[Target]] = {}
        self.bindings: dict[str, list[Binding]] = {}
        self.module_imports: dict[str, list[Target]] = {}  # what imports bind each module-level name
        self._kinds: dict[tuple[int, str], str] = {}
        self.stars: list[tuple[Target, int]] = []
        self.sites: dict[str, list[Site]] = {}
        self.escaped: set[str] = set()
        self.anonymous_sites: list[Site] = []
        self.imported: set[str] = set()  # every module named by an import, anywhere
        self._top = {id(n) for n in self.tree.body}
        self.main_guards = self._main_guards()  # `if __name__ == "__main__":` blocks never run on import
        self._walk()

    # ---- name resolution -------------------------------------------------------------
    def kind(self, scope: ast.AST, name: str) -> str:
        """"global", "local" or "free": where ``name`` used in ``scope`` resolves."""
        if scope is self.tree:
            return "global"
        key = (id(scope), name)
        if key not in self._kinds:
            self._kinds[key] = self._kind(scope, name)
        return self._kinds[key]

    def _kind(self, scope: ast.AST, name: str) -> str:
        tables = self.tables.get(id(scope))
        if not tables:
            return "global"  # no table matched (an unusual layout): take the module-level meaning
        kinds = set()
        for table in tables:
            try:
                symbol = table.lookup(name)
            except KeyError:
                kinds.add("global")
                continue
            if symbol.is_global():
                kinds.add("global")
            elif symbol.is_free():
                kinds.add("free")
            else:
                kinds.add("local")
        return "global" if "global" in kinds else "free" if "free" in kinds else "local"

    def defining_scope(self, scope: ast.AST, name: str) -> ast.AST | None:
        """The scope whose binding of ``name`` a use in ``scope`` sees (None: the module's)."""
        kind = self.kind(scope, name)
        if kind == "global":
            return None
        if kind == "local":
            return scope
        current = self.parent_scope.get(id(scope))
        while current is not None and current is not self.tree:
            if not isinstance(current, ast.ClassDef) and self.kind(current, name) == "local":
                return current
            current = self.parent_scope.get(id(current))
        return None

    def imports_of(self, scope: ast.AST | None, name: str) -> list[Target]:
        if scope is None:
            return self.module_imports.get(name, [])
        return self.local_imports.get((id(scope), name), [])

    def namespace_binding(self, target: ast.AST) -> bool:
        """Whether a store target is `globals()["x"]`, recorded as a binding of x."""
        return self._namespace_key(target, self.scope_of.get(id(target), self.tree)) is not None

    def binds_at_module_level(self, name: str) -> bool:
        return name in self.bindings

    # ---- the walk ---------------------------------------------------------------------
    def _main_guards(self) -> set[int]:
        if any(isinstance(n, ast.Name) and n.id == "__name__" and not isinstance(n.ctx, ast.Load)
               for n in ast.walk(self.tree)):
            return set()  # `__name__` rebound: such a block may run after all
        return {id(n) for n in self.tree.body if isinstance(n, ast.If) and _is_main_test(n.test)}

    def _walk(self) -> None:
        stack: list[tuple[ast.AST, ast.AST | None, ast.AST]] = [(self.tree, None, self.tree)]
        while stack:
            node, parent, scope = stack.pop()
            if parent is not None:
                self.parent[id(node)] = parent
            self.scope_of[id(node)] = scope
            self._index(node, scope)
            if id(node) in self.main_guards:
                stack += [(child, node, scope) for child in (node.test, *node.orelse)]
                continue
            for child, child_scope in self._children(node, scope):
                stack.append((child, node, child_scope))

    def _children(self, node: ast.AST, scope: ast.AST):
        if isinstance(node, SCOPES):
            self._enter(node, scope)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            outer = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
            if not isinstance(node, ast.Lambda):
                outer += node.decorator_list
                outer += [a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs,
                                                 args.vararg, args.kwarg) if a is not None and a.annotation]
                outer += [node.returns] if node.returns is not None else []
                inner = node.body
            else:
                inner = [node.body]
            yield from ((c, scope) for c in outer)
            yield from ((c, node) for c in inner)
        elif isinstance(node, ast.ClassDef):
            yield from ((c, scope) for c in (*node.decorator_list, *node.bases, *node.keywords))
            yield from ((c, node) for c in node.body)
        elif isinstance(node, COMPREHENSIONS):
            first, *rest = node.generators
            yield first.iter, scope
            yield first.target, node
            yield from ((c, node) for c in first.ifs)
            for generator in rest:
                yield from ((c, node) for c in (generator.target, generator.iter, *generator.ifs))
            elements = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            yield from ((c, node) for c in elements)
        else:
            yield from ((c, scope) for c in ast.iter_child_nodes(node))

    def _enter(self, node: ast.AST, scope: ast.AST) -> None:
        """Find the symbol table(s) of a new scope among its parent's children."""
        self.parent_scope[id(node)] = scope
        if isinstance(node, ast.ClassDef):
            key = ("class", node.name, node.lineno)
        elif isinstance(node, ast.Lambda):
            key = ("function", "lambda", node.lineno)
        elif isinstance(node, COMPREHENSIONS):
            key = ("function", _COMPREHENSION_NAMES[type(node)], node.lineno)
        else:
            key = ("function", node.name, node.lineno)
        found = []
        for table in self.tables.get(id(scope), ()):
            by_key = self._children_by_key.get(id(table))
            if by_key is None:
                by_key = {}
                for child in table.get_children():
                    by_key.setdefault((str(child.get_type()).lower().rsplit(".", 1)[-1], child.get_name(),
                                       child.get_lineno()), []).append(child)
                self._children_by_key[id(table)] = by_key
            found += by_key.get(key, [])
        self.tables[id(node)] = found  # several on one line: all of them (a name is global if any says so)

    def _index(self, node: ast.AST, scope: ast.AST) -> None:
        line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kind = {ast.FunctionDef: "def", ast.AsyncFunctionDef: "async def", ast.ClassDef: "class"}[type(node)]
            self._bind(node.name, kind, scope, node, [], line)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                self._targets(target, scope, node, node.value, "assign")
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            self._targets(node.target, scope, node, node.value,
                          "augassign" if isinstance(node, ast.AugAssign) else "annassign")
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self._targets(node.target, scope, node, node.iter, "for")
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self._targets(item.optional_vars, scope, node, item.context_expr, "with")
        elif isinstance(node, ast.NamedExpr):
            self._targets(node.target, scope, node, node.value, "walrus")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                self.imported.add(alias.name.split(".")[0])
                if alias.asname:
                    self._bind(alias.asname, "import", scope, node, [], line, Target("module", alias.name))
                else:
                    root = alias.name.split(".")[0]
                    self._bind(root, "import", scope, node, [], line, Target("module", root))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                target_kind = "relative"
            else:
                target_kind = "from"
                self.imported.add(module.split(".")[0])
            for alias in node.names:
                if alias.name == "*":
                    if scope is self.tree:
                        self.stars.append((Target("star" if not node.level else "relative", module), line))
                    continue
                self._bind(alias.asname or alias.name, "import", scope, node, [], line,
                           Target(target_kind, module, alias.name))
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                self._targets(target, scope, node, None, "del")
        elif isinstance(node, ast.ExceptHandler) and node.name:
            self._bind(node.name, "except", scope, node, [node.type] if node.type else [], line)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                for pattern in ast.walk(case.pattern):
                    name = getattr(pattern, "rest", None) if isinstance(pattern, ast.MatchMapping) else \
                        getattr(pattern, "name", None)
                    if isinstance(name, str):
                        self._bind(name, "match", scope, node, [node.subject], line)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if self.kind(scope, node.id) == "global":
                self._escape(node, scope)

    def _targets(self, target: ast.AST, scope: ast.AST, stmt: ast.AST, value: ast.AST | None, kind: str) -> None:
        pending = [target]
        while pending:
            t = pending.pop()
            if isinstance(t, (ast.Tuple, ast.List)):
                pending += t.elts
            elif isinstance(t, ast.Starred):
                pending.append(t.value)
            elif isinstance(t, ast.Name):
                self._bind(t.id, kind, scope, stmt, [value] if value is not None else [], stmt.lineno)
            elif (name := self._namespace_key(t, scope)) is not None:  # globals()["x"] = ...: binds x
                self._bind(name, "namespace" if kind != "del" else "del", self.tree, stmt,
                           [value] if value is not None else [], stmt.lineno)
            elif isinstance(t, (ast.Attribute, ast.Subscript)):
                root = t
                while isinstance(root, (ast.Attribute, ast.Subscript)):
                    root = root.value
                site = Site(stmt.lineno, [n for n in (value, t) if n is not None])
                if isinstance(root, ast.Name):
                    if self.kind(scope, root.id) == "global":
                        self.sites.setdefault(root.id, []).append(site)
                else:
                    self.anonymous_sites.append(site)

    def _namespace_key(self, target: ast.AST, scope: ast.AST) -> str | None:
        """`x` of `globals()["x"]` (or of `vars()["x"]` / `locals()["x"]` at module level), if it is that."""
        if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Call)
                and isinstance(target.value.func, ast.Name) and not target.value.args
                and not target.value.keywords and isinstance(target.slice, ast.Constant)
                and isinstance(target.slice.value, str)):
            return None
        function = target.value.func.id
        if function == "globals" or (function in ("vars", "locals") and scope is self.tree):
            return target.slice.value
        return None

    def _bind(self, name: str, kind: str, scope: ast.AST, node: ast.AST, value: list[ast.AST], line: int,
              target: Target | None = None) -> None:
        where = scope
        if kind == "walrus":
            while isinstance(where, COMPREHENSIONS):
                where = self.parent_scope[id(where)]
        if where is self.tree or self.kind(where, name) == "global":
            in_block = ""
            if where is self.tree and kind in ("def", "async def", "class") and id(node) not in self._top:
                in_block = self._block_of(node)
            self.bindings.setdefault(name, []).append(Binding(
                name, kind, line, node, value, target,
                top_level_def=kind == "def" and id(node) in self._top,
                via_global=None if where is self.tree else where, in_block=in_block))
            if target is not None:
                self.module_imports.setdefault(name, []).append(target)
        elif target is not None:
            self.local_imports.setdefault((id(where), name), []).append(target)

    def _block_of(self, node: ast.AST) -> str:
        parent = self.parent.get(id(node))
        names = {ast.If: "if", ast.Try: "try", ast.With: "with", ast.For: "for", ast.While: "while",
                 ast.Match: "match", ast.AsyncWith: "with", ast.AsyncFor: "for"}
        while parent is not None and not isinstance(parent, tuple(names)) and parent is not self.tree:
            parent = self.parent.get(id(parent))
        if parent is None or parent is self.tree:
            return "block"
        return names.get(type(parent), "block") if not type(parent).__name__.startswith("Try") else "try"

    def _escape(self, name: ast.Name, scope: ast.AST) -> None:
        """Record where a module-level name's value is changed or handed on."""
        top, element = name, False
        parent = self.parent.get(id(top))
        while isinstance(parent, (ast.Attribute, ast.Subscript)) and parent.value is top:
            element = element or isinstance(parent, ast.Subscript)
            top, parent = parent, self.parent.get(id(parent))
        if isinstance(parent, ast.Call) and parent.func is top:
            if isinstance(top, ast.Attribute) and top.attr not in READ_ONLY_METHODS:
                self.sites.setdefault(name.id, []).append(
                    Site(name.lineno, [*parent.args, *(k.value for k in parent.keywords)]))
            return
        if isinstance(parent, ast.keyword):
            parent = self.parent.get(id(parent))
        if isinstance(parent, ast.Call):  # handed to a function, which may change it
            self.sites.setdefault(name.id, []).append(Site(name.lineno, [parent]))
            self.escaped.add(name.id)
            return
        if isinstance(parent, _READING_PARENTS) or (isinstance(parent, ast.Subscript) and parent.slice is top) \
                or isinstance(getattr(top, "ctx", None), (ast.Store, ast.Del)) or element:
            return
        # an alias (A = ACTS, return ACTS, [ACTS]): changes through it change ACTS too
        self.escaped.add(name.id)
        function = scope
        while isinstance(function, (ast.ClassDef, *COMPREHENSIONS)):
            function = self.parent_scope[id(function)]
        if function is not self.tree:
            self.sites.setdefault(name.id, []).append(Site(name.lineno, function=function))
            return
        statement = parent
        while statement is not None and not isinstance(statement, ast.stmt):
            statement = self.parent.get(id(statement))
        aliases: list[str] = []
        if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            targets = statement.targets if isinstance(statement, ast.Assign) else \
                [i.optional_vars for i in statement.items if i.optional_vars] if isinstance(statement, ast.With) \
                else [statement.target]
            for target in targets:
                aliases += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
        self.sites.setdefault(name.id, []).append(Site(name.lineno, names=tuple(aliases)))


def _is_main_test(test: ast.AST) -> bool:
    """`__name__ == "__main__"` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(a, ast.Name) and a.id == "__name__" for a in sides) and \
        any(isinstance(a, ast.Constant) and a.value == "__main__" for a in sides)
