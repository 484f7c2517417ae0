"""The grader's handle on one module: call its functions, inspect its objects.

A ``Session`` speaks the worker protocol over a transport: a worker transport
(``autograder.runner.transport``) runs a student's module in a separate, sandboxed
worker process; ``LocalTransport`` serves a module inside this process (the
reference, or a notebook's own namespace under nbgrader). Tests use both the same way, so the student's code
and the reference always receive identical inputs.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

from autograder.runner.sandbox import Limits
from autograder.worker.protocol import Handle, ProtocolError, decode, encode
from autograder.worker.server import Server
from autograder.runner.transport import ForkedTransport, StudentError, WorkerFailure, WorkerTimeout

DEFAULT_TIMEOUT = 20.0
__all__ = ["Budget", "LocalTransport", "Session", "StudentError", "WorkerFailure"]


@dataclass
class Budget:
    """The wall time one submission's code may take in all: every wait for one of its workers (its
    imports, which run side by side, and every call into every module) is charged here; the
    grader's own work (starting its template, computing the reference answers) is not, so a slow
    grader never costs a student. Shared by the submission's sessions; once spent, every test left
    fails at once."""
    seconds: float
    used: float = 0.0

    def left(self) -> float:
        return self.seconds - self.used

    def spent(self) -> bool:
        return self.left() <= 0

    def charge(self, seconds: float) -> None:
        self.used += seconds

    def message(self) -> str:
        return (f"time limit: your code used up its whole budget of {self.seconds:g} s of running time "
                "for this submission, so this test did not run")


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
    """Calls into one module, through a transport. ``session.softmax(z)`` calls ``softmax``.

    The time policy (for a worker transport, with ``limits``): one call may take ``call_seconds``,
    all calls into the module ``module_seconds``, the whole submission its ``budget``. A function
    that ran out of time once is not called again: its remaining tests fail at once, with the same
    message, so an endless loop costs one time limit per function, and the budget caps the total."""

    def __init__(self, transport: LocalTransport | ForkedTransport, module: str,
                 limits: Limits | None = None, budget: Budget | None = None):
        self.transport = transport
        self.module = module
        self.timeout = limits.call_seconds if limits else DEFAULT_TIMEOUT
        self.module_budget = limits.module_seconds if limits else None
        self.budget = budget
        self.spent = 0.0
        self.timed_out: dict[str, str] = {}  # function -> the message its time-out gave

    def request(self, op: str, timeout: float | None = None, **fields: Any) -> Any:
        function = _function_of(op, fields)
        if function in self.timed_out:
            raise WorkerFailure(self.timed_out[function])
        data = encode({"op": op, **fields})
        timeout, limit = self._time_allowed(timeout or self.timeout)
        started = time.monotonic()
        try:
            raw = self.transport.roundtrip(data, timeout)
        except WorkerTimeout as exc:
            message = self._timeout_message(limit, timeout, exc.when)
            if limit == "call":
                self.timed_out[function] = message
            raise WorkerFailure(message) from None
        finally:
            self.spent += time.monotonic() - started
            if self.budget is not None:
                self.budget.charge(time.monotonic() - started)
        try:
            reply = decode(raw)
        except ProtocolError as exc:
            if isinstance(self.transport, ForkedTransport):
                self.transport.kill()  # what else it sent is out of step: the next request gets a new worker
            raise WorkerFailure(f"your code sent back something that is not plain data ({exc})") from None
        if reply.get("ok") is True:
            return reply if op == "call" and fields.get("return_args") else reply.get("value")
        error = reply.get("error")
        if type(error) is not dict:
            raise WorkerFailure("the worker sent back a malformed reply")
        raise StudentError(str(error.get("type")), str(error.get("message", "")), str(error.get("where", "")))

    def _time_allowed(self, timeout: float) -> tuple[float, str]:
        """How long this request may take, and which limit that is ("call", "module", "submission")."""
        allowed = [(timeout, "call")]
        if self.module_budget is not None:
            if self.spent >= self.module_budget:
                raise WorkerFailure(f"time limit: your `{self.module}` used up its {self.module_budget:g} s of "
                                    "running time, so this test did not run")
            allowed.append((self.module_budget - self.spent + 0.5, "module"))
        if self.budget is not None:
            if self.budget.spent():
                raise WorkerFailure(self.budget.message())
            allowed.append((self.budget.left(), "submission"))
        return min(allowed)

    def _timeout_message(self, limit: str, timeout: float, when: str) -> str:
        if limit == "submission":
            return self.budget.message()
        if limit == "module":
            return (f"time limit: your `{self.module}` used up its {self.module_budget:g} s of running time "
                    "(an endless loop, or far too much work?)")
        where = f" {when}" if when else ""
        return (f"time limit: your code ran longer than {timeout:g} s{where} "
                "(an endless loop, or far too much work?)")

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

    def length(self, obj: Handle) -> Any:
        return self.request("len", target=obj)

    def item(self, obj: Handle, index: Any) -> Any:
        return self.request("getitem", target=obj, index=index)

    def items(self, obj: Handle, indices: list) -> list:
        """``[obj[i] for i in indices]`` in one round trip (one call's time limit for them all)."""
        return self.request("getitems", target=obj, indices=list(indices))

    def modules(self, obj: Handle) -> list:
        return self.request("modules", target=obj)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return functools.partial(self.call, name)

    def close(self) -> None:
        self.transport.close()


def _function_of(op: str, fields: dict) -> str:
    """What a request runs of the student's: a function or class by name, or a method of an object
    (by the object's type), or an operation on an object (its attributes, its state, ...)."""
    target = fields.get("target")
    if type(target) is Handle:
        name = fields.get("method") if op == "call" else fields.get("name")
        return f"{op}:{target.type}.{name or ''}"
    return f"{op}:{target}"
