"""Answer the grader's requests on one loaded module: call, inspect, build.

The same ``Server`` runs the student's module inside a worker and the
reference module inside the grader, so both sides see identical inputs,
fixtures and conventions. Every reply is plain data (see ``protocol``).
"""

from __future__ import annotations

import inspect
import traceback
import types
from collections.abc import Iterator
from itertools import islice
from typing import Any

import torch
from torch import nn

from . import fixtures
from .protocol import Fixture, Handle, Items, ProtocolError, decode, encode

MAX_ITER_ITEMS = 10_000
STATE_OPS = ("state_dict", "grads", "attr", "len", "getitem", "getitems", "modules", "load_state_dict")
MAX_GETITEMS = 1_000  # indices in one "getitems" request


class Server:
    def __init__(self, module: types.ModuleType | None, source_name: str = ""):
        self.module = module
        self.source_name = source_name  # the student's file, to keep tracebacks to their own lines
        self.objects: dict[int, Any] = {}

    # -- the wire ---------------------------------------------------------------------------
    def handle_bytes(self, data: bytes) -> bytes:
        try:
            request = decode(data)
            reply = self.handle(request)
        except ProtocolError as exc:
            reply = {"ok": False, "error": {"type": "ProtocolError", "message": str(exc)}}
        try:
            return encode(reply)
        except BaseException as exc:  # noqa: BLE001 - an unencodable reply is the student's problem
            return encode({"ok": False, "error": {"type": "ProtocolError",
                                                  "message": f"the result could not be sent back: {exc}"}})

    def handle(self, request: dict) -> dict:
        op = request.get("op")
        if op == "names":
            return {"ok": True, "value": self._names()}
        if op == "call":
            return self._call(request)
        if op in STATE_OPS:
            return self._state(op, request)
        raise ProtocolError(f"unknown op {op!r}")

    # -- operations -------------------------------------------------------------------------
    def _names(self) -> dict:
        if self.module is None:
            return {}
        out = {}
        for name, value in list(vars(self.module).items()):
            if not name.startswith("_"):
                out[name] = "class" if isinstance(value, type) else "function" if callable(value) else "value"
        return out

    def _call(self, request: dict) -> dict:
        target = request.get("target")
        args = request.get("args", [])
        kwargs = request.get("kwargs", {})
        if type(args) is not list or type(kwargs) is not dict:
            raise ProtocolError("bad call arguments")
        try:
            fn = self._resolve(target, request.get("method"))
            real_args = [self._materialize(a) for a in args]
            real_kwargs = {str(k): self._materialize(v) for k, v in kwargs.items()}
        except ProtocolError:
            raise
        except Exception as exc:  # a missing function, a fixture that cannot be built
            return self._error(exc)
        reset_global_state()
        try:
            result = fn(*real_args, **real_kwargs)
            value = self._export(result, keep=bool(request.get("keep")))
        except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt: all are failures
            return self._error(exc)
        reply = {"ok": True, "value": value}
        if request.get("return_args"):
            reply["args"] = [self._export(a, keep=False) for a in real_args]
            reply["kwargs"] = {k: self._export(v, keep=False) for k, v in real_kwargs.items()}
        return reply

    def _state(self, op: str, request: dict) -> dict:
        obj = self._materialize(request.get("target"))
        indices = request.get("indices")
        if op == "getitems" and (type(indices) is not list or len(indices) > MAX_GETITEMS):
            raise ProtocolError("bad getitems indices")
        try:
            if op == "state_dict":
                value = {k: v.detach().clone() for k, v in obj.state_dict().items()}
            elif op == "grads":
                value = {k: (None if p.grad is None else p.grad.detach().clone())
                         for k, p in obj.named_parameters()}
            elif op == "attr":
                value = getattr(obj, str(request.get("name")))
            elif op == "len":
                value = len(obj)
            elif op == "getitem":
                value = obj[self._materialize(request.get("index"))]
            elif op == "getitems":  # obj[i] for each index, in order: a dataset read in one round trip
                value = [obj[index] for index in indices]
            elif op == "load_state_dict":
                state = self._materialize(request.get("value"))
                obj.load_state_dict(state)
                value = None
            else:  # modules: the layer structure of an nn.Module
                value = [[name, type(m).__name__] for name, m in obj.named_modules() if name]
            return {"ok": True, "value": self._export(value, keep=bool(request.get("keep")))}
        except BaseException as exc:  # noqa: BLE001
            return self._error(exc)

    # -- values -----------------------------------------------------------------------------
    def _resolve(self, target: Any, method: Any) -> Any:
        if type(target) is Handle:
            obj = self._object(target)
            return obj if method is None else getattr(obj, str(method))
        if type(target) is not str:
            raise ProtocolError("bad call target")
        if self.module is None or not hasattr(self.module, target):
            raise AttributeError(f"{target} is not defined in your module")
        return getattr(self.module, target)

    def _object(self, handle: Handle) -> Any:
        if handle.id not in self.objects:
            raise ProtocolError("unknown handle")
        return self.objects[handle.id]

    def _materialize(self, value: Any) -> Any:
        kind = type(value)
        if kind is Handle:
            return self._object(value)
        if kind is Fixture:
            return fixtures.build(value.name, tuple(self._materialize(a) for a in value.args),
                                  {k: self._materialize(v) for k, v in value.kwargs.items()})
        if kind is list:
            return [self._materialize(v) for v in value]
        if kind is tuple:
            return tuple(self._materialize(v) for v in value)
        if kind is dict:
            return {k: self._materialize(v) for k, v in value.items()}
        return value

    def _export(self, value: Any, keep: bool) -> Any:
        """Plain data stays data; objects become handles (when asked) or opaque type names."""
        kind = type(value)
        if value is None or kind in (bool, int, float, str, torch.Tensor):
            return value
        if kind is torch.Generator:  # its state, as data: the grader can rebuild the same generator
            return value.get_state()
        if kind in (list, tuple):
            return kind(self._export(v, keep) for v in value)
        if isinstance(value, tuple):  # a namedtuple is a tuple: its items travel as a plain one
            return tuple(self._export(v, keep) for v in tuple.__iter__(value))
        if kind is dict:
            return {k: self._export(v, keep) for k, v in value.items()}
        if keep or isinstance(value, (nn.Module, torch.utils.data.Dataset, torch.optim.Optimizer)):
            self.objects[len(self.objects) + 1] = value
            return Handle(len(self.objects), type(value).__name__[:100])
        if isinstance(value, Iterator) or inspect.isgenerator(value):
            items = list(islice(value, MAX_ITER_ITEMS + 1))
            return Items([self._export(v, keep) for v in items[:MAX_ITER_ITEMS]], len(items) <= MAX_ITER_ITEMS)
        return value  # encode() turns anything else into an Opaque type name

    def _error(self, exc: BaseException) -> dict:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if self.source_name and f.filename == self.source_name]
        where = f"line {frames[-1].lineno}, in {frames[-1].name}" if frames else ""
        try:
            message = str(exc)
        except BaseException:  # noqa: BLE001 - a hostile __str__
            message = ""
        return {"ok": False, "error": {"type": type(exc).__name__[:100], "message": message[:1000], "where": where}}


def reset_global_state() -> None:
    """Undo what a module may have changed at import or in an earlier call, so every call starts alike."""
    torch.manual_seed(0)
    torch.set_default_dtype(torch.float32)
    torch.set_grad_enabled(True)
