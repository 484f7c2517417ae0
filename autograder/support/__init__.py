"""Ready-made versions of the graded modules, built on PyTorch's own functions.

Public by design: when a graded module imports a graded name from an earlier
assignment (``from activations import softmax``), the grader's worker, the
notebooks and ``check.py`` supply these versions instead of the student's own,
so that a mistake in one assignment never costs points in another (the rule is
``autograder/worker/siblings.py``'s). They are *not* the from-scratch reference:
each uses the PyTorch built-in that the from-scratch assignments forbid. They
travel to a worker as text, and only those of the modules *earlier* than the
one it grades: no worker holds a ready-made version of its own module or of a
later one. Functions that the build pastes into a notebook's setup cell are
self-contained (they use only ``torch`` and ``math``); ``training`` is built on
the other ready-made modules, with relative imports (``from .mlp import ...``),
which the loader answers with ready-made versions too.
"""

from __future__ import annotations

import functools
from pathlib import Path

from autograder.syllabus import MODULES

HERE = Path(__file__).resolve().parent


@functools.cache
def _source(module: str) -> str | None:
    path = HERE / f"{module}.py"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def ready_made_sources(module: str) -> dict[str, str]:
    """The ready-made sources of the modules earlier than ``module``, by module name."""
    earlier = MODULES[:MODULES.index(module)]
    return {m: text for m in earlier if (text := _source(m)) is not None}
