"""What every worker does: talk on its channel, restrict itself, serve one module.

Requests and replies travel on the worker's own socket only, as length-prefixed
``protocol`` messages; the student's prints go to the worker's stdout/stderr,
which the grader captures separately, so they can never be mistaken for a reply.
"""

from __future__ import annotations

import os
import resource
import socket
import struct
from collections.abc import Callable
from typing import Any

from autograder.worker.protocol import MAX_MESSAGE_BYTES, encode
from autograder.worker.server import Server


def read_message(sock: socket.socket) -> bytes | None:
    head = _read_exactly(sock, 8)
    if head is None:
        return None
    (size,) = struct.unpack("<Q", head)
    if size > MAX_MESSAGE_BYTES:
        raise ValueError("message too large")
    return _read_exactly(sock, size)


def write_message(sock: socket.socket, data: bytes) -> None:
    sock.sendall(struct.pack("<Q", len(data)) + data)


def _read_exactly(sock: socket.socket, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def serve_module(sock: socket.socket, load: Callable[[], Any], filename: str) -> None:
    """Import the student's module (``load``), report how that went, then answer requests."""
    try:
        module = load()
        hello = {"ok": True, "value": None}
    except BaseException as exc:  # noqa: BLE001 - a module that exits or raises at import
        module = None
        hello = Server(None, filename)._error(exc)
    write_message(sock, encode(hello))
    server = Server(module, filename)
    while (request := read_message(sock)) is not None:
        write_message(sock, server.handle_bytes(request))


def restrict(limits: dict[str, int], uid: int) -> None:
    """Resource limits (soft = hard, so the student's code cannot raise them), then a user of our own."""
    for name, value in limits.items():
        if value <= 0:
            continue
        rlimit = {"memory_bytes": resource.RLIMIT_AS, "cpu_seconds": resource.RLIMIT_CPU,
                  "processes": resource.RLIMIT_NPROC, "file_bytes": resource.RLIMIT_FSIZE,
                  "open_files": resource.RLIMIT_NOFILE}[name]
        hard = value + 5 if name == "cpu_seconds" else value  # SIGXCPU first, then SIGKILL
        resource.setrlimit(rlimit, (value, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if uid and os.getuid() == 0:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)


def torch_threads() -> None:
    import torch
    torch.set_num_threads(1)  # the same arithmetic everywhere, and no worker starves another
    # Load what the optimizers import lazily (torch._dynamo), while the runtime is still readable
    # and before the student's clock starts: a first optimizer step costs a second or two.
    model = torch.nn.Linear(2, 1)
    for optimizer in (torch.optim.SGD(model.parameters(), lr=0.1), torch.optim.Adam(model.parameters())):
        model(torch.ones(1, 2)).sum().backward()
        optimizer.step()
