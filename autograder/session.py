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
import threading
import time
from pathlib import Path
from typing import Any

from autograder.sandbox import SUBMISSION_MOUNT, Limits, bubblewrap, sandbox_command, warn_unsandboxed
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


class OutputKeeper:
    """Drains a worker's stdout and stderr so it never blocks; keeps only the first bytes."""

    def __init__(self, limit: int = MAX_OUTPUT_BYTES):
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0
        self.lock = threading.Lock()

    def follow(self, stream: Any) -> None:
        threading.Thread(target=self._drain, args=(stream,), daemon=True).start()

    def _drain(self, stream: Any) -> None:
        with stream:
            while chunk := stream.read1(1 << 16):
                with self.lock:
                    room = self.limit - len(self.kept)
                    self.kept += chunk[:max(room, 0)]
                    self.dropped += max(len(chunk) - max(room, 0), 0)

    def text(self) -> str:
        with self.lock:
            text = self.kept.decode("utf-8", "replace")
            return text + (f"\n[... {self.dropped} more bytes of output were not kept]" if self.dropped else "")


class ProcessTransport:
    """One worker process for one module file; restarted after a crash or a time-out.

    The file's folder must hold nothing but that module: in the sandbox, the
    worker sees that folder (read-only) and no other file of the grader's.
    """

    def __init__(self, file: Path, module: str, python: str = sys.executable, limits: Limits = Limits(),
                 sandbox: bool | None = None, uid: int = 0):
        self.file, self.module, self.python = file, module, python
        self.limits = limits
        self.bwrap = bubblewrap() if sandbox in (None, True) else None
        if sandbox is True and self.bwrap is None:
            raise RuntimeError("a sandbox was required, but bubblewrap cannot run here")
        if self.bwrap is None:
            warn_unsandboxed()
        else:  # the worker's unprivileged user must be able to read its one module
            file.parent.chmod(0o755)
            file.chmod(0o644)
        self.uid = uid or worker_uid(module)
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.output = OutputKeeper()
        self.import_error: StudentError | None = None
        self.starts = 0

    def command(self, fd: int) -> list[str]:
        args = ["--fd", str(fd), "--module", self.module, *self.limits.worker_args()]
        if self.bwrap is None:
            return [self.python, "-I", str(WORKER_MAIN), "--file", str(self.file), *args]
        inner = [self.python, "-I", str(WORKER_MAIN), "--file", f"{SUBMISSION_MOUNT}/{self.file.name}",
                 "--uid", str(self.uid), *args]
        return sandbox_command(inner, self.file.parent, self.bwrap)

    def start(self, timeout: float = 60.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the worker; it imports torch and the module while the grader does other work."""
        parent, child = socket.socketpair()
        self.starts += 1
        self.proc = subprocess.Popen(
            self.command(child.fileno()), pass_fds=[child.fileno()], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=str(self.file.parent), start_new_session=True)
        self.output.follow(self.proc.stdout)
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
            message = self._death_message(when)
            self.kill()
            raise WorkerFailure(message)
        return data

    def _death_message(self, when: str) -> str:
        try:  # the channel closed: give the process a moment to finish dying, to learn how it died
            code = self.proc.wait(timeout=3) if self.proc else None
        except subprocess.TimeoutExpired:
            code = None
        if code is not None and code < 0 or (self.bwrap and code is not None and code > 128):
            number = -code if code < 0 else code - 128  # bwrap reports its child's death by signal as 128 + n
            if number == signal.SIGXCPU:
                return f"CPU time limit: your code used more than {self.limits.cpu_seconds} s of CPU {when}".strip()
            if number == signal.SIGXFSZ:
                return (f"output limit: your code printed or wrote more than "
                        f"{self.limits.file_bytes // 1024} KiB {when}").strip()
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
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
        return self.output.text()

    def close(self) -> None:
        self.kill()


def worker_uid(module: str) -> int:
    """An unprivileged user id of its own for each live worker (grader process x module)."""
    from autograder.worker.loader import GRADED

    index = GRADED.index(module) if module in GRADED else len(GRADED)
    return 100_000 + (os.getpid() % 100_000) * 10 + index


class Session:
    """Calls into one module, through a transport. ``session.softmax(z)`` calls ``softmax``."""

    def __init__(self, transport: LocalTransport | ProcessTransport, module: str,
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
