"""Sessions on the reference solutions, served inside the grader's own process."""

from __future__ import annotations

from autograder.session import LocalTransport, Session
from autograder.syllabus import SOLUTIONS
from autograder.worker.loader import load_file, support_modules
from autograder.worker.server import Server

_LOADED: dict[str, Session] = {}


def reference(module: str) -> Session:
    """The reference ``module``, with its sibling imports answered by the ready-made versions,
    exactly as a student's module is loaded in a worker. Its answers are cached, so across a batch
    each expected value is computed once."""
    if module not in _LOADED:
        path = SOLUTIONS / f"{module}.py"
        loaded = load_file(path, module, support_modules(exclude=module))
        _LOADED[module] = Session(LocalTransport(Server(loaded, str(path)), cache=True), module)
    return _LOADED[module]


def forget_objects() -> None:
    """Drop the objects (models, loaders) the references built for one submission's tests."""
    for session in _LOADED.values():
        session.transport.server.objects.clear()
