"""What every worker does: talk on its channel and restrict itself (see ``template.serve_worker``).

Requests and replies travel on the worker's own socket only, as length-prefixed
``protocol`` messages; the student's prints go to the worker's stdout/stderr,
which the grader captures separately, so they can never be mistaken for a reply.
"""

from __future__ import annotations

import ctypes
import os
import resource
import socket
import struct
import time

from autograder.worker.protocol import MAX_MESSAGE_BYTES, ProtocolError

MAX_READ_BYTES = MAX_MESSAGE_BYTES + 16 * 2**20  # the tensors' bytes, and room for the JSON header
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522


def read_message(sock: socket.socket, deadline: float | None = None) -> bytes | None:
    """One whole message, or None if the peer closed the channel first.

    With a ``deadline`` (a ``time.monotonic()`` instant) the whole message must have arrived by then,
    else ``TimeoutError``: a peer that drips its bytes one at a time gains nothing."""
    head = _read_exactly(sock, 8, deadline)
    if head is None:
        return None
    (size,) = struct.unpack("<Q", head)
    if size > MAX_READ_BYTES:
        raise ProtocolError("message too large")
    return _read_exactly(sock, size, deadline)


def write_message(sock: socket.socket, data: bytes, deadline: float | None = None) -> None:
    _wait_at_most(sock, deadline)
    sock.sendall(struct.pack("<Q", len(data)) + data)  # the timeout bounds the whole sendall


def _read_exactly(sock: socket.socket, n: int, deadline: float | None) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        _wait_at_most(sock, deadline)
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _wait_at_most(sock: socket.socket, deadline: float | None) -> None:
    if deadline is None:
        return
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    sock.settimeout(left)


RLIMITS = {"memory_bytes": resource.RLIMIT_AS, "cpu_seconds": resource.RLIMIT_CPU,
           "processes": resource.RLIMIT_NPROC, "file_bytes": resource.RLIMIT_FSIZE,
           "open_files": resource.RLIMIT_NOFILE,
           "queue_bytes": getattr(resource, "RLIMIT_MSGQUEUE", None)}  # Linux only


def restrict(limits: dict[str, int], uid: int) -> None:
    """Resource limits (soft = hard, so the student's code cannot raise them), then a user of our own.

    ``limits`` may hold other sizes too (``isolation`` reads those); only resource limits are set here.
    Taking a user of its own (all three ids) clears the effective and permitted capabilities; the
    inheritable set is cleared explicitly, so the worker holds no capability at all."""
    for name, value in limits.items():
        if RLIMITS.get(name) is None or value <= 0:
            continue
        hard = value + 5 if name == "cpu_seconds" else value  # SIGXCPU first, then SIGKILL
        resource.setrlimit(RLIMITS[name], (value, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _no_new_privileges()
    if uid and os.getuid() == 0:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    _clear_capabilities()  # also when no user could be taken (a sandbox in a user namespace)


def _no_new_privileges() -> None:
    """No exec can gain privileges again (setuid programs, file capabilities); bwrap sets it too."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _clear_capabilities() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
        header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
        empty = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable x 2 words
        libc.capset(header, empty)  # never refused: a process may always give capabilities up
    except (OSError, AttributeError):  # not Linux: no capabilities to give up
        pass


def torch_threads() -> None:
    import torch
    torch.set_num_threads(1)  # the same arithmetic everywhere, and no worker starves another
    # Load what the optimizers import lazily (torch._dynamo), while the runtime is still readable
    # and before the student's clock starts: a first optimizer step costs a second or two.
    model = torch.nn.Linear(2, 1)
    for optimizer in (torch.optim.SGD(model.parameters(), lr=0.1), torch.optim.Adam(model.parameters())):
        model(torch.ones(1, 2)).sum().backward()
        optimizer.step()
