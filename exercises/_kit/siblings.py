"""How a graded module sees the other graded modules: one rule for the grader and for ``check.py``.

While module M is graded (or checked), ``import S`` / ``from S import x`` for another graded
module S gives:

- S earlier than M in the course: your own S, except that its *graded* names (the functions the
  SYLLABUS grades in S) are the kit's ready-made versions, so a mistake in one assignment never
  costs points in another. Every other name (your helpers, constants, dicts, classes) is your own.
  If your S is missing or fails to import, only the ready-made graded names are there, and asking
  for any other name says which name, from which module, and why it is not available.
- S later than M, and M itself: your own module, exactly as plain Python imports it.

A notebook is graded on its own: its cells run in order in one namespace (a cell that raises is
recorded and the next one runs, as in a kernel), and the other graded modules hold only their
ready-made graded names.

Which modules are graded, in which order, with which graded names, is the course's registration
(``autograder/syllabus.py``), given to ``GradedImports`` as plain data (``course``): the grader
sends it in each load request, and the student kit has it in ``_kit/course.json``. This file is
standalone (the standard library only, Python 3.10+) because it runs both in the grader's
sandboxed workers and, as ``exercises/_kit/siblings.py``, beside the student's code.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

MAX_MESSAGE = 300  # characters of an exception message kept in a report


def read_course(course: Any) -> dict[str, tuple[str, ...]]:
    """The graded names of each module, in course order, from plain data: ``[[module, [name, ...]],
    ...]`` (or a mapping of the same). Raises ValueError on anything else, since in a worker the
    data arrives over a socket."""
    pairs = list(course.items()) if isinstance(course, Mapping) else course
    if type(pairs) not in (list, tuple) or not pairs:
        raise ValueError("the course must list its modules")
    graded: dict[str, tuple[str, ...]] = {}
    for pair in pairs:
        if type(pair) not in (list, tuple) or len(pair) != 2:
            raise ValueError("each module of the course is [module, [graded names]]")
        module, names = pair
        if type(module) is not str or not module.isidentifier() or module in graded:
            raise ValueError("a module of the course is not a name, or is repeated")
        if type(names) not in (list, tuple) or not names or \
                any(type(n) is not str or not n.isidentifier() for n in names):
            raise ValueError(f"the graded names of {module!r} are not a list of names")
        graded[module] = tuple(names)
    return graded


class GradedImports(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """The graded modules as module ``module`` sees them (see the module docstring).

    ``sources``: the student's own ``.py`` modules by name (text); ``ready_made``: the ready-made
    versions (text), of which only those of modules earlier than ``module`` are ever kept;
    ``course``: the graded modules in order with their graded names (see ``read_course``); ``cells``: a notebook's code cells, when the module under test is a notebook; ``unusable``:
    why a student's module could not be used (it was rejected before it got here); ``folder``:
    where the student's files are, for their file names in tracebacks.
    """

    def __init__(self, module: str, sources: Mapping[str, str], ready_made: Mapping[str, str] = {},
                 *, course: Any, cells: list[str] | None = None, unusable: Mapping[str, str] = {},
                 folder: str = ".") -> None:
        self.graded = read_course(course)
        self.order = tuple(self.graded)
        if module not in self.graded:
            raise ValueError(f"{module!r} is not a graded module")
        self.module = module
        self.cells = None if cells is None else list(cells)
        # a notebook is self-contained: no other module of the student's is visible from it
        self.sources = {} if self.cells is not None else {k: v for k, v in sources.items() if k in self.graded}
        self.ready_sources = {k: v for k, v in ready_made.items() if self.earlier(k)}
        self.unusable = dict(unusable)
        self.folder = folder.rstrip("/") or "/"
        self.ready: dict[str, types.ModuleType | None] = {}
        self.cell_errors: list[dict[str, Any]] = []

    # -- the rule ----------------------------------------------------------------------------
    def earlier(self, name: str) -> bool:
        return name in self.graded and self.order.index(name) < self.order.index(self.module)

    def filename(self, name: str) -> str:
        return f"{self.folder}/{name}.py"

    @property
    def notebook(self) -> bool:
        return self.cells is not None

    # -- installing --------------------------------------------------------------------------
    def install(self) -> GradedImports:
        """Answer imports of graded modules from now on (in a worker: for its whole life)."""
        for name in self.graded:
            sys.modules.pop(name, None)
        sys.meta_path.insert(0, self)
        return self

    def uninstall(self) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)

    @contextmanager
    def installed(self) -> Iterator[GradedImports]:
        """Installed only within the block; afterwards ``sys.modules`` holds no graded module of
        ours, so several versions of one module can coexist in one process (the grader's)."""
        saved = {name: sys.modules.get(name) for name in self.graded}
        try:
            yield self.install()
        finally:
            self.uninstall()
            for name, value in saved.items():
                if value is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = value

    def load(self) -> types.ModuleType:
        """Import the module under test (its siblings load lazily, when it imports them)."""
        return importlib.import_module(self.module)

    # -- the import protocol -----------------------------------------------------------------
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.graded:
            return None
        own = fullname in self.sources or (fullname == self.module and self.notebook)
        if not own and not self.earlier(fullname):
            raise ModuleNotFoundError(self._not_found(fullname), name=fullname)
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=self.filename(fullname))
        spec.has_location = fullname in self.sources  # then the module's __file__ is set
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # a plain module

    def exec_module(self, module: types.ModuleType) -> None:
        name = module.__name__
        if self.earlier(name):
            self._compose(module)
        elif name == self.module and self.notebook:
            self._run_cells(module)
        else:
            exec(_compile(self.sources[name], self.filename(name)), module.__dict__)  # noqa: S102

    # -- earlier modules: the student's own, with ready-made graded names --------------------
    def _compose(self, composite: types.ModuleType) -> None:
        name = composite.__name__
        ready = self._ready_made(name)
        graded = self.graded[name]
        for item in graded:
            if ready is not None and item in vars(ready):
                setattr(composite, item, getattr(ready, item))
            else:  # importing it works; calling it says why it cannot be used here
                setattr(composite, item, self._no_ready_made(name, item))
        own = types.ModuleType(name)
        own.__file__ = self.filename(name)
        lookup = _OwnNames(self, name, own)
        composite.__getattr__ = lookup  # names not set on the composite come from here (PEP 562)
        if name not in self.sources:
            lookup.why = self._absent(name)
            return
        try:
            # executed apart: whoever imports from it meanwhile (a circular import) still gets
            # the ready-made graded names, and the student's other names as they are defined
            exec(_compile(self.sources[name], own.__file__), own.__dict__)  # noqa: S102
        except BaseException as exc:  # noqa: BLE001 - a module that raises or exits at import
            lookup.why = f"which failed to import: {describe(exc, own.__file__)}"
            lookup.own = None
            return
        for item in graded:  # the student's own helpers call the ready-made graded names too
            if ready is not None and item in vars(ready):
                own.__dict__[item] = vars(composite)[item]
        for key, value in list(vars(own).items()):
            if not (key.startswith("__") and key.endswith("__")) and key not in graded:
                composite.__dict__.setdefault(key, value)
        if isinstance(vars(own).get("__all__"), (list, tuple)):
            composite.__all__ = list(own.__all__)

    def _no_ready_made(self, module: str, item: str) -> Any:
        def unavailable(*args: Any, **kwargs: Any) -> Any:
            raise self.unavailable(module, item, "")

        unavailable.__name__ = unavailable.__qualname__ = item
        unavailable.__module__ = module
        return unavailable

    def _ready_made(self, name: str) -> types.ModuleType | None:
        """The ready-made version of an earlier module, executed once, on first use. Its own imports
        of graded modules get ready-made versions too, never the student's."""
        if name not in self.ready:
            self.ready[name] = None
            source = self.ready_sources.get(name)
            if source is not None:
                module = types.ModuleType(name)
                module.__file__ = f"<ready-made {name}>"
                module.__dict__["__builtins__"] = {**vars(builtins), "__import__": self._ready_import}
                exec(_compile(source, module.__file__), module.__dict__)  # noqa: S102
                self.ready[name] = module
        return self.ready[name]

    def _ready_import(self, name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                      level: int = 0) -> Any:
        if name in self.graded and level in (0, 1):  # `from mlp import x` or `from .mlp import x`
            module = self._ready_made(name) if self.earlier(name) else None
            if module is None:
                raise ImportError(f"no ready-made version of `{name}` is available here", name=name)
            return module
        return builtins.__import__(name, globals, locals, fromlist, level)

    # -- a notebook: its cells, in order, kernel-style ---------------------------------------
    def _run_cells(self, module: types.ModuleType) -> None:
        filename = self.filename(self.module)
        module.__file__ = filename
        module.__dict__.setdefault("display", _display)  # IPython's, so plotting cells do not stop
        for index, cell in enumerate(self.cells or []):
            try:
                code = _compile(cell, filename)
            except SyntaxError as exc:
                self.cell_errors.append(_cell_error(index, exc, exc.lineno))
                continue
            except Exception as exc:  # noqa: BLE001 - null bytes, nesting too deep for the parser
                self.cell_errors.append(_cell_error(index, exc, None))
                continue
            try:
                exec(code, module.__dict__)  # noqa: S102
            except BaseException as exc:  # noqa: BLE001 - the kernel shows it and runs the next cell
                self.cell_errors.append(_cell_error(index, exc, _line_in(exc, code)))

    # -- messages ----------------------------------------------------------------------------
    def _absent(self, name: str) -> str:
        if self.notebook:
            return "which a notebook cannot use: each notebook is graded on its own"
        if name in self.unusable:
            return f"which could not be used ({self.unusable[name]})"
        return "which is not in your submission"

    def _not_found(self, name: str) -> str:
        if self.notebook:
            return (f"No module named '{name}': a notebook is graded on its own, so it cannot import "
                    f"`{name}`, which comes after it in the course")
        if name in self.unusable:
            return f"No module named '{name}': your `{name}.py` could not be used ({self.unusable[name]})"
        return f"No module named '{name}': `{name}.py` is not in your submission"

    def unavailable(self, module: str, name: str, why: str) -> ImportError:
        """Why ``name`` cannot come from ``module``: an ImportError (not an AttributeError), so that
        ``from mlp import ACTIVATIONS`` shows this message, not Python's "cannot import name"."""
        number = f"{self.order.index(module) + 1:02d}"  # the course numbers its assignments from 1
        if name in self.graded[module]:
            return ImportError(f"`{name}` is graded in assignment {number} (`{module}`) and has no "
                               f"ready-made version, so `{self.module}` cannot use it: write what you "
                               f"need in `{self.module}` itself", name=module)
        if self.notebook:
            return ImportError(f"`{name}` is not one of the graded names of `{module}`, and a notebook "
                               "is graded on its own: names defined in your other notebooks are not "
                               "available here. Define it in this notebook", name=module)
        return ImportError(f"`{name}` comes from your `{module}.py`, {why}", name=module)


