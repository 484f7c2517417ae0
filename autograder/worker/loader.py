"""Load a graded module from a file, with its sibling imports answered by chosen modules."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import types
from collections.abc import Iterator
from pathlib import Path

SUPPORT = Path(__file__).resolve().parent.parent / "support"
GRADED = ("perceptron", "activations", "mlp", "losses", "backprop", "training", "torch_mlp")


@contextlib.contextmanager
def importing(name: str, module: types.ModuleType, siblings: dict[str, types.ModuleType]) -> Iterator[None]:
    """While a module runs, ``import <sibling>`` finds ``siblings[sibling]`` and ``name`` is the module
    itself; afterwards ``sys.modules`` is as before, so several versions of one module can coexist."""
    saved = {k: sys.modules.get(k) for k in (*siblings, name)}
    try:
        sys.modules.update(siblings)
        sys.modules[name] = module
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value


def load_file(path: Path, name: str, siblings: dict[str, types.ModuleType]) -> types.ModuleType:
    """Execute ``path`` as a fresh module called ``name`` (see ``importing``)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    with importing(name, module, siblings):
        spec.loader.exec_module(module)
    return module


def load_source(source: str, filename: str, name: str, siblings: dict[str, types.ModuleType]) -> types.ModuleType:
    """Like ``load_file``, for source text that arrived as data (``filename`` is for tracebacks)."""
    module = types.ModuleType(name)
    module.__file__ = filename
    with importing(name, module, siblings):
        exec(compile(source, filename, "exec"), module.__dict__)  # noqa: S102 - running it is the point
    return module


def support_modules(support_dir: Path = SUPPORT, exclude: str = "") -> dict[str, types.ModuleType]:
    """The ready-made versions of the graded modules (those that exist), by module name."""
    out: dict[str, types.ModuleType] = {}
    for name in GRADED:
        path = support_dir / f"{name}.py"
        if name != exclude and path.is_file():
            out[name] = load_file(path, name, {})
    return out
