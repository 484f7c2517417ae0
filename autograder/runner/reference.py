"""Sessions on the reference solutions, served inside the grader's own process."""

from __future__ import annotations

from autograder.runner.session import LocalTransport, Session
from autograder.support import ready_made_sources
from autograder.syllabus import SOLUTIONS, course
from autograder.worker.server import Server
from autograder.worker.siblings import GradedImports

_LOADED: dict[str, Session] = {}


def reference(module: str) -> Session:
    """The reference ``module``, with its sibling imports answered by the ready-made versions of
    the earlier modules, as a student's module is loaded in a worker (the solutions import only
    graded names from their siblings). Its answers are cached, so across a batch each expected
    value is computed once."""
    if module not in _LOADED:
        path = SOLUTIONS / f"{module}.py"
        imports = GradedImports(module, {module: path.read_text(encoding="utf-8")}, ready_made_sources(module),
                                course=course(), folder=str(SOLUTIONS))
        with imports.installed():
            loaded = imports.load()
        _LOADED[module] = Session(LocalTransport(Server(loaded, str(path)), cache=True), module)
    return _LOADED[module]


def forget_objects() -> None:
    """Drop the objects (models, loaders) the references built for one submission's tests."""
    for session in _LOADED.values():
        session.transport.server.objects.clear()