class _OwnNames:
    """The composite module's ``__getattr__``: the student's own names, or why there are none."""

    def __init__(self, imports: GradedImports, module: str, own: types.ModuleType | None) -> None:
        self.imports, self.module, self.own = imports, module, own
        self.why = ""

    def __call__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"module {self.module!r} has no attribute {name!r}")
        if name in self.imports.graded[self.module] or self.own is None or self.why:
            raise self.imports.unavailable(self.module, name, self.why)
        try:
            return vars(self.own)[name]
        except KeyError:
            raise AttributeError(f"module {self.module!r} has no attribute {name!r}") from None


def _compile(source: str, filename: str) -> types.CodeType:
    # dont_inherit: the student's code runs under its own __future__ imports, not this file's
    return compile(source, filename, "exec", dont_inherit=True)


def _display(*objects: Any, **options: Any) -> None:
    """IPython's ``display``, outside a kernel: show nothing."""


def describe(exc: BaseException, filename: str) -> str:
    """``NameError: name 'x' is not defined (line 12)``: the line is the last one in ``filename``."""
    line = exc.lineno if isinstance(exc, SyntaxError) and exc.filename == filename else None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    text = _message(exc)
    return f"{type(exc).__name__}{': ' + text if text else ''}{f' (line {line})' if line else ''}"


def _message(exc: BaseException) -> str:
    try:
        text = exc.msg if isinstance(exc, SyntaxError) and exc.msg else str(exc)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        text = ""
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + " [...]"


def _cell_error(index: int, exc: BaseException, line: int | None) -> dict[str, Any]:
    return {"cell": index, "type": type(exc).__name__[:100], "message": _message(exc), "line": line}


def _line_in(exc: BaseException, code: types.CodeType) -> int | None:
    """The line of the cell itself that was running when it raised."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is code:
            return tb.tb_lineno
        tb = tb.tb_next
    return None
