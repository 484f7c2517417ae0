"""Load a graded module from a file, with its sibling imports answered by chosen modules."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

SUPPORT = Path(__file__).resolve().parent.parent / "support"
GRADED = ("perceptron", "activations", "mlp", "losses", "backprop", "training", "torch_mlp")


def load_file(path: Path, name: str, siblings: dict[str, types.ModuleType]) -> types.ModuleType:
    """Execute ``path`` as a fresh module called ``name``.

    While it runs, ``import <sibling>`` finds ``siblings[sibling]``; afterwards
    ``sys.modules`` is as before, so several versions of one module can coexist.
    """
    saved = {k: sys.modules.get(k) for k in (*siblings, name)}
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        sys.modules.update(siblings)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    finally:
        for key, value in saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value
    return module


def support_modules(support_dir: Path = SUPPORT, exclude: str = "") -> dict[str, types.ModuleType]:
    """The ready-made versions of the graded modules (those that exist), by module name."""
    out: dict[str, types.ModuleType] = {}
    for name in GRADED:
        path = support_dir / f"{name}.py"
        if name != exclude and path.is_file():
            out[name] = load_file(path, name, {})
    return out
