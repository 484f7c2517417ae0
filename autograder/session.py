"""The grader's handle on one module: call its functions, inspect its objects.

A ``Session`` speaks the worker protocol over a transport: ``ProcessTransport``
runs a student's module in a separate worker process; ``LocalTransport``
serves a module inside this process (the reference, or a notebook's own
namespace under nbgrader). Tests use both the same way, so the student's code
and the reference always receive identical inputs.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from autograder.worker.main import read_message, write_message
from autograder.worker.protocol import Handle, ProtocolError, decode, encode
from autograder.worker.server import Server

WORKER_MAIN = Path(__file__).resolve().parent / "worker" / "main.py"
DEFAULT_TIMEOUT = 20.0
MAX_OUTPUT_BYTES = 64 * 1024


class StudentError(Exception):
    """The student's code raised an exception (the message is the student's own)."""

    def __init__(self, type_name: str, message: str, where: str = ""):
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name, self.message, self.where = type_name, message, where


class WorkerFailure(Exception):
    """The worker died, hung or sent something that is not a valid reply."""


class LocalTransport:
    def __init__(self, server: Server):
        self.server = server
        self.import_error: StudentError | None = None

    def roundtrip(self, data: bytes, timeout: float) -> bytes:
        return self.server.handle_bytes(data)

    def close(self) -> None:
        pass


class ProcessTransport:
    """One worker process for one module file; restarted after a crash or a time-out."""

    def __init__(self, file: Path, module: str, python: str = sys.executable):
        self.file, self.module, self.python = file, module, python
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.output = tempfile.TemporaryFile()
        self.import_error: StudentError | None = None
        self.starts = 0

    def start(self, timeout: float = 60.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the worker; it imports torch and the module while the grader does other work."""
        parent, child = socket.socketpair()
        self.starts += 1
        self.proc = subprocess.Popen(
            [self.python, "-I", str(WORKER_MAIN), "--fd", str(child.fileno()),
             "--file", str(self.file), "--module", self.module],
            pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=self.output, stderr=self.output,
            cwd=str(self.file.parent), start_new_session=True)
        child.close()
        self.sock = parent

    def wait_ready(self, timeout: float = 60.0) -> None:
        hello = self._receive(timeout, "while importing your module")
        if not hello.get("ok"):
            error = hello.get("error", {})
            self.import_error = StudentError(str(error.get("type")), str(error.get("message")),
                                             str(error.get("where", "")))

    def roundtrip(self, data: bytes, timeout: float) -> bytes:
        if self.proc is None or self.proc.poll() is not None:
            self.kill()
            self.start()
        try:
            write_message(self.sock, data)
        except OSError:
            self.kill()
            raise WorkerFailure(self._death_message("before it could answer")) from None
        return self._receive_raw(timeout, "")

    def _receive(self, timeout: float, when: str) -> dict:
        try:
            return decode(self._receive_raw(timeout, when))
        except ProtocolError as exc:
            self.kill()
            raise WorkerFailure(f"your code sent back something that is not plain data ({exc})") from None

    def _receive_raw(self, timeout: float, when: str) -> bytes:
        self.sock.settimeout(timeout)
        try:
            data = read_message(self.sock)
        except socket.timeout:
            self.kill()
            where = f" {when}" if when else ""
            raise WorkerFailure(f"time limit: your code ran longer than {timeout:g} s{where} "
                                "(an endless loop, or far too much work?)") from None
        except (OSError, ValueError):
            data = None
        if data is None:
            self.kill()
            raise WorkerFailure(self._death_message(when))
        return data

    def _death_message(self, when: str) -> str:
        code = self.proc.wait() if self.proc else None
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"your code crashed the Python process ({name}) {when}".strip()
        return f"your code ended the Python process (exit code {code}) {when}".strip()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def captured_output(self) -> str:
        self.output.flush()
        self.output.seek(0)
        return self.output.read(MAX_OUTPUT_BYTES).decode("utf-8", "replace")

    def close(self) -> None:
        self.kill()
        self.output.close()


class Session:
    """Calls into one module, through a transport. ``session.softmax(z)`` calls ``softmax``."""

    def __init__(self, transport: LocalTransport | ProcessTransport, module: str):
        self.transport = transport
        self.module = module
        self.timeout = DEFAULT_TIMEOUT

    def request(self, op: str, timeout: float | None = None, **fields: Any) -> Any:
        data = encode({"op": op, **fields})
        started = time.monotonic()
        raw = self.transport.roundtrip(data, timeout or self.timeout)
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
