"""The grader's handle on one module: call its functions, inspect its objects.

A ``Session`` speaks the worker protocol over a transport: a worker transport
(``autograder.workers``) runs a student's module in a separate, sandboxed
worker process; ``LocalTransport`` serves a module inside this process (the
reference, or a notebook's own namespace under nbgrader). Tests use both the same way, so the student's code
and the reference always receive identical inputs.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from autograder.sandbox import Limits
from autograder.worker.protocol import Handle, ProtocolError, decode, encode
from autograder.worker.server import Server
from autograder.workers import ForkedTransport, StudentError, WorkerFailure

DEFAULT_TIMEOUT = 20.0
__all__ = ["LocalTransport", "Session", "StudentError", "WorkerFailure"]


class LocalTransport:
    """Serves a module inside this process; answers are cached when they cannot depend on state."""

    def __init__(self, server: Server, cache: bool = False):
        self.server = server
        self.import_error: StudentError | None = None
        self.cache: dict[bytes, bytes] | None = {} if cache else None

    def roundtrip(self, data: bytes, timeout: float) -> bytes:
        if self.cache is None or b'{"H": ' in data:  # calls on objects depend on their state
            return self.server.handle_bytes(data)
        if data not in self.cache:
            reply = self.server.handle_bytes(data)
            if b'{"H": ' in reply:  # a new object: each caller must get its own
                return reply
            self.cache[data] = reply
        return self.cache[data]

    def close(self) -> None:
        pass


class Session:
    """Calls into one module, through a transport. ``session.softmax(z)`` calls ``softmax``."""

    def __init__(self, transport: LocalTransport | ForkedTransport, module: str,
                 limits: Limits | None = None):
        self.transport = transport
        self.module = module
        self.timeout = limits.call_seconds if limits else DEFAULT_TIMEOUT
        self.budget = limits.module_seconds if limits else None
        self.spent = 0.0

    def request(self, op: str, timeout: float | None = None, **fields: Any) -> Any:
        data = encode({"op": op, **fields})
        timeout = timeout or self.timeout
        if self.budget is not None:
            if self.spent >= self.budget:
                raise WorkerFailure(f"time limit: your `{self.module}` used up its {self.budget:g} s of "
                                    "running time, so this test did not run")
            timeout = min(timeout, self.budget - self.spent + 0.5)
        started = time.monotonic()
        try:
            raw = self.transport.roundtrip(data, timeout)
        finally:
            self.spent += time.monotonic() - started
        try:
            reply = decode(raw)
        except ProtocolError as exc:
            raise WorkerFailure(f"your code sent back something that is not plain data ({exc})") from None
        self.last_duration = time.monotonic() - started
        if reply.get("ok") is True:
            return reply if op == "call" and fields.get("return_args") else reply.get("value")
        error = reply.get("error")
        if type(error) is not dict:
            raise WorkerFailure("the worker sent back a malformed reply")
        raise StudentError(str(error.get("type")), str(error.get("message", "")), str(error.get("where", "")))

    def call(self, target: str | Handle, *args: Any, method: str | None = None, keep: bool = False,
             timeout: float | None = None, **kwargs: Any) -> Any:
        return self.request("call", timeout=timeout, target=target, method=method, args=list(args),
                            kwargs=kwargs, keep=keep)

    def call_returning_args(self, target: str, *args: Any, **kwargs: Any) -> tuple[Any, list, dict]:
        """Call, and also return the arguments as they are afterwards (to catch in-place changes)."""
        reply = self.request("call", target=target, method=None, args=list(args), kwargs=kwargs,
                             keep=False, return_args=True)
        return reply.get("value"), reply.get("args", []), reply.get("kwargs", {})

    def names(self) -> dict:
        return self.request("names")

    def state_dict(self, obj: Handle) -> dict:
        return self.request("state_dict", target=obj)

    def load_state_dict(self, obj: Handle, state: dict) -> None:
        self.request("load_state_dict", target=obj, value=state)

    def grads(self, obj: Handle) -> dict:
        return self.request("grads", target=obj)

    def attr(self, obj: Handle, name: str) -> Any:
        return self.request("attr", target=obj, name=name)

    def set_attr(self, obj: Handle, name: str, value: Any) -> None:
        self.request("set_attr", target=obj, name=name, value=value)

    def length(self, obj: Handle) -> Any:
        return self.request("len", target=obj)

    def item(self, obj: Handle, index: Any) -> Any:
        return self.request("getitem", target=obj, index=index)

    def modules(self, obj: Handle) -> list:
        return self.request("modules", target=obj)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return functools.partial(self.call, name)

    def close(self) -> None:
        self.transport.close()
