"""Worker processes that run student code, as the grader sees them.

``ForkedTransport`` asks a warm template (see ``worker/template.py``), started
once per grader process inside the sandbox, to fork a fresh worker for each
module: start-up costs (Python, ``import torch``) are paid once per grader, not
once per submission. The grader gets a socket to the worker and the worker's
output, and sends the worker its ``LoadRequest`` on that socket: the template
never sees a student's sources.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from autograder.runner.sandbox import Limits, bubblewrap, sandbox_command, warn_unsandboxed
from autograder.runner.uids import next_uid
from autograder.syllabus import course as registered_course
from autograder.worker.channel import MAX_READ_BYTES, read_message, write_message
from autograder.worker.protocol import ProtocolError, decode, encode

WORKER = Path(__file__).resolve().parent.parent / "worker"
MAX_OUTPUT_BYTES = 64 * 1024


class StudentError(Exception):
    """The student's code raised an exception (the message is the student's own)."""

    def __init__(self, type_name: str, message: str, where: str = ""):
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name, self.message, self.where = type_name, message, where


class WorkerFailure(Exception):
    """The worker died, hung or sent something that is not a valid reply. The message is for the
    student; ``debug`` (the template's own output, say) is for the instructor's log only."""

    def __init__(self, message: str, debug: str = ""):
        super().__init__(message)
        self.debug = debug


class WorkerTimeout(WorkerFailure):
    """The worker did not answer in time (it has been killed); ``when`` says what it was doing."""

    def __init__(self, seconds: float, when: str = ""):
        where = f" {when}" if when else ""
        super().__init__(f"time limit: your code ran longer than {seconds:g} s{where} "
                         "(an endless loop, or far too much work?)")
        self.seconds, self.when = seconds, when


class OutputKeeper:
    """Drains a worker's stdout and stderr so it never blocks; keeps only the first bytes."""

    def __init__(self, limit: int = MAX_OUTPUT_BYTES):
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0
        self.lock = threading.Lock()
        self.drains: list[threading.Thread] = []

    def follow(self, stream: Any) -> None:
        drain = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        drain.start()
        self.drains.append(drain)

    def settle(self, timeout: float = 0.2) -> None:
        """Wait (at most ``timeout`` s in all) for what the ended processes still had in their pipes."""
        deadline = time.monotonic() + timeout
        for drain in self.drains:
            drain.join(max(deadline - time.monotonic(), 0.0))

    def _drain(self, stream: Any) -> None:
        with stream:
            while chunk := stream.read1(1 << 16):
                with self.lock:
                    room = max(self.limit - len(self.kept), 0)
                    self.kept += chunk[:room]
                    self.dropped += max(len(chunk) - room, 0)

    def text(self) -> str:
        with self.lock:
            text = self.kept.decode("utf-8", "replace")
            return text + (f"\n[... {self.dropped} more bytes of output were not kept]" if self.dropped else "")


def death_message(code: int | None, limits: Limits, when: str) -> str:
    """How a worker ended, for the student: a limit, a crash or an exit."""
    when = f" {when}" if when else ""
    if code is None:
        return f"your code stopped answering{when}"
    if code < 0:
        number = -code
        if number == signal.SIGXCPU:
            return f"CPU time limit: your code used more than {limits.cpu_seconds} s of CPU{when}"
        if number == signal.SIGXFSZ:
            return f"file size limit: your code wrote more than {limits.file_bytes // 1024} KiB{when}"
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"your code crashed the Python process ({name}){when}"
    return f"your code ended the Python process (exit code {code}){when}"


@dataclass(frozen=True)
class LoadRequest:
    """What a worker needs to load one module (see ``worker/loader.py``), as it travels."""
    module: str  # the module under test
    sources: dict[str, str] = field(default_factory=dict)  # the student's own .py modules, by name
    ready_made: dict[str, str] = field(default_factory=dict)  # ready-made versions of earlier modules
    cells: list[str] | None = None  # the module under test is a notebook: its code cells
    unusable: dict[str, str] = field(default_factory=dict)  # student's modules that could not be used: why
    course: list = field(default_factory=registered_course)  # the graded modules and names, from the registration

    @property
    def filename(self) -> str:
        return f"/submission/{self.module}.py"

    def message(self) -> dict:
        return {"op": "load", "course": self.course, "module": self.module,
                "sources": {k: text_as_bytes(v) for k, v in self.sources.items()},
                "ready_made": {k: text_as_bytes(v) for k, v in self.ready_made.items()},
                "cells": None if self.cells is None else [text_as_bytes(c) for c in self.cells],
                "unusable": dict(self.unusable)}


class ForkedTransport:
    """A worker for one module, forked from the warm template and then sent its ``LoadRequest``;
    started on demand, and again after a crash or a time-out."""

    def __init__(self, load: LoadRequest, limits: Limits = Limits(), server: "ForkServer | None" = None,
                 uid: int = 0):
        self.load = load
        self.module = load.module
        self.limits = limits
        self.server = server or fork_server()
        # without a sandbox the template runs as the grader's own user: no user of its own to drop to
        self.fixed_uid = uid
        self.uid = 0
        self.start_failure: WorkerFailure | None = None
        self.child: int | None = None
        self.sock: socket.socket | None = None
        self.output = OutputKeeper()
        self.import_error: StudentError | None = None
        self.cell_errors: list[dict] = []  # a notebook's cells that raised, as the worker reported them

    def _spawn(self) -> tuple[socket.socket, Any]:
        # every worker, restarts included, a user never used before (see ``uids``)
        self.uid = 0 if self.server.bwrap is None else (self.fixed_uid or next_uid())
        self.child, sock, stream = self.server.spawn(self.uid, self.limits)
        return sock, stream

    def _stop(self, ended: bool = False) -> int | None:
        """Kill the worker and everything it started, if it still runs; return how it ended
        (negative: killed by that signal), or None if unknown. ``ended``: its channel closed."""
        if self.child is None:
            return None
        child, self.child = self.child, None
        return self.server.reap(child, ended)

    def start(self, timeout: float = 60.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Fork the worker and send it its load request (it loads while the grader goes on)."""
        self.start_failure = None
        try:
            self.sock, stream = self._spawn()
        except WorkerFailure as exc:  # the template could not fork one: this module fails, with a message
            self.start_failure = exc
            return
        self.output.follow(stream)
        try:
            self.sock.settimeout(60.0)
            write_message(self.sock, encode(self.load.message()))
        except OSError:
            self._close_socket()  # the worker died at once: wait_ready says how

    def wait_ready(self, timeout: float = 60.0) -> None:
        if self.start_failure is not None:
            raise self.start_failure
        if self.sock is None:
            raise WorkerFailure(self._finish("before it could load your module"))
        hello = self._receive(timeout, "while importing your module")
        if not hello.get("ok"):
            error = hello.get("error", {})
            error = error if type(error) is dict else {}
            self.import_error = StudentError(str(error.get("type")), str(error.get("message")),
                                             str(error.get("where", "")))
            return
        value = hello.get("value")
        cells = value.get("cells") if type(value) is dict else None
        self.cell_errors = [c for c in cells if type(c) is dict] if type(cells) is list else []

    def roundtrip(self, data: bytes, timeout: float) -> bytes:
        """Send one request and return the whole reply, both within ``timeout`` seconds in all (a
        restart after a crash included): a reply dripped byte by byte fails like an endless loop."""
        deadline = time.monotonic() + timeout
        if self.sock is None or self.child is None:
            self.kill()
            self.start(max(deadline - time.monotonic(), 0.001))
        try:
            write_message(self.sock, data, deadline)
        except TimeoutError:
            self.kill()
            raise WorkerTimeout(timeout) from None
        except OSError:
            raise WorkerFailure(self._finish("before it could answer")) from None
        return self._receive_raw(deadline, timeout, "")

    def _receive(self, timeout: float, when: str) -> dict:
        try:
            return decode(self._receive_raw(time.monotonic() + timeout, timeout, when))
        except ProtocolError as exc:
            self.kill()
            raise WorkerFailure(f"your code sent back something that is not plain data ({exc})") from None

    def _receive_raw(self, deadline: float, timeout: float, when: str) -> bytes:
        try:
            data = read_message(self.sock, deadline)
        except TimeoutError:
            self.kill()
            raise WorkerTimeout(timeout, when) from None
        except ProtocolError as exc:
            self.kill()
            raise WorkerFailure(f"your code sent back something that is not plain data ({exc})") from None
        except OSError:
            data = None
        if data is None:
            raise WorkerFailure(self._finish(when))
        return data

    def _finish(self, when: str) -> str:
        """The worker closed its channel: learn how it ended, make sure it is gone, say why."""
        code = self._stop(ended=True)
        self._close_socket()
        return death_message(code, self.limits, when)

    def kill(self) -> None:
        if self.sock is not None:
            self._stop()
            self._close_socket()

    def _close_socket(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def close(self) -> None:
        self.kill()


class ForkServer:
    """The warm template of one grader process (see ``worker/template.py``)."""

    def __init__(self, python: str = sys.executable, sandbox: bool | None = None):
        self.bwrap = bubblewrap() if sandbox in (None, True) else None
        if sandbox is True and self.bwrap is None:
            raise RuntimeError("a sandbox was required, but bubblewrap cannot run here")
        if self.bwrap is None:
            warn_unsandboxed()
        self.python = python
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.output = OutputKeeper()

    def _start(self) -> None:
        parent, child = socket.socketpair()
        inner = [self.python, "-I", str(WORKER / "template.py"), "--control-fd", str(child.fileno())]
        command = inner if self.bwrap is None else sandbox_command(inner, self.bwrap)
        self.proc = subprocess.Popen(command, pass_fds=[child.fileno()], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        child.close()
        self.control = parent
        self.output.follow(self.proc.stdout)

    def _ask(self, message: dict, timeout: float = 120.0) -> tuple[dict, list[int]]:
        """One request to the template, and its whole reply within ``timeout``. A template that fails
        is stopped (the next request starts a new one); what it printed goes to ``debug`` only."""
        try:
            return self._exchange(message, time.monotonic() + timeout)
        except (OSError, ProtocolError, WorkerFailure) as exc:
            log = self.output.text()[-4000:]
            self.close()
            raise WorkerFailure("the grader could not start a worker for this module (an error of the "
                                "grader, not of your code)",
                                debug=f"worker template failed: {exc!r}\n{log}") from None

    def _exchange(self, message: dict, deadline: float) -> tuple[dict, list[int]]:
        if self.proc is None or self.proc.poll() is not None:
            self.close()
            self._start()
        write_message(self.control, encode(message), deadline)
        self.control.settimeout(max(deadline - time.monotonic(), 0.001))
        head, fds, _, _ = socket.recv_fds(self.control, 8, 2)
        try:
            if len(head) < 8:
                raise WorkerFailure("the worker template stopped")
            (size,) = struct.unpack("<Q", head)
            body = _read_rest(self.control, size, deadline)
            return decode(body), fds
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise

    def spawn(self, uid: int, limits: Limits) -> tuple[int, socket.socket, Any]:
        """A fresh worker: only its user and limits pass through the template (the grader then
        sends the worker its sources itself, see ``ForkedTransport.launch``)."""
        with self.lock:
            reply, fds = self._ask({"op": "spawn", "uid": uid, "limits": limits.worker_limits()})
        if not reply.get("ok") or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            raise WorkerFailure("the grader's worker template could not start a worker")
        return int(reply["child"]), socket.socket(fileno=fds[0]), os.fdopen(fds[1], "rb")

    def reap(self, child: int, ended: bool = False) -> int | None:
        """Have the template kill a worker and all it started; how it ended, or None if unknown (a
        template that stopped took its workers with it)."""
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                return None
            try:
                reply, _ = self._ask({"op": "reap", "child": child, "ended": ended})
            except WorkerFailure:
                return None
        status = reply.get("status")
        return status if type(status) is int else None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        if self.control is not None:
            self.control.close()
            self.control = None


def _read_rest(sock: socket.socket, size: int, deadline: float) -> bytes:
    if size > MAX_READ_BYTES:
        raise ProtocolError("message too large")
    chunks, got = [], 0
    while got < size:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = sock.recv(min(size - got, 1 << 20))
        if not chunk:
            raise WorkerFailure("the worker template stopped")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def text_as_bytes(text: str) -> torch.Tensor:
    """Long text (a module's source) travels as bytes: protocol strings are capped for safety."""
    return torch.frombuffer(bytearray(text.encode("utf-8")), dtype=torch.uint8) if text else \
        torch.empty(0, dtype=torch.uint8)


_FORK_SERVER: ForkServer | None = None


def fork_server() -> ForkServer:
    """This grader process's template, started on first use."""
    global _FORK_SERVER
    if _FORK_SERVER is None:
        _FORK_SERVER = ForkServer()
        atexit.register(_FORK_SERVER.close)
    return _FORK_SERVER
