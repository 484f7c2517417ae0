"""A worker process: import one student module, then answer the grader's requests.

Run as ``python -I main.py --fd N --file PATH --module NAME``. Requests and
replies travel on the socket ``N`` only, as length-prefixed ``protocol``
messages; the student's prints go to this process's stdout/stderr, which the
grader captures separately, so they can never be mistaken for a reply.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any
import resource
import socket
import struct
import sys
from pathlib import Path

if __package__ in (None, ""):  # started as a script: make the package importable by its own name
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))
    __package__ = "autograder.worker"

from autograder.worker.loader import load_file, support_modules  # noqa: E402
from autograder.worker.protocol import MAX_MESSAGE_BYTES, encode  # noqa: E402
from autograder.worker.server import Server, reset_global_state  # noqa: E402


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


def serve(sock: socket.socket, file: Path, module_name: str, limits: dict[str, int], uid: int) -> None:
    siblings = support_modules(exclude=module_name)
    torch_threads()
    reset_global_state()
    restrict(limits, uid)  # from here on, nothing runs with more than the student's rights
    serve_module(sock, lambda: load_file(file, module_name, siblings), str(file))


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--module", required=True)
    parser.add_argument("--uid", type=int, default=0, help="the unprivileged user to become (when root)")
    names = ("memory_bytes", "cpu_seconds", "processes", "file_bytes", "open_files")
    for name in names:
        parser.add_argument(f"--limit-{name.replace('_', '-')}", type=int, default=0)
    args = parser.parse_args()
    limits = {name: getattr(args, f"limit_{name}") for name in names}
    sock = socket.socket(fileno=args.fd)
    try:
        serve(sock, args.file, args.module, limits, args.uid)
    finally:
        sys.stdout.flush()
        os._exit(0)  # skip atexit handlers a module may have registered


if __name__ == "__main__":
    main()
