"""Sessions on the reference solutions, served inside the grader's own process."""

from __future__ import annotations

import functools

from autograder.session import LocalTransport, Session
from autograder.syllabus import SOLUTIONS
from autograder.worker.loader import load_file, support_modules
from autograder.worker.server import Server


@functools.cache
def reference(module: str) -> Session:
    """The reference ``module``, with its sibling imports answered by the ready-made versions,
    exactly as a student's module is loaded in a worker."""
    path = SOLUTIONS / f"{module}.py"
    loaded = load_file(path, module, support_modules(exclude=module))
    return Session(LocalTransport(Server(loaded, str(path))), module)
