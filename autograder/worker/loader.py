"""In a forked worker: the grader's load request, as plain data, becomes the module under test.

The request arrives on the worker's own socket after the fork, so the template it was forked
from never holds a student's bytes. It carries (see ``runner.transport.LoadRequest``, which builds it):

- ``course``: the graded modules, in course order, with their graded names (``siblings.read_course``;
  the grader derives it from ``autograder/syllabus.py``, which this side cannot import);
- ``module``: the module under test;
- ``sources``: the student's own ``.py`` modules, by module name, as UTF-8 bytes;
- ``ready_made``: the ready-made versions of the modules earlier than ``module``, as UTF-8 bytes;
- ``cells``: a notebook's code cells (UTF-8 bytes each), or None for a ``.py`` module;
- ``unusable``: why a student's module could not be used, by module name.

How the siblings resolve is ``siblings.GradedImports``'s rule; nothing else of the kit is
importable from here.
"""

from __future__ import annotations

import types
from typing import Any

import torch

from autograder.worker.protocol import ProtocolError
from autograder.worker.siblings import GradedImports, read_course

FOLDER = "/submission"  # where the student's files seem to be, in tracebacks (they are not there)


def filename(module: str) -> str:
    return f"{FOLDER}/{module}.py"


def imports_of(request: dict) -> GradedImports:
    """The import rule of the requested module, checked field by field."""
    try:
        course = read_course(request.get("course"))
    except ValueError as exc:
        raise ProtocolError(f"bad course: {exc}") from None
    module = request.get("module")
    if type(module) is not str or module not in course:
        raise ProtocolError("bad module name")
    cells = request.get("cells")
    if cells is not None and type(cells) is not list:
        raise ProtocolError("bad cells")
    return GradedImports(module, _texts(request.get("sources"), course), _texts(request.get("ready_made"), course),
                         course=course, cells=None if cells is None else [_text(c) for c in cells],
                         unusable={k: str(v) for k, v in _mapping(request.get("unusable")).items()},
                         folder=FOLDER)


def load(imports: GradedImports) -> tuple[types.ModuleType, dict[str, Any]]:
    """Import the module under test for good (a function may import a sibling when it runs),
    and what the grader should hear about it: a notebook's cell errors."""
    module = imports.install().load()
    return module, {"cells": imports.cell_errors}


def _mapping(value: Any) -> dict:
    if value is None:
        return {}
    if type(value) is not dict or any(type(k) is not str for k in value):
        raise ProtocolError("bad mapping in the load request")
    return value


def _texts(value: Any, course: dict) -> dict[str, str]:
    return {name: _text(text) for name, text in _mapping(value).items() if name in course}


def _text(value: Any) -> str:
    if type(value) is not torch.Tensor or value.dtype != torch.uint8 or value.dim() != 1:
        raise ProtocolError("source text must travel as bytes")
    try:
        return value.numpy().tobytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("source text is not UTF-8") from None
