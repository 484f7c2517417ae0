"""The warm template: import torch once, then fork a fresh worker for every module to grade.

Run (inside the sandbox) as ``python -I template.py --control-fd N``. The
grader asks on the control socket for a worker (with only its user and limits):
the template forks a child in namespaces of its own (processes, IPC, a fresh
/tmp and /dev/shm, network: see ``isolation``), which sets its limits and drops
to the unprivileged user it was given (and so holds no capability), then receives its load request (the module's sources, as data)
from the grader on a socket of its own, passed back with its output pipe, and
serves the grader there. No submission file is ever visible here, and the
template itself never holds a student's bytes, never runs student code and
never loads a ready-made module, so every child starts pristine.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import struct
import sys
from pathlib import Path

if __package__ in (None, ""):  # started as a script: make the package importable by its own name
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))
    __package__ = "autograder.worker"

from autograder.worker.channel import read_message, restrict, torch_threads, write_message  # noqa: E402
from autograder.worker.isolation import Isolation  # noqa: E402
from autograder.worker.loader import filename, imports_of, load  # noqa: E402
from autograder.worker.protocol import ProtocolError, decode, encode  # noqa: E402
from autograder.worker.server import Server, reset_global_state  # noqa: E402

LOAD_REQUEST_SECONDS = 60.0  # the grader sends it right after the fork


class Template:
    def __init__(self, control: socket.socket):
        self.control = control
        self.children: dict[int, tuple[int, int]] = {}  # child id -> (pid, uid)
        self.next_id = 1
        self.isolation = Isolation()

    def run(self) -> None:
        """Answer the grader until it hangs up. No request, and nothing a child does, ends the loop: a
        request that fails is answered as failed (and logged), and the next one is served."""
        while True:
            try:
                data = read_message(self.control)
            except ProtocolError:
                data = b""  # answered as a malformed request below
            if data is None:
                return
            try:
                self.answer(decode(data))
            except Exception as exc:  # noqa: BLE001 - if even this reply fails, the channel is gone: exit
                print(f"worker template: request failed: {exc!r}", file=sys.stderr, flush=True)
                self.reply({"ok": False, "error": f"request failed ({type(exc).__name__})"})

    def answer(self, request: dict) -> None:
        op = request.get("op")
        if op == "spawn":
            self.spawn(request)
        elif op == "reap":
            child = request.get("child")
            if type(child) is not int:
                raise ProtocolError("bad child id")
            self.reply({"ok": True, "status": self.reap(child, request.get("ended") is True)})
        else:
            self.reply({"ok": False, "error": f"unknown op {op!r}"})

    def reply(self, message: dict, fds: list[int] | None = None) -> None:
        data = encode(message)
        socket.send_fds(self.control, [struct.pack("<Q", len(data)) + data], fds or [])

    def spawn(self, request: dict) -> None:
        grader_end, child_end = socket.socketpair()
        out_read, out_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = self.isolation.fork(request["limits"])
        if pid == 0:  # the child: never returns
            try:
                self.control.close()
                grader_end.close()
                os.close(out_read)
                os.dup2(out_write, 1)
                os.dup2(out_write, 2)
                os.close(out_write)
                sys.stdout.reconfigure(line_buffering=True)  # it may be killed: keep what it printed
                sys.stderr.reconfigure(line_buffering=True)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                restrict(request["limits"], int(request["uid"]))
                serve_worker(child_end)
            finally:
                os._exit(0)
        child_end.close()
        os.close(out_write)
        child = self.next_id
        self.next_id += 1
        self.children[child] = (pid, int(request["uid"]))
        self.reply({"ok": True, "child": child}, [grader_end.fileno(), out_read])
        grader_end.close()
        os.close(out_read)

    def reap(self, child: int, ended: bool = False) -> int | None:
        """Kill the child and everything it started; return how it ended (see ``Isolation.reap``).
        An unknown child (reaped already) is no error: None."""
        pid, uid = self.children.pop(child, (0, 0))
        return self.isolation.reap(pid, uid, ended) if pid else None


def serve_worker(sock: socket.socket) -> None:
    """The forked child, once restricted: its load request (sent by the grader on this socket, so
    no student's bytes ever pass through the template), the module it names, then the grader's
    requests until the grader hangs up."""
    sock.settimeout(LOAD_REQUEST_SECONDS)
    data = read_message(sock)
    sock.settimeout(None)
    if data is None:
        return
    try:
        imports = imports_of(decode(data))
    except ProtocolError as exc:
        write_message(sock, encode({"ok": False, "error": {"type": "ProtocolError", "message": str(exc)}}))
        return
    source_name = filename(imports.module)
    try:
        module, value = load(imports)
        hello = {"ok": True, "value": value}
    except BaseException as exc:  # noqa: BLE001 - a module that exits or raises at import
        module = None
        hello = Server(None, source_name)._error(exc)
    write_message(sock, encode(hello))
    server = Server(module, source_name)
    while (request := read_message(sock)) is not None:
        write_message(sock, server.handle_bytes(request))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--control-fd", type=int, required=True)
    args = parser.parse_args()
    torch_threads()
    reset_global_state()
    Template(socket.socket(fileno=args.control_fd)).run()
    os._exit(0)


if __name__ == "__main__":
    main()
